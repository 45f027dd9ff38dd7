// PyTorch checkpoint reading against files PyTorch YOLOv5 7.0 wrote
// (Tools/fixtures/make_pt_fixtures.py): a tiny model trained 2 epochs, its last.pt (FP16
// model + EMA + optimizer) and stripped best.pt, and a plain torch.save(state_dict) with every
// storage type and non-contiguous views. Values must match torch's bit for bit.
import Foundation
import NN
import TensorCore
import XCTest

final class TorchCheckpointTests: XCTestCase {
    private func fixture(_ name: String, _ ext: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures"),
                      "missing fixture \(name).\(ext); run Tools/fixtures/make_pt_fixtures.py")
    }

    /// yolov5_tiny_expected.json: {last|best: {keys, used_ema, names, epoch, best_fitness, top_level_keys, nc, anchors}}.
    private func expectedInfo(_ tag: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixture("yolov5_tiny_expected", "json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root[tag] as? [String: Any])
    }

    /// Same keys, shapes and Float32 bit patterns.
    private func assertSameStateDict(_ got: [String: Tensor], _ expected: [String: Tensor],
                                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.keys.sorted(), expected.keys.sorted(), file: file, line: line)
        for (name, e) in expected {
            guard let g = got[name] else { continue }
            XCTAssertEqual(g.shape, e.shape, name, file: file, line: line)
            if g.scalars.map(\.bitPattern) != e.scalars.map(\.bitPattern) {
                XCTFail("\(name): values differ: \(g) vs \(e)", file: file, line: line)
            }
        }
    }

    // MARK: YOLOv5 checkpoints

    func testLastCheckpointPrefersEMAAndMatchesTorch() throws {
        let ckpt = try TorchCheckpoint.read(fixture("yolov5_tiny_last", "pt"))
        let info = try expectedInfo("last")
        let expected = try SafeTensors.read(fixture("yolov5_tiny_expected", "safetensors"))
        XCTAssertTrue(ckpt.usedEMA)
        XCTAssertEqual(ckpt.stateDictKeys, info["keys"] as? [String], "state_dict() order")
        assertSameStateDict(ckpt.stateDict, expected.tensors)
        XCTAssertEqual(ckpt.epoch, info["epoch"] as? Int)
        XCTAssertEqual(ckpt.bestFitness, info["best_fitness"] as? Double)
        XCTAssertEqual(ckpt.names, info["names"] as? [String])
        XCTAssertEqual(ckpt.topLevelKeys, info["top_level_keys"] as? [String])
        XCTAssertTrue(ckpt.topLevelKeys.contains("optimizer"))
        // spot checks on what a loader relies on
        XCTAssertEqual(ckpt.stateDict["model.24.anchors"]?.shape, [3, 3, 2])
        XCTAssertEqual(ckpt.stateDict["model.0.bn.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(ckpt.stateDict["model.0.conv.weight"]?.shape, [8, 3, 6, 6])
    }

    func testStrippedBestCheckpointUsesModel() throws {
        let ckpt = try TorchCheckpoint.read(fixture("yolov5_tiny_best", "pt"))
        let info = try expectedInfo("best")
        let expected = try SafeTensors.read(fixture("yolov5_tiny_expected", "safetensors"))
        XCTAssertFalse(ckpt.usedEMA, "strip_optimizer sets ema to None")
        XCTAssertEqual(ckpt.stateDictKeys, info["keys"] as? [String])
        assertSameStateDict(ckpt.stateDict, expected.tensors)
        XCTAssertEqual(ckpt.epoch, -1)
        XCTAssertNil(ckpt.bestFitness)
        XCTAssertEqual(ckpt.names.count, 80)
        XCTAssertEqual(ckpt.names.first, "person")
        XCTAssertEqual(ckpt.contents["ema"], PickleValue.none)
    }

    func testModelYAMLFields() throws {
        let ckpt = try TorchCheckpoint.read(fixture("yolov5_tiny_best", "pt"))
        let info = try expectedInfo("best")
        let yaml = try XCTUnwrap(ckpt.modelYAML)
        XCTAssertEqual(yaml["nc"]?.intValue, info["nc"] as? Int)
        XCTAssertEqual(yaml["depth_multiple"]?.doubleValue, 0.33)
        XCTAssertEqual(yaml["width_multiple"]?.doubleValue, 0.03125)
        let anchors = try XCTUnwrap(yaml["anchors"]?.elements).map { $0.elements?.compactMap(\.intValue) ?? [] }
        XCTAssertEqual(anchors, info["anchors"] as? [[Int]])
        XCTAssertEqual(yaml["backbone"]?.elements?.count, 10)
        XCTAssertEqual(yaml["head"]?.elements?.count, 15)

        let text = try XCTUnwrap(ckpt.modelYAMLText)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("nc: 80"), text)
        XCTAssertTrue(lines.contains("depth_multiple: 0.33"), text)
        XCTAssertTrue(lines.contains("width_multiple: 0.03125"), text)
        XCTAssertTrue(lines.contains("  - [10, 13, 16, 30, 33, 23]"), text)
        XCTAssertTrue(lines.contains("  - [-1, 1, Conv, [64, 6, 2, 2]]"), text)
        XCTAssertTrue(lines.contains("  - [-1, 1, nn.Upsample, [None, 2, nearest]]"), text)
        XCTAssertTrue(lines.contains("  - [-1, 3, C3, [512, False]]"), text)
        XCTAssertTrue(lines.contains("  - [[17, 20, 23], 1, Detect, [nc, anchors]]"), text)
        XCTAssertTrue(lines.contains("backbone:") && lines.contains("head:") && lines.contains("anchors:"), text)
    }

    func testYAMLRenderingQuotesAmbiguousStrings() {
        let v = PickleValue.dict([
            (.string("a"), .string("yes")), (.string("b"), .string("it's 1")), (.string("c"), .list([.float(1e-5), .none])),
            (.string("d"), .dict([(.string("e"), .int(3))])),
        ])
        XCTAssertEqual(TorchCheckpoint.renderYAML(v), "a: 'yes'\nb: 'it''s 1'\nc: [1e-05, null]\nd:\n  e: 3\n")
        XCTAssertNil(TorchCheckpoint.renderYAML(.list([])))
    }

    // MARK: Plain state dicts

    func testPlainStateDictAllStorageTypesAndViews() throws {
        let ckpt = try TorchCheckpoint.read(fixture("plain_state_dict", "pt"))
        let expected = try SafeTensors.read(fixture("plain_state_dict_expected", "safetensors"))
        assertSameStateDict(ckpt.stateDict, expected.tensors)
        XCTAssertFalse(ckpt.usedEMA)
        XCTAssertNil(ckpt.modelYAML)
        XCTAssertEqual(ckpt.names, [])
        XCTAssertEqual(ckpt.stateDict["transposed"]?.shape, [6, 4])
        XCTAssertEqual(ckpt.stateDict["offset_view"]?.shape, [2, 3])
        XCTAssertEqual(ckpt.stateDict["i64"]?.scalars, [7, -3, 1_048_576])
        XCTAssertEqual(ckpt.stateDict["shared_b"]?.scalars, [5, 6, 7, 8, 9])
        XCTAssertEqual(ckpt.stateDict["scalar"]?.scalars, [3.5])
        XCTAssertEqual(ckpt.stateDict["empty"]?.shape, [0, 3])
        // the transposed view is the transpose of its base, element by element
        let t = try XCTUnwrap(ckpt.stateDict["transposed"]).scalars
        let o = try XCTUnwrap(ckpt.stateDict["offset_view"]).scalars
        XCTAssertEqual(o[0], t[2 * 4 + 1], "offset_view[0,0] = base[1,2] = transposed[2,1]")
    }

    // MARK: numpy values and the legacy format

    func testNumpyBestFitness() throws {
        let ckpt = try TorchCheckpoint.read(fixture("numpy_fitness", "pt"))
        XCTAssertEqual(ckpt.bestFitness, 0.25, "np.array([0.25]), as YOLOv5 v5.0-v6 store best_fitness")
        XCTAssertEqual(ckpt.contents["fitness_scalar"].flatMap(TorchCheckpoint.numericValue), 0.5, "np.float64(0.5)")
        XCTAssertEqual(ckpt.epoch, 3)
        XCTAssertEqual(ckpt.stateDict["w"]?.scalars, [0, 1, 2, 3])
        XCTAssertEqual(ckpt.topLevelKeys, ["epoch", "best_fitness", "fitness_scalar", "state_dict"])
    }

    func testLegacyFormatFileIsRejectedByName() throws {
        let url = try fixture("legacy_format", "pt")
        XCTAssertThrowsError(try TorchCheckpoint.read(url)) { error in
            guard case TorchCheckpointError.legacyFormat(let f)? = error as? TorchCheckpointError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(f, url.path)
            XCTAssertTrue("\(error)".contains("re-save it with torch>=1.6") || "\(error)".contains("torch>=1.6"))
        }
    }
}
