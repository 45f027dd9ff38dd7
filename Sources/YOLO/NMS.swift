// YOLOv5 7.0's `non_max_suppression` (utils/general.py) as a pure function on decoded
// predictions, with its a-priori `labels` for auto-labelling (val.py --save-hybrid). Not
// merge-NMS, no masks, and no wall-clock time limit.
import TensorCore

/// One detection in input-image pixels: corners, confidence (obj·cls) and class.
public struct Detection: Equatable, Sendable {
    public var x1: Float, y1: Float, x2: Float, y2: Float
    /// obj·cls, the score NMS ranks by.
    public var confidence: Float
    public var classIndex: Int

    public init(x1: Float, y1: Float, x2: Float, y2: Float, confidence: Float, classIndex: Int) {
        (self.x1, self.y1, self.x2, self.y2) = (x1, y1, x2, y2)
        self.confidence = confidence
        self.classIndex = classIndex
    }
}

/// YOLOv5's fixed NMS settings.
public enum NMSLimits {
    /// Class offset (pixels) that keeps boxes of different classes apart (`max_wh`).
    public static let maxBoxSide: Float = 7680
    /// Most candidates passed to the suppression loop, by descending confidence (`max_nms`).
    public static let maxCandidates = 30_000
}

/// Non-maximum suppression with YOLOv5 7.0's semantics, image by image.
///
/// Steps (per image): keep rows with obj > conf; conf = obj·cls; xywh → xyxy; either every
/// (box, class) pair with conf > confThreshold (`multiLabel`, only when nc > 1) or the best
/// class of each box (first on ties) if its conf > confThreshold; keep `classes`; sort by
/// conf descending (stable) and keep the first 30 000; offset boxes by class·7680 (unless
/// `agnostic`); greedy suppression as `torchvision.ops.nms` — a box is dropped when its IoU
/// with a kept, higher-scoring box is **greater than** `iouThreshold` (equal is kept); keep
/// the first `maxDetections`.
///
/// `labels` (val.py `--save-hybrid`): per image, ground-truth boxes that join the candidates
/// as rows with obj = 1 and a one-hot class, after the obj > conf filter and before the
/// confidence and class tests, as upstream concatenates them. Their confidence is 1.0, so they
/// sort ahead of every prediction and suppress same-class predictions that overlap them.
///
/// Comparisons follow PyTorch's precision: confidence tests in Float32 against
/// `Float(confThreshold)`, IoU (Float32) against the Double `iouThreshold`, as torchvision does.
/// Ties in confidence keep input order; PyTorch's unstable `argsort` may order them otherwise.
///
/// - Parameters:
///   - prediction: (B, N, 5 + nc) rows `[cx, cy, w, h, obj, cls_0 …]` in pixels, as
///     `decodePredictions` returns.
///   - classes: keep only these class indices; nil keeps all.
///   - labels: nil, or per image the a-priori boxes in the same input pixels (xyxy, class;
///     their `confidence` is ignored and taken as 1.0).
/// - Returns: per image, detections sorted by descending confidence, at most `maxDetections`.
public func nonMaxSuppression(
    _ prediction: Tensor, confThreshold: Double = 0.25, iouThreshold: Double = 0.45,
    classes: [Int]? = nil, agnostic: Bool = false, multiLabel: Bool = false, maxDetections: Int = 300,
    labels: [[Detection]]? = nil
) -> [[Detection]] {
    precondition(prediction.rank == 3 && prediction.shape[2] > 5, "prediction must be (B, N, 5 + nc), got \(prediction.shape)")
    precondition((0...1).contains(confThreshold) && (0...1).contains(iouThreshold), "thresholds must lie in [0, 1]")
    let (batch, rows, outputs) = (prediction.shape[0], prediction.shape[1], prediction.shape[2])
    let nc = outputs - 5
    precondition(labels == nil || labels!.count == batch, "labels: one list per image")
    return prediction.withUnsafeBufferPointer { buffer in
        (0..<batch).map { b in
            let image = UnsafeBufferPointer(rebasing: buffer[(b * rows * outputs)..<((b + 1) * rows * outputs)])
            var candidates = gatherCandidates(image, classCount: nc, confThreshold: Float(confThreshold),
                                              multiLabel: multiLabel && nc > 1, classes: classes.map(Set.init))
            if let labels {
                candidates += aprioriCandidates(labels[b], confThreshold: Float(confThreshold), classes: classes)
            }
            // Descending confidence, stable; then YOLOv5's cap on boxes into NMS.
            candidates.sort { $0.confidence > $1.confidence }
            if candidates.count > NMSLimits.maxCandidates { candidates.removeLast(candidates.count - NMSLimits.maxCandidates) }
            let kept = greedySuppression(candidates, iouThreshold: iouThreshold, agnostic: agnostic, limit: maxDetections)
            return kept.map { candidates[$0] }
        }
    }
}

