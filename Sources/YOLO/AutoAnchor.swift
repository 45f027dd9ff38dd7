// AutoAnchor (YOLOv5 7.0 `utils/autoanchor.py`): how well pixel anchors fit a dataset's label
// sizes, and k-means + genetic evolution of new anchors. Not the model surgery: callers put the
// returned pixel anchors back into Detect (divided by stride).
import Foundation

/// YOLOv5's AutoAnchor. Anchors and label sizes are (w, h) in pixels at the training size.
public enum AnchorCheck {
    /// Upstream's log prefix.
    public static let prefix = "AutoAnchor: "

    /// The ratio metric of every label against every anchor: `r = wh / k`, `x = min(r, 1/r)`
    /// taken over (w, h), so `x[i][j]` is the worse side ratio of label i to anchor j (Float32, as
    /// upstream). Returns x flattened (labels, anchors) and each label's best `max_j x[i][j]`.
    static func ratios(wh: [SIMD2<Float>], anchors k: [SIMD2<Float>]) -> (x: [Float], best: [Float]) {
        var x = [Float](repeating: 0, count: wh.count * k.count)  // (n, na)
        var best = [Float](repeating: 0, count: wh.count)
        for (i, w) in wh.enumerated() {
            var b: Float = 0
            for (j, a) in k.enumerated() {
                let r = w / a
                let m = min(min(r.x, 1 / r.x), min(r.y, 1 / r.y))
                x[i * k.count + j] = m
                b = max(b, m)
            }
            best[i] = b
        }
        return (x, best)
    }

    /// check_anchors's metric: best possible recall `bpr = mean(best > 1/anchorT)` and anchors
    /// above threshold per target `aat = mean_i Σ_j (x_ij > 1/anchorT)`.
    public static func metrics(anchors: [SIMD2<Float>], wh: [SIMD2<Float>], threshold anchorT: Double)
        -> (bpr: Double, aat: Double)
    {
        guard !wh.isEmpty, !anchors.isEmpty else { return (0, 0) }
        let t = Float(1 / anchorT)
        let (x, best) = ratios(wh: wh, anchors: anchors)
        let above = x.reduce(0) { $0 + ($1 > t ? 1 : 0) }
        let recalled = best.reduce(0) { $0 + ($1 > t ? 1 : 0) }
        return (Double(recalled) / Double(wh.count), Double(above) / Double(wh.count))
    }

    /// `metrics` with anchors as a model YAML writes them: per level `[w0, h0, w1, h1, …]`.
    public static func metrics(anchors: [[Float]], wh: [SIMD2<Float>], threshold anchorT: Double)
        -> (bpr: Double, aat: Double)
    {
        metrics(anchors: pairs(anchors), wh: wh, threshold: anchorT)
    }

    /// Flattens YAML-style levels `[[w0, h0, w1, h1, …], …]` into (w, h) pairs.
    public static func pairs(_ levels: [[Float]]) -> [SIMD2<Float>] {
        levels.flatMap { l in stride(from: 0, to: l.count - 1, by: 2).map { SIMD2(l[$0], l[$0 + 1]) } }
    }

    /// kmean_anchors's evolution fitness: `mean(best · (best > 1/anchorT))`.
    public static func fitness(anchors: [SIMD2<Float>], wh: [SIMD2<Float>], threshold anchorT: Double) -> Double {
        guard !wh.isEmpty else { return 0 }
        let t = Float(1 / anchorT)
        let best = ratios(wh: wh, anchors: anchors).best
        return best.reduce(0.0) { $0 + ($1 > t ? Double($1) : 0) } / Double(wh.count)
    }

    /// Label (w, h) in pixels: each image is resized so its long side is `imageSize`
    /// (`shapes = imgsz · shapes / shapes.max(1)`), and its normalized label w, h scaled by that
    /// shape. `labels[i]` are image i's rows `[cls, cx, cy, w, h]`. Float64 products rounded to
    /// Float32, as upstream's numpy → torch `.float()`.
    public static func labelSizes(shapes: [(width: Int, height: Int)], labels: [[[Float]]], imageSize: Int)
        -> [SIMD2<Float>]
    {
        precondition(shapes.count == labels.count, "one label list per image")
        return zip(shapes, labels).flatMap { shape, rows in
            sizes(rows, resized(shape, imageSize), gain: 1)
        }
    }

    /// `labelSizes` with check_anchors's augmentation: every image's size is multiplied by one
    /// draw of uniform(0.9, 1.1).
    public static func labelSizes(shapes: [(width: Int, height: Int)], labels: [[[Float]]], imageSize: Int,
                                  augmentingScalesUsing generator: inout some RandomNumberGenerator)
        -> [SIMD2<Float>]
    {
        precondition(shapes.count == labels.count, "one label list per image")
        var out = [SIMD2<Float>]()
        for (shape, rows) in zip(shapes, labels) {
            let gain = Double.random(in: 0.9..<1.1, using: &generator)
            out += sizes(rows, resized(shape, imageSize), gain: gain)
        }
        return out
    }

    private static func resized(_ s: (width: Int, height: Int), _ imageSize: Int) -> SIMD2<Double> {
        let longest = Double(max(s.width, s.height))
        return SIMD2(Double(imageSize) * Double(s.width) / longest, Double(imageSize) * Double(s.height) / longest)
    }

