// The random draws the augmentations take (Python's random.uniform / randint / choices / shuffle and
// NumPy's beta), over any `RandomNumberGenerator`, plus the per-sample generator derivation.
// Not bit-compatible with Python's Mersenne Twister: only the distributions and draw order match.
import Foundation
import TensorCore

extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 bits (Python random.random()).
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// random.uniform(lo, hi) = lo + (hi − lo)·random().
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * nextDouble() }

    /// random.randint(lo, hi): inclusive on both ends.
    public mutating func randint(_ lo: Int, _ hi: Int) -> Int { Int.random(in: lo...hi, using: &self) }

    /// A standard normal (Box–Muller in Double).
    mutating func normalDouble() -> Double {
        let u1 = max(nextDouble(), .leastNonzeroMagnitude), u2 = nextDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000), "A simple method for generating gamma
    /// variables"; shape < 1 boosted by U^(1/shape).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma shape \(shape)")
        if shape < 1 { return gamma(shape: shape + 1) * pow(max(nextDouble(), .leastNonzeroMagnitude), 1 / shape) }
        let d = shape - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = normalDouble()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, .leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (np.random.beta).
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a), y = gamma(shape: b)
        return x / (x + y)
    }
}

extension Array {
    /// Fisher–Yates shuffle driven by `g` (random.shuffle order: from the end).
    mutating func shuffleInPlace(using g: inout some RandomNumberGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            swapAt(i, Int.random(in: 0...i, using: &g))
        }
    }
}

/// random.choices(range(n), weights:, k:): `k` indices drawn with replacement, probability ∝ weight.
public func weightedChoices(weights: [Double], count k: Int, using g: inout some RandomNumberGenerator) -> [Int] {
    var cumulative: [Double] = []
    cumulative.reserveCapacity(weights.count)
    var total = 0.0
    for w in weights { total += max(w, 0); cumulative.append(total) }
    precondition(total > 0, "weightedChoices needs a positive weight")
    return (0..<k).map { _ in
        let u = g.nextDouble() * total
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {  // first cumulative > u (bisect_right)
            let mid = (lo + hi) / 2
            if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// A generator that depends only on (seed, stream, a, b): the loader derives one per epoch
/// (stream 0, shuffle), per sample slot (stream 1) and per batch (stream 2), so results never
/// depend on which worker thread ran them.
public func derivedGenerator(seed: UInt64, stream: UInt64, _ a: Int, _ b: Int = 0) -> SeededGenerator {
    var h = seed ^ 0x6A09_E667_F3BC_C909
    for v in [stream, UInt64(bitPattern: Int64(a)), UInt64(bitPattern: Int64(b))] {
        h = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
    }
    return SeededGenerator(seed: h)
}
