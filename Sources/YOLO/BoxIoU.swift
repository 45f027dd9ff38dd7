// Box formats and the IoU family (IoU, GIoU, DIoU, CIoU) as YOLOv5's utils/metrics.py defines
// them: a differentiable Tensor form for the loss, and a plain-Float matrix form for NMS and
// metrics. Not the matching or the loss itself.
import Foundation
import TensorCore

/// Which member of the IoU family `bboxIoU` returns.
public enum IoUKind: Sendable, Equatable {
    /// Intersection over union.
    case iou
    /// Generalised IoU (Rezatofighi et al. 2019, arXiv:1902.09630).
    case giou
    /// Distance IoU (Zheng et al. 2020, arXiv:1911.08287).
    case diou
    /// Complete IoU (same paper): DIoU minus an aspect-ratio term; YOLOv5's box loss.
    case ciou
}

// MARK: - Format conversions

/// Centre-size boxes (…, 4) `[x, y, w, h]` → corner boxes `[x1, y1, x2, y2]`; differentiable.
public func xywh2xyxy(_ boxes: Tensor) -> Tensor {
    let c = boxCoordinates(boxes)                     // 4 × (…, 1)
    let hw = c[2] / 2, hh = c[3] / 2
    return Tensor.concat([c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh], axis: -1)
}

/// Corner boxes (…, 4) `[x1, y1, x2, y2]` → centre-size boxes `[x, y, w, h]`; differentiable.
public func xyxy2xywh(_ boxes: Tensor) -> Tensor {
    let c = boxCoordinates(boxes)
    return Tensor.concat([(c[0] + c[2]) / 2, (c[1] + c[3]) / 2, c[2] - c[0], c[3] - c[1]], axis: -1)
}

/// `[x, y, w, h]` → `[x1, y1, x2, y2]` for one box.
@inlinable
public func xywh2xyxy(_ b: SIMD4<Float>) -> SIMD4<Float> {
    SIMD4(b.x - b.z / 2, b.y - b.w / 2, b.x + b.z / 2, b.y + b.w / 2)
}

/// `[x1, y1, x2, y2]` → `[x, y, w, h]` for one box.
@inlinable
public func xyxy2xywh(_ b: SIMD4<Float>) -> SIMD4<Float> {
    SIMD4((b.x + b.z) / 2, (b.y + b.w) / 2, b.z - b.x, b.w - b.y)
}

/// The four coordinate columns of (…, 4) boxes, each (…, 1).
private func boxCoordinates(_ boxes: Tensor) -> [Tensor] {
    precondition(boxes.shape.last == 4, "boxes need a last dimension of 4, got \(boxes.shape)")
    return (0..<4).map { boxes.sliced(axis: -1, $0..<($0 + 1)) }
}

// MARK: - Differentiable IoU family

/// IoU of `box1` with `box2`, element-wise over broadcast leading dimensions: (…, 4) and
/// (…, 4) → (…), as YOLOv5's `bbox_iou(box1, box2, xywh, GIoU, DIoU, CIoU, eps)`.
///
/// With `xywh` false the boxes are corners and heights are clamped to `eps` (as upstream).
/// For CIoU the trade-off weight α = v / (v − IoU + 1 + eps) is a constant for the gradient,
/// as upstream computes it under `torch.no_grad()`.
public func bboxIoU(_ box1: Tensor, _ box2: Tensor, xywh: Bool = true, kind: IoUKind = .iou,
                    eps: Float = 1e-7) -> Tensor {
    let a = boxCoordinates(box1), b = boxCoordinates(box2)
    let (b1x1, b1y1, b1x2, b1y2, w1, h1): (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)
    let (b2x1, b2y1, b2x2, b2y2, w2, h2): (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)
    if xywh {
        let (hw1, hh1, hw2, hh2) = (a[2] / 2, a[3] / 2, b[2] / 2, b[3] / 2)
        (b1x1, b1x2, b1y1, b1y2, w1, h1) = (a[0] - hw1, a[0] + hw1, a[1] - hh1, a[1] + hh1, a[2], a[3])
        (b2x1, b2x2, b2y1, b2y2, w2, h2) = (b[0] - hw2, b[0] + hw2, b[1] - hh2, b[1] + hh2, b[2], b[3])
    } else {
        (b1x1, b1y1, b1x2, b1y2) = (a[0], a[1], a[2], a[3])
        (b2x1, b2y1, b2x2, b2y2) = (b[0], b[1], b[2], b[3])
        (w1, h1) = (b1x2 - b1x1, (b1y2 - b1y1).clamped(min: eps))
        (w2, h2) = (b2x2 - b2x1, (b2y2 - b2y1).clamped(min: eps))
    }

    // Intersection and union areas.
    let inter = (b1x2.minimum(b2x2) - b1x1.maximum(b2x1)).clamped(min: 0)
        * (b1y2.minimum(b2y2) - b1y1.maximum(b2y1)).clamped(min: 0)
    let union = w1 * h1 + w2 * h2 - inter + eps
    let iou = inter / union
    if kind == .iou { return dropLastAxis(iou) }

    // Smallest enclosing box.
    let cw = b1x2.maximum(b2x2) - b1x1.minimum(b2x1)
    let ch = b1y2.maximum(b2y2) - b1y1.minimum(b2y1)
    if kind == .giou {
        let cArea = cw * ch + eps
        return dropLastAxis(iou - (cArea - union) / cArea)
    }

    // DIoU: squared centre distance over squared enclosing diagonal.
    let c2 = cw * cw + ch * ch + eps
    let dx = b2x1 + b2x2 - b1x1 - b1x2, dy = b2y1 + b2y2 - b1y1 - b1y2
    let rho2 = (dx * dx + dy * dy) / 4
    if kind == .diou { return dropLastAxis(iou - rho2 / c2) }

    // CIoU: v = 4/π² · (atan(w2/h2) − atan(w1/h1))², α held constant.
    let dAtan = (w2 / h2).atan() - (w1 / h1).atan()
    let v = Float(4 / (Double.pi * Double.pi)) * (dAtan * dAtan)
    let vc = v.detached
    let alpha = vc / (vc - iou.detached + (1 + eps))
    return dropLastAxis(iou - (rho2 / c2 + v * alpha))
}

/// (…, 1) → (…).
private func dropLastAxis(_ t: Tensor) -> Tensor { t.reshaped(Array(t.shape.dropLast())) }

// MARK: - Plain IoU matrix

/// IoU of every box in `boxes1` with every box in `boxes2` (corner format), as YOLOv5's
/// `box_iou`: `result[i][j] = inter / (area1 + area2 − inter + eps)`.
public func boxIoU(_ boxes1: [SIMD4<Float>], _ boxes2: [SIMD4<Float>], eps: Float = 1e-7) -> [[Float]] {
    boxes1.map { a in
        let areaA = (a.z - a.x) * (a.w - a.y)
        return boxes2.map { b in
            let iw = Swift.max(Swift.min(a.z, b.z) - Swift.max(a.x, b.x), 0)
            let ih = Swift.max(Swift.min(a.w, b.w) - Swift.max(a.y, b.y), 0)
            let inter = iw * ih
            return inter / (areaA + (b.z - b.x) * (b.w - b.y) - inter + eps)
        }
    }
}
