// Hyperparameter evolution: the meta table, mutation (limits, rounding, seeding, change) and
// evolve.csv / hyp_evolve.yaml in YOLOv5 7.0's layout.
import Foundation
import TensorCore
import XCTest
@testable import YOLO

final class EvolutionTests: XCTestCase {
    private func base() throws -> Hyperparameters {
        var h = try Hyperparameters.load("hyp.scratch-low")
        h.anchors = h.anchors ?? 3  // as train.py --evolve without --noautoanchor
        return h
    }

    func testMetaCoversEveryHyperparameterKey() {
        let keys = Set(Evolution.meta.map(\.key))
        XCTAssertEqual(Evolution.meta.count, 29)
        XCTAssertEqual(keys.count, 29)
        for k in Hyperparameters.CodingKeys.allCases where k != .labelSmoothing {
            XCTAssert(keys.contains(k.rawValue), k.rawValue)
        }
        let lr0 = Evolution.meta.first { $0.key == "lr0" }
        XCTAssertEqual(lr0, MutationRange(key: "lr0", gain: 1, lower: 1e-5, upper: 0.1))
        XCTAssertEqual(Evolution.meta.first { $0.key == "anchors" }, MutationRange(key: "anchors", gain: 2, lower: 2, upper: 10))
        XCTAssertEqual(Evolution.meta.filter { $0.gain == 0 }.map(\.key), ["iou_t", "fl_gamma", "perspective", "fliplr"])
    }

    func testGeneOrderPutsAnchorsLastAndOnlyWhenPresent() throws {
        var h = try base()
        XCTAssertEqual(Evolution.genes(for: h).last?.key, "anchors")
        XCTAssertEqual(Evolution.genes(for: h).count, 29)
        h.anchors = nil
        XCTAssertEqual(Evolution.genes(for: h).count, 28)
        XCTAssertEqual(Evolution.genes(for: h).last?.key, "copy_paste")
    }

    func testFirstGenerationClampsAndRounds() throws {
        var h = try base()
        h.lr0 = 0.5; h.momentum = 0.1234567; h.anchors = 1
        var g = SeededGenerator(seed: 1)
        let out = Evolution.mutate(parents: [], base: h, using: &g)
        XCTAssertEqual(out.lr0, 0.1)
        XCTAssertEqual(out.momentum, 0.6)
        XCTAssertEqual(out.anchors, 2)
        h.momentum = 0.9123456
        XCTAssertEqual(Evolution.mutate(parents: [], base: h, using: &g).momentum, 0.91235)
    }

    func testMutationRespectsLimitsRoundingAndAlwaysChanges() throws {
        let h = try base()
        var p2 = h; p2.lr0 = 0.02; p2.mosaic = 0.9; p2.box = 0.07
        let parents = [(fitness: 0.3, hyp: h), (fitness: 0.5, hyp: p2), (fitness: 0.1, hyp: h)]
        for seed in 0..<300 {
            var g = SeededGenerator(seed: UInt64(seed))
            let child = Evolution.mutate(parents: parents, base: h, using: &g)
            XCTAssertNotEqual(child, h, "seed \(seed)")
            XCTAssertNotEqual(child, p2, "seed \(seed)")
            for gene in Evolution.genes(for: h) {
                let v = try XCTUnwrap(child[evolvable: gene.key])
                XCTAssert(v >= gene.lower && v <= gene.upper, "\(gene.key) = \(v)")
                XCTAssertEqual(v, Evolution.roundDecimals(v), gene.key)
                if gene.gain == 0 { XCTAssertEqual(v, h[evolvable: gene.key], gene.key) }
            }
            XCTAssertEqual(child.labelSmoothing, h.labelSmoothing)
        }
    }

