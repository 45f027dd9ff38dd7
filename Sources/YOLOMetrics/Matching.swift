// Which detections are true positives at each IoU threshold: YOLOv5 7.0 val.py `process_batch`.
// Greedy and unique: every detection keeps its best label, then every label keeps one detection.

/// The correct matrix of one image, as val.py's `process_batch(detections, labels, iouv)`.
///
/// For each threshold `t`, candidate pairs are (label, detection) with the same class and
/// IoU ≥ `t` (float32 compare). val.py sorts them by IoU (descending), keeps the first pair per
/// detection, i.e. each detection's highest-IoU label, then — with the pairs now ordered by
/// detection index, because its second IoU sort is commented out in 7.0 — the first pair per
/// label, i.e. the label's *lowest-index* detection (the most confident, as NMS output is sorted
/// by confidence), not its highest-IoU one. Exact IoU ties between two labels of one detection go
/// to the later label (the reverse of a stable ascending sort; numpy's own tie order is unspecified).
///
/// - Parameters:
///   - detections: N × 6 row-major `x1, y1, x2, y2, conf, class`.
///   - labels: M × 5 row-major `class, x1, y1, x2, y2`.
///   - iouThresholds: T thresholds, default the ten of mAP@0.5:0.95.
/// - Returns: N rows of T Bools; `[d][t]` is true when detection `d` is a true positive at `t`.
public func matchPredictions(detections: [Float], labels: [Float],
                             iouThresholds: [Float] = YOLOMetrics.iouThresholds) -> [[Bool]] {
    precondition(detections.count % 6 == 0 && labels.count % 5 == 0, "detections N × 6, labels M × 5")
    let n = detections.count / 6, m = labels.count / 5
    var correct = [[Bool]](repeating: [Bool](repeating: false, count: iouThresholds.count), count: n)
    guard n > 0, m > 0 else { return correct }
    let iou = boxIoU(labelBoxes(labels), detectionBoxes(detections))  // (M, N)
    for (t, threshold) in iouThresholds.enumerated() {
        // best[d] = label kept by detection d (highest IoU; ties → later label)
        var best = [Int?](repeating: nil, count: n)
        for d in 0..<n {
            for l in 0..<m where labels[l * 5] == detections[d * 6 + 5] && iou[l * n + d] >= threshold {
                if let b = best[d], iou[b * n + d] > iou[l * n + d] { continue }
                best[d] = l
            }
        }
        // each label keeps its first (lowest-index) detection
        var taken = [Bool](repeating: false, count: m)
        for d in 0..<n {
            guard let l = best[d], !taken[l] else { continue }
            taken[l] = true
            correct[d][t] = true
        }
    }
    return correct
}

/// The M × 4 xyxy boxes of M × 5 `class, x1, y1, x2, y2` labels.
func labelBoxes(_ labels: [Float]) -> [Float] {
    stride(from: 0, to: labels.count, by: 5).flatMap { labels[($0 + 1)...($0 + 4)] }
}

/// The N × 4 xyxy boxes of N × 6 `x1, y1, x2, y2, conf, class` detections.
func detectionBoxes(_ detections: [Float]) -> [Float] {
    stride(from: 0, to: detections.count, by: 6).flatMap { detections[$0...($0 + 3)] }
}
