// ComputeLoss and buildTargets against PyTorch YOLOv5 7.0: loss, its three items and the
// gradient with respect to every prediction, from Fixtures/loss_cases.{json,safetensors},
// which Tools/fixtures/make_loss_fixtures.py writes.
import Foundation
import NN
import TensorCore
import TensorDNNL
import TestSupport
import XCTest
@testable import YOLO

private struct LevelAssignment: Decodable {
    let tcls: [Int]
    let tbox: [[Float]]
    let b: [Int], a: [Int], gj: [Int], gi: [Int]
    let anch: [[Float]]
}

private struct LossCase: Decodable {
    let nc: Int
    let image_size: Int
    let batch: Int
    let hyp: Hyperparameters
    let targets: [[Float]]
    let anchors: [[[Float]]]
    let strides: [Float]
    let loss: Float
    let items: [Float]
    let build_targets: [LevelAssignment]?

    var gridAnchors: [[SIMD2<Float>]] { anchors.map { $0.map { SIMD2($0[0], $0[1]) } } }
}

private struct LossFixtures: Decodable {
    let torch: String
    let cases: [String: LossCase]
}

private let fixtureJSON: LossFixtures? = {
    guard let url = Bundle.module.url(forResource: "loss_cases", withExtension: "json", subdirectory: "Fixtures"),
          let data = try? Data(contentsOf: url) else { return nil }
    return try? JSONDecoder().decode(LossFixtures.self, from: data)
}()

private let fixtureTensors: [String: Tensor]? = {
    guard let url = Bundle.module.url(forResource: "loss_cases", withExtension: "safetensors",
                                      subdirectory: "Fixtures") else { return nil }
    return try? SafeTensors.read(url).tensors
}()

final class LossFixtureTests: ReferenceBackendTestCase {

