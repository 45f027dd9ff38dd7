// `yolo val --save-txt/--save-conf/--save-json/--save-hybrid` and the `detect-example` program,
// run as binaries on one checkpoint from a tiny coco8 training (trained once for the class).
import Foundation
import XCTest
import YOLOData
import YOLOTraining

final class ValOutputsCLITests: XCTestCase {
    nonisolated(unsafe) static var trained: URL?
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yolo-val-outputs-\(UUID().uuidString)")
    static let valStems = ["000000000036", "000000000042", "000000000049", "000000000061"]

    override class func tearDown() {
        try? FileManager.default.removeItem(at: folder)
        super.tearDown()
    }

    /// best.safetensors of a 1-epoch coco8 run at 64 px, trained on first use.
    func checkpoint() throws -> URL {
        if let w = Self.trained { return w }
        let project = Self.folder.appendingPathComponent("runs/train").path
        let train = try runYOLO(YOLOBinary.tinyTrain(project: project, epochs: 1))
        XCTAssertEqual(train.status, 0, train.output)
        let w = Self.folder.appendingPathComponent("runs/train/exp/weights/best.safetensors")
        Self.trained = w
        return w
    }

    func val(_ extra: [String], project: URL) throws -> YOLORun {
        try runYOLO(["val", "--weights", try checkpoint().path, "--data", YOLOBinary.coco8, "--img", "64",
                     "--workers", "1", "--project", project.path] + extra)
    }

    /// Rows of numbers of a label file.
    func rows(_ url: URL) throws -> [[Double]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
    }

