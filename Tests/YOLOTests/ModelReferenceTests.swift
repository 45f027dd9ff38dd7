// Every bundled YAML at nc = 80 against PyTorch YOLOv5 7.0 (Fixtures/model_reference.json,
// from Tools/fixtures/make_model_fixtures.py): parameters, gradients, module count, GFLOPs,
// the layer table, the summary line, strides and anchors, before and after fuse().
import Foundation
import TensorCore
import XCTest
@testable import YOLO

struct ModelReference: Decodable {
    struct Fused: Decodable {
        let parameters: Int
        let layers: Int
        let gflops: Double
        let summary: String
    }
    let parameters: Int
    let gradients: Int
    let layers: Int
    let gflops: Double
    let summary: String
    let table: [String]
    let strides: [Int]
    let anchors: [[[Float]]]
    let save: [Int]
    let fused: Fused

    static func load() throws -> [String: ModelReference] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "model_reference", withExtension: "json",
                                                  subdirectory: "Fixtures"))
        return try JSONDecoder().decode([String: ModelReference].self, from: Data(contentsOf: url))
    }
}

final class ModelReferenceTests: XCTestCase {
    func testEveryBundledModelHasAReference() throws {
        XCTAssertEqual(Set(try ModelReference.load().keys), Set(ModelSpec.bundledNames))
    }

    func testYOLOv5n() throws { try check("yolov5n") }
    func testYOLOv5s() throws { try check("yolov5s") }
    func testYOLOv5m() throws { try check("yolov5m") }
    func testYOLOv5l() throws { try check("yolov5l") }
    func testYOLOv5x() throws { try check("yolov5x") }
    func testYOLOv5n6() throws { try check("yolov5n6") }
    func testYOLOv5s6() throws { try check("yolov5s6") }
    func testYOLOv5m6() throws { try check("yolov5m6") }
    func testYOLOv5l6() throws { try check("yolov5l6") }
    func testYOLOv5x6() throws { try check("yolov5x6") }
    func testYOLOv5sV50() throws { try check("yolov5s-v5.0") }
    func testYOLOv5mV50() throws { try check("yolov5m-v5.0") }
    func testYOLOv5lV50() throws { try check("yolov5l-v5.0") }
    func testYOLOv5xV50() throws { try check("yolov5x-v5.0") }

    /// The reference table with the pip package's `yolov5.models.…` module names written as
    /// upstream's repository prints them (`models.…`), keeping the 40-column module field.
    static func upstreamTable(_ lines: [String]) -> [String] {
        lines.map { line in
            guard let r = line.range(of: "yolov5.models.") else { return line }
            let rest = line[r.upperBound...]
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            return line[..<r.lowerBound] + "models." + rest[..<end] + String(repeating: " ", count: 7) + rest[end...]
        }
    }

    func check(_ name: String) throws {
        let ref = try XCTUnwrap(try ModelReference.load()[name], name)
        var g = SeededGenerator(seed: 0)
        let model = YOLOModel(spec: try ModelSpec.load(cfg: name), nc: 80, using: &g)
        XCTAssertEqual(model.parameterCount, ref.parameters, name)
        XCTAssertEqual(model.gradientCount, ref.gradients, name)
        XCTAssertEqual(model.moduleCount, ref.layers, name)
        XCTAssertEqual(model.gflops(), ref.gflops, accuracy: 1e-9 * ref.gflops, name)
        XCTAssertEqual(model.strides, ref.strides, name)
        XCTAssertEqual(model.save, ref.save, name)
        XCTAssertEqual(model.anchors.shape, [ref.anchors.count, ref.anchors[0].count, 2], name)
        XCTAssertEqual(model.anchors.scalars, ref.anchors.flatMap { $0.flatMap { $0 } }, name)
        XCTAssertEqual(model.layerTable, Self.upstreamTable(ref.table), name)
        // YOLOv5 7.0 prints no GFLOPs for Focus models (it profiles them with 12 input channels).
        let focus = ref.summary.hasSuffix("gradients")
        if focus {
            XCTAssertTrue(model.summaryLine.hasPrefix(ref.summary + ", "), "\(model.summaryLine) vs \(ref.summary)")
        } else {
            XCTAssertEqual(model.summaryLine, ref.summary, name)
        }
        model.fuse()
        XCTAssertEqual(model.parameterCount, ref.fused.parameters, name)
        XCTAssertEqual(model.moduleCount, ref.fused.layers, name)
        XCTAssertEqual(model.gflops(), ref.fused.gflops, accuracy: 1e-9 * ref.fused.gflops, name)
        if !focus { XCTAssertEqual(model.summaryLine, ref.fused.summary, name) }
    }
}