/// The (box, conf, class) rows that enter NMS, before sorting: YOLOv5's detections matrix.
/// `image` is (N, 5 + nc); rows come out in (box, class) order, as `nonzero` yields them.
func gatherCandidates(_ image: UnsafeBufferPointer<Float>, classCount nc: Int, confThreshold: Float,
                      multiLabel: Bool, classes: Set<Int>?) -> [Detection] {
    let outputs = nc + 5
    var found: [Detection] = []
    for r in 0..<(image.count / outputs) {
        let row = image.baseAddress! + r * outputs
        let obj = row[4]
        guard obj > confThreshold else { continue }
        // xywh → xyxy, in Float32 as `xywh2xyxy`.
        let (x1, y1, x2, y2) = (row[0] - row[2] / 2, row[1] - row[3] / 2, row[0] + row[2] / 2, row[1] + row[3] / 2)
        func add(_ conf: Float, _ cls: Int) {
            if let classes, !classes.contains(cls) { return }
            found.append(Detection(x1: x1, y1: y1, x2: x2, y2: y2, confidence: conf, classIndex: cls))
        }
        if multiLabel {
            for j in 0..<nc where row[5 + j] * obj > confThreshold { add(row[5 + j] * obj, j) }
        } else {
            var best = row[5] * obj, bestClass = 0
            for j in 1..<max(nc, 1) where row[5 + j] * obj > best { (best, bestClass) = (row[5 + j] * obj, j) }
            if best > confThreshold { add(best, bestClass) }
        }
    }
    return found
}

/// The a-priori label rows that pass NMS's tests: obj = 1 and cls one-hot, so conf = 1·1 for
/// the label's class (whether multi-label or best-class) and 0 for every other class.
func aprioriCandidates(_ labels: [Detection], confThreshold: Float, classes: [Int]?) -> [Detection] {
    labels.compactMap { l in
        guard Float(1) > confThreshold, classes?.contains(l.classIndex) ?? true else { return nil }
        return Detection(x1: l.x1, y1: l.y1, x2: l.x2, y2: l.y2, confidence: 1, classIndex: l.classIndex)
    }
}

/// Greedy NMS over candidates already sorted by descending confidence, as
/// `torchvision.ops.nms(boxes + class·max_wh, scores, iou)`. Returns kept indices in order,
/// stopping after `limit` (later boxes cannot change which earlier ones are kept).
///
/// Boxes and areas are computed on the class-offset coordinates in Float32, as torchvision
/// sees them. When every box fits inside one 7680 px span, offset boxes of different classes
/// cannot overlap, so only same-class pairs are compared; otherwise all pairs are.
func greedySuppression(_ boxes: [Detection], iouThreshold: Double, agnostic: Bool, limit: Int) -> [Int] {
    let n = boxes.count
    guard n > 0, limit > 0 else { return [] }
    var x1 = [Float](repeating: 0, count: n), y1 = x1, x2 = x1, y2 = x1, area = x1
    for (i, d) in boxes.enumerated() {
        let offset = agnostic ? 0 : Float(d.classIndex) * NMSLimits.maxBoxSide
        (x1[i], y1[i], x2[i], y2[i]) = (d.x1 + offset, d.y1 + offset, d.x2 + offset, d.y2 + offset)
        area[i] = (x2[i] - x1[i]) * (y2[i] - y1[i])
    }
    // Groups that can suppress each other, each listed in confidence order.
    let groupOf = classesAreSeparable(boxes, agnostic: agnostic) ? boxes.map(\.classIndex) : [Int](repeating: 0, count: n)
    var members: [Int: [Int]] = [:]
    var position = [Int](repeating: 0, count: n)
    for i in 0..<n {
        position[i] = members[groupOf[i], default: []].count
        members[groupOf[i], default: []].append(i)
    }
    var suppressed = [Bool](repeating: false, count: n)
    var kept: [Int] = []
    for i in 0..<n where !suppressed[i] {
        kept.append(i)
        if kept.count == limit { break }
        let group = members[groupOf[i]]!
        for j in group[(position[i] + 1)...] where !suppressed[j] {
            let w = max(0, min(x2[i], x2[j]) - max(x1[i], x1[j]))
            let h = max(0, min(y2[i], y2[j]) - max(y1[i], y1[j]))
            let inter = w * h
            let iou = inter / (area[i] + area[j] - inter)
            if Double(iou) > iouThreshold { suppressed[j] = true }
        }
    }
    return kept
}

/// Whether class-offset boxes of different classes are certainly disjoint: all coordinates
/// span less than `maxBoxSide` (less a pixel of slack for Float32 rounding of the offsets).
func classesAreSeparable(_ boxes: [Detection], agnostic: Bool) -> Bool {
    guard !agnostic else { return false }
    var lo = Float.infinity, hi = -Float.infinity
    for d in boxes {
        lo = min(lo, d.x1, d.x2)
        hi = max(hi, d.x1, d.x2)
    }
    return hi - lo < NMSLimits.maxBoxSide - 1
}