    func testMutationDependsOnlyOnTheSeed() throws {
        let h = try base()
        let parents = [(fitness: 0.4, hyp: h)]
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let x = Evolution.mutate(parents: parents, base: h, using: &a)
        XCTAssertEqual(x, Evolution.mutate(parents: parents, base: h, using: &b))
        XCTAssertNotEqual(x, Evolution.mutate(parents: parents, base: h, using: &c))
        var w1 = SeededGenerator(seed: 5), w2 = SeededGenerator(seed: 5)
        let two = [(fitness: 0.4, hyp: h), (fitness: 0.2, hyp: x)]
        XCTAssertEqual(Evolution.mutate(parents: two, base: h, selection: .weighted, using: &w1),
                       Evolution.mutate(parents: two, base: h, selection: .weighted, using: &w2))
    }

    func testWeightedSelectionFavoursFitterParents() {
        var g = SeededGenerator(seed: 9)
        var counts = [0, 0]
        for _ in 0..<10_000 { counts[Evolution.weightedIndex([3, 1], using: &g)] += 1 }
        XCTAssertEqual(Double(counts[0]) / 10_000, 0.75, accuracy: 0.02)
        XCTAssertEqual(Evolution.fitness([0.9, 0.9, 0.5, 0.3, 1, 1, 1]), 0.05 + 0.27, accuracy: 1e-12)
    }

    func testEvolveCSVRoundTripAndEvolvedYAML() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evolve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("evolve.csv")
        let h = try base()
        var g = SeededGenerator(seed: 2)
        var records = [EvolveRecord(results: [0.61234567, 0.5, 0.55, 0.31, 0.04, 0.02, 0.011], hyp: h)]
        records.append(EvolveRecord(results: [0.7, 0.6, 0.65, 0.41, 0.035, 0.019, 0.01],
                                    hyp: Evolution.mutate(parents: [(0.3, h)], base: h, using: &g)))
        records.append(EvolveRecord(results: [0.6, 0.5, 0.6, 0.35, 0.05, 0.03, 0.012],
                                    hyp: Evolution.mutate(parents: [(0.3, h)], base: h, using: &g)))
        for r in records { try EvolveCSV.append(r, to: csv) }

        let text = try String(contentsOf: csv, encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssert(lines[0].hasPrefix("   metrics/precision,      metrics/recall,     metrics/mAP_0.5,metrics/mAP_0.5:0.95,"))
        XCTAssert(lines[0].hasSuffix("          copy_paste,             anchors"))
        XCTAssert(lines[1].hasPrefix("             0.61235,                 0.5,                0.55,"), String(lines[1]))
        XCTAssert(lines[1].contains("              0.0005,"))  // weight_decay, %20.5g

        let back = try EvolveCSV.read(csv, base: h)
        XCTAssertEqual(back.count, 3)
        for (a, b) in zip(back, records) {
            XCTAssertEqual(a.results, b.results.map { Double(String(format: "%.5g", $0))! })
            for gene in Evolution.genes(for: h) {
                XCTAssertEqual(a.hyp[evolvable: gene.key], Double(String(format: "%.5g", b.hyp[evolvable: gene.key]!)),
                               gene.key)
            }
        }
        XCTAssertEqual(back[0].hyp, h)

        let yamlURL = dir.appendingPathComponent("hyp_evolve.yaml")
        try EvolveCSV.writeEvolvedHyp(back, to: yamlURL)
        let yaml = try String(contentsOf: yamlURL, encoding: .utf8)
        XCTAssert(yaml.hasPrefix("# YOLOv5 Hyperparameter Evolution Results\n# Best generation: 1\n# Last generation: 2\n"))
        XCTAssert(yaml.contains("\nlr0: "))
        XCTAssert(yaml.contains("\nanchors: "))
        let decoded = try Hyperparameters.decode(yaml: yaml)
        XCTAssertEqual(decoded, back[1].hyp)
        XCTAssertEqual(EvolveCSV.pythonFloat(1e-05), "1.0e-05")
        XCTAssertEqual(EvolveCSV.pythonFloat(0.0005), "0.0005")
        XCTAssertEqual(EvolveCSV.pythonFloat(3), "3.0")
    }
}
