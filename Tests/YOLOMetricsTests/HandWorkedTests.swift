// Small cases worked out by hand: IoU, matching, AP (and why a perfect detection scores 0.995),
// the P/R/F1 operating point, the confusion matrix and fitness.
import XCTest
@testable import YOLOMetrics

final class HandWorkedTests: XCTestCase {
    let label: [Float] = [0, 0, 0, 100, 100]  // class 0, a 100 × 100 box at the origin

    /// A 100 × 100 detection of class `cls` shifted right by `dx`: IoU = (100 − dx) / (100 + dx).
    func shifted(_ dx: Float, conf: Float, cls: Float = 0) -> [Float] { [dx, 0, 100 + dx, 100, conf, cls] }

    func testBoxIoU() {
        // (0,0,2,2) vs (1,1,3,3): inter 1, union 4 + 4 − 1 = 7; disjoint boxes → 0; identical → 1
        let iou = boxIoU([0, 0, 2, 2], [1, 1, 3, 3, 5, 5, 6, 6, 0, 0, 2, 2])
        XCTAssertEqual(iou.count, 3)
        XCTAssertEqual(iou[0], 1 / (7 + 1e-7), accuracy: 1e-7)
        XCTAssertEqual(iou[1], 0)
        XCTAssertEqual(iou[2], 4 / (4 + 1e-7))
    }

    func testMatchingKeepsEachLabelsMostConfidentDetection() {
        // det0 (more confident) IoU 77/123 ≈ 0.626, det1 IoU 96/104 ≈ 0.923, same label.
        // YOLOv5 7.0 gives the label to det0 wherever both qualify (its second IoU sort is
        // commented out), so det1 only counts at the thresholds det0 misses: 0.65 … 0.9.
        let dets = shifted(23, conf: 0.9) + shifted(4, conf: 0.8)
        let correct = matchPredictions(detections: dets, labels: label)
        XCTAssertEqual(correct[0], [true, true, true, false, false, false, false, false, false, false])
        XCTAssertEqual(correct[1], [false, false, false, true, true, true, true, true, true, false])
    }

    func testMatchingNeedsTheClassAndOneDetectionPerLabel() {
        let twoLabels: [Float] = label + [1, 300, 300, 400, 400]
        // wrong class on label 0; an exact hit on label 1 and a duplicate of it
        let dets: [Float] = shifted(0, conf: 0.9, cls: 1) + [300, 300, 400, 400, 0.8, 1]
            + [301, 300, 401, 400, 0.7, 1]
        let correct = matchPredictions(detections: dets, labels: twoLabels)
        XCTAssertEqual(correct.map { $0.contains(true) }, [false, true, false])
        XCTAssertEqual(matchPredictions(detections: [], labels: label), [])
        XCTAssertEqual(matchPredictions(detections: shifted(0, conf: 0.5), labels: []), [[Bool](repeating: false, count: 10)])
    }

    func testComputeAPOnAHandMadeCurve() {
        // recall [0.5, 0.5, 1], precision [1, 0.5, 2/3] → mrec [0, .5, .5, 1, 1],
        // envelope mpre [1, 1, 2/3, 2/3, 0]. On x = 0, 0.01, …, 1: 1 for x < 0.5; 2/3 from 0.5
        // (np.interp takes the last of the equal recalls) up to 0.99; 0 at x = 1 (the sentinel).
        // trapz: 49·0.01·1 + 0.01·(1 + 2/3)/2 + 49·0.01·2/3 + 0.01·(2/3)/2 = 0.828333…
        let (ap, mpre, mrec) = computeAP(recall: [0.5, 0.5, 1], precision: [1, 0.5, 2.0 / 3])
        XCTAssertEqual(mrec, [0, 0.5, 0.5, 1, 1])
        XCTAssertEqual(mpre, [1, 1, 2.0 / 3, 2.0 / 3, 0])
        XCTAssertEqual(ap, 0.49 + 0.05 / 6 + 0.98 / 3 + 0.01 / 3, accuracy: 1e-12)
        // numpy: np.trapz(np.interp(x, mrec, mpre), x) = 0.8283333333333331
        XCTAssertEqual(ap, 0.8283333333333331, accuracy: 1e-15)
    }

    func testSinglePerfectDetectionScores0995() {
        // One label, one detection exactly on it: recall [1], precision [1], so
        // mrec [0, 1, 1], mpre [1, 1, 0]. The 101-point interpolation reads 1 at x = 0 … 0.99
        // but 0 at x = 1 (the last of the equal recalls is the sentinel's precision 0), and the
        // trapezoid over the last step is (1 + 0)/2 · 0.01, so AP = 0.99 + 0.005 = 0.995 at every
        // IoU threshold — YOLOv5 never reports an AP of exactly 1.
        let result = apPerClass(tp: [[Bool](repeating: true, count: 10)], conf: [0.9], predClass: [0], targetClass: [0])
        XCTAssertEqual(result.ap.count, 1)
        for ap in result.ap[0] { XCTAssertEqual(ap, 0.995, accuracy: 1e-12) }
        XCTAssertEqual(result.precision, [1])
        XCTAssertEqual(result.recall, [1])
        XCTAssertEqual(result.tp, [1])
        XCTAssertEqual(result.fp, [0])
        let metrics = DetectionMetrics(result)
        XCTAssertEqual(metrics.map50, 0.995, accuracy: 1e-12)
        XCTAssertEqual(metrics.map, 0.995, accuracy: 1e-12)
    }

