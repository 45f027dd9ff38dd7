// DataLoader: batches independent of the worker count, per-epoch shuffles, rect batch shapes,
// targets in range, quad batches, the RAM cache, and the throughput helper.
import Foundation
import TensorCore
import XCTest
import YOLOData

/// Images of assorted sizes drawn procedurally, each with two or three boxes.
struct SyntheticSource: SampleSource {
    var count: Int = 11
    func size(_ i: Int) -> (width: Int, height: Int) { (40 + (i * 13) % 50, 30 + (i * 29) % 60) }
    func loadImage(_ i: Int) throws -> Image { let s = size(i); return patternImage(width: s.width, height: s.height, seed: i) }
    func labels(_ i: Int) -> [[Float]] {
        (0..<(2 + i % 2)).map { k in [Float((i + k) % 5), 0.3 + 0.2 * Float(k), 0.5, 0.3, 0.25 + 0.1 * Float(k)] }
    }
    func imageSize(_ i: Int) throws -> (width: Int, height: Int) { size(i) }
    func path(_ i: Int) -> String { "synthetic/\(i).jpg" }
}

final class LoaderTests: XCTestCase {
    private func allBatches(_ loader: DataLoader, epoch: Int) throws -> [Batch] {
        let it = loader.epoch(epoch)
        var out: [Batch] = []
        while let b = try it.nextBatch() { out.append(b) }
        return out
    }

