// Checkpoints round-trip, are written atomically and refuse foreign or damaged files clearly.
import Foundation
import NN
import TensorCore
import XCTest
@testable import YOLOTraining

final class CheckpointTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func sample() -> Checkpoint {
        let meta = CheckpointMetadata(epoch: 3, bestFitness: 0.25, emaUpdates: 40, modelYAML: "nc: 1\n",
                                      hypYAML: "lr0: 0.01\n", optionsYAML: "epochs: 5\n", names: ["raccoon"],
                                      rngState: [1, 2, 3, UInt64.max], finished: false)
        return Checkpoint(model: ["model.0.conv.weight": Tensor(shape: [2, 1], scalars: [1, -2])],
                          ema: ["model.0.conv.weight": Tensor(shape: [2, 1], scalars: [0.5, -1])],
                          optimizer: ["optimizer.state.model.0.conv.weight.momentum_buffer": Tensor(shape: [2, 1],
                                                                                                   scalars: [3, 4])],
                          metadata: meta)
    }

    func testRoundTrip() throws {
        let url = dir.appendingPathComponent("last.safetensors")
        try sample().write(to: url)
        let back = try Checkpoint.read(url)
        XCTAssertEqual(back.metadata, sample().metadata)
        XCTAssertEqual(back.model["model.0.conv.weight"]?.scalars, [1, -2])
        XCTAssertEqual(back.ema?["model.0.conv.weight"]?.scalars, [0.5, -1])
        XCTAssertEqual(back.optimizer?["optimizer.state.model.0.conv.weight.momentum_buffer"]?.scalars, [3, 4])
        XCTAssertEqual(back.inferenceWeights["model.0.conv.weight"]?.scalars, [0.5, -1])
        // No temporary file is left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["last.safetensors"])
    }

    func testStrippedDropsOptimizerAndUsesEMA() throws {
        let s = sample().stripped()
        XCTAssertNil(s.optimizer)
        XCTAssertNil(s.ema)
        XCTAssertEqual(s.model["model.0.conv.weight"]?.scalars, [0.5, -1])
        XCTAssertTrue(s.metadata.finished)
    }

    func testForeignAndTornFilesGiveClearErrors() throws {
        let plain = dir.appendingPathComponent("plain.safetensors")
        try SafeTensors.write(["w": Tensor(shape: [1], scalars: [1])], to: plain)
        XCTAssertThrowsError(try Checkpoint.read(plain)) { error in
            XCTAssertTrue("\(error)".contains("plain.safetensors") && "\(error)".contains("not a YOLOSwift"), "\(error)")
        }
        let url = dir.appendingPathComponent("last.safetensors")
        try sample().write(to: url)
        let data = try Data(contentsOf: url)
        let torn = dir.appendingPathComponent("torn.safetensors")
        try data.prefix(data.count - 3).write(to: torn)
        XCTAssertThrowsError(try Checkpoint.read(torn)) { error in
            XCTAssertTrue("\(error)".contains("torn.safetensors"), "\(error)")
        }
    }

    func testRunDirectoryIncrements() throws {
        let project = dir.appendingPathComponent("runs/train").path
        let a = try RunDirectory.make(project: project, name: "exp", existOK: false)
        let b = try RunDirectory.make(project: project, name: "exp", existOK: false)
        let c = try RunDirectory.make(project: project, name: "exp", existOK: false)
        let d = try RunDirectory.make(project: project, name: "exp", existOK: true)
        XCTAssertEqual([a, b, c, d].map(\.lastPathComponent), ["exp", "exp2", "exp3", "exp"])
    }
}
