// YOLOMetrics against YOLOv5 7.0.14 itself on seeded synthetic validation sets
// (Tools/fixtures/make_metrics_fixtures.py): match matrices exactly, everything else to 1e-6.
import XCTest
@testable import YOLOMetrics

final class FixtureParityTests: XCTestCase {
    func testIoUThresholdsAreTorchLinspace() throws {
        XCTAssertEqual(iouThresholds, try MetricsFixture.load("mixed").iouv)
    }

    func testMatchMatricesEqualProcessBatch() throws {
        for name in MetricsFixture.names {
            let fixture = try MetricsFixture.load(name)
            for (i, image) in fixture.images.enumerated() {
                let correct = matchPredictions(detections: image.detections.flatMap { $0 },
                                               labels: image.labels.flatMap { $0 })
                XCTAssertEqual(correct.map { $0.map { $0 ? 1 : 0 } }, image.correct, "\(name) image \(i)")
            }
        }
    }

    func testConfusionMatrixEqualsReference() throws {
        for name in MetricsFixture.names {
            let fixture = try MetricsFixture.load(name)
            var cm = ConfusionMatrix(nc: fixture.nc)
            for image in fixture.images {
                // val.py passes None for an image without detections
                cm.processBatch(detections: image.detections.isEmpty ? nil : image.detections.flatMap { $0 },
                                labels: image.labels.flatMap { $0 })
            }
            XCTAssertEqual(cm.matrix.count, fixture.nc + 1)
            assertClose(cm.matrix.flatMap { $0 }, fixture.confusion.flatMap { $0 }, name)
        }
    }

    func testAPPerClassEqualsReference() throws {
        for name in MetricsFixture.names {
            let fixture = try MetricsFixture.load(name), s = fixture.stats, ref = fixture.ap
            let result = apPerClass(tp: s.tp, conf: s.conf, predClass: s.predClass, targetClass: s.targetClass)
            XCTAssertEqual(result.classes, ref.classes, name)
            XCTAssertEqual(result.bestIndex, ref.bestIndex, name)
            assertClose(result.precision, ref.p, "\(name) P")
            assertClose(result.recall, ref.r, "\(name) R")
            assertClose(result.f1, ref.f1, "\(name) F1")
            assertClose(result.tp, ref.tp, "\(name) tp")
            assertClose(result.fp, ref.fp, "\(name) fp")
            assertClose(result.ap.flatMap { $0 }, ref.ap.flatMap { $0 }, "\(name) AP")
            let sampled = { (curves: [[Double]]) in
                curves.map { curve in stride(from: 0, to: curve.count, by: ref.curveStride).map { curve[$0] } }
            }
            assertClose(sampled(result.precisionCurve).flatMap { $0 }, ref.pCurve.flatMap { $0 }, "\(name) P curve")
            assertClose(sampled(result.recallCurve).flatMap { $0 }, ref.rCurve.flatMap { $0 }, "\(name) R curve")
            assertClose(sampled(result.f1Curve).flatMap { $0 }, ref.f1Curve.flatMap { $0 }, "\(name) F1 curve")
        }
    }

    func testSummaryAndFitnessEqualReference() throws {
        for name in MetricsFixture.names {
            let fixture = try MetricsFixture.load(name), s = fixture.stats, ref = fixture.summary
            // the reference summarises ap_per_class unconditionally, so use APResult directly
            let metrics = DetectionMetrics(apPerClass(tp: s.tp, conf: s.conf, predClass: s.predClass,
                                                      targetClass: s.targetClass))
            assertClose([metrics.mp, metrics.mr, metrics.map50, metrics.map],
                        [ref.mp, ref.mr, ref.map50, ref.map], name)
            assertClose(metrics.fitness, ref.fitness, name)
            // val.py's gate: without any true positive it reports zeros
            let gated = DetectionMetrics(tp: s.tp, conf: s.conf, predClass: s.predClass, targetClass: s.targetClass)
            XCTAssertEqual(gated == .zero, !fixture.ap.statsAnyTp, name)
        }
    }
}
