// New anchors for AutoAnchor (YOLOv5 7.0 kmean_anchors and check_anchors): seeded k-means on
// whitened label sizes, then a genetic evolution of the fitness. Not the metric (AutoAnchor.swift).
import Foundation
import TensorCore

extension AnchorCheck {
    /// kmean_anchors: `n` anchors for label sizes `wh` (pixels at `imageSize`, not augmented),
    /// sorted small to large by area.
    ///
    /// Labels smaller than 2 px on both sides are dropped (a warning counts those under 3 px);
    /// k-means (scipy's `kmeans(wh / σ, n, iter=30)`: 30 restarts from n distinct random labels,
    /// lowest mean distance kept) seeds the anchors, falling back to sorted uniform·imageSize
    /// values when there are fewer than n labels or clusters; then `generations` mutations
    /// `v = (mask(p=0.9) · U · N(0,1) · 0.1 + 1).clip(0.3, 3)`, `kg = (k · v).clip(min: 2)`, keep
    /// kg when `fitness` improves. `report` receives upstream's log lines.
    public static func kmeansAnchors(
        wh wh0: [SIMD2<Float>], n: Int = 9, imageSize: Int, threshold anchorT: Double = 4,
        generations: Int = 1000, using generator: inout some RandomNumberGenerator,
        report: (String) -> Void = { _ in }
    ) -> [SIMD2<Float>] {
        let tiny = wh0.filter { $0.x < 3 || $0.y < 3 }.count
        if tiny > 0 {
            report("\(prefix)WARNING ⚠️ Extremely small objects found: \(tiny) of \(wh0.count) labels are <3 pixels in size")
        }
        let wh = wh0.filter { $0.x >= 2 || $0.y >= 2 }
        report("\(prefix)Running kmeans for \(n) anchors on \(wh.count) points...")
        var k: [SIMD2<Double>]
        if n <= wh.count, let sigma = standardDeviation(wh), sigma.x > 0, sigma.y > 0,
           case let book = kmeans(wh.map { SIMD2<Double>($0) / sigma }, n, restarts: 30, using: &generator),
           book.count == n
        {
            k = book.map { $0 * sigma }
        } else {
            report("\(prefix)WARNING ⚠️ switching strategies from kmeans to random init")
            let u = (0..<(2 * n)).map { _ in Double.random(in: 0..<1, using: &generator) }.sorted()
            k = (0..<n).map { SIMD2(u[2 * $0], u[2 * $0 + 1]) * Double(imageSize) }
        }
        k = sortedByArea(k)
        k = evolve(k, wh: wh, threshold: anchorT, generations: generations, using: &generator)
        let anchors = sortedByArea(k).map { SIMD2<Float>($0) }
        report(summary(anchors, wh: wh0, imageSize: imageSize, threshold: anchorT))
        return anchors
    }

    /// The genetic step of kmean_anchors (mutation probability 0.9, σ 0.1).
    static func evolve(_ start: [SIMD2<Double>], wh: [SIMD2<Float>], threshold anchorT: Double, generations: Int,
                       using g: inout some RandomNumberGenerator) -> [SIMD2<Double>] {
        let (mp, sigma) = (0.9, 0.1)
        func fit(_ k: [SIMD2<Double>]) -> Double { fitness(anchors: k.map { SIMD2<Float>($0) }, wh: wh, threshold: anchorT) }
        var k = start, f = fit(k)
        for _ in 0..<generations {
            var v = [SIMD2<Double>](repeating: .one, count: k.count)
            while v.allSatisfy({ $0 == .one }) {  // mutate until a change occurs
                let mask = v.indices.map { _ in SIMD2(Double.random(in: 0..<1, using: &g) < mp ? 1.0 : 0,
                                                     Double.random(in: 0..<1, using: &g) < mp ? 1.0 : 0) }
                let u = Double.random(in: 0..<1, using: &g)  // one scalar per attempt, as random.random()
                v = mask.map { m in
                    let z = SIMD2(Double(g.nextNormal()), Double(g.nextNormal()))
                    return (m * u * z * sigma + 1).clamped(lowerBound: SIMD2(repeating: 0.3), upperBound: SIMD2(repeating: 3))
                }
            }
            let kg = zip(k, v).map { pointwiseMax($0 * $1, SIMD2(repeating: 2)) }
            let fg = fit(kg)
            if fg > f { (f, k) = (fg, kg) }
        }
        return k
    }

