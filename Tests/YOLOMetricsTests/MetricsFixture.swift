// The reference cases written by Tools/fixtures/make_metrics_fixtures.py (YOLOv5 7.0.14), and a
// Double closeness assertion.
import Foundation
import XCTest

/// One `metrics_<name>.json`: images with YOLOv5's per-image correct matrices, the confusion
/// matrix over them and ap_per_class over their concatenated stats.
struct MetricsFixture: Decodable {
    struct Image: Decodable {
        var detections: [[Float]]  // N × 6: x1, y1, x2, y2, conf, class
        var labels: [[Float]]  // M × 5: class, x1, y1, x2, y2
        var correct: [[Int]]  // N × 10 of 0/1
    }

    struct AP: Decodable {
        var tp, fp, p, r, f1: [Double]
        var ap: [[Double]]
        var classes: [Int]
        var bestIndex: Int
        var statsAnyTp: Bool
        var curveStride: Int
        var pCurve, rCurve, f1Curve: [[Double]]
    }

    struct Summary: Decodable {
        var mp, mr, map50, map, fitness: Double
    }

    var name: String
    var nc: Int
    var iouv: [Float]
    var images: [Image]
    var confusion: [[Double]]
    var ap: AP
    var summary: Summary

    static let names = ["mixed", "near_threshold", "sweep", "zero_predictions", "single_perfect",
                        "confusion_corners"]

    static func load(_ name: String) throws -> MetricsFixture {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "metrics_\(name)", withExtension: "json", subdirectory: "Fixtures"),
            "missing fixture metrics_\(name).json: run Tools/fixtures/make_metrics_fixtures.py")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(MetricsFixture.self, from: Data(contentsOf: url))
    }

    /// The val.py stats over every image: (correct, conf, predicted class, label classes).
    var stats: (tp: [[Bool]], conf: [Float], predClass: [Int], targetClass: [Int]) {
        var out: (tp: [[Bool]], conf: [Float], predClass: [Int], targetClass: [Int]) = ([], [], [], [])
        for image in images {
            out.tp += image.correct.map { $0.map { $0 != 0 } }
            out.conf += image.detections.map { $0[4] }
            out.predClass += image.detections.map { Int($0[5]) }
            out.targetClass += image.labels.map { Int($0[0]) }
        }
        return out
    }
}

/// Fails unless |a − b| ≤ atol element-wise; reports the first offending element.
func assertClose(_ a: [Double], _ b: [Double], atol: Double = 1e-6, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == b.count else {
        return XCTFail("count \(a.count) != \(b.count) \(message)", file: file, line: line)
    }
    for i in a.indices where !(abs(a[i] - b[i]) <= atol) {
        return XCTFail("element \(i): \(a[i]) vs \(b[i]) (atol \(atol)) \(message)", file: file, line: line)
    }
}

func assertClose(_ a: Double, _ b: Double, atol: Double = 1e-6, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose([a], [b], atol: atol, message, file: file, line: line)
}
