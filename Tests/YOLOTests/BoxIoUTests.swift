// The IoU family: hand-worked values, finite-difference gradients, conversions, and the
// plain IoU matrix.
import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import YOLO

final class BoxIoUTests: ReferenceBackendTestCase {

    private func box(_ v: [Float]) -> Tensor { Tensor(shape: [v.count / 4, 4], scalars: v) }

    /// b1 = (0, 0, 2, 2), b2 = (1, 0, 2, 2) in xywh: corners x −1…1 and 0…2, y −1…1.
    /// inter = 1·2 = 2, union = 4 + 4 − 2 = 6 → IoU = 1/3. Enclosing box 3×2: area 6 = union →
    /// GIoU = IoU. c² = 9 + 4 = 13, centre distance² = 1 → DIoU = 1/3 − 1/13. Same aspect → v = 0,
    /// CIoU = DIoU.
    func testShiftedSquares() {
        let a = box([0, 0, 2, 2]), b = box([1, 0, 2, 2])
        let third: Float = 1.0 / 3
        assertClose(bboxIoU(a, b).scalars, [third], rtol: 1e-6)
        assertClose(bboxIoU(a, b, kind: .giou).scalars, [third], rtol: 1e-6)
        assertClose(bboxIoU(a, b, kind: .diou).scalars, [third - 1.0 / 13], rtol: 1e-6)
        assertClose(bboxIoU(a, b, kind: .ciou).scalars, [third - 1.0 / 13], rtol: 1e-6)
    }

    /// b1 = 2×1 and b2 = 1×2, same centre: inter 1, union 3, IoU 1/3, rho = 0.
    /// v = 4/π²·(atan(1/2) − atan(2))² ≈ 0.167827, α = v/(v − 1/3 + 1) ≈ 0.201112,
    /// CIoU = 1/3 − v·α ≈ 0.299581.
    func testCrossedRectanglesCIoU() {
        let a = box([0, 0, 2, 1]), b = box([0, 0, 1, 2])
        let v = 4 / (Double.pi * Double.pi) * pow(atan(0.5) - atan(2.0), 2)
        let alpha = v / (v - 1.0 / 3 + 1)
        let expected = Float(1.0 / 3 - v * alpha)
        XCTAssertEqual(expected, 0.299581, accuracy: 1e-5)
        assertClose(bboxIoU(a, b, kind: .ciou).scalars, [expected], rtol: 1e-5)
        // The same boxes in corner form.
        let ac = box([-1, -0.5, 1, 0.5]), bc = box([-0.5, -1, 0.5, 1])
        assertClose(bboxIoU(ac, bc, xywh: false, kind: .ciou).scalars, [expected], rtol: 1e-5)
    }

    func testIdenticalBoxesAndDisjointBoxes() {
        let a = box([3, 4, 2, 5, 0, 0, 1, 1]), b = box([3, 4, 2, 5, 10, 10, 1, 1])
        let ciou = bboxIoU(a, b, kind: .ciou).scalars
        XCTAssertEqual(ciou[0], 1, accuracy: 1e-6)
        XCTAssertLessThan(ciou[1], 0)                 // no overlap: IoU 0, minus the distance term
        XCTAssertEqual(bboxIoU(a, b).scalars[1], 0)
    }

    // Boxes with partial overlap and no coinciding edges (no kinks in min/max/clamp).
    let pred: [Float] = [0.3, 0.4, 1.7, 2.2, 1.1, 0.9, 2.6, 1.4, 0.5, 0.2, 0.8, 1.3]
    let target: [Float] = [0.6, 0.15, 2.1, 1.6, 0.8, 1.2, 1.9, 2.3, 0.1, 0.5, 1.2, 0.9]

    func testGradientsMatchFiniteDifferencesIoUGIoUDIoU() {
        for kind in [IoUKind.iou, .giou, .diou] {
            assertGradientsMatchFiniteDifferences([box(pred), box(target)], step: 1e-3, rtol: 1e-2, atol: 1e-3) { x in
                bboxIoU(x[0], x[1], kind: kind).sum()
            }
        }
    }

    /// CIoU's α is a constant for the gradient, so the tape's gradient is the derivative of
    /// DIoU − α₀·v with α₀ frozen at the evaluation point; checked by central differences of
    /// that function (v and α₀ written out here in Double).
    func testCIoUGradientHoldsAlphaConstant() {
        let p = box(pred), t = box(target)
        let id = TensorID()
        let (_, grads) = valueWithGradients { tape in
            bboxIoU(tape.watch(p, as: id), t, kind: .ciou).sum()
        }
        let analytic = grads[id]!.scalars
        let iou0 = bboxIoU(p, t).scalars
        func v(_ b: [Float], _ k: Int) -> Double {
            let w1 = Double(b[4 * k + 2]), h1 = Double(b[4 * k + 3])
            let w2 = Double(target[4 * k + 2]), h2 = Double(target[4 * k + 3])
            return 4 / (Double.pi * Double.pi) * pow(atan(w2 / h2) - atan(w1 / h1), 2)
        }
        let alpha0 = (0..<3).map { k in v(pred, k) / (v(pred, k) - Double(iou0[k]) + 1 + 1e-7) }
        func frozen(_ b: [Float]) -> Double {
            let diou = bboxIoU(box(b), t, kind: .diou).scalars
            return (0..<3).reduce(0) { $0 + Double(diou[$1]) - alpha0[$1] * v(b, $1) }
        }
        let h: Float = 1e-3
        for i in 0..<pred.count {
            var plus = pred, minus = pred
            plus[i] += h
            minus[i] -= h
            let numeric = Float((frozen(plus) - frozen(minus)) / Double(2 * h))
            XCTAssertEqual(analytic[i], numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "element \(i)")
        }
    }

    func testConversionsRoundTrip() {
        let xywh = box([2, 3, 4, 6, 0.5, 0.5, 1, 1])
        let xyxy = xywh2xyxy(xywh)
        XCTAssertEqual(xyxy.scalars, [0, 0, 4, 6, 0, 0, 1, 1])
        XCTAssertEqual(xyxy2xywh(xyxy).scalars, xywh.scalars)
        XCTAssertEqual(xywh2xyxy(SIMD4<Float>(2, 3, 4, 6)), SIMD4(0, 0, 4, 6))
        XCTAssertEqual(xyxy2xywh(SIMD4<Float>(0, 0, 4, 6)), SIMD4(2, 3, 4, 6))
    }

    /// box_iou: a 2×2 matrix, and agreement with bboxIoU on corner boxes.
    func testBoxIoUMatrix() {
        let a: [SIMD4<Float>] = [SIMD4(0, 0, 2, 2), SIMD4(1, 1, 3, 3)]
        let b: [SIMD4<Float>] = [SIMD4(1, 0, 3, 2), SIMD4(5, 5, 6, 6), SIMD4(2, 2, 4, 4)]
        let m = boxIoU(a, b)
        XCTAssertEqual(m.count, 2)
        XCTAssertEqual(m[0][0], 2.0 / 6, accuracy: 1e-6)     // inter 1×2, union 4 + 4 − 2
        XCTAssertEqual(m[1][0], 2.0 / 6, accuracy: 1e-6)     // inter 2×1, union 4 + 4 − 2
        XCTAssertEqual(m[0][1], 0)
        XCTAssertEqual(m[1][2], 1.0 / 7, accuracy: 1e-6)     // inter 1×1, union 4 + 4 − 1
        let t = bboxIoU(box([1, 1, 3, 3]), box([1, 0, 3, 2]), xywh: false).scalars[0]
        XCTAssertEqual(m[1][0], t, accuracy: 1e-6)
    }
}
