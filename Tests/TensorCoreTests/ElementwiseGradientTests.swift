// Central finite-difference checks of every differentiable element-wise op, including
// broadcasting in both directions, tensor-scalar and scalar-tensor forms, and activations.
import TensorCore
import TestSupport
import XCTest

final class ElementwiseGradientTests: XCTestCase {
    let a = Tensor.random([2, 3, 4], seed: 1)
    let col = Tensor.random([3, 1], seed: 2)           // broadcasts against a's last two axes
    let row = Tensor.random([1, 3, 1], seed: 3)
    let left = Tensor.random([2, 1, 4], seed: 4)       // [1,3,1] ⊕ [2,1,4]: both sides broadcast

    // MARK: + − × ÷, tensor-tensor

    func testAddBroadcasting() {
        checkGradients([a, col]) { $0[0] + $0[1] }
        checkGradients([col, a]) { $0[0] + $0[1] }
        checkGradients([row, left]) { $0[0] + $0[1] }
        checkGradients([a, Tensor(0.3)]) { $0[0] + $0[1] }   // rank-0 operand
        checkGradients([a, Tensor.random([2, 3, 4], seed: 5)]) { $0[0] + $0[1] }
    }

    func testSubBroadcasting() {
        checkGradients([a, col]) { $0[0] - $0[1] }
        checkGradients([col, a]) { $0[0] - $0[1] }
        checkGradients([row, left]) { $0[0] - $0[1] }
        checkGradients([Tensor(0.3), a]) { $0[0] - $0[1] }
    }

    func testMulBroadcasting() {
        checkGradients([a, col]) { $0[0] * $0[1] }
        checkGradients([col, a]) { $0[0] * $0[1] }
        checkGradients([row, left]) { $0[0] * $0[1] }
        checkGradients([a, Tensor(-0.7)]) { $0[0] * $0[1] }
    }

    func testDivBroadcasting() {
        checkGradients([a, signed([3, 1], seed: 6)]) { $0[0] / $0[1] }
        checkGradients([col, signed([2, 3, 4], seed: 7)]) { $0[0] / $0[1] }
        checkGradients([row, signed([2, 1, 4], seed: 8)]) { $0[0] / $0[1] }
        checkGradients([a, Tensor(-1.3)]) { $0[0] / $0[1] }
    }

    // MARK: tensor-scalar and scalar-tensor

    func testTensorScalar() {
        checkGradients([a]) { $0[0] + 2.5 }
        checkGradients([a]) { $0[0] - 1.5 }
        checkGradients([a]) { $0[0] * -1.7 }
        checkGradients([a]) { $0[0] / 0.6 }
    }

    func testScalarTensor() {
        checkGradients([a]) { 2.5 + $0[0] }
        checkGradients([a]) { 1.5 - $0[0] }
        checkGradients([a]) { -1.7 * $0[0] }
        checkGradients([signed([2, 3], seed: 9)]) { 0.8 / $0[0] }
    }

    func testNeg() {
        checkGradients([a]) { -$0[0] }
    }

    // MARK: pow, minimum, maximum

    func testPowTensorExponent() {
        let base = Tensor.random([2, 3], seed: 10, lo: 0.5, hi: 2)
        let e = Tensor.random([3], seed: 11, lo: -1.5, hi: 2.5)
        checkGradients([base, e]) { $0[0].pow($0[1]) }
        checkGradients([base, Tensor.random([2, 1], seed: 12, lo: -1, hi: 2)]) { $0[0].pow($0[1]) }
    }

    func testPowScalarExponent() {
        let positive = Tensor.random([2, 3], seed: 13, lo: 0.5, hi: 2)
        checkGradients([positive]) { $0[0].pow(1.5) }
        checkGradients([positive]) { $0[0].pow(-0.5) }
        checkGradients([positive]) { $0[0].pow(0.5) }
        // Integral exponents are defined for negative bases (as torch / C powf).
        checkGradients([a]) { $0[0].pow(2) }
        checkGradients([a]) { $0[0].pow(3) }
        checkGradients([signed([2, 3], seed: 14)]) { $0[0].pow(-2) }
    }

