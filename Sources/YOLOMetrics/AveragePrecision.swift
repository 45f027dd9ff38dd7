// AP per class and the P/R/F1 operating point: YOLOv5 7.0's `ap_per_class` and `compute_ap`
// (utils/metrics.py), in float64 as numpy computes them.

/// The confidence grid of the P, R and F1 curves: `np.linspace(0, 1, 1000)`.
public let confidenceGrid: [Double] = linspace(0, 1, 1000)

/// Area under one precision-recall curve, COCO-style (`compute_ap`, method `interp`).
///
/// Sentinels make `mrec = [0, recall…, 1]` and `mpre = [1, precision…, 0]`; the precision
/// envelope is the running maximum from the right; AP = `np.trapz(np.interp(x, mrec, mpre), x)`
/// over `x = linspace(0, 1, 101)`. Because the end sentinel sits at recall 1 with precision 0,
/// the point x = 1 always reads 0 (np.interp takes the last of equal `mrec`), so even a perfect
/// curve scores 1 − 0.01/2 = 0.995.
/// - Parameters:
///   - recall: non-decreasing recall after each detection (K values, sorted by confidence).
///   - precision: precision after each detection (K values).
/// - Returns: AP, and the K + 2 envelope precisions and sentinel-padded recalls.
public func computeAP(recall: [Double], precision: [Double]) -> (ap: Double, mpre: [Double], mrec: [Double]) {
    precondition(recall.count == precision.count, "recall and precision must have equal counts")
    let mrec = [0.0] + recall + [1.0]
    var mpre = [1.0] + precision + [0.0]
    for i in stride(from: mpre.count - 2, through: 0, by: -1) { mpre[i] = max(mpre[i], mpre[i + 1]) }
    let x = linspace(0, 1, 101)
    return (trapz(interp(x, mrec, mpre), x), mpre, mrec)
}

/// What `ap_per_class` returns, plus the curves and operating point it computes on the way.
/// K = number of classes with labels (`classes`), T = number of IoU thresholds, and
/// G = 1000 points of `confidenceGrid`. Classes without any prediction keep P = R = AP = 0.
public struct APResult: Sendable, Equatable {
    /// K label classes, ascending (`np.unique(target_cls)`).
    public var classes: [Int]
    /// K label counts per class.
    public var labelCounts: [Int]
    /// K true positives at the operating point: `round(r · nt)` (half to even).
    public var tp: [Double]
    /// K false positives at the operating point: `round(tp / (p + eps) − tp)`.
    public var fp: [Double]
    /// K precisions, recalls and F1 scores at the operating point.
    public var precision: [Double], recall: [Double], f1: [Double]
    /// K rows of T APs, column 0 = AP@0.5.
    public var ap: [[Double]]
    /// K rows of G values over `confidenceGrid` (precision reads 1 above the top confidence).
    public var precisionCurve: [[Double]], recallCurve: [[Double]], f1Curve: [[Double]]
    /// The operating point: index into `confidenceGrid` of the maximum of the class-mean F1
    /// curve after `smooth(_, fraction: 0.1)` (first maximum).
    public var bestIndex: Int
    /// The confidence of the operating point.
    public var bestConfidence: Double { confidenceGrid[bestIndex] }
}

/// Per-class precision, recall, AP and F1 over a whole validation set (`ap_per_class`).
/// - Parameters:
///   - tp: N rows of T Bools, the concatenated `matchPredictions` of every image.
///   - conf: N confidences.
///   - predClass: N predicted classes.
///   - targetClass: the class of every label of every image (images without detections included).
public func apPerClass(tp: [[Bool]], conf: [Float], predClass: [Int], targetClass: [Int]) -> APResult {
    precondition(tp.count == conf.count && conf.count == predClass.count, "tp, conf, predClass must be N long")
    let eps = 1e-16, nt = Dictionary(targetClass.map { ($0, 1) }, uniquingKeysWith: +)
    let classes = nt.keys.sorted(), counts = classes.map { nt[$0]! }
    let order = descendingOrder(conf)
    let T = tp.first?.count ?? YOLOMetrics.iouThresholds.count, G = confidenceGrid.count
    let negGrid = confidenceGrid.map { -$0 }
    var ap = [[Double]](repeating: [Double](repeating: 0, count: T), count: classes.count)
    var p = [[Double]](repeating: [Double](repeating: 0, count: G), count: classes.count), r = p
    for (ci, c) in classes.enumerated() {
        let rows = order.filter { predClass[$0] == c }
        guard !rows.isEmpty else { continue }
        // curves along the detections of class c, most confident first: (K_c, T)
        var recall = [[Double]](repeating: [], count: T), precision = recall
        var tpc = [Int](repeating: 0, count: T)
        for (k, row) in rows.enumerated() {
            for j in 0..<T {
                if tp[row][j] { tpc[j] += 1 }
                recall[j].append(Double(tpc[j]) / (Double(counts[ci]) + eps))
                precision[j].append(Double(tpc[j]) / Double(k + 1))  // tpc / (tpc + fpc)
            }
        }
        let negConf = rows.map { -Double(conf[$0]) }  // increasing, as np.interp needs
        r[ci] = interp(negGrid, negConf, recall[0], left: 0)
        p[ci] = interp(negGrid, negConf, precision[0], left: 1)
        for j in 0..<T { ap[ci][j] = computeAP(recall: recall[j], precision: precision[j]).ap }
    }
    let f1 = zip(p, r).map { pc, rc in zip(pc, rc).map { 2 * $0 * $1 / ($0 + $1 + eps) } }
    let best = bestF1Index(f1)
    let pb = p.map { $0[best] }, rb = r.map { $0[best] }
    let tpb = zip(rb, counts).map { ($0 * Double($1)).rounded(.toNearestOrEven) }
    let fpb = zip(tpb, pb).map { ($0 / ($1 + eps) - $0).rounded(.toNearestOrEven) }
    return APResult(classes: classes, labelCounts: counts, tp: tpb, fp: fpb, precision: pb, recall: rb,
                    f1: f1.map { $0[best] }, ap: ap, precisionCurve: p, recallCurve: r, f1Curve: f1,
                    bestIndex: best)
}

/// `smooth(f1.mean(0), 0.1).argmax()`: the class mean is summed row by row (numpy's axis-0
/// reduction); with no classes the mean is NaN and numpy's argmax answers 0.
private func bestF1Index(_ f1: [[Double]]) -> Int {
    guard let first = f1.first else { return 0 }
    var sum = first
    for row in f1.dropFirst() { for k in sum.indices { sum[k] += row[k] } }
    let smoothed = smooth(sum.map { $0 / Double(f1.count) }, fraction: 0.1)
    var best = 0
    for k in smoothed.indices where smoothed[k] > smoothed[best] { best = k }
    return best
}
