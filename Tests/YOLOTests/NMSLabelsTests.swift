// nonMaxSuppression's a-priori `labels` (val.py --save-hybrid, utils/general.py
// non_max_suppression `labels=`): hand-worked cases.
import TensorCore
import XCTest
@testable import YOLO

final class NMSLabelsTests: XCTestCase {
    /// One image, nc = 2, rows [cx, cy, w, h, obj, cls0, cls1]:
    ///   A: box 40…60 × 40…60, conf 0.9·0.9 = 0.81 class 0
    ///   B: box 140…160 × 40…60, conf 0.8·0.9 = 0.72 class 1
    ///   C: obj 0.1, under conf 0.25, dropped before labels join
    let predictions = Tensor(shape: [1, 3, 7], scalars: [
        50, 50, 20, 20, 0.9, 0.9, 0.1,
        150, 50, 20, 20, 0.8, 0.2, 0.9,
        305, 305, 10, 10, 0.1, 1, 0,
    ])
    /// L1 class 0 at 42…62 × 40…60: IoU with A = 18·20 / (400 + 400 − 360) = 0.818 > 0.45.
    /// L2 class 1 where C was; L3 class 0 exactly on B (another class, so B survives).
    let labels = [[
        Detection(x1: 42, y1: 40, x2: 62, y2: 60, confidence: 0, classIndex: 0),
        Detection(x1: 300, y1: 300, x2: 310, y2: 310, confidence: 0, classIndex: 1),
        Detection(x1: 140, y1: 40, x2: 160, y2: 60, confidence: 0, classIndex: 0),
    ]]

    func testLabelsComeFirstWithConfidenceOneAndSuppressOverlaps() {
        // Candidates A, B, L1, L2, L3 sorted by conf (stable): L1, L2, L3 (1.0), A (0.81), B (0.72).
        // Greedy: L1, L2, L3 kept; A suppressed by L1 (same class, IoU 0.818); B kept.
        for multiLabel in [false, true] {
            let out = nonMaxSuppression(predictions, confThreshold: 0.25, iouThreshold: 0.45, multiLabel: multiLabel,
                                        labels: labels)[0]
            let expected = labels[0].map {
                Detection(x1: $0.x1, y1: $0.y1, x2: $0.x2, y2: $0.y2, confidence: 1, classIndex: $0.classIndex)
            } + [Detection(x1: 140, y1: 40, x2: 160, y2: 60, confidence: Float(0.8) * Float(0.9), classIndex: 1)]
            XCTAssertEqual(out, expected, "multiLabel \(multiLabel)")
        }
    }

    func testWithoutLabelsNothingChanges() {
        let out = nonMaxSuppression(predictions, confThreshold: 0.25, iouThreshold: 0.45)[0]
        XCTAssertEqual(out.map(\.classIndex), [0, 1])
        XCTAssertEqual(out.map(\.confidence), [Float(0.9) * Float(0.9), Float(0.8) * Float(0.9)])
        XCTAssertEqual(nonMaxSuppression(predictions, confThreshold: 0.25, iouThreshold: 0.45, labels: [[]])[0], out)
    }

    func testLabelsObeyClassFilterAndConfidenceThreshold() {
        // classes [1]: L2 and B only. conf_thres 1.0: 1.0 > 1.0 fails, so labels drop too (as upstream).
        let onlyOne = nonMaxSuppression(predictions, confThreshold: 0.25, iouThreshold: 0.45, classes: [1],
                                        labels: labels)[0]
        XCTAssertEqual(onlyOne.map(\.x1), [300, 140])
        XCTAssertEqual(onlyOne.map(\.confidence), [1, Float(0.8) * Float(0.9)])
        XCTAssertEqual(nonMaxSuppression(predictions, confThreshold: 1, iouThreshold: 0.45, labels: labels)[0], [])
    }
}