    func predictionsJSON(_ url: URL) throws -> [[String: Any]] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
    }

    /// --save-hybrid: the warning, every ground-truth box saved first with confidence 1 (so mAP@.5
    /// is YOLOv5's perfect 0.995), in labels/*.txt (implied --save-txt) and the COCO JSON.
    ///
    /// Expected boxes, from val.py: a label goes to the letterboxed image as x·w + padx (w = the
    /// resized width, ceil(w0·r), r = 64 / max(h0, w0)) and comes back divided by the height
    /// ratio h / h0 (`scale_boxes` uses `ratio_pad[0][0]` for both axes), then is clipped. So y is
    /// unchanged and x is scaled by k = (w / w0) / (h / h0): 1.0187 for 000000000036 (481×640).
    func testSaveHybridSavesTheLabelsAsDetections() throws {
        let tmp = try temporaryFolder(self)
        let r = try val(["--save-hybrid", "--save-json", "--save-conf"], project: tmp)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.stdout.contains("WARNING: --save-hybrid will return high mAP from hybrid labels"), r.stdout)
        let exp = tmp.appendingPathComponent("exp")
        let jsonURL = exp.appendingPathComponent("best_predictions.json")
        XCTAssertTrue(r.stdout.contains("Saving \(jsonURL.path)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("4 labels saved to \(exp.appendingPathComponent("labels").path)"), r.stdout)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: exp.appendingPathComponent("metrics.json")))
            as? [String: Any]
        XCTAssertEqual(try XCTUnwrap(metrics?["map50"] as? Double), 0.995, accuracy: 1e-6)
        let json = try predictionsJSON(jsonURL)
        for stem in Self.valStems {
            let image = YOLOBinary.root.appendingPathComponent("datasets/coco8/images/val/\(stem).jpg")
            let (decoded, _) = try ImageCodec.decode(contentsOf: image)
            let (w0, h0) = (Double(decoded.width), Double(decoded.height))
            let ratio = 64 / max(w0, h0)
            let k = ((w0 * ratio).rounded(.up) / w0) / ((h0 * ratio).rounded(.up) / h0)
            let truth = try rows(YOLOBinary.root.appendingPathComponent("datasets/coco8/labels/val/\(stem).txt"))
            let saved = try rows(exp.appendingPathComponent("labels/\(stem).txt")).filter { $0.count == 6 && $0[5] == 1 }
            let entries = json.filter { ($0["image_id"] as? Int) == Int(stem)! && ($0["score"] as? Double) == 1 }
            XCTAssertEqual(saved.count, truth.count, stem)
            XCTAssertEqual(entries.count, truth.count, stem)
            for (i, t) in truth.enumerated() where i < saved.count && i < entries.count {
                let x1 = min(max((t[1] - t[3] / 2) * k, 0), 1), x2 = min(max((t[1] + t[3] / 2) * k, 0), 1)
                let y1 = min(max(t[2] - t[4] / 2, 0), 1), y2 = min(max(t[2] + t[4] / 2, 0), 1)
                let expected = [t[0], (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
                for (a, b) in zip(saved[i], expected) { XCTAssertEqual(a, b, accuracy: 2e-4, "\(stem) label \(i)") }
                XCTAssertEqual(entries[i]["category_id"] as? Int, COCOPredictions.coco80To91[Int(t[0])], stem)
                let bbox = try XCTUnwrap(entries[i]["bbox"] as? [Double])
                for (a, b) in zip(bbox, [x1 * w0, y1 * h0, (x2 - x1) * w0, (y2 - y1) * h0]) {
                    XCTAssertEqual(a, b, accuracy: 0.1, "\(stem) label \(i)")
                }
            }
        }
    }

    /// --save-txt --save-json at conf 0 (every image has detections): one label file per image
    /// with `class x y w h` rows, and one JSON entry per row with the same box in pixels.
    func testSaveTxtAndJSONHoldTheSameDetections() throws {
        let tmp = try temporaryFolder(self)
        let r = try val(["--save-txt", "--save-json", "--conf-thres", "0"], project: tmp)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.stdout.contains("--save-hybrid"), r.stdout)
        let exp = tmp.appendingPathComponent("exp")
        let jsonURL = exp.appendingPathComponent("best_predictions.json")
        XCTAssertTrue(r.stdout.contains("Saving \(jsonURL.path)"), r.stdout)
        XCTAssertTrue(try String(contentsOf: jsonURL, encoding: .utf8).hasPrefix("[{\"image_id\": "))
        let json = try predictionsJSON(jsonURL)
        var total = 0
        for stem in Self.valStems {
            let lines = try rows(exp.appendingPathComponent("labels/\(stem).txt"))
            total += lines.count
            XCTAssertTrue(lines.allSatisfy { $0.count == 5 && (0..<80).contains(Int($0[0])) }, stem)
            XCTAssertTrue(lines.allSatisfy { $0.dropFirst().allSatisfy { (0...1).contains($0) } }, stem)
            // The first row and the image's first JSON entry are the same detection.
            let image = YOLOBinary.root.appendingPathComponent("datasets/coco8/images/val/\(stem).jpg")
            let (decoded, _) = try ImageCodec.decode(contentsOf: image)
            let (w0, h0) = (Double(decoded.width), Double(decoded.height))
            let first = try XCTUnwrap(json.first { ($0["image_id"] as? Int) == Int(stem)! })
            let l = try XCTUnwrap(lines.first)
            XCTAssertEqual(first["category_id"] as? Int, COCOPredictions.coco80To91[Int(l[0])], stem)
            let bbox = try XCTUnwrap(first["bbox"] as? [Double])
            for (a, b) in zip(bbox, [(l[1] - l[3] / 2) * w0, (l[2] - l[4] / 2) * h0, l[3] * w0, l[4] * h0]) {
                XCTAssertEqual(a, b, accuracy: 0.01, stem)
            }
        }
        XCTAssertEqual(json.count, total)
        XCTAssertTrue(json.allSatisfy { Self.valStems.map { Int($0)! }.contains($0["image_id"] as? Int ?? -1) })
        XCTAssertTrue(json.allSatisfy { (0...1).contains($0["score"] as? Double ?? -1) })
    }

    /// Examples/DetectExample: a header line and one line per detection.
    func testDetectExampleRunsOnACheckpoint() throws {
        let example = Bundle.main.bundleURL.appendingPathComponent("detect-example")
        guard FileManager.default.fileExists(atPath: example.path) else {
            throw XCTSkip("build it first: swift build --product detect-example")
        }
        let image = YOLOBinary.root.appendingPathComponent("datasets/images/bus.jpg").path
        let process = Process()
        process.executableURL = example
        process.arguments = [try checkpoint().path, image, "0"]  // a 1-epoch model: keep every box
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        let lines = text.split(separator: "\n")
        let header = try XCTUnwrap(lines.first)
        XCTAssertTrue(header.hasPrefix("\(image): 810x1080, "), text)
        let count = Int(header.split(separator: " ").dropLast().last ?? "") ?? -1
        XCTAssertEqual(lines.count - 1, count, text)
        XCTAssertGreaterThan(count, 0, text)
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.contains(" [") && $0.hasSuffix("]") }, text)
    }
}