    private func assertIdentical(_ a: [Batch], _ b: [Batch], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.images.shape, y.images.shape, file: file, line: line)
            XCTAssertEqual(x.images.scalars, y.images.scalars, file: file, line: line)
            XCTAssertEqual(x.targets, y.targets, file: file, line: line)
            XCTAssertEqual(x.indices, y.indices, file: file, line: line)
        }
    }

    func testSameSeedSameBatchesForAnyWorkerCount() throws {
        var hyp = AugmentationHyperparameters()
        hyp.mixup = 0.5
        hyp.degrees = 5
        hyp.flipud = 0.5
        let make = { (workers: Int) in
            try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, augment: true, hyp: hyp,
                           workers: workers, seed: 42, shuffle: true)
        }
        let one = try make(1), four = try make(4)
        for epoch in 0..<2 {
            let a = try allBatches(one, epoch: epoch), b = try allBatches(four, epoch: epoch)
            XCTAssertEqual(a.count, 3)
            XCTAssertEqual(a.map { $0.images.shape }, [[4, 64, 64, 3], [4, 64, 64, 3], [3, 64, 64, 3]])
            assertIdentical(a, b)
        }
    }

    func testEpochsShuffleDifferently() throws {
        let loader = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, workers: 2, seed: 5, shuffle: true)
        XCTAssertNotEqual(loader.order(epoch: 0), loader.order(epoch: 1))
        XCTAssertEqual(loader.order(epoch: 3), loader.order(epoch: 3))
        XCTAssertEqual(loader.order(epoch: 0).sorted(), Array(0..<11))
        let other = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, workers: 2, seed: 6, shuffle: true)
        XCTAssertNotEqual(loader.order(epoch: 0), other.order(epoch: 0))
        let plain = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, workers: 2, seed: 5)
        XCTAssertEqual(plain.order(epoch: 4), Array(0..<11))
        let a = try allBatches(loader, epoch: 0), b = try allBatches(loader, epoch: 1)
        XCTAssertNotEqual(a.flatMap(\.indices), b.flatMap(\.indices))
    }

    func testTargetsAreNormalisedAndIndexed() throws {
        let loader = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, augment: true, workers: 3, seed: 1,
                                    shuffle: true)
        var rows = 0
        for batch in try allBatches(loader, epoch: 0) {
            for t in batch.targets {
                XCTAssertEqual(t.count, 6)
                XCTAssertTrue(Int(t[0]) < batch.indices.count)
                XCTAssertTrue(t[2...5].allSatisfy { $0 >= 0 && $0 <= 1 }, "\(t)")
                rows += 1
            }
            XCTAssertTrue(batch.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertEqual(batch.paths.first?.hasPrefix("synthetic/"), true)
        }
        XCTAssertGreaterThan(rows, 0)
    }

    func testValidationRectBatches() throws {
        let source = SyntheticSource()
        let loader = try DataLoader(source: source, imageSize: 64, batchSize: 4, rect: true, pad: 0.5, workers: 2)
        let sizes = (0..<source.count).map { source.size($0) }
        let (order, shapes) = rectBatchShapes(sizes: sizes, batchSize: 4, imageSize: 64, stride: 32, pad: 0.5)
        let batches = try allBatches(loader, epoch: 0)
        XCTAssertEqual(batches.flatMap(\.indices), order)
        for (b, batch) in batches.enumerated() {
            XCTAssertEqual(Array(batch.images.shape[1...2]), [shapes[b].height, shapes[b].width])
            XCTAssertTrue(batch.shapes.allSatisfy { $0 != nil })
        }
        // Letterbox record of the first image: (h0, w0), (h/h0, w/w0), pad.
        let first = try XCTUnwrap(batches[0].shapes[0])
        let (w0, h0) = sizes[order[0]]
        XCTAssertEqual(first.originalWidth, w0)
        XCTAssertEqual(first.originalHeight, h0)
    }

    func testQuadBatches() throws {
        let loader = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 8, augment: true, workers: 2, seed: 3,
                                    shuffle: true, quad: true)
        let batches = try allBatches(loader, epoch: 0)
        XCTAssertEqual(batches.count, 1)  // the last batch has 3 samples: dropped
        XCTAssertEqual(batches[0].images.shape, [2, 128, 128, 3])
        XCTAssertTrue(batches[0].targets.allSatisfy { $0[0] < 2 && $0[2...5].allSatisfy { $0 >= 0 && $0 <= 1 } })
    }

    func testCacheGivesSameBatches() throws {
        XCTAssertGreaterThan(try availableMemoryBytes(), 0)
        let plain = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, workers: 2)
        let cached = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, workers: 2, cacheImages: true)
        assertIdentical(try allBatches(plain, epoch: 0), try allBatches(cached, epoch: 0))
    }

    func testCacheRefusesWhenMemoryIsShort() throws {
        struct Huge: SampleSource {
            var count: Int { 1000 }
            func loadImage(_ i: Int) throws -> Image { XCTFail("must not decode"); return Image(width: 1, height: 1) }
            func labels(_ i: Int) -> [[Float]] { [] }
            func imageSize(_ i: Int) throws -> (width: Int, height: Int) { (100_000, 100_000) }
        }
        XCTAssertThrowsError(try DataLoader(source: Huge(), imageSize: 100_000, cacheImages: true)) { error in
            guard case DataLoaderError.insufficientMemoryForCache(let required, let available) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertGreaterThan(required, available)
            XCTAssertTrue("\(error)".contains("without --cache"))
        }
    }

    func testImageWeights() throws {
        let labels: [[[Float]]] = [[[0, 0, 0, 0, 0]], [[0, 0, 0, 0, 0]], [[1, 0, 0, 0, 0]]]
        let cw = classWeights(labels: labels, classCount: 3)
        XCTAssertEqual(cw[0], 0.5 / 2.5, accuracy: 1e-12)  // counts 2, 1, 0→1: inverse 0.5, 1, 1
        XCTAssertEqual(cw[1], 1 / 2.5, accuracy: 1e-12)
        let iw = imageWeights(labels: labels, classWeights: cw)
        XCTAssertEqual(iw[2], 0.4, accuracy: 1e-12)
        var g = SeededGenerator(seed: 9)
        let picks = weightedChoices(weights: [0, 1, 3], count: 4000, using: &g)
        XCTAssertFalse(picks.contains(0))
        XCTAssertEqual(Double(picks.filter { $0 == 2 }.count) / 4000, 0.75, accuracy: 0.03)
        var loader = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, workers: 2)
        loader.imageWeights = [Double](repeating: 0, count: 10) + [1]
        XCTAssertEqual(loader.order(epoch: 0), [Int](repeating: 10, count: 11))
    }

    func testThroughputIsPositive() throws {
        let loader = try DataLoader(source: SyntheticSource(), imageSize: 64, batchSize: 4, augment: true, workers: 2)
        XCTAssertGreaterThan(try measureLoaderThroughput(loader, batches: 2), 0)
    }
}

/// Loader throughput at YOLOv5's training size on 1080x810 procedural images (mosaic, HSV, flips).
