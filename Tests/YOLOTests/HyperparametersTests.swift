// Hyperparameter YAMLs: the bundled files load, user files load by path, errors name the
// file and the key, and train.py's gain scaling.
import Foundation
import XCTest
@testable import YOLO

final class HyperparametersTests: XCTestCase {
    /// hyp.scratch-low as YAML text with the line of `key` replaced.
    private func replacingLine(_ key: String, with line: String) throws -> String {
        let lines = try Hyperparameters.load("hyp.scratch-low").yaml().split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix(key + ":") }, "no \(key) line")
        return lines.map { $0.hasPrefix(key + ":") ? line : String($0) }.joined(separator: "\n")
    }

    func testAllBundledFilesLoad() throws {
        for name in Hyperparameters.bundledNames {
            let h = try Hyperparameters.load(name)
            XCTAssertGreaterThan(h.lr0, 0, name)
            XCTAssertGreaterThan(h.anchorT, 1, name)
        }
        let low = try Hyperparameters.load("hyp.scratch-low.yaml")
        XCTAssertEqual(low.lrf, 0.01)
        XCTAssertEqual(low.weightDecay, 0.0005)
        XCTAssertEqual(low.warmupBiasLR, 0.1)
        XCTAssertEqual(low.obj, 1.0)
        XCTAssertEqual(low.copyPaste, 0)
        XCTAssertNil(low.anchors)
        XCTAssertNil(low.labelSmoothing)
        XCTAssertEqual(try Hyperparameters.load("scratch-high").copyPaste, 0.1)
        XCTAssertEqual(try Hyperparameters.load("scratch-med").mixup, 0.1)
        let v5 = try Hyperparameters.load("hyp.scratch")
        XCTAssertEqual(v5.lrf, 0.2)
        XCTAssertEqual(v5.copyPaste, 0)                        // absent in v5.0 files
        XCTAssertEqual(try Hyperparameters.load("hyp.finetune").anchorT, 2.91)
    }

    func testLoadsUserFileByPathAndRoundTrips() throws {
        let low = try Hyperparameters.load("hyp.scratch-low")
        var custom = low
        custom.flGamma = 1.5
        custom.labelSmoothing = 0.1
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hyp-\(UUID().uuidString).yaml")
        try custom.yaml().write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try Hyperparameters.load(url.path), custom)
        XCTAssertTrue(try custom.yaml().contains("label_smoothing:"))
    }

    func testIntegersAndOptionalKeysDecode() throws {
        let text = try replacingLine("mosaic", with: "mosaic: 1") + "\nanchors: 3\n"
        let h = try Hyperparameters.decode(yaml: text)
        XCTAssertEqual(h.mosaic, 1)
        XCTAssertEqual(h.anchors, 3)
    }

    func testMissingKeyNamesFileAndKey() throws {
        let text = try Hyperparameters.load("hyp.scratch-low").yaml()
            .split(separator: "\n").filter { !$0.hasPrefix("obj:") }.joined(separator: "\n")
        XCTAssertThrowsError(try Hyperparameters.decode(yaml: text, file: "my-hyp.yaml")) { error in
            XCTAssertEqual(error as? HyperparametersError, .missingKey(file: "my-hyp.yaml", key: "obj"))
            XCTAssertTrue("\(error)".contains("my-hyp.yaml"))
            XCTAssertTrue("\(error)".contains("'obj'"))
        }
    }

    func testWrongTypeNamesKey() throws {
        let text = try replacingLine("fliplr", with: "fliplr: often")
        XCTAssertThrowsError(try Hyperparameters.decode(yaml: text, file: "bad.yaml")) { error in
            guard case let .wrongType(file, key, _)? = error as? HyperparametersError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(file, "bad.yaml")
            XCTAssertEqual(key, "fliplr")
        }
    }

    func testUnknownNameListsBundledFiles() {
        XCTAssertThrowsError(try Hyperparameters.load("hyp.nonexistent")) { error in
            XCTAssertEqual(error as? HyperparametersError,
                           .notFound("hyp.nonexistent", bundled: Hyperparameters.bundledNames))
        }
    }

    /// train.py: box·3/nl, cls·nc/80·3/nl, obj·(imgsz/640)²·3/nl.
    func testScaledForTraining() throws {
        let low = try Hyperparameters.load("hyp.scratch-low")
        let h = low.scaledForTraining(layers: 4, classes: 20, imageSize: 320)
        XCTAssertEqual(h.box, 0.05 * 0.75, accuracy: 1e-12)
        XCTAssertEqual(h.cls, 0.5 * 0.25 * 0.75, accuracy: 1e-12)
        XCTAssertEqual(h.obj, 1.0 * 0.25 * 0.75, accuracy: 1e-12)
        XCTAssertEqual(h.labelSmoothing, 0)
        XCTAssertEqual(h.lr0, low.lr0)
        let same = low.scaledForTraining(layers: 3, classes: 80, imageSize: 640)
        XCTAssertEqual(same.box, low.box)
        XCTAssertEqual(same.cls, low.cls)
        XCTAssertEqual(same.obj, low.obj)
    }
}