    /// print_results's line: thresholds, bpr, anchors past threshold, mean metrics and the
    /// anchors as `w,h, ` pairs (rounded half-to-even, as Python's round).
    public static func summary(_ anchors: [SIMD2<Float>], wh: [SIMD2<Float>], imageSize: Int,
                               threshold anchorT: Double) -> String {
        let t = Float(1 / anchorT)
        let (x, best) = ratios(wh: wh, anchors: anchors)
        let bpr = Double(best.filter { $0 > t }.count) / Double(max(best.count, 1))
        let aat = Double(x.filter { $0 > t }.count) / Double(max(x.count, 1)) * Double(anchors.count)
        func mean(_ a: [Float]) -> Double { a.isEmpty ? .nan : a.reduce(0.0) { $0 + Double($1) } / Double(a.count) }
        let f3 = { (v: Double) in String(format: "%.3f", v) }
        let list = anchors.map { "\(Int($0.x.rounded(.toNearestOrEven))),\(Int($0.y.rounded(.toNearestOrEven)))" }
        return "\(prefix)thr=\(String(format: "%.2f", Double(t))): \(String(format: "%.4f", bpr)) best possible recall, "
            + "\(String(format: "%.2f", aat)) anchors past thr\n"
            + "\(prefix)n=\(anchors.count), img_size=\(imageSize), metric_all=\(f3(mean(x)))/\(f3(mean(best)))-mean/best, "
            + "past_thr=\(f3(mean(x.filter { $0 > t })))-mean: " + list.joined(separator: ", ")
    }

    static func sortedByArea<T: BinaryFloatingPoint>(_ k: [SIMD2<T>]) -> [SIMD2<T>] {
        k.enumerated().sorted { ($0.element.x * $0.element.y, $0.offset) < ($1.element.x * $1.element.y, $1.offset) }
            .map(\.element)
    }

    /// Population standard deviation per column (numpy `std(0)`); nil when empty.
    static func standardDeviation(_ wh: [SIMD2<Float>]) -> SIMD2<Double>? {
        guard !wh.isEmpty else { return nil }
        let n = Double(wh.count)
        let mean = wh.reduce(SIMD2<Double>.zero) { $0 + SIMD2<Double>($1) } / n
        let v = wh.reduce(SIMD2<Double>.zero) { let d = SIMD2<Double>($1) - mean; return $0 + d * d } / n
        return v.squareRoot()
    }
}

extension AnchorCheck {
    /// scipy.cluster.vq.kmeans: `restarts` runs of Lloyd's algorithm, each from `k` distinct
    /// random observations, iterated until the mean distance changes by ≤ 1e-5; clusters that
    /// lose all members are dropped. Returns the code book of the run with the lowest mean
    /// Euclidean distance (possibly fewer than k codes).
    static func kmeans(_ obs: [SIMD2<Double>], _ k: Int, restarts: Int,
                       using g: inout some RandomNumberGenerator) -> [SIMD2<Double>] {
        var best: [SIMD2<Double>] = [], bestDistortion = Double.infinity
        for _ in 0..<restarts {
            var idx = Array(obs.indices)
            for i in 0..<k { idx.swapAt(i, Int.random(in: i..<idx.count, using: &g)) }  // k distinct picks
            var book = idx.prefix(k).map { obs[$0] }
            var previous = Double.infinity, diff = Double.infinity, distortion = Double.infinity
            while diff > 1e-5 {
                var sums = [SIMD2<Double>](repeating: .zero, count: book.count), counts = [Int](repeating: 0, count: book.count)
                var total = 0.0
                for o in obs {
                    var j = 0, d = Double.infinity
                    for (c, code) in book.enumerated() {
                        let e = o - code, dc = (e * e).sum().squareRoot()
                        if dc < d { (j, d) = (c, dc) }
                    }
                    sums[j] += o; counts[j] += 1; total += d
                }
                distortion = total / Double(obs.count)
                book = book.indices.filter { counts[$0] > 0 }.map { sums[$0] / Double(counts[$0]) }
                diff = abs(previous - distortion)
                previous = distortion
            }
            if distortion < bestDistortion { (best, bestDistortion) = (book, distortion) }
        }
        return best
    }
}
