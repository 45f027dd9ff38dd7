// BCE on logits: stability at large logits, torch's pos_weight, focal wrapper, smoothing.
import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import YOLO

final class BCELossTests: ReferenceBackendTestCase {

    private func naive(_ x: Double, _ y: Double, pw: Double = 1) -> Double {
        let p = 1 / (1 + Foundation.exp(-x))
        return -(pw * y * Foundation.log(p) + (1 - y) * Foundation.log(1 - p))
    }

    /// At ±100 the loss is |x| or 0 exactly, never inf or NaN, and the gradient σ(x) − y is finite.
    func testStableAtLargeLogits() {
        let x = Tensor(shape: [4], scalars: [100, -100, 100, -100])
        let y: [Float] = [0, 1, 1, 0]
        let id = TensorID()
        let (_, grads) = valueWithGradients { tape in
            BCEWithLogits().elementwise(tape.watch(x, as: id), targets: y).sum()
        }
        let loss = BCEWithLogits().elementwise(x, targets: y).scalars
        XCTAssertEqual(loss, [100, 100, 0, 0])
        assertClose(grads[id]!.scalars, [1, -1, 0, 0], atol: 1e-6)
    }

    /// Agrees with the textbook formula −[w·y·log p + (1 − y)·log(1 − p)] at moderate logits,
    /// including soft targets and a positive weight (torch's pos_weight).
    func testMatchesNaiveFormula() {
        let xs: [Float] = [-3, -0.5, 0.2, 2.5]
        let ys: [Float] = [0.05, 0.95, 0.3, 1]
        for pw: Float in [1, 0.7, 1.5] {
            let got = BCEWithLogits(positiveWeight: pw).elementwise(Tensor(shape: [4], scalars: xs), targets: ys).scalars
            let want = zip(xs, ys).map { Float(naive(Double($0), Double($1), pw: Double(pw))) }
            assertClose(got, want, rtol: 1e-5, atol: 1e-6, "pos_weight \(pw)")
        }
    }

    /// Focal: ℓ·α_t·(1 − p_t)^γ; checked at one point by hand and by finite differences.
    func testFocalLoss() {
        let x: Float = 0.4, y: Float = 1, gamma: Float = 1.5
        let p = 1 / (1 + Foundation.exp(-x))
        let expected = Float(naive(Double(x), Double(y))) * 0.25 * Foundation.pow(1 - p, gamma)
        let got = BCEWithLogits(focalGamma: gamma).mean(Tensor(shape: [1], scalars: [x]), targets: [y]).scalar
        XCTAssertEqual(got, expected, accuracy: 1e-6)
        let logits = Tensor(shape: [5], scalars: [-2, -0.3, 0.1, 0.8, 1.9])
        let targets: [Float] = [0, 0.05, 0.95, 1, 0.3]
        assertGradientsMatchFiniteDifferences([logits], step: 1e-2) { x in
            BCEWithLogits(positiveWeight: 1.3, focalGamma: gamma).mean(x[0], targets: targets)
        }
    }

    /// At x = 0 (zero-initialised outputs) the gradient is (1 − y) + w·(σ(0) − 1) = (1 − y) − w/2,
    /// not a one-sided derivative of the |x| and max(−x, 0) pieces.
    func testGradientAtZeroLogit() {
        let y: [Float] = [0, 1, 0.3]
        for pw: Float in [1, 1.5] {
            let x = Tensor(zeros: [3])
            let id = TensorID()
            let (_, grads) = valueWithGradients { tape in
                BCEWithLogits(positiveWeight: pw).elementwise(tape.watch(x, as: id), targets: y).sum()
            }
            let want = y.map { (1 - $0) - (1 + (pw - 1) * $0) / 2 }
            assertClose(grads[id]!.scalars, want, atol: 1e-6, "pos_weight \(pw)")
        }
    }

    func testSmoothBCE() {
        let (cp, cn) = smoothBCE(eps: 0.1)
        XCTAssertEqual(cp, 0.95, accuracy: 1e-7)
        XCTAssertEqual(cn, 0.05, accuracy: 1e-7)
        XCTAssertTrue(smoothBCE(eps: 0) == (1, 0))
    }
}
