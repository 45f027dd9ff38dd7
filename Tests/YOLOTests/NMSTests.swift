// nonMaxSuppression, scaleBoxes and clipBoxes against YOLOv5 7.0 (Fixtures/nms_*.{json,
// safetensors}, written by Tools/fixtures/make_nms_fixtures.py) and hand-worked cases.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest
@testable import YOLO

private struct NMSCase: Decodable {
    let name: String
    let conf_thres: Double, iou_thres: Double
    let multi_label: Bool, agnostic: Bool
    let classes: [Int]?
    let max_det: Int
    let detections: [[[Float]]]  // per image, (n, 6) [x1, y1, x2, y2, conf, cls]
}

private struct ScaleCase: Decodable {
    let img1: [Int], img0: [Int]  // (height, width)
    let ratio_pad: [[Double]]?
    let boxes: [[Float]], expected: [[Float]]
}

private struct Expected: Decodable {
    let nms: [NMSCase]
    let scale: [ScaleCase]
}

/// (1, N, 5 + nc) predictions from rows `[cx, cy, w, h, obj, cls…]`.
private func predictions(_ rows: [[Float]]) -> Tensor {
    Tensor(shape: [1, rows.count, rows.first?.count ?? 6], scalars: rows.flatMap { $0 })
}

private func iou(_ a: Detection, _ b: Detection) -> Float {
    let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)), h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
    let inter = w * h
    return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter)
}

final class NMSTests: XCTestCase {
    private func expected() throws -> Expected {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "nms_expected", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
    }

