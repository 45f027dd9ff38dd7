// Hand-checked block behaviour: Focus's slice order, SPPF = SPP(5, 9, 13), Detect's bias
// prior and anchor-order check, the nc override and the printed summary.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest
@testable import YOLO

/// Every draw is 0.5, so PyTorch-style U(−b, b) initialisation gives exactly 0.
struct MidpointGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 { 1 << 63 }
}

final class BlockTests: XCTestCase {
    func testFocusSliceOrder() {
        // (1, 2, 2, 1): pixel (row, col) holds 10·row + col
        let x = Tensor(shape: [1, 2, 2, 1], scalars: [0, 1, 10, 11])
        // x[::2, ::2], x[1::2, ::2], x[::2, 1::2], x[1::2, 1::2] → (0,0), (1,0), (0,1), (1,1)
        XCTAssertEqual(Focus.spaceToDepth(x).scalars, [0, 10, 1, 11])
        XCTAssertEqual(Focus.spaceToDepth(Tensor(zeros: [2, 4, 6, 3])).shape, [2, 2, 3, 12])
    }

    func testSPPFEqualsSPP() {
        var g1 = SeededGenerator(seed: 3), g2 = SeededGenerator(seed: 3)
        let spp = SPP("s", 8, 8, kernels: [5, 9, 13], using: &g1)
        let sppf = SPPF("s", 8, 8, kernel: 5, using: &g2)
        let x = Tensor.normal([1, 7, 9, 8], using: &g1)
        assertClose(spp.forward([x], training: false), sppf.forward([x], training: false))
        XCTAssertEqual(spp.namedState.map(\.name), sppf.namedState.map(\.name))
    }

    func testDetectBiasPriorAndAnchors() throws {
        var g = MidpointGenerator()
        let model = YOLOModel(spec: try ModelSpec.load(cfg: "yolov5n"), nc: 3, using: &g)
        XCTAssertEqual(model.nc, 3)
        XCTAssertEqual(model.strides, [8, 16, 32])
        XCTAssertEqual(model.detect.m[0].outChannels, 3 * 8)
        for (conv, s) in zip(model.detect.m, model.strides) {
            let b = try XCTUnwrap(conv.bias).value.scalars
            let obj = Float(log(8 / pow(640 / Double(s), 2))), cls = Float(log(0.6 / (3 - 0.99999)))
            XCTAssertEqual(b, Array(repeating: [0, 0, 0, 0, obj, cls, cls, cls], count: 3).flatMap { $0 })
        }
        XCTAssertEqual(model.levelAnchors(0), [[1.25, 1.625], [2, 3.75], [4.125, 2.875]])
        XCTAssertEqual(model.levelAnchors(2), [[3.625, 2.8125], [4.875, 6.1875], [11.65625, 10.1875]])
    }

    func testAnchorOrderIsCheckedAgainstStrides() throws {
        let text = try String(contentsOf: try XCTUnwrap(ModelSpec.bundledURL("yolov5n")), encoding: .utf8)
        let reversed = text
            .replacingOccurrences(of: "[10,13, 16,30, 33,23]", with: "P3")
            .replacingOccurrences(of: "[116,90, 156,198, 373,326]", with: "[10,13, 16,30, 33,23]")
            .replacingOccurrences(of: "P3", with: "[116,90, 156,198, 373,326]")
        var g = SeededGenerator(seed: 0)
        let model = YOLOModel(spec: try ModelSpec(yaml: reversed), using: &g)
        // check_anchor_order flips the levels back, so small anchors go to stride 8
        XCTAssertEqual(model.levelAnchors(0), [[1.25, 1.625], [2, 3.75], [4.125, 2.875]])
    }

    func testSummaryAndTrainingStatistics() throws {
        var g = SeededGenerator(seed: 0)
        let model = YOLOModel(spec: try ModelSpec.load(cfg: "yolov5n"), using: &g)
        let text = model.summary()
        XCTAssertTrue(text.hasPrefix("                 from  n    params  module"), text)
        XCTAssertTrue(text.hasSuffix("YOLOv5n summary: 214 layers, 1872157 parameters, 1872157 gradients, 4.6 GFLOPs"), text)
        XCTAssertEqual(model.batchNorms.count, 57)
        let before = model.batchNorms[0].runningMean.value.scalars
        _ = model(Tensor.uniform([2, 64, 64, 3], lo: 0, hi: 1, using: &g), training: true)
        XCTAssertNotEqual(model.batchNorms[0].runningMean.value.scalars, before)
        XCTAssertEqual(model.batchNorms[0].numBatchesTracked.value.scalar, 1)
    }

    func testEveryParameterGetsAGradient() throws {
        var g = SeededGenerator(seed: 5)
        let model = YOLOModel(spec: try ModelSpec(yaml: ModelSpecTests.tiny), using: &g)
        let x = Tensor.uniform([2, 8, 8, 3], lo: 0, hi: 1, using: &g)
        let (_, grads) = valueWithGradients { _ in
            model(x, training: true).map { ($0 * $0).sum() }.reduce(Tensor(0), +)
        }
        for p in model.parameters {
            XCTAssertEqual(grads[p]?.shape, p.value.shape, p.name)
        }
    }
}

final class BottleneckCSPTests: XCTestCase {
    /// cv4(LeakyReLU(0.1)(bn(cat(cv3(m(cv1(x))), cv2(x))))) composed by hand from its parts.
    func testBottleneckCSPComposesWithLeakyReLU() {
        var g = SeededGenerator(seed: 11)
        let block = BottleneckCSP("model.2", 8, 8, repeats: 2, using: &g)
        let x = Tensor.normal([1, 5, 6, 8], using: &g)
        var h = block.cv1(x, training: false)
        for b in block.m { h = b.forward([h], training: false) }
        let cat = Tensor.concat([block.cv3(h), block.cv2(x)])
        let expected = block.cv4(block.bn(cat, training: false).activation(.leakyRelu(slope: 0.1)), training: false)
        assertClose(block.forward([x], training: false), expected)
        // Negative inputs to the activation must be scaled by 0.1, so SiLU would not match.
        let silu = block.cv4(block.bn(cat, training: false).silu(), training: false)
        XCTAssertGreaterThan(relativeError(block.forward([x], training: false).scalars, silu.scalars), 1e-3)
    }
}
