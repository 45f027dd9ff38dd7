// AutoAnchor against YOLOv5 7.0 (Fixtures/anchor_expected.json, written by
// Tools/fixtures/make_anchor_fixtures.py) and hand-worked cases.
import Foundation
import TensorCore
import XCTest
@testable import YOLO

private struct AnchorFixture: Decodable {
    struct Dataset: Decodable { let shapes: [[Int]]; let wh: [[[Float]]] }
    struct Metric: Decodable {
        let dataset: String, anchors: String, anchor_values: [[Float]]
        let img_size: Int, anchor_t: Double, n: Int, bpr: Double, aat: Double
    }
    struct KMeans: Decodable { let dataset: String; let img_size: Int; let anchor_t: Double; let fitness: Double }
    let datasets: [String: Dataset]
    let metric: [Metric]
    let kmeans: [KMeans]
}

private let yolov5sAnchors: [[SIMD2<Float>]] = AnchorCheck.pairs(
    [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
).chunked(3)

extension Array {
    fileprivate func chunked(_ n: Int) -> [[Element]] {
        stride(from: 0, to: count, by: n).map { Array(self[$0..<Swift.min($0 + n, count)]) }
    }
}

final class AutoAnchorTests: XCTestCase {
    private func fixture() throws -> AnchorFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "anchor_expected", withExtension: "json",
                                                  subdirectory: "Fixtures"))
        return try JSONDecoder().decode(AnchorFixture.self, from: Data(contentsOf: url))
    }

    /// (shapes, labels as [cls, cx, cy, w, h] rows) of a fixture dataset.
    private func dataset(_ f: AnchorFixture, _ name: String) throws
        -> (shapes: [(width: Int, height: Int)], labels: [[[Float]]])
    {
        let d = try XCTUnwrap(f.datasets[name])
        return (d.shapes.map { ($0[0], $0[1]) }, d.wh.map { $0.map { [0, 0.5, 0.5, $0[0], $0[1]] } })
    }

    func testMetricMatchesYOLOv5OnDatasets() throws {
        let f = try fixture()
        XCTAssertEqual(f.metric.count, 24)
        for m in f.metric {
            let (shapes, labels) = try dataset(f, m.dataset)
            let wh = AnchorCheck.labelSizes(shapes: shapes, labels: labels, imageSize: m.img_size)
            XCTAssertEqual(wh.count, m.n)
            let got = AnchorCheck.metrics(anchors: m.anchor_values, wh: wh, threshold: m.anchor_t)
            let tag = "\(m.dataset) \(m.anchors) \(m.img_size) \(m.anchor_t)"
            XCTAssertEqual(got.bpr, m.bpr, accuracy: 1e-6, tag)
            XCTAssertEqual(got.aat, m.aat, accuracy: 1e-5, tag)
        }
    }

    func testHandWorkedThreeBoxes() {
        // Anchor (10, 10): box (10, 10) x = 1; (40, 10) x = min(4, 1/4, 1, 1) = 0.25, not > 1/4;
        // (20, 5) x = min(2, 0.5, 0.5, 2) = 0.5. So bpr = aat = 2/3.
        let boxes: [SIMD2<Float>] = [[10, 10], [40, 10], [20, 5]]
        let one = AnchorCheck.metrics(anchors: [SIMD2<Float>(10, 10)], wh: boxes, threshold: 4)
        XCTAssertEqual(one.bpr, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(one.aat, 2.0 / 3, accuracy: 1e-12)
        // Adding (40, 10): box 2 now x = 1; box 3 against it x = min(0.5, 2) = 0.5 → 4 pairs.
        let two = AnchorCheck.metrics(anchors: [[10, 10, 40, 10]], wh: boxes, threshold: 4)
        XCTAssertEqual(two.bpr, 1, accuracy: 1e-12)
        XCTAssertEqual(two.aat, 4.0 / 3, accuracy: 1e-12)
        // A tighter threshold 1/1.9 rejects the 0.5 ratios: fitness = (1 + 1 + 0) / 3.
        XCTAssertEqual(AnchorCheck.fitness(anchors: [[10, 10], [40, 10]], wh: boxes, threshold: 1.9),
                       2.0 / 3, accuracy: 1e-12)
    }

    func testAugmentedLabelSizesStayWithinTenPercent() {
        var g = SeededGenerator(seed: 3)
        let shapes = [(width: 640, height: 480), (width: 300, height: 600)]
        let labels: [[[Float]]] = [[[0, 0.5, 0.5, 0.25, 0.5]], [[1, 0.5, 0.5, 0.1, 0.2], [2, 0.3, 0.3, 0.5, 0.5]]]
        let fixed = AnchorCheck.labelSizes(shapes: shapes, labels: labels, imageSize: 320)
        XCTAssertEqual(fixed, [[80, 120], [16, 64], [80, 160]])
        let scaled = AnchorCheck.labelSizes(shapes: shapes, labels: labels, imageSize: 320, augmentingScalesUsing: &g)
        for (a, b) in zip(scaled, fixed) {
            let r = a / b
            XCTAssertEqual(r.x, r.y, accuracy: 1e-5)  // one scale per image
            XCTAssert(r.x >= 0.9 && r.x <= 1.1)
        }
        XCTAssertEqual(scaled[1] / fixed[1], scaled[2] / fixed[2])
    }

    func testKMeansEvolutionOnRaccoonBeatsDefaultAnchors() throws {
        let f = try fixture()
        let (shapes, labels) = try dataset(f, "raccoon")
        let wh = AnchorCheck.labelSizes(shapes: shapes, labels: labels, imageSize: 320)
        var g1 = SeededGenerator(seed: 0), g2 = SeededGenerator(seed: 0)
        var log = [String]()
        let a = AnchorCheck.kmeansAnchors(wh: wh, n: 9, imageSize: 320, threshold: 4, using: &g1) { log.append($0) }
        let b = AnchorCheck.kmeansAnchors(wh: wh, n: 9, imageSize: 320, threshold: 4, using: &g2)
        XCTAssertEqual(a, b, "deterministic for a seed")
        XCTAssertEqual(a.count, 9)
        XCTAssertEqual(a.map { $0.x * $0.y }, a.map { $0.x * $0.y }.sorted())
        let defaults = yolov5sAnchors.flatMap { $0 }
        let fit = AnchorCheck.fitness(anchors: a, wh: wh, threshold: 4)
        XCTAssertGreaterThanOrEqual(fit, AnchorCheck.fitness(anchors: defaults, wh: wh, threshold: 4))
        XCTAssertGreaterThanOrEqual(AnchorCheck.metrics(anchors: a, wh: wh, threshold: 4).bpr,
                                    AnchorCheck.metrics(anchors: defaults, wh: wh, threshold: 4).bpr)
        // Upstream (its own RNG) reached this fitness; ours should be in the same place.
        let upstream = try XCTUnwrap(f.kmeans.first).fitness
        XCTAssertEqual(fit, upstream, accuracy: 0.01)
        XCTAssertEqual(log.first, "AutoAnchor: Running kmeans for 9 anchors on 173 points...")
        XCTAssert(log.last?.hasPrefix("AutoAnchor: thr=0.25: 1.0000 best possible recall") ?? false, "\(log)")
    }

    func testKMeansWarnsAndDropsTinyLabelsAndFallsBack() {
        var g = SeededGenerator(seed: 1)
        var log = [String]()
        let wh: [SIMD2<Float>] = [[1, 1], [2.5, 40], [30, 30], [60, 20]]
        let k = AnchorCheck.kmeansAnchors(wh: wh, n: 9, imageSize: 64, generations: 10, using: &g) { log.append($0) }
        XCTAssertEqual(k.count, 9)
        XCTAssertEqual(log[0], "AutoAnchor: WARNING ⚠️ Extremely small objects found: 2 of 4 labels are <3 pixels in size")
        XCTAssertEqual(log[1], "AutoAnchor: Running kmeans for 9 anchors on 3 points...")
        XCTAssertEqual(log[2], "AutoAnchor: WARNING ⚠️ switching strategies from kmeans to random init")
    }

    func testCheckAnchorsKeepsGoodAnchors() throws {
        let f = try fixture()
        let (shapes, labels) = try dataset(f, "coco128")
        var g = SeededGenerator(seed: 7)
        let r = AnchorCheck.checkAnchors(anchors: yolov5sAnchors, strides: [8, 16, 32], shapes: shapes, labels: labels,
                                         imageSize: 640, threshold: 4, using: &g)
        XCTAssertGreaterThan(r.bpr, 0.98)
        XCTAssertFalse(r.replaced)
        XCTAssertEqual(r.anchors, yolov5sAnchors)
        XCTAssertEqual(r.messages.count, 1)
        XCTAssert(r.messages[0].hasPrefix("AutoAnchor: "))
        XCTAssert(r.messages[0].hasSuffix(" Best Possible Recall (BPR). Current anchors are a good fit to dataset ✅"))
        let fixed = AnchorCheck.checkAnchors(anchors: yolov5sAnchors, strides: [8, 16, 32],
                                             wh: [[10, 13], [30, 61], [116, 90], [156, 198]], kmeansWH: [],
                                             imageSize: 640, using: &g)
        XCTAssertEqual(fixed.messages, ["AutoAnchor: 5.00 anchors/target, 1.000 Best Possible Recall (BPR). "
                                        + "Current anchors are a good fit to dataset ✅"])
    }

    func testCheckAnchorsReplacesPoorAnchors() throws {
        let f = try fixture()
        let (shapes, labels) = try dataset(f, "raccoon")
        let tiny = AnchorCheck.pairs([[4, 5, 6, 8, 9, 7], [12, 10, 11, 16, 18, 14], [20, 24, 28, 22, 26, 30]]).chunked(3)
        var g = SeededGenerator(seed: 11)
        let r = AnchorCheck.checkAnchors(anchors: tiny, strides: [8, 16, 32], shapes: shapes, labels: labels,
                                         imageSize: 320, threshold: 4, generations: 300, using: &g)
        XCTAssertLessThan(r.bpr, 0.98)
        XCTAssertTrue(r.replaced)
        XCTAssertEqual(r.anchors.map(\.count), [3, 3, 3])
        let wh = AnchorCheck.labelSizes(shapes: shapes, labels: labels, imageSize: 320)
        XCTAssertGreaterThan(AnchorCheck.metrics(anchors: r.anchors.flatMap { $0 }, wh: wh, threshold: 4).bpr, r.bpr)
        XCTAssert(r.messages[0].hasSuffix("Anchors are a poor fit to dataset ⚠️, attempting to improve..."))
        XCTAssertEqual(r.messages.last,
                       "AutoAnchor: Done ✅ (optional: update model *.yaml to use these anchors in the future)")
    }

    func testCheckAnchorOrderFlipsReversedLevels() {
        let reversed = Array(yolov5sAnchors.reversed())
        let fixed = AnchorCheck.checkAnchorOrder(anchors: reversed, strides: [8, 16, 32])
        XCTAssertTrue(fixed.reversed)
        XCTAssertEqual(fixed.anchors, yolov5sAnchors)  // levels flipped, order within a level kept
        let kept = AnchorCheck.checkAnchorOrder(anchors: yolov5sAnchors, strides: [8, 16, 32])
        XCTAssertFalse(kept.reversed)
        XCTAssertEqual(kept.anchors, yolov5sAnchors)
        // Descending strides with descending areas agree.
        XCTAssertFalse(AnchorCheck.checkAnchorOrder(anchors: reversed, strides: [32, 16, 8]).reversed)
        // Equal mean areas: da = 0, never flipped.
        let flat: [[SIMD2<Float>]] = [[[10, 10]], [[10, 10]]]
        XCTAssertFalse(AnchorCheck.checkAnchorOrder(anchors: flat, strides: [16, 8]).reversed)
    }

    func testSummaryLineFormat() {
        let s = AnchorCheck.summary([[10, 10], [40, 10]], wh: [[10, 10], [40, 10], [20, 5]], imageSize: 64, threshold: 4)
        XCTAssertEqual(s, "AutoAnchor: thr=0.25: 1.0000 best possible recall, 1.33 anchors past thr\n"
                       + "AutoAnchor: n=2, img_size=64, metric_all=0.583/0.833-mean/best, past_thr=0.750-mean: 10,10, 40,10")
    }
}