    private func fixture(_ name: String, file: StaticString = #filePath, line: UInt = #line)
        throws -> (LossCase, [Tensor], [Tensor]) {
        let c = try XCTUnwrap(fixtureJSON?.cases[name], "Fixtures/loss_cases.json lacks \(name)", file: file, line: line)
        let t = try XCTUnwrap(fixtureTensors, "Fixtures/loss_cases.safetensors unreadable", file: file, line: line)
        let p = try (0..<3).map { try XCTUnwrap(t["\(name).p\($0)"], file: file, line: line) }
        let g = try (0..<3).map { try XCTUnwrap(t["\(name).grad\($0)"], file: file, line: line) }
        return (c, p, g)
    }

    /// Loss and items within 1e-4 relative, gradients within 1e-3 relative by norm.
    private func checkCase(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (c, preds, expectedGrads) = try fixture(name, file: file, line: line)
        let loss = ComputeLoss(nc: c.nc, anchors: c.gridAnchors, strides: c.strides, hyp: c.hyp)
        let ids = preds.map { _ in TensorID() }
        var items: [Float] = []
        let (value, grads) = valueWithGradients { tape in
            let watched = zip(preds, ids).map { tape.watch($0, as: $1) }
            let out = loss(watched, targets: c.targets)
            items = out.items
            return out.loss
        }
        assertClose([value.scalar], [c.loss], rtol: 1e-4, atol: 0, "\(name) loss", file: file, line: line)
        if ProcessInfo.processInfo.environment["LOSS_FIXTURE_VERBOSE"] != nil {
            print("\(name): loss \(value.scalar) vs \(c.loss); items \(items) vs \(c.items)")
        }
        assertClose(items, c.items, rtol: 1e-4, atol: 1e-9, "\(name) items", file: file, line: line)
        for (level, id) in ids.enumerated() {
            let g = try XCTUnwrap(grads[id], "\(name) no gradient at level \(level)", file: file, line: line)
            let err = relativeError(g.scalars, expectedGrads[level].scalars)
            XCTAssertLessThan(err, 1e-3, "\(name) gradient level \(level)", file: file, line: line)
            if ProcessInfo.processInfo.environment["LOSS_FIXTURE_VERBOSE"] != nil {
                print("\(name) level \(level): gradient relative error \(err)")
            }
        }
    }

    func testCOCO80ClassesScratchLow() throws { try checkCase("coco_nc80_low") }
    func testCOCO3ClassesV5Scratch() throws { try checkCase("coco_nc3_v5") }
    func testEmptyImage() throws { try checkCase("empty_image_nc3") }
    func testFocalSmoothingPositiveWeights() throws { try checkCase("focal_nc3") }
    func testNoTargets() throws { try checkCase("no_targets_nc3") }

    /// The training backend gives the same loss and gradients.
    func testCOCO80WithDNNLBackend() throws {
        Engine.backend = DNNLBackend()
        try checkCase("coco_nc80_low")
        try checkCase("focal_nc3")
    }

    /// Without a tape the same values come back and nothing is recorded.
    func testUntapedForwardMatches() throws {
        let (c, preds, _) = try fixture("coco_nc80_low")
        let loss = ComputeLoss(nc: c.nc, anchors: c.gridAnchors, strides: c.strides, hyp: c.hyp)
        let out = loss(preds, targets: Tensor(shape: [c.targets.count, 6], scalars: c.targets.flatMap { $0 }))
        assertClose([out.loss.scalar], [c.loss], rtol: 1e-4, atol: 0)
        XCTAssertFalse(out.loss.requiresGradient)
    }

    /// The fixture's hyperparameters are the bundled YAMLs scaled as train.py scales them.
    func testScaledHyperparametersMatchTrainPy() throws {
        let low = try Hyperparameters.load("hyp.scratch-low")
        let v5 = try Hyperparameters.load("hyp.scratch")
        let cases: [(String, Hyperparameters)] = [("coco_nc80_low", low), ("coco_nc3_v5", v5), ("empty_image_nc3", low)]
        for (name, base) in cases {
            let c = try XCTUnwrap(fixtureJSON?.cases[name])
            let h = base.scaledForTraining(layers: 3, classes: c.nc, imageSize: c.image_size)
            XCTAssertEqual(h.box, c.hyp.box, name)
            XCTAssertEqual(h.cls, c.hyp.cls, name)
            XCTAssertEqual(h.obj, c.hyp.obj, name)
            XCTAssertEqual(h.labelSmoothing, 0, name)
        }
    }

    /// buildTargets gives the same (b, a, gj, gi, class) rows, in the same order, and the same
    /// boxes and anchors as YOLOv5's build_targets.
    func testTargetAssignmentMatchesBuildTargets() throws {
        let (c, preds, _) = try fixture("coco_nc80_low")
        let expected = try XCTUnwrap(c.build_targets)
        let grids = preds.map { (height: $0.shape[2], width: $0.shape[3]) }
        let got = buildTargets(TargetBox.rows(c.targets), anchors: c.gridAnchors, gridSizes: grids,
                               anchorThreshold: Float(c.hyp.anchorT))
        XCTAssertEqual(got.count, expected.count)
        for (level, (g, e)) in zip(got, expected).enumerated() {
            XCTAssertEqual(g.image, e.b, "level \(level) b")
            XCTAssertEqual(g.anchor, e.a, "level \(level) a")
            XCTAssertEqual(g.gridY, e.gj, "level \(level) gj")
            XCTAssertEqual(g.gridX, e.gi, "level \(level) gi")
            XCTAssertEqual(g.classIndex, e.tcls, "level \(level) cls")
            assertClose(g.box.flatMap { [$0.x, $0.y, $0.z, $0.w] }, e.tbox.flatMap { $0 }, rtol: 0, atol: 1e-5,
                        "level \(level) tbox")
            assertClose(g.anchorSize.flatMap { [$0.x, $0.y] }, e.anch.flatMap { $0 }, rtol: 0, atol: 1e-6,
                        "level \(level) anch")
        }
        XCTAssertGreaterThan(got.map(\.count).reduce(0, +), 0)
    }
}