    func testPowNegativeBaseIntegralTensorExponent() {
        // d/da a^b = b·a^(b−1) for a < 0 and integral b; only `a` is checked (d/db is undefined).
        let base = signed([2, 3], seed: 15)
        let e = Tensor(shape: [3], scalars: [2, 3, 1])
        checkGradients([base]) { $0[0].pow(e) }
    }

    func testMinimumMaximum() {
        let x = Tensor.random([2, 3, 4], seed: 16)
        // Keep |x − y| ≥ 0.05 everywhere so no finite-difference step crosses a tie.
        let y = x + away(from: [0], Tensor.random([2, 3, 4], seed: 17, lo: -0.6, hi: 0.6))
        checkGradients([x, y]) { $0[0].minimum($0[1]) }
        checkGradients([x, y]) { $0[0].maximum($0[1]) }
        let b = Tensor(shape: [4], scalars: [-0.52, 0.13, 0.61, -0.07])
        let xb = away(from: b.scalars, Tensor.random([3, 4], seed: 18))
        // A broadcast column operand cannot keep its distance to every row, so use a [4] one
        // chosen away from xb.
        checkGradients([xb, b]) { $0[0].minimum($0[1]) }
        checkGradients([b, xb]) { $0[0].maximum($0[1]) }
    }

    // MARK: unary

    func testExpLogSqrtAtan() {
        checkGradients([a]) { $0[0].exp() }
        let positive = Tensor.random([2, 3, 4], seed: 19, lo: 0.3, hi: 3)
        checkGradients([positive]) { $0[0].log() }
        checkGradients([positive]) { $0[0].sqrt() }
        checkGradients([Tensor.random([2, 3, 4], seed: 20, lo: -3, hi: 3)]) { $0[0].atan() }
    }

    func testAbs() {
        checkGradients([away(from: [0], a)]) { $0[0].abs() }
    }

    func testClamped() {
        let x = away(from: [-0.5, 0.4], Tensor.random([3, 5], seed: 21))
        checkGradients([x]) { $0[0].clamped(min: -0.5, max: 0.4) }
        checkGradients([x]) { $0[0].clamped(min: -0.5) }
        checkGradients([x]) { $0[0].clamped(max: 0.4) }
    }

    func testSelect() {
        let cond = T([2, 3, 1], [1, 0, 1, 0, 0, 1])
        let x = Tensor.random([2, 3, 4], seed: 22)
        let y = Tensor.random([4], seed: 23)
        checkGradients([x, y]) { Tensor.select(cond, $0[0], $0[1]) }
        checkGradients([y, x]) { Tensor.select(cond, $0[0], $0[1]) }
        // A full-shape condition, both operands full shape.
        let c2 = Tensor.random([2, 3, 4], seed: 24).greater(0)
        checkGradients([x, Tensor.random([2, 3, 4], seed: 25)]) { Tensor.select(c2, $0[0], $0[1]) }
    }

    // MARK: activations

    func testSiluSigmoid() {
        let x = Tensor.random([2, 3, 4], seed: 26, lo: -5, hi: 5)
        checkGradients([x]) { $0[0].silu() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].activation(.silu) }
    }

    func testReluLeakyRelu() {
        let x = away(from: [0], Tensor.random([2, 3, 4], seed: 27, lo: -2, hi: 2))
        checkGradients([x]) { $0[0].relu() }
        checkGradients([x]) { $0[0].activation(.leakyRelu(slope: 0.1)) }
    }

    func testHardswish() {
        let x = away(from: [-3, 3], Tensor.random([3, 4, 5], seed: 28, lo: -5, hi: 5))
        checkGradients([x]) { $0[0].activation(.hardswish) }
    }

    /// A chain of element-wise ops (the shape of a loss term) end to end.
    func testComposite() {
        let p = Tensor.random([4, 2], seed: 29)
        let t = Tensor.random([4, 2], seed: 30, lo: 0.2, hi: 1)
        checkGradients([p, t]) { xs in
            let d = (xs[0].sigmoid() * 2 - 0.5).pow(2) * xs[1]
            return (d - xs[1].log()).atan() / (xs[1] + 1).sqrt()
        }
    }
}
