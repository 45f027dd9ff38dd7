// Whole training samples replayed against YOLOv5 7.0: the fixture (Tools/fixtures/
// make_sample_fixtures.py) holds what LoadImagesAndLabels.__getitem__ made of raccoon training
// images under hyp.scratch-low, with every random draw it took; fed the same draws, our loader must
// make the same image and labels. The kernel tests check each augmentation alone; this checks the
// chain (mosaic tiles and their parts, label clipping, random_perspective and box_candidates,
// normalised labels, HSV, flips) on real photographs.
import Foundation
import XCTest
import YOLO
import YOLOData
import YOLOTraining

/// Plays back recorded draws: Python's `random()` values k·2⁻⁵³ and `_randbelow(n)` results, as the
/// 64-bit words that make our `nextDouble()` and `Int.random(in:)` return exactly them.
struct ReplayGenerator: RandomNumberGenerator {
    private var words: [UInt64]
    private(set) var position = 0
    private(set) var overrun = false

    init(draws: [SampleReplayTests.Fixture.Draw]) {
        words = draws.map { d in
            if d.kind == "random" { return UInt64(d.values[0]) << 11 }
            // Int.random(in: 0...n−1) is the high word of next()·n (Lemire); aim at the middle of
            // the words that give v, where the low word is far from the rejection zone.
            let (v, n) = (UInt64(d.values[0]), UInt64(d.values[1]))
            return n.dividingFullWidth((high: v, low: 1 << 63)).quotient
        }
    }

    var remaining: Int { words.count - position }

    mutating func next() -> UInt64 {
        guard position < words.count else { overrun = true; return 0 }
        defer { position += 1 }
        return words[position]
    }
}

final class SampleReplayTests: XCTestCase {
    struct Fixture: Decodable {
        struct Item: Decodable {
            let index: Int, file: String, image: String
            let draws: [Draw]
            let labels: [[Double]]
        }
        /// ["random", k] or ["below", v, n].
        struct Draw: Decodable {
            let kind: String, values: [Int]
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                kind = try c.decode(String.self)
                var v: [Int] = []
                while !c.isAtEnd { v.append(try c.decode(Int.self)) }
                values = v
            }
        }
        let imageSize: Int
        let files: [String]
        let samples: [Item]
    }

    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/samples")
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func testSamplesEqualYOLOv5sForTheSameDraws() throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtures.appendingPathComponent("samples.json")))
        let index = try DatasetIndex.scan(images: [root.appendingPathComponent("datasets/raccoon/images/train")], nc: 1,
                                          useCache: false)
        // The draws pick mosaic partners by position in YOLOv5's sorted file list.
        XCTAssertEqual(index.items.map { URL(fileURLWithPath: $0.imagePath).lastPathComponent }, fixture.files)
        let hyp = AugmentationHyperparameters(try Hyperparameters.load("hyp.scratch-low"))
        var loader = try DataLoader(source: DatasetSource(index), imageSize: fixture.imageSize, batchSize: 16,
                                    augment: true, hyp: hyp, workers: 1, seed: 0, shuffle: true)
        for partial in [true, false] {
            loader.partialTiles = partial
            for item in fixture.samples {
                var g = ReplayGenerator(draws: item.draws)
                let sample = try loader.sample(index: item.index, using: &g)
                let what = "sample \(item.index) (\(item.file)), partial tiles \(partial)"
                XCTAssertFalse(g.overrun, "\(what): drew more than YOLOv5 did")
                XCTAssertEqual(g.remaining, 0, "\(what): drew fewer than YOLOv5 did")

                let expected = try ImageCodec.decode(contentsOf: fixtures.appendingPathComponent(item.image)).0
                XCTAssertEqual(sample.image.width, expected.width, what)
                XCTAssertEqual(sample.image.height, expected.height, what)
                let differing = zip(sample.image.pixels, expected.pixels).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "\(what): \(differing) of \(expected.pixels.count) bytes differ")

                XCTAssertEqual(sample.labels.count, item.labels.count, "\(what): label count")
                for (ours, theirs) in zip(sample.labels, item.labels) {
                    XCTAssertEqual(ours.count, theirs.count, what)
                    for (a, b) in zip(ours, theirs) {
                        // float32 on both sides, from float64 arithmetic in a different order.
                        XCTAssertEqual(Double(a), b, accuracy: 1e-6, "\(what): labels \(ours) vs \(theirs)")
                    }
                }
            }
        }
    }
}
