// YOLOv5 7.0's ConfusionMatrix (utils/metrics.py): detections above a confidence, matched to
// labels by IoU regardless of class, counted into an (nc + 1)² matrix whose last row and column
// are background.

/// Confusion matrix over detections and labels of many images.
///
/// `matrix[predicted][true]`, both indices in `0...nc`, index `nc` = background:
/// `matrix[p][t]` counts labels of class `t` matched by a detection of class `p`;
/// `matrix[nc][t]` labels of class `t` left unmatched (FN); `matrix[p][nc]` detections of class
/// `p` left unmatched (FP, background predicted as `p`).
public struct ConfusionMatrix: Sendable, Equatable {
    public let nc: Int
    /// Detections need confidence strictly above this (float32 compare).
    public let conf: Float
    /// Pairs need IoU strictly above this (float32 compare).
    public let iouThres: Float
    /// (nc + 1) rows × (nc + 1) columns: rows predicted class, columns true class.
    public private(set) var matrix: [[Double]]

    public init(nc: Int, conf: Float = 0.25, iouThres: Float = 0.45) {
        precondition(nc > 0, "nc must be positive")
        self.nc = nc
        self.conf = conf
        self.iouThres = iouThres
        matrix = [[Double]](repeating: [Double](repeating: 0, count: nc + 1), count: nc + 1)
    }

    /// Adds one image, as `ConfusionMatrix.process_batch(detections, labels)`.
    ///
    /// Matching: pairs with IoU > `iouThres` (any classes); each detection keeps its highest-IoU
    /// label (ties → later label), then each label its highest-IoU detection (ties → later
    /// detection). A label with a match counts at `[detected class][label class]`, one without at
    /// `[nc][label class]`. Unmatched detections count at `[class][nc]` — but only when the image
    /// has at least one match: YOLOv5 7.0 skips its FP loop otherwise, and so does this.
    /// - Parameters:
    ///   - detections: N × 6 row-major `x1, y1, x2, y2, conf, class`, or nil when the image has
    ///     none (val.py passes `None`): every label then counts as background FN.
    ///   - labels: M × 5 row-major `class, x1, y1, x2, y2`.
    public mutating func processBatch(detections: [Float]?, labels: [Float]) {
        precondition(labels.count % 5 == 0, "labels must be M × 5")
        let labelClasses = stride(from: 0, to: labels.count, by: 5).map { Int(labels[$0]) }
        guard let detections else {
            for c in labelClasses { matrix[nc][c] += 1 }
            return
        }
        precondition(detections.count % 6 == 0, "detections must be N × 6")
        let kept = stride(from: 0, to: detections.count, by: 6)
            .filter { detections[$0 + 4] > conf }
            .flatMap { detections[$0..<($0 + 6)] }
        let detectionClasses = stride(from: 0, to: kept.count, by: 6).map { Int(kept[$0 + 5]) }
        let matchOfLabel = match(labelBoxes(labels), detectionBoxes(kept),
                                 m: labelClasses.count, n: detectionClasses.count)
        for (l, c) in labelClasses.enumerated() {
            if let d = matchOfLabel[l] { matrix[detectionClasses[d]][c] += 1 } else { matrix[nc][c] += 1 }
        }
        guard matchOfLabel.contains(where: { $0 != nil }) else { return }
        var matched = [Bool](repeating: false, count: detectionClasses.count)
        for case let d? in matchOfLabel { matched[d] = true }
        for (d, c) in detectionClasses.enumerated() where !matched[d] { matrix[c][nc] += 1 }
    }

    /// The detection matched to each label (or nil), per process_batch's two unique passes.
    private func match(_ labelBoxes: [Float], _ detectionBoxes: [Float], m: Int, n: Int) -> [Int?] {
        let iou = boxIoU(labelBoxes, detectionBoxes)  // (M, N)
        var matchOfLabel = [Int?](repeating: nil, count: m)
        for d in 0..<n {
            var best: Int?  // highest-IoU label of d; ties → later label
            for l in 0..<m where iou[l * n + d] > iouThres {
                if let b = best, iou[b * n + d] > iou[l * n + d] { continue }
                best = l
            }
            guard let l = best else { continue }
            // label keeps its highest-IoU detection; ties → later detection
            if let e = matchOfLabel[l], iou[l * n + e] > iou[l * n + d] { continue }
            matchOfLabel[l] = d
        }
        return matchOfLabel
    }

    /// Diagonal true positives and row-sum false positives per class, background dropped
    /// (`tp_fp()`); both have nc elements.
    public func tpFp() -> (tp: [Double], fp: [Double]) {
        let tp = (0..<nc).map { matrix[$0][$0] }
        let fp = (0..<nc).map { matrix[$0].reduce(0, +) - tp[$0] }
        return (tp, fp)
    }
}
