// The validation summary YOLOv5 7.0's val.py derives from `ap_per_class`, and `fitness`.

/// Model fitness for picking `best.pt`: the weights `[0, 0, 0.1, 0.9]` on
/// `[P, R, mAP@0.5, mAP@0.5:0.95]`, summed left to right as numpy's `(x * w).sum(1)` does.
public func fitness(p: Double, r: Double, map50: Double, map: Double) -> Double {
    0.0 * p + 0.0 * r + 0.1 * map50 + 0.9 * map
}

/// val.py's summary: means over the K classes that have labels (`APResult.classes`).
public struct DetectionMetrics: Sendable, Equatable {
    /// Mean precision and recall at the operating point.
    public var mp: Double, mr: Double
    /// mAP@0.5 and mAP@0.5:0.95.
    public var map50: Double, map: Double
    /// K label classes, ascending.
    public var classes: [Int]
    /// K per-class values: P, R, AP@0.5 and AP@0.5:0.95 (the mean of the T APs).
    public var precision: [Double], recall: [Double], ap50: [Double], ap: [Double]

    /// All zero, as val.py reports when there is no true positive at any threshold.
    public static let zero = DetectionMetrics(mp: 0, mr: 0, map50: 0, map: 0, classes: [],
                                              precision: [], recall: [], ap50: [], ap: [])

    public init(mp: Double, mr: Double, map50: Double, map: Double, classes: [Int],
                precision: [Double], recall: [Double], ap50: [Double], ap: [Double]) {
        self.mp = mp; self.mr = mr; self.map50 = map50; self.map = map
        self.classes = classes; self.precision = precision; self.recall = recall
        self.ap50 = ap50; self.ap = ap
    }

    /// `ap50, ap = ap[:, 0], ap.mean(1)`; `mp, mr, map50, map = p.mean(), r.mean(), …`.
    public init(_ result: APResult) {
        let ap50 = result.ap.map { $0.first ?? 0 }, ap = result.ap.map { mean($0) }
        self.init(mp: mean(result.precision), mr: mean(result.recall), map50: mean(ap50), map: mean(ap),
                  classes: result.classes, precision: result.precision, recall: result.recall,
                  ap50: ap50, ap: ap)
    }

    /// val.py's rule: `ap_per_class` only when some detection is a true positive at some
    /// threshold, `.zero` otherwise.
    public init(tp: [[Bool]], conf: [Float], predClass: [Int], targetClass: [Int]) {
        if tp.contains(where: { $0.contains(true) }) {
            self.init(apPerClass(tp: tp, conf: conf, predClass: predClass, targetClass: targetClass))
        } else {
            self = .zero
        }
    }

    /// `fitness` of this summary.
    public var fitness: Double { YOLOMetrics.fitness(p: mp, r: mr, map50: map50, map: map) }

    /// Per-class mAP@0.5:0.95 over all nc classes, `map` for classes without labels (val.py's `maps`,
    /// used for image weights).
    public func maps(nc: Int) -> [Double] {
        var out = [Double](repeating: map, count: nc)
        for (i, c) in classes.enumerated() where c < nc { out[c] = ap[i] }
        return out
    }
}
