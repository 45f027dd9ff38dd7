// ModelSpec: decoding the bundled YAMLs, YOLOv5's depth and width gains, argument forms,
// lookup by name, and errors that name the YAML line.
import TensorCore
import XCTest
@testable import YOLO

final class ModelSpecTests: XCTestCase {
    static let tiny = """
    nc: 4
    depth_multiple: 0.33
    width_multiple: 0.25
    anchors: 3
    backbone:
      [[-1, 1, Conv, [64, 6, 2, 2]],
       [-1, 3, C3, [128]],
       [-1, 1, SPPF, [1024, 5]],
      ]
    head:
      [[-1, 1, nn.Upsample, [None, 2, 'nearest']],
       [-1, 1, Conv, [128, 3, 2]],
       [[-1, 1], 1, Concat, [1]],
       [-1, 3, C3, [128, False]],
       [-1, 1, SPP, [256, [5, 9, 13]]],
       [[6, 7], 1, Detect, [nc, anchors]],
      ]
    """

    func testBundledNamesAndLookup() throws {
        let names = ModelSpec.bundledNames
        for n in ["yolov5n", "yolov5s", "yolov5m", "yolov5l", "yolov5x", "yolov5n6", "yolov5x6", "yolov5s-v5.0"] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertEqual(try ModelSpec.load(cfg: "yolov5s.yaml").name, "yolov5s")
        XCTAssertEqual(try ModelSpec.load(cfg: "yolov5s").layers.count, 25)
        XCTAssertEqual(try ModelSpec.load(cfg: "yolov5s6").layers.count, 34)
        XCTAssertEqual(try ModelSpec.load(cfg: "yolov5s", nc: 3).nc, 3)
        XCTAssertThrowsError(try ModelSpec.load(cfg: "yolov9q")) { error in
            guard case ModelSpecError.notFound = error else { return XCTFail("\(error)") }
        }
    }

    func testUserPath() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(UUID().uuidString).yaml")
        try Self.tiny.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let spec = try ModelSpec.load(cfg: url.path)
        XCTAssertEqual(spec.nc, 4)
        XCTAssertEqual(spec.name, url.deletingPathExtension().lastPathComponent)
    }

    func testDecodesArgumentsAndGains() throws {
        let spec = try ModelSpec(yaml: Self.tiny)
        XCTAssertEqual(spec.anchors, .count(3))
        XCTAssertEqual(spec.anchors.pairs(levels: 2), [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]])
        let l = spec.layers
        XCTAssertEqual(l[0].module, .conv(channels: 64, kernel: 6, stride: 2, padding: 2))
        XCTAssertEqual(l[0].line, 6)
        XCTAssertEqual(l[1].module, .c3(channels: 128, shortcut: true))
        XCTAssertEqual(l[3].module, .upsample(scale: 2))
        XCTAssertEqual(l[5].from, [-1, 1])
        XCTAssertTrue(l[5].fromIsList)
        XCTAssertEqual(l[6].module, .c3(channels: 128, shortcut: false))
        XCTAssertEqual(l[6].args, ["128", "False"])
        XCTAssertEqual(l[3].args, ["None", "2", "'nearest'"])
        XCTAssertEqual(l[7].module, .spp(channels: 256, kernels: [5, 9, 13]))
        XCTAssertEqual(l[8].module, .detect(nc: nil, anchors: nil))
        XCTAssertEqual(l[8].line, 16)
        // depth: n > 1 → max(round(n·gd), 1); n = 1 stays
        XCTAssertEqual(spec.scaledRepeats(3), 1)
        XCTAssertEqual(spec.scaledRepeats(9), 3)
        XCTAssertEqual(spec.scaledRepeats(1), 1)
        XCTAssertEqual(spec.with(nc: 1).scaledRepeats(6), 2)
        // width: ceil(c·gw / 8)·8
        XCTAssertEqual(spec.scaledChannels(64), 16)
        XCTAssertEqual(spec.scaledChannels(1024), 256)
        XCTAssertEqual(spec.scaledChannels(20), 8)
    }

    func testUnknownModuleNamesItsLine() {
        let yaml = Self.tiny.replacingOccurrences(of: "[-1, 1, SPPF, [1024, 5]]", with: "[-1, 1, GhostConv, [8]]")
        XCTAssertThrowsError(try ModelSpec(yaml: yaml, file: "bad.yaml")) { error in
            XCTAssertEqual(error as? ModelSpecError, .unknownModule(file: "bad.yaml", line: 8, name: "GhostConv"))
            XCTAssertTrue("\(error)".contains("bad.yaml:8"), "\(error)")
        }
    }

    func testBadFromIndexNamesItsLine() {
        let yaml = Self.tiny.replacingOccurrences(of: "[[-1, 1], 1, Concat", with: "[[-1, 9], 1, Concat")
        XCTAssertThrowsError(try ModelSpec(yaml: yaml, file: "bad.yaml")) { error in
            XCTAssertEqual(error as? ModelSpecError, .badFrom(file: "bad.yaml", line: 13, layer: 5, from: 9))
            XCTAssertTrue("\(error)".contains("bad.yaml:13"), "\(error)")
        }
        let negative = Self.tiny.replacingOccurrences(of: "[[-1, 1], 1, Concat", with: "[[-1, -7], 1, Concat")
        XCTAssertThrowsError(try ModelSpec(yaml: negative)) { error in
            XCTAssertEqual((error as? ModelSpecError)?.line, 13)
        }
    }

    func testBadArgumentsNameTheLine() {
        let yaml = Self.tiny.replacingOccurrences(of: "[None, 2, 'nearest']", with: "[None, 2, 'bilinear']")
        XCTAssertThrowsError(try ModelSpec(yaml: yaml)) { error in
            XCTAssertEqual((error as? ModelSpecError)?.line, 11)
        }
        let conv = Self.tiny.replacingOccurrences(of: "[64, 6, 2, 2]", with: "[sixty, 6]")
        XCTAssertThrowsError(try ModelSpec(yaml: conv)) { error in
            XCTAssertEqual((error as? ModelSpecError)?.line, 6)
        }
        let missing = Self.tiny.replacingOccurrences(of: "nc: 4\n", with: "")
        XCTAssertThrowsError(try ModelSpec(yaml: missing)) { error in
            XCTAssertEqual(error as? ModelSpecError, .missingKey(file: "<yaml>", key: "nc"))
        }
    }

    func testTinyModelBuildsAndRuns() throws {
        var g = SeededGenerator(seed: 1)
        let model = YOLOModel(spec: try ModelSpec(yaml: Self.tiny), using: &g)
        XCTAssertEqual(model.nc, 4)
        XCTAssertEqual(model.na, 3)
        XCTAssertEqual(model.nl, 2)
        XCTAssertEqual(model.strides, [2, 2])
        XCTAssertEqual(model.save, [1, 6, 7])
        let out = model(Tensor(zeros: [1, 8, 8, 3]), training: false)
        XCTAssertEqual(out.map(\.shape), [[1, 3, 4, 4, 9], [1, 3, 4, 4, 9]])
    }
}
