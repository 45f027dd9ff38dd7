// The trainer's pure pieces: early stopping, gradient accumulation and clipping, resizing,
// options round trip, image files from a source.
import Foundation
import TensorCore
import XCTest
@testable import YOLOTraining

final class TrainerPartsTests: XCTestCase {
    func testEarlyStoppingCountsEpochsWithoutImprovement() {
        var s = EarlyStopping(patience: 2)
        XCTAssertFalse(s.shouldStop(epoch: 0, fitness: 0.1))
        XCTAssertFalse(s.shouldStop(epoch: 1, fitness: 0.05))
        XCTAssertTrue(s.shouldStop(epoch: 2, fitness: 0.09))   // 2 epochs since the best (epoch 0)
        var off = EarlyStopping(patience: 0)
        XCTAssertFalse(off.shouldStop(epoch: 50, fitness: 0))
    }

    func testAccumulateAndClipGradients() {
        let trainer = Trainer(options: TrainOptions())
        let a = TensorID(), b = TensorID()
        var g1 = Gradients(), g2 = Gradients()
        g1[a] = Tensor(shape: [2], scalars: [3, 4])
        g2[a] = Tensor(shape: [2], scalars: [1, 1])
        g2[b] = Tensor(shape: [1], scalars: [2])
        let sum = trainer.accumulateGradients(g1, g2)
        XCTAssertEqual(sum[a]?.scalars, [4, 5])
        XCTAssertEqual(sum[b]?.scalars, [2])
        // Global norm of (3, 4) is 5: clipping to 1 scales by 1/(5 + 1e-6); to 10 leaves it.
        let clipped = trainer.clipGradients(g1, maxNorm: 1)
        XCTAssertEqual(clipped[a]!.scalars[0], 3 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(clipped[a]!.scalars[1], 4 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(trainer.clipGradients(g1, maxNorm: 10)[a]?.scalars, [3, 4])
    }

    func testBilinearResizeOfAConstantAndARamp() {
        let c = Tensor(repeating: 0.5, shape: [1, 4, 4, 3])
        XCTAssertEqual(resizeBilinear(c, height: 8, width: 6).scalars, [Float](repeating: 0.5, count: 8 * 6 * 3))
        // A 1×2 ramp [0, 1] upsampled to width 4: sample points x = (j + 0.5)/2 − 0.5 = −0.25→0, 0.25, 0.75, 1.25→1.
        let ramp = Tensor(shape: [1, 1, 2, 1], scalars: [0, 1])
        XCTAssertEqual(resizeBilinear(ramp, height: 1, width: 4).scalars, [0, 0.25, 0.75, 1])
    }

    func testOptionsYAMLRoundTripUsesYOLOv5Names() throws {
        var o = TrainOptions()
        o.batchSize = 8
        o.imgSize = [320, 320]
        o.freeze = [10]
        let text = try o.yaml()
        XCTAssertTrue(text.contains("batch_size: 8"), text)
        XCTAssertTrue(text.contains("img_size:"), text)
        XCTAssertEqual(try TrainOptions.fromYAML(text), o)
    }

    func testImageFilesFromFolderGlobAndFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("src-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for n in ["b.jpg", "a.png", "notes.txt"] { try Data([0]).write(to: dir.appendingPathComponent(n)) }
        XCTAssertEqual(try imageFiles(dir.path).map(\.lastPathComponent), ["a.png", "b.jpg"])
        XCTAssertEqual(try imageFiles(dir.path + "/*.jpg").map(\.lastPathComponent), ["b.jpg"])
        XCTAssertEqual(try imageFiles(dir.appendingPathComponent("a.png").path).map(\.lastPathComponent), ["a.png"])
        XCTAssertThrowsError(try imageFiles(dir.appendingPathComponent("missing").path))
    }
}
