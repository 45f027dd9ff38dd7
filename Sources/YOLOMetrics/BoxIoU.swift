// Pairwise IoU of xyxy boxes in float32, with the operation order of YOLOv5 7.0's `box_iou`
// (utils/metrics.py), so thresholds compare bit-for-bit as they do in val.py.

/// Pairwise intersection over union.
/// - Parameters:
///   - boxes1: N × 4 row-major `x1, y1, x2, y2`.
///   - boxes2: M × 4 row-major `x1, y1, x2, y2`.
///   - eps: added to the union, as YOLOv5 does (1e-7).
/// - Returns: N × M row-major; element `i * M + j` is IoU(boxes1[i], boxes2[j]).
public func boxIoU(_ boxes1: [Float], _ boxes2: [Float], eps: Float = 1e-7) -> [Float] {
    precondition(boxes1.count % 4 == 0 && boxes2.count % 4 == 0, "boxes must be N × 4")
    let n = boxes1.count / 4, m = boxes2.count / 4
    var iou = [Float](repeating: 0, count: n * m)
    for i in 0..<n {
        let a = i * 4
        let area1 = (boxes1[a + 2] - boxes1[a]) * (boxes1[a + 3] - boxes1[a + 1])
        for j in 0..<m {
            let b = j * 4
            // inter = (min(a2, b2) - max(a1, b1)).clamp(0).prod()
            let w = max(min(boxes1[a + 2], boxes2[b + 2]) - max(boxes1[a], boxes2[b]), 0)
            let h = max(min(boxes1[a + 3], boxes2[b + 3]) - max(boxes1[a + 1], boxes2[b + 1]), 0)
            let inter = w * h
            let area2 = (boxes2[b + 2] - boxes2[b]) * (boxes2[b + 3] - boxes2[b + 1])
            // inter / (area1 + area2 - inter + eps), evaluated left to right as torch does
            iou[i * m + j] = inter / (area1 + area2 - inter + eps)
        }
    }
    return iou
}
