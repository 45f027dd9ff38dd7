// A PyTorch YOLOv5 `.pt` run by our model: the tiny model PyTorch YOLOv5 7.0 trained
// (Tests/NNTests/Fixtures/yolov5_tiny_best.pt) loaded through TorchCheckpoint, its pickled YAML
// and loadStateDict, and through WeightsLoader.inferenceModel (fused), reproduces PyTorch's raw
// Detect maps (Fixtures/pt_parity_tiny.safetensors, from Tools/fixtures/make_pt_parity_fixtures.py)
// within 1e-4 of each map's largest magnitude.
import Foundation
import NN
import TensorCore
import TensorDNNL
import TestSupport
import XCTest
import YOLO
@testable import YOLOTraining

final class TorchWeightsParityTests: XCTestCase {
    override func setUp() { Engine.backend = DNNLBackend() }
    override func tearDown() { Engine.backend = ReferenceBackend() }

    /// The checkpoint lives with the NNTests fixtures.
    let ptURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../NNTests/Fixtures/yolov5_tiny_best.pt").standardizedFileURL

    func reference() throws -> [String: Tensor] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "pt_parity_tiny", withExtension: "safetensors",
                                                  subdirectory: "Fixtures"))
        return try SafeTensors.read(url).tensors
    }

    func assertMaps(_ got: [Tensor], _ ref: [String: Tensor], prefix: String, _ label: String,
                    tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        let want = (0..<3).compactMap { ref["\(prefix).\($0)"] }
        XCTAssertEqual(want.count, 3, label, file: file, line: line)
        XCTAssertEqual(got.map(\.shape), want.map(\.shape), label, file: file, line: line)
        for (a, b) in zip(got, want) where a.shape == b.shape {
            let scale = b.scalars.reduce(0) { max($0, abs($1)) }
            let err = zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
            print("\(label) \(b.shape): max |diff| \(err), \(err / scale) of max magnitude \(scale)")
            assertClose(a, b, rtol: 0, atol: tolerance * scale, "\(label) \(b.shape)", file: file, line: line)
        }
    }

    func testUnfusedEvalAndTrainMatchPyTorch() throws {
        let ref = try reference()
        let x = try XCTUnwrap(ref["input"])
        let pt = try TorchCheckpoint.read(ptURL)
        let spec = try ModelSpec(yaml: try XCTUnwrap(pt.modelYAMLText), name: "yolov5_tiny")
        var g = SeededGenerator(seed: 0)
        let model = YOLOModel(spec: spec, using: &g)
        let report = try loadStateDict(pt.stateDict, into: model, strict: false, source: ptURL.path)
        XCTAssertEqual(report.missingKeys.filter { !$0.hasSuffix("num_batches_tracked") }, [])
        assertMaps(model(x, training: false), ref, prefix: "eval", "tiny .pt eval")
        // After eval: the train forward updates the running statistics, as in the fixture script.
        // Train mode on one 32×64 image normalises the deepest layers over 2 (1×2) values, which
        // is ill-conditioned in float32: PyTorch's own float32 maps differ from its float64 ones
        // by 2.0e-5, 5.4e-5 and 3.7e-4 of the largest magnitude per level (ours differ from its
        // float32 ones by 2.7e-5, 8.2e-5, 5.5e-4). So train mode is checked at 1e-3; eval at 1e-4.
        assertMaps(model(x, training: true), ref, prefix: "train", "tiny .pt train", tolerance: 1e-3)
    }

    func testFusedInferenceModelMatchesPyTorch() throws {
        let ref = try reference()
        let x = try XCTUnwrap(ref["input"])
        let (model, names) = try WeightsLoader.inferenceModel(ptURL.path)
        XCTAssertTrue(model.isFused)
        XCTAssertTrue(model.batchNorms.isEmpty)
        XCTAssertEqual(names.count, 80)
        assertMaps(model(x, training: false), ref, prefix: "eval", "tiny .pt fused eval")
    }
}
