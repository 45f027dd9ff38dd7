// decodePredictions against YOLOv5 7.0's Detect (Fixtures/nms_decode.safetensors, written by
// Tools/fixtures/make_nms_fixtures.py) and against hand-worked values.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest
@testable import YOLO

final class DecodeTests: XCTestCase {
    private func fixture() throws -> SafeTensorsFile {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "nms_decode", withExtension: "safetensors",
                                                  subdirectory: "Fixtures"))
        return try SafeTensors.read(url)
    }

    private func anchorsAndStrides(_ file: SafeTensorsFile) -> ([[Float]], [Int]) {
        let anchors = file.tensors["anchors"]!.scalars  // (3, 6) pixels
        return ((0..<3).map { Array(anchors[(6 * $0)..<(6 * $0 + 6)]) }, file.tensors["strides"]!.scalars.map { Int($0) })
    }

    func testMatchesYOLOv5DetectEvalOutput() throws {
        let file = try fixture()
        let (anchors, strides) = anchorsAndStrides(file)
        let raw = (0..<3).map { file.tensors["raw_\($0)"]! }  // (B, na, H, W, 5 + nc)
        let decoded = decodePredictions(raw, anchors: anchors, strides: strides)
        let expected = file.tensors["decoded"]!
        XCTAssertEqual(decoded.shape, [2, 126, 9])
        assertClose(decoded, expected, rtol: 1e-5, atol: 1e-6)
    }

    func testChannelsLastConvOutputDecodesTheSame() throws {
        let file = try fixture()
        let (anchors, strides) = anchorsAndStrides(file)
        let permuted = decodePredictions((0..<3).map { file.tensors["raw_\($0)"]! }, anchors: anchors, strides: strides)
        let nhwc = decodePredictions((0..<3).map { file.tensors["raw_nhwc_\($0)"]! }, anchors: anchors, strides: strides)
        XCTAssertEqual(permuted.shape, nhwc.shape)
        XCTAssertEqual(permuted.scalars, nhwc.scalars)
    }

    /// Zero logits: σ = ½, so xy = (1 + cell − ½)·stride = (cell + ½)·stride and wh = anchor.
    func testZeroLogitsGiveCellCentresAndAnchors() {
        let raw = Tensor(zeros: [1, 2, 2, 3, 6])  // (B, na = 2, H = 2, W = 3, 5 + nc = 6)
        let out = decodePredictions([raw], anchors: [[10, 13, 16, 30]], strides: [8])
        XCTAssertEqual(out.shape, [1, 12, 6])
        let v = out.scalars
        for a in 0..<2 {
            for y in 0..<2 {
                for x in 0..<3 {
                    let row = Array(v[(((a * 2 + y) * 3 + x) * 6)...].prefix(6))
                    XCTAssertEqual(row, [(Float(x) + 0.5) * 8, (Float(y) + 0.5) * 8,
                                         a == 0 ? 10 : 16, a == 0 ? 13 : 30, 0.5, 0.5], "anchor \(a) cell (\(x), \(y))")
                }
            }
        }
    }

    /// Extreme logits reach YOLOv5's bounds: xy ∈ (cell − ½, cell + 1½)·stride, wh ∈ (0, 4·anchor).
    func testSaturatedLogitsReachTheDecodeBounds() {
        let raw = Tensor(shape: [1, 1, 1, 1, 6], scalars: [40, -40, 40, -40, 40, -40])
        let v = decodePredictions([raw], anchors: [[10, 20]], strides: [16]).scalars
        assertClose(v, [1.5 * 16, -0.5 * 16, 4 * 10, 0, 1, 0], rtol: 1e-6, atol: 1e-6)
    }

    /// Rows run level by level, then anchor, y, x (YOLOv5's `torch.cat(z, 1)`).
    func testLevelsConcatenateInOrder() {
        let p3 = Tensor(zeros: [2, 1, 2, 2, 5]), p4 = Tensor(zeros: [2, 1, 1, 1, 5])
        let out = decodePredictions([p3, p4], anchors: [[4, 4], [9, 9]], strides: [8, 16])
        XCTAssertEqual(out.shape, [2, 5, 5])
        let v = out.scalars
        for b in 0..<2 {
            XCTAssertEqual(v[(b * 5 + 3) * 5 + 2], 4, "last P3 row")
            XCTAssertEqual(Array(v[((b * 5 + 4) * 5)...].prefix(4)), [8, 8, 9, 9], "P4 row")
        }
    }
}
