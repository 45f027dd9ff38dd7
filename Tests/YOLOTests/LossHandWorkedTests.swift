// ComputeLoss on a case small enough to work by hand.
import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import YOLO

final class LossHandWorkedTests: ReferenceBackendTestCase {

    /// One level (balance 4), a 4×4 grid, B = 1, anchors 1×1 and 2×2 (grid units), nc = 2,
    /// every logit 0, one target of class 1 at the centre of cell (2, 2) sized 2×2.
    ///
    /// Assignment: both anchors match (r = 2 and 1), only the own cell (fractions are 0.5).
    /// Box: σ(0) = 0.5, so pxy = 0.5, pwh = (2·0.5)²·anchor = anchor. Anchor 2×2 predicts the
    /// target exactly: CIoU = 1 (up to eps). Anchor 1×1: same centre, IoU = 1/4, same aspect,
    /// CIoU = 1/4. lbox = mean(0, 3/4) = 0.375.
    /// Objectness: with logit 0, BCE = (1 − y)·0 + log 2 = log 2 for any target y, so
    /// lobj = 4·log 2. Class: every logit 0 → log 2 per element, lcls = log 2.
    /// Total = (0.375·box + 4 log 2·obj + log 2·cls)·1.
    func testAllZeroLogitsOneTarget() throws {
        var hyp = try Hyperparameters.load("hyp.scratch-low")
        hyp.box = 0.05; hyp.obj = 1; hyp.cls = 0.5
        let loss = ComputeLoss(nc: 2, anchors: [[SIMD2(1, 1), SIMD2(2, 2)]], strides: [8], hyp: hyp)
        let p = Tensor(zeros: [1, 2, 4, 4, 7])
        let id = TensorID()
        var items: [Float] = []
        let (value, grads) = valueWithGradients { tape in
            let out = loss([tape.watch(p, as: id)], targets: [[0, 1, 0.625, 0.625, 0.5, 0.5]])
            items = out.items
            return out.loss
        }
        let log2 = Float(Foundation.log(2.0))
        assertClose(items, [0.375 * 0.05, 4 * log2, log2 * 0.5], rtol: 1e-5)
        assertClose([value.scalar], [0.375 * 0.05 + 4 * log2 + log2 * 0.5], rtol: 1e-5)

        // d lobj / d logit = 4·(σ(0) − y)/32 for the 32 objectness logits: y = IoU at the two
        // assigned cells (≈1 and 1/4), 0 elsewhere.
        let g = try XCTUnwrap(grads[id])
        let objAt = { (a: Int, y: Int, x: Int) in g.scalars[((a * 4 + y) * 4 + x) * 7 + 4] }
        XCTAssertEqual(objAt(0, 0, 0), 4 * 0.5 / 32, accuracy: 1e-6)
        XCTAssertEqual(objAt(0, 2, 2), 4 * (0.5 - 0.25) / 32, accuracy: 1e-6)
        XCTAssertEqual(objAt(1, 2, 2), 4 * (0.5 - 1) / 32, accuracy: 1e-5)
        // Class gradient at the assigned rows: 0.5·(σ(0) − t)/(2·2) per element (mean over n·nc).
        let clsAt = { (a: Int, c: Int) in g.scalars[((a * 4 + 2) * 4 + 2) * 7 + 5 + c] }
        XCTAssertEqual(clsAt(0, 0), 0.5 * 0.5 / 4, accuracy: 1e-6)
        XCTAssertEqual(clsAt(1, 1), 0.5 * -0.5 / 4, accuracy: 1e-6)
    }

    /// Single class: no class loss (YOLOv5 skips it when nc = 1).
    func testSingleClassHasNoClassLoss() throws {
        let hyp = try Hyperparameters.load("hyp.scratch-low")
        let loss = ComputeLoss(nc: 1, anchors: [[1, 1, 2, 2]], strides: [8], hyp: hyp)
        let out = loss([Tensor.random([1, 2, 4, 4, 6], seed: 3)], targets: [[0, 0, 0.625, 0.625, 0.5, 0.5]])
        XCTAssertEqual(out.items[2], 0)
        XCTAssertGreaterThan(out.items[0], 0)
    }

    func testGridAnchorsFromPixels() {
        let a = ComputeLoss.gridAnchors(pixels: [[10, 13, 16, 30], [30, 61, 62, 45]], strides: [8, 16])
        XCTAssertEqual(a, [[SIMD2(1.25, 1.625), SIMD2(2, 3.75)], [SIMD2(1.875, 3.8125), SIMD2(3.875, 2.8125)]])
    }
}
