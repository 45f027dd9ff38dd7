// Label rows between YOLO's normalised centre format and pixel corners (YOLOv5 utils/general.py
// xywhn2xyxy / xyxy2xywhn), and the label side of flips. Rows are `[class, a, b, c, d]`.

/// `[class, x, y, w, h]` normalised → `[class, x1, y1, x2, y2]` pixels in a `width` x `height`
/// image, shifted by (padX, padY).
public func xywhnToXyxy(_ labels: [[Float]], width: Double, height: Double, padX: Double = 0,
                        padY: Double = 0) -> [[Float]] {
    labels.map { l in
        let x = Double(l[1]), y = Double(l[2]), w = Double(l[3]), h = Double(l[4])
        return [l[0], Float(width * (x - w / 2) + padX), Float(height * (y - h / 2) + padY),
                Float(width * (x + w / 2) + padX), Float(height * (y + h / 2) + padY)]
    }
}

/// `[class, x1, y1, x2, y2]` pixels → `[class, x, y, w, h]` normalised, first clipping corners to
/// [0, width − eps] x [0, height − eps] (YOLOv5 passes clip=True, eps=1e-3).
public func xyxyToXywhn(_ labels: [[Float]], width: Int, height: Int, clip: Bool = true, eps: Double = 1e-3) -> [[Float]] {
    let w = Double(width), h = Double(height)
    return labels.map { l in
        var x1 = Double(l[1]), y1 = Double(l[2]), x2 = Double(l[3]), y2 = Double(l[4])
        if clip {
            x1 = min(max(x1, 0), w - eps); x2 = min(max(x2, 0), w - eps)
            y1 = min(max(y1, 0), h - eps); y2 = min(max(y2, 0), h - eps)
        }
        return [l[0], Float((x1 + x2) / 2 / w), Float((y1 + y2) / 2 / h), Float((x2 - x1) / w), Float((y2 - y1) / h)]
    }
}

/// Left-right flip of normalised `[class, x, y, w, h]` labels: x → 1 − x.
public func flipLabelsHorizontal(_ labels: [[Float]]) -> [[Float]] {
    labels.map { var l = $0; l[1] = 1 - l[1]; return l }
}

/// Up-down flip of normalised `[class, x, y, w, h]` labels: y → 1 − y.
public func flipLabelsVertical(_ labels: [[Float]]) -> [[Float]] {
    labels.map { var l = $0; l[2] = 1 - l[2]; return l }
}
