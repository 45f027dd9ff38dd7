// Reliability of `yolo train --resume`: a run killed (SIGKILL) at a random point of epoch 1 or 2
// and resumed from its `last` ends with exactly the weights (and results.csv) of a run that was
// never interrupted; finished runs and foreign or torn files are refused with clear messages.
import Foundation
import NN
import TensorCore
import XCTest
import YOLOTraining

final class TrainResumeTests: XCTestCase {
    func testKilledRunResumesToIdenticalWeights() throws {
        let tmp = try temporaryFolder(self)
        // 1. The uninterrupted run.
        let a = try runYOLO(YOLOBinary.tinyTrain(project: tmp.appendingPathComponent("A").path, epochs: 3))
        XCTAssertEqual(a.status, 0, a.output)
        let aLast = tmp.appendingPathComponent("A/exp/weights/last.safetensors")
        let aFinal = try Checkpoint.read(aLast)
        XCTAssertTrue(aFinal.metadata.finished)

        // 2. The same run, SIGKILLed right after a random batch of epoch 1 or 2 (read from its
        // progress lines; 2 batches per epoch), plus a random delay of up to 0.3 s.
        let targets = [(1, 1), (1, 2), (2, 1)]
        var killedLast: URL?
        var note = ""
        for attempt in 0..<3 {
            let (epoch, batch) = targets.randomElement()!
            let delay = Double.random(in: 0..<0.3)
            let project = tmp.appendingPathComponent("B\(attempt)")
            let last = project.appendingPathComponent("exp/weights/last.safetensors")
            let b = try YOLOProcess(YOLOBinary.tinyTrain(project: project.path, epochs: 3))
            while b.process.isRunning && !b.printedProgress(epoch: epoch, of: 3, batch: batch, of: 2) {
                Thread.sleep(forTimeInterval: 0.01)
            }
            Thread.sleep(forTimeInterval: delay)
            guard b.process.isRunning else {
                note += "attempt \(attempt): finished before the kill\n"
                _ = b.wait()
                continue
            }
            kill(b.process.processIdentifier, SIGKILL)
            let killed = b.wait()
            XCTAssertEqual(killed.status, SIGKILL, "terminated by SIGKILL")
            note += "attempt \(attempt): killed \(delay) s after batch \(batch) of epoch \(epoch)\n"
            guard FileManager.default.fileExists(atPath: last.path) else { continue }
            killedLast = last
            break
        }
        guard let bLast = killedLast else { return XCTFail("could not kill the run before it finished\n\(note)") }
        print(note, terminator: "")
        let partial = try Checkpoint.read(bLast)
        XCTAssertFalse(partial.metadata.finished, note)
        XCTAssertTrue((0...1).contains(partial.metadata.epoch), "saved epoch \(partial.metadata.epoch); \(note)")
        XCTAssertNotNil(partial.optimizer, "momentum buffers are saved")

        // 3. Resume from the killed run's `last`.
        let resumed = try runYOLO(["train", "--resume", bLast.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.stdout.contains("Resuming training from \(bLast.path) from epoch \(partial.metadata.epoch + 1)"),
                      resumed.stdout)

        // 4. Same final weights, bit for bit, and the same results.csv (one row per epoch).
        let bFinal = try Checkpoint.read(bLast)
        XCTAssertTrue(bFinal.metadata.finished)
        XCTAssertEqual(Set(aFinal.model.keys), Set(bFinal.model.keys))
        var differing: [String] = []
        for (name, t) in aFinal.model {
            guard let u = bFinal.model[name] else { continue }
            if t.shape != u.shape || t.scalars != u.scalars {
                let diff = zip(t.scalars, u.scalars).map { abs($0 - $1) }.max() ?? .infinity
                differing.append("\(name) (max |diff| \(diff))")
            }
        }
        XCTAssertEqual(differing.count, 0, "\(differing.count) tensors differ after resume, e.g. \(differing.prefix(5)); \(note)")
        let aCSV = try String(contentsOf: tmp.appendingPathComponent("A/exp/results.csv"), encoding: .utf8)
        let bCSV = try String(contentsOf: bLast.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("results.csv"), encoding: .utf8)
        XCTAssertEqual(aCSV.split(separator: "\n").count, 4, aCSV)
        XCTAssertEqual(aCSV, bCSV, note)

        // 5. A finished run cannot be resumed.
        let finished = try runYOLO(["train", "--resume", aLast.path])
        XCTAssertNotEqual(finished.status, 0)
        XCTAssertTrue(finished.stderr.contains("already finished"), finished.output)

        // 6. A foreign safetensors file (a plain state dict) and a torn checkpoint are refused clearly.
        let foreign = tmp.appendingPathComponent("foreign.safetensors")
        try SafeTensors.write(["w": Tensor(shape: [2], scalars: [1, 2])], to: foreign)
        let f = try runYOLO(["train", "--resume", foreign.path])
        XCTAssertNotEqual(f.status, 0)
        XCTAssertTrue(f.stderr.contains("not a YOLOSwift training checkpoint"), f.output)
        let torn = tmp.appendingPathComponent("torn.safetensors")
        let bytes = try Data(contentsOf: aLast)
        try bytes.prefix(bytes.count / 2).write(to: torn)
        let t = try runYOLO(["train", "--resume", torn.path])
        XCTAssertNotEqual(t.status, 0)
        XCTAssertTrue(t.stderr.contains(torn.path), t.output)
        XCTAssertFalse(t.stderr.contains("Fatal error"), t.output)
        let missing = try runYOLO(["train", "--resume", tmp.appendingPathComponent("nope.safetensors").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nope.safetensors: no such checkpoint"), missing.output)
    }

    /// `--resume` alone means `--resume latest` (train.py's nargs='?'); with no runs it says so.
    func testResumeAloneMeansLatest() throws {
        let tmp = try temporaryFolder(self)
        for args in [["train", "--resume"], ["train", "--resume", "--epochs", "3"]] {
            let r = try runYOLO(args, directory: tmp)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("no runs/**/last.safetensors found"), r.output)
        }
    }
}