    private static func sizes(_ rows: [[Float]], _ shape: SIMD2<Double>, gain: Double) -> [SIMD2<Float>] {
        let s = shape * gain
        return rows.map { r in SIMD2(Float(Double(r[3]) * s.x), Float(Double(r[4]) * s.y)) }
    }

    /// check_anchor_order: when the mean anchor area per level runs against the stride order,
    /// the levels are reversed (within-level order kept). `anchors[l]` is level l's (w, h) list.
    public static func checkAnchorOrder(anchors: [[SIMD2<Float>]], strides: [Float])
        -> (anchors: [[SIMD2<Float>]], reversed: Bool)
    {
        guard let first = anchors.first, let last = anchors.last, let s0 = strides.first, let s1 = strides.last
        else { return (anchors, false) }
        func meanArea(_ l: [SIMD2<Float>]) -> Float { l.reduce(0) { $0 + $1.x * $1.y } / Float(l.count) }
        let da = meanArea(last) - meanArea(first), ds = s1 - s0
        // Upstream: `if da and da.sign() != ds.sign()`; a zero ds has sign 0, so it also flips.
        if da != 0, sign(da) != sign(ds) { return (anchors.reversed(), true) }
        return (anchors, false)
    }

    private static func sign(_ v: Float) -> Int { v > 0 ? 1 : (v < 0 ? -1 : 0) }
}

/// What check_anchors decided: the anchors to train with (pixels, per level), whether they
/// were replaced, the current anchors' metric and upstream's log lines.
public struct AnchorCheckResult: Sendable {
    public var anchors: [[SIMD2<Float>]]
    public var replaced: Bool
    public var bpr: Double
    public var aat: Double
    public var messages: [String]
}

extension AnchorCheck {
    /// Upstream's recompute threshold: anchors with bpr above it are kept untouched.
    public static let goodFitBPR = 0.98

    /// check_anchors on a dataset: label sizes with the random ×[0.9, 1.1] image scale judge the
    /// current `anchors` (pixels, per level, strides ascending as the model's); when bpr ≤ 0.98,
    /// kmeansAnchors (on unscaled sizes) proposes new ones, which replace the current only if
    /// their bpr is higher, and are then order-checked against `strides`.
    public static func checkAnchors(
        anchors: [[SIMD2<Float>]], strides: [Float], shapes: [(width: Int, height: Int)], labels: [[[Float]]],
        imageSize: Int, threshold anchorT: Double = 4, generations: Int = 1000,
        using generator: inout some RandomNumberGenerator
    ) -> AnchorCheckResult {
        let wh = labelSizes(shapes: shapes, labels: labels, imageSize: imageSize, augmentingScalesUsing: &generator)
        let wh0 = labelSizes(shapes: shapes, labels: labels, imageSize: imageSize)
        return checkAnchors(anchors: anchors, strides: strides, wh: wh, kmeansWH: wh0, imageSize: imageSize,
                            threshold: anchorT, generations: generations, using: &generator)
    }

    /// check_anchors on label sizes already computed: `wh` (augmented) for the metric,
    /// `kmeansWH` (unscaled) for kmeansAnchors.
    public static func checkAnchors(
        anchors: [[SIMD2<Float>]], strides: [Float], wh: [SIMD2<Float>], kmeansWH: [SIMD2<Float>],
        imageSize: Int, threshold anchorT: Double = 4, generations: Int = 1000,
        using generator: inout some RandomNumberGenerator
    ) -> AnchorCheckResult {
        let (bpr, aat) = metrics(anchors: anchors.flatMap { $0 }, wh: wh, threshold: anchorT)
        let head = "\(prefix)\(String(format: "%.2f", aat)) anchors/target, \(String(format: "%.3f", bpr)) Best Possible Recall (BPR). "
        var result = AnchorCheckResult(anchors: anchors, replaced: false, bpr: bpr, aat: aat, messages: [])
        if bpr > goodFitBPR {
            result.messages.append(head + "Current anchors are a good fit to dataset ✅")
            return result
        }
        result.messages.append(head + "Anchors are a poor fit to dataset ⚠️, attempting to improve...")
        let na = anchors.map(\.count).reduce(0, +)
        let proposed = kmeansAnchors(wh: kmeansWH, n: na, imageSize: imageSize, threshold: anchorT,
                                     generations: generations, using: &generator) { result.messages.append($0) }
        if metrics(anchors: proposed, wh: wh, threshold: anchorT).bpr > bpr {
            var levels = [[SIMD2<Float>]](), rest = proposed[...]
            for level in anchors { levels.append(Array(rest.prefix(level.count))); rest = rest.dropFirst(level.count) }
            let ordered = checkAnchorOrder(anchors: levels, strides: strides)
            if ordered.reversed { result.messages.append("\(prefix)Reversing anchor order") }
            result.anchors = ordered.anchors
            result.replaced = true
            result.messages.append("\(prefix)Done ✅ (optional: update model *.yaml to use these anchors in the future)")
        } else {
            result.messages.append("\(prefix)Done ⚠️ (original anchors better than new anchors, proceeding with original anchors)")
        }
        return result
    }
}
