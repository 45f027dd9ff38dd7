// Shared helpers for the TensorCore gradient tests: a non-uniformly weighted reduction to a
// scalar (so a gradient that is wrong but sums correctly still fails), inputs kept away from
// kinks, and tie-free inputs for max / max-pool.
import TensorCore
import TestSupport
import XCTest

/// Σ y·w with fixed pseudo-random weights w in [-1, 1): every output element gets its own weight.
func weightedSum(_ y: Tensor, seed: UInt64 = 0xC0FFEE) -> Tensor {
    (y * Tensor.random(y.shape, seed: seed &+ UInt64(y.count))).sum()
}

/// Finite-difference check of `f` (any output shape) through `weightedSum`.
func checkGradients(
    _ inputs: [Tensor], step: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
) {
    assertGradientsMatchFiniteDifferences(inputs, step: step, rtol: rtol, atol: atol, file: file, line: line) {
        weightedSum(f($0))
    }
}

/// Pushes every element within `margin` of a kink out to `kink ± margin` (keeping its side),
/// so central differences with step 1e-2 never straddle a kink.
func away(from kinks: [Float], margin: Float = 0.05, _ t: Tensor) -> Tensor {
    var t = t
    t.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count {
            for k in kinks where Swift.abs(p[i] - k) < margin { p[i] = p[i] >= k ? k + margin : k - margin }
        }
    }
    return t
}

/// A shuffled ramp: every value distinct and `spacing` apart (no ties for max / max-pool,
/// even after a finite-difference step of 1e-2).
func distinct(_ shape: [Int], seed: UInt64, spacing: Float = 0.05) -> Tensor {
    let n = Tensor.elementCount(shape)
    var g = SeededGenerator(seed: seed)
    var v = (0..<n).map { Float($0) * spacing - Float(n) * spacing / 2 }
    v.shuffle(using: &g)
    return Tensor(shape: shape, scalars: v)
}

/// Values in [lo, hi) with a random sign: magnitudes bounded away from zero (divisors).
func signed(_ shape: [Int], seed: UInt64, lo: Float = 0.5, hi: Float = 2) -> Tensor {
    let m = Tensor.random(shape, seed: seed, lo: lo, hi: hi)
    let s = Tensor.random(shape, seed: seed &+ 7)
    return Tensor(shape: shape, scalars: zip(m.scalars, s.scalars).map { $1 < 0 ? -$0 : $0 })
}

func T(_ shape: [Int], _ scalars: [Float]) -> Tensor { Tensor(shape: shape, scalars: scalars) }