    /// The fixture's (B, N, 85) predictions: Float32 boxes and obj, class scores k / 255.
    private func fixturePredictions() throws -> Tensor {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "nms_predictions", withExtension: "safetensors",
                                                  subdirectory: "Fixtures"))
        let file = try SafeTensors.read(url)
        let boxes = file.tensors["boxes_obj"]!, cls = file.tensors["cls_u8"]!  // (B, N, 5), (B, N, 80)
        let (b, n, nc) = (cls.shape[0], cls.shape[1], cls.shape[2])
        let bv = boxes.scalars, cv = cls.scalars
        var rows = [Float]()
        rows.reserveCapacity(b * n * (5 + nc))
        for r in 0..<(b * n) {
            rows += bv[(5 * r)..<(5 * r + 5)]
            rows += cv[(nc * r)..<(nc * r + nc)].map { $0 / 255 }
        }
        return Tensor(shape: [b, n, 5 + nc], scalars: rows)
    }

    func testMatchesYOLOv5OnFixtureCases() throws {
        let cases = try expected().nms
        let prediction = try fixturePredictions()
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let got = nonMaxSuppression(prediction, confThreshold: c.conf_thres, iouThreshold: c.iou_thres,
                                        classes: c.classes, agnostic: c.agnostic, multiLabel: c.multi_label,
                                        maxDetections: c.max_det)
            XCTAssertEqual(got.count, c.detections.count, c.name)
            for (image, (mine, theirs)) in zip(got, c.detections).enumerated() {
                assertSameDetections(mine, theirs, "\(c.name) image \(image)")
            }
        }
    }

    /// Same count; each PyTorch detection matched by one of ours with the same class, IoU ≥ 0.999
    /// and confidence within 1e-4, at the same position (the fixtures have no tied confidences).
    private func assertSameDetections(_ mine: [Detection], _ theirs: [[Float]], _ label: String,
                                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(mine.count, theirs.count, "\(label): count", file: file, line: line)
        var used = Set<Int>()
        for (k, t) in theirs.enumerated() {
            let ref = Detection(x1: t[0], y1: t[1], x2: t[2], y2: t[3], confidence: t[4], classIndex: Int(t[5]))
            let match = mine.indices.first {
                !used.contains($0) && mine[$0].classIndex == ref.classIndex && iou(mine[$0], ref) >= 0.999
                    && abs(mine[$0].confidence - ref.confidence) <= 1e-4
            }
            guard let match else {
                XCTFail("\(label): no match for PyTorch detection \(k) \(t)", file: file, line: line)
                continue
            }
            used.insert(match)
            XCTAssertEqual(match, k, "\(label): detection \(k) out of order", file: file, line: line)
        }
        XCTAssertTrue(zip(mine, mine.dropFirst()).allSatisfy { $0.confidence >= $1.confidence },
                      "\(label): not sorted by confidence", file: file, line: line)
    }

    func testOverlappingBoxesOfOneClassKeepTheBest() {
        let p = predictions([[50, 50, 40, 40, 0.9, 0.9, 0.1], [52, 50, 40, 40, 0.8, 0.9, 0.1]])
        let out = nonMaxSuppression(p)[0]
        XCTAssertEqual(out, [Detection(x1: 30, y1: 30, x2: 70, y2: 70, confidence: 0.9 * 0.9, classIndex: 0)])
    }

    func testOverlappingBoxesOfDifferentClassesBothSurviveUnlessAgnostic() {
        let p = predictions([[50, 50, 40, 40, 0.9, 0.9, 0.1], [52, 50, 40, 40, 0.8, 0.1, 0.9]])
        XCTAssertEqual(nonMaxSuppression(p)[0].map(\.classIndex), [0, 1])
        XCTAssertEqual(nonMaxSuppression(p, agnostic: true)[0].map(\.classIndex), [0])
    }

    /// torchvision drops a box when IoU > threshold, keeps it when equal (checked against
    /// torchvision by the fixture script). Boxes (0, 0, 10, 10) and (0, 0, 10, 5): IoU = 50/100.
    func testIoUEqualToThresholdIsKept() {
        let p = predictions([[5, 5, 10, 10, 0.9, 1], [5, 2.5, 10, 5, 0.8, 1]])
        XCTAssertEqual(nonMaxSuppression(p, iouThreshold: 0.5)[0].count, 2)
        XCTAssertEqual(nonMaxSuppression(p, iouThreshold: 0.49)[0].count, 1)
    }

    /// Equal confidences keep input order (a stable sort; PyTorch's argsort may differ).
    func testTiedConfidencesKeepInputOrder() {
        let rows = (0..<5).map { i -> [Float] in [Float(i) * 100, 0, 10, 10, 0.5, 1] }
        XCTAssertEqual(nonMaxSuppression(predictions(rows))[0].map(\.x1), [-5, 95, 195, 295, 395])
    }

    func testMaxDetectionsKeepsTheHighestScores() {
        let rows = (0..<20).map { i -> [Float] in [Float(i) * 100, 0, 10, 10, 0.3 + Float(i) * 0.03, 1] }
        let out = nonMaxSuppression(predictions(rows), maxDetections: 5)[0]
        XCTAssertEqual(out.map { Int($0.x1 + 5) / 100 }, [19, 18, 17, 16, 15])
    }

    func testEmptyInputsGiveEmptyOutputs() {
        XCTAssertEqual(nonMaxSuppression(Tensor(zeros: [2, 0, 7])), [[], []])
        let weak = predictions([[50, 50, 40, 40, 0.2, 1, 1], [50, 50, 40, 40, 0.9, 0.2, 0.2]])
        XCTAssertEqual(nonMaxSuppression(weak), [[]], "obj ≤ conf, then obj·cls ≤ conf")
        XCTAssertEqual(nonMaxSuppression(predictions([[50, 50, 40, 40, 0.9, 0.9]]), maxDetections: 0), [[]])
    }

    func testMultiLabelAndClassFilter() {
        let p = predictions([[50, 50, 40, 40, 1, 0.9, 0.5, 0.1]])
        XCTAssertEqual(nonMaxSuppression(p, multiLabel: true)[0].map(\.classIndex), [0, 1])
        XCTAssertEqual(nonMaxSuppression(p)[0].map(\.classIndex), [0])
        XCTAssertEqual(nonMaxSuppression(p, classes: [1], multiLabel: true)[0].map(\.classIndex), [1])
        XCTAssertEqual(nonMaxSuppression(p, classes: [1])[0], [], "best class 0 is filtered out")
    }

    /// Boxes larger than the 7680 px class offset: offsets no longer separate classes, as in
    /// YOLOv5. (0, 0)–(40000, 40000) against itself shifted by 7680: IoU = 32320² / (2·40000² − 32320²) ≈ 0.485.
    func testHugeBoxesOverlapAcrossClassOffsets() {
        let p = predictions([[20000, 20000, 40000, 40000, 0.9, 0.9, 0], [20000, 20000, 40000, 40000, 0.8, 0, 0.9]])
        XCTAssertEqual(nonMaxSuppression(p)[0].map(\.classIndex), [0])
        XCTAssertEqual(nonMaxSuppression(p, iouThreshold: 0.5)[0].map(\.classIndex), [0, 1])
    }

    func testScaleBoxesMatchesYOLOv5() throws {
        for c in try expected().scale {
            var flat = c.boxes.flatMap { $0 }
            let ratioPad = c.ratio_pad.map { LetterboxRatioPad(gain: $0[0][0], pad: ($0[1][0], $0[1][1])) }
            scaleBoxes(&flat, from: (c.img1[0], c.img1[1]), to: (c.img0[0], c.img0[1]), ratioPad: ratioPad)
            assertClose(flat, c.expected.flatMap { $0 }, rtol: 1e-5, atol: 1e-4, "\(c.img1) → \(c.img0)")
        }
    }

    /// 1280×720 letterboxed to 640×384: gain ½, pad (0, 12). Box (100, 52)–(300, 392) maps to
    /// (200, 80)–(600, 760), clipped to y ≤ 720.
    func testScaleBoxesHandWorked() {
        let d = Detection(x1: 100, y1: 52, x2: 300, y2: 392, confidence: 0.7, classIndex: 3)
        let out = scaleBoxes([d], from: (height: 384, width: 640), to: (height: 720, width: 1280))
        XCTAssertEqual(out, [Detection(x1: 200, y1: 80, x2: 600, y2: 720, confidence: 0.7, classIndex: 3)])
        let rp = LetterboxRatioPad(letterboxed: (384, 640), original: (720, 1280))
        XCTAssertEqual(rp, LetterboxRatioPad(gain: 0.5, pad: (0, 12)))
    }

    func testClipBoxes() {
        var rows: [Float] = [-5, 3, 700, 500, 0.9, 2]  // one [x1, y1, x2, y2, conf, cls] row
        clipBoxes(&rows, rowStride: 6, to: (height: 480, width: 640))
        XCTAssertEqual(rows, [0, 3, 640, 480, 0.9, 2])
        let d = clipBoxes([Detection(x1: -1, y1: -2, x2: 10, y2: 999, confidence: 1, classIndex: 0)], to: (100, 200))
        XCTAssertEqual(d, [Detection(x1: 0, y1: 0, x2: 10, y2: 100, confidence: 1, classIndex: 0)])
    }
}