    func testOneFalsePositiveThenOneTruePositive() {
        // Sorted by confidence: FP (0.9), then TP (0.8) → recall [0, 1], precision [0, 0.5];
        // mrec [0, 0, 1, 1], envelope [1, .5, .5, 0]; interp is 0.5 on x = 0 … 0.99 and 0 at 1:
        // AP = 99 · 0.01 · 0.5 + 0.01 · 0.25 = 0.4975.
        let tp = [[Bool](repeating: false, count: 10), [Bool](repeating: true, count: 10)]
        let result = apPerClass(tp: tp, conf: [0.9, 0.8], predClass: [0, 0], targetClass: [0])
        for ap in result.ap[0] { XCTAssertEqual(ap, 0.4975, accuracy: 1e-12) }
        // Curves: px > 0.9 → R 0, P 1 (the `left` values); px ≤ 0.8 → R 1, P 0.5, F1 2/3; between,
        // F1 = 2t/3 < 2/3. The smoothed mean F1 is flat at its maximum from px = 0, so the first
        // maximum, index 0, is the operating point: P 0.5, R 1, tp = 1, fp = round(1/0.5 − 1) = 1.
        XCTAssertEqual(result.bestIndex, 0)
        XCTAssertEqual(result.precisionCurve[0][999], 1)
        XCTAssertEqual(result.recallCurve[0][999], 0)
        XCTAssertEqual(result.precision[0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(result.recall[0], 1, accuracy: 1e-12)
        XCTAssertEqual(result.f1[0], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(result.tp, [1])
        XCTAssertEqual(result.fp, [1])
    }

    func testClassesWithoutPredictionsOrLabels() {
        // class 1 has a label but no prediction: P = R = AP = 0 and it still counts in the means;
        // class 2 has a prediction but no label: ignored entirely.
        let tp = [[Bool](repeating: true, count: 10), [Bool](repeating: false, count: 10)]
        let result = apPerClass(tp: tp, conf: [0.9, 0.7], predClass: [0, 2], targetClass: [0, 1])
        XCTAssertEqual(result.classes, [0, 1])
        XCTAssertEqual(result.ap[1], [Double](repeating: 0, count: 10))
        let metrics = DetectionMetrics(result)
        XCTAssertEqual(metrics.map50, 0.995 / 2, accuracy: 1e-12)
        XCTAssertEqual(metrics.mp, 0.5, accuracy: 1e-12)
        assertClose(metrics.maps(nc: 3), [0.995, 0, 0.995 / 2], atol: 1e-12)
        // no labels at all: empty per-class arrays
        XCTAssertEqual(apPerClass(tp: [], conf: [], predClass: [], targetClass: []).classes, [])
    }

    func testConfusionMatrix() {
        var cm = ConfusionMatrix(nc: 2)
        // image 1: an exact class-1 detection of a class-0 label (counts [1][0]), an extra class-1
        // detection far away (FP, [1][2]) and one below conf 0.25 (ignored)
        cm.processBatch(detections: shifted(0, conf: 0.9, cls: 1) + [500, 500, 600, 600, 0.8, 1]
                            + [0, 0, 100, 100, 0.2, 0],
                        labels: label)
        XCTAssertEqual(cm.matrix, [[0, 0, 0], [1, 0, 1], [0, 0, 0]])
        // image 2: no match at all → the label is background FN, and (YOLOv5 7.0 quirk) the
        // unmatched detection is not counted as FP because the image has no match
        cm.processBatch(detections: [500, 500, 600, 600, 0.8, 1], labels: label)
        XCTAssertEqual(cm.matrix, [[0, 0, 0], [1, 0, 1], [1, 0, 0]])
        // image 3: no detections (val.py's None): every label is FN; then IoU below 0.45 is no match
        cm.processBatch(detections: nil, labels: [1, 0, 0, 10, 10])
        cm.processBatch(detections: shifted(39, conf: 0.9), labels: label)  // IoU 61/139 ≈ 0.439
        XCTAssertEqual(cm.matrix, [[0, 0, 0], [1, 0, 1], [2, 1, 0]])
        XCTAssertEqual(cm.tpFp().tp, [0, 0])
        XCTAssertEqual(cm.tpFp().fp, [0, 2])
    }

    func testFitness() {
        // 0.1 · 0.6 + 0.9 · 0.4 = 0.42; P and R weigh nothing
        XCTAssertEqual(fitness(p: 0.9, r: 0.8, map50: 0.6, map: 0.4), 0.42, accuracy: 1e-15)
        XCTAssertEqual(fitness(p: 1, r: 1, map50: 0, map: 0), 0)
        XCTAssertEqual(DetectionMetrics.zero.fitness, 0)
    }

    func testNumpyHelpers() {
        // np.interp([-1, 0, .5, 1, 1.5, 2, 3], [0, 1, 1, 2], [10, 20, 30, 40]) = [10, 10, 15, 30, 35, 40, 40]
        XCTAssertEqual(interp([-1, 0, 0.5, 1, 1.5, 2, 3], [0, 1, 1, 2], [10, 20, 30, 40]), [10, 10, 15, 30, 35, 40, 40])
        XCTAssertEqual(interp([-1, 3], [0, 1], [10, 20], left: 0, right: 5), [0, 5])
        XCTAssertEqual(trapz([1, 2, 3], [0, 1, 3]), 1.5 + 5)
        XCTAssertEqual(linspace(0, 1, 101)[50], 0.5)
        XCTAssertEqual(confidenceGrid.count, 1000)
        // nf = round(4 · 0.5 · 2) // 2 + 1 = 3 taps over [0, 0, 0, 3, 3, 3] (one edge copy each side)
        assertClose(smooth([0, 0, 3, 3], fraction: 0.5), [0, 1, 2, 3], atol: 1e-12)
        // ap_per_class's filter: 1000 points, f = 0.1 → 101 taps; a constant stays constant
        assertClose(smooth([Double](repeating: 0.25, count: 1000), fraction: 0.1),
                    [Double](repeating: 0.25, count: 1000), atol: 1e-15)
    }
}
