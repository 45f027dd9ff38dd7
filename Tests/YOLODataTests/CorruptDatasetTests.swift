// THE corrupted-dataset test: every kind of broken image and label in one folder; the scan must
// name each problem file, keep exactly the usable images, count as YOLOv5 counts, and cache.
import Foundation
import TensorCore
import XCTest
@testable import YOLOData

final class CorruptDatasetTests: XCTestCase {
    let good = "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n"

    /// Builds images/train + labels/train in `dir`; returns the image folder.
    func makeDataset(in dir: URL) throws -> URL {
        let images = dir.appendingPathComponent("images/train")
        let labels = dir.appendingPathComponent("labels/train")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: labels, withIntermediateDirectories: true)
        let fixtures = repositoryRoot.appendingPathComponent("Tests/YOLODataTests/Fixtures/images")
        let jpeg = try ImageCodec.encodeJPEG(patternImage(width: 64, height: 48))
        func image(_ name: String, _ data: Data) throws { try data.write(to: images.appendingPathComponent(name)) }
        func label(_ name: String, _ text: String) throws { try write(text, to: labels.appendingPathComponent(name)) }
        var badCRC = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("gray.png")))
        badCRC[29] ^= 0xFF

        try image("a_good.jpg", jpeg); try label("a_good.txt", good)
        try image("b_trunc.jpg", jpeg.prefix(jpeg.count * 6 / 10)); try label("b_trunc.txt", good)
        try image("c_zero.jpg", Data()); try label("c_zero.txt", good)
        try image("d_badcrc.png", Data(badCRC)); try label("d_badcrc.txt", good)
        try image("e_text.jpg", Data("not a picture\n".utf8))
        try image("f_cols.jpg", jpeg); try label("f_cols.txt", "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n")
        try image("g_nan.jpg", jpeg); try label("g_nan.txt", "0 nan 0.5 0.1 0.1\n")
        try image("h_neg.jpg", jpeg); try label("h_neg.txt", "0 0.5 0.5 0.1 0.1\n0 -0.1 0.5 0.1 0.1\n")
        try image("i_big.jpg", jpeg); try label("i_big.txt", "0 0.5 1.2 0.1 0.1\n")
        try image("j_class.jpg", jpeg); try label("j_class.txt", "0 0.5 0.5 0.1 0.1\n80 0.5 0.5 0.1 0.1\n")
        try image("k_dup.jpg", jpeg); try label("k_dup.txt", "1 0.5 0.5 0.1 0.1\n0 0.2 0.2 0.1 0.1\n1 0.5 0.5 0.1 0.1\n")
        try image("l_nolabel.jpg", jpeg)
        try image("m_tiny.jpg", try ImageCodec.encodeJPEG(patternImage(width: 5, height: 5))); try label("m_tiny.txt", good)
        try image("n_gray.jpg", Data(contentsOf: repositoryRoot.appendingPathComponent(
            "datasets/coco128/images/train2017/000000000086.jpg"))); try label("n_gray.txt", good)
        try image("o_cmyk.jpg", Data(contentsOf: fixtures.appendingPathComponent("cmyk.jpg"))); try label("o_cmyk.txt", good)
        try image("p_exif.jpg", Data(contentsOf: fixtures.appendingPathComponent("exif6.jpg"))); try label("p_exif.txt", good)
        try image("q_empty.jpg", jpeg); try label("q_empty.txt", "\n")
        try image("r_poly.jpg", jpeg); try label("r_poly.txt", "2 0.1 0.2 0.5 0.2 0.3 0.6\n")
        try image("s_palette.png", Data(contentsOf: fixtures.appendingPathComponent("palette.png"))); try label("s_palette.txt", good)
        try image(".hidden.jpg", jpeg)
        try image("readme.md", Data("ignored".utf8))
        return images
    }

    let corruptNames = ["c_zero.jpg", "d_badcrc.png", "e_text.jpg", "f_cols.jpg", "g_nan.jpg", "h_neg.jpg",
                        "i_big.jpg", "j_class.jpg", "m_tiny.jpg"]
    let keptNames = ["a_good.jpg", "b_trunc.jpg", "k_dup.jpg", "l_nolabel.jpg", "n_gray.jpg", "o_cmyk.jpg",
                     "p_exif.jpg", "q_empty.jpg", "r_poly.jpg", "s_palette.png"]

    func testCorruptedDatasetScan() throws {
        let dir = try temporaryFolder(self)
        let images = try makeDataset(in: dir)
        let index = try DatasetIndex.scan(images: [images], nc: 80)

        XCTAssertEqual(index.items.map { URL(fileURLWithPath: $0.imagePath).lastPathComponent }, keptNames)
        XCTAssertEqual(index.summary, "14 found, 1 missing, 1 empty, 9 corrupt")
        XCTAssertEqual(index.warnings.count, 11, index.warnings.joined(separator: "\n"))
        for name in corruptNames + ["b_trunc.jpg", "k_dup.jpg"] {
            XCTAssertEqual(index.warnings.filter { $0.contains("/\(name)") }.count, 1, "one warning names \(name)")
        }
        func warning(_ name: String) -> String { index.warnings.first { $0.contains("/\(name)") } ?? "" }
        XCTAssertTrue(warning("c_zero.jpg").contains("empty file"))
        XCTAssertTrue(warning("d_badcrc.png").lowercased().contains("crc"), warning("d_badcrc.png"))
        XCTAssertTrue(warning("e_text.jpg").contains("unsupported image format"))
        XCTAssertTrue(warning("f_cols.jpg").contains("f_cols.txt:2: labels require 5 columns (class cx cy w h), 4 columns detected"), warning("f_cols.jpg"))
        XCTAssertTrue(warning("g_nan.jpg").contains("g_nan.txt:1: non-finite"))
        XCTAssertTrue(warning("h_neg.jpg").contains("h_neg.txt:2: negative"))
        XCTAssertTrue(warning("i_big.jpg").contains("i_big.txt:1: non-normalized"))
        XCTAssertTrue(warning("j_class.jpg").contains("j_class.txt:2: class 80 is not an integer in 0...79"), warning("j_class.jpg"))
        XCTAssertTrue(warning("k_dup.jpg").contains("1 duplicate labels removed"))
        XCTAssertTrue(warning("m_tiny.jpg").contains("5x5 <10 pixels"))
        XCTAssertTrue(warning("b_trunc.jpg").contains("Premature end of JPEG file"), warning("b_trunc.jpg"))

        let byName = Dictionary(uniqueKeysWithValues: index.items.map { (URL(fileURLWithPath: $0.imagePath).lastPathComponent, $0) })
        XCTAssertEqual(byName["a_good.jpg"]?.labels, [[0, 0.5, 0.5, 0.2, 0.2], [1, 0.3, 0.3, 0.1, 0.1]])
        XCTAssertEqual(byName["k_dup.jpg"]?.labels, [[0, 0.2, 0.2, 0.1, 0.1], [1, 0.5, 0.5, 0.1, 0.1]])
        XCTAssertEqual(byName["l_nolabel.jpg"]?.labels, [])
        XCTAssertEqual(byName["q_empty.jpg"]?.labels, [])
        XCTAssertEqual(byName["r_poly.jpg"]?.segments, [[0.1, 0.2, 0.5, 0.2, 0.3, 0.6]])
        XCTAssertEqual(byName["r_poly.jpg"]?.labels.first?.count, 5)
        XCTAssertEqual(byName["n_gray.jpg"].map { [$0.width, $0.height] }, [512, 640])
        XCTAssertEqual(byName["o_cmyk.jpg"].map { [$0.width, $0.height] }, [32, 20])
        XCTAssertEqual(byName["p_exif.jpg"].map { [$0.width, $0.height] }, [24, 40], "EXIF 6 swaps the sides")
        XCTAssertEqual(byName["b_trunc.jpg"].map { [$0.width, $0.height] }, [64, 48])
        // Every kept image really decodes, at the size the index recorded.
        for item in index.items {
            let (image, _) = try ImageCodec.decode(contentsOf: URL(fileURLWithPath: item.imagePath))
            XCTAssertEqual([image.width, image.height], [item.width, item.height], item.imagePath)
        }
    }

    func testCacheWrittenReusedAndRebuilt() throws {
        let dir = try temporaryFolder(self)
        let images = try makeDataset(in: dir)
        let first = try DatasetIndex.scan(images: [images], nc: 80)
        let cacheURL = dir.appendingPathComponent("labels/train.cache")
        XCTAssertEqual(first.cacheURL?.standardizedFileURL, cacheURL.standardizedFileURL)
        XCTAssertEqual(first.cacheOutcome, .written)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cacheURL.path))

        let second = try DatasetIndex.scan(images: [images], nc: 80)
        XCTAssertEqual(second.cacheOutcome, .reused)
        XCTAssertEqual(second.items, first.items)
        XCTAssertEqual(second.warnings, first.warnings, "cached warnings are shown again, as upstream")
        XCTAssertEqual(second.summary, first.summary)

        // A fixed label file changes the fingerprint: rebuilt, and the image is now kept.
        try write("0 0.5 0.5 0.1 0.1\n", to: dir.appendingPathComponent("labels/train/i_big.txt"))
        let third = try DatasetIndex.scan(images: [images], nc: 80)
        XCTAssertEqual(third.cacheOutcome, .written)
        XCTAssertEqual(third.items.count, first.items.count + 1)
        XCTAssertEqual(third.summary, "14 found, 1 missing, 1 empty, 8 corrupt")
        // A different nc is a different cache too.
        XCTAssertEqual(try DatasetIndex.scan(images: [images], nc: 81).cacheOutcome, .written)
        // A damaged cache file is ignored and rebuilt.
        try Data("garbage".utf8).write(to: cacheURL)
        XCTAssertEqual(try DatasetIndex.scan(images: [images], nc: 81).cacheOutcome, .written)
    }

    func testUnwritableCacheFolderWarnsAndContinues() throws {
        let dir = try temporaryFolder(self)
        let images = try makeDataset(in: dir)
        // Root ignores permissions, so use a "folder" that is a regular file.
        let notAFolder = dir.appendingPathComponent("plainfile")
        try Data("x".utf8).write(to: notAFolder)
        let index = try DatasetIndex.scan(images: [images], nc: 80, cacheDirectory: notAFolder)
        guard case .notWritten = index.cacheOutcome else { return XCTFail("\(index.cacheOutcome)") }
        XCTAssertEqual(index.items.count, keptNames.count)
        XCTAssertTrue(index.warnings.last?.contains("cache not written") ?? false)
        // The same through an injected writer.
        struct ReadOnly: Error {}
        let injected = try DatasetIndex.scan(images: [images], nc: 80, cacheWriter: { _, _ in throw ReadOnly() })
        guard case .notWritten = injected.cacheOutcome else { return XCTFail("\(injected.cacheOutcome)") }
        XCTAssertEqual(injected.items.count, keptNames.count)
    }

    func testNoLabelsNamesTheDerivedLabelPath() throws {
        let dir = try temporaryFolder(self)
        let images = dir.appendingPathComponent("data/images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try ImageCodec.encodeJPEG(patternImage(width: 32, height: 32)).write(to: images.appendingPathComponent("x.jpg"))
        let root = dir.standardizedFileURL.path
        XCTAssertThrowsError(try DatasetIndex.scan(images: [images], nc: 1)) {
            XCTAssertEqual($0 as? DatasetError, .noLabels(firstImage: "\(root)/data/images/x.jpg",
                                                         expectedLabel: "\(root)/data/labels/x.txt"))
            XCTAssertTrue("\($0)".contains("\(root)/data/labels/x.txt"))
        }
        let unlabeled = try DatasetIndex.scan(images: [images], nc: 1, useCache: false, requireLabels: false)
        XCTAssertEqual(unlabeled.summary, "0 found, 1 missing, 0 empty, 0 corrupt")
    }

    /// The bundled coco128: 128 images, 2 backgrounds, 929 boxes (the count YOLOv5 reports).
    func testBundledCoco128Scan() throws {
        let config = try DatasetConfig.load(repositoryRoot.appendingPathComponent("datasets/coco128/coco128.yaml"))
        let cacheDir = try temporaryFolder(self)
        let index = try DatasetIndex.scan(images: config.train, nc: config.nc, cacheDirectory: cacheDir)
        XCTAssertEqual(index.summary, "126 found, 2 missing, 0 empty, 0 corrupt")
        XCTAssertEqual(index.items.count, 128)
        XCTAssertEqual(index.items.reduce(0) { $0 + $1.labels.count }, 929)
        XCTAssertEqual(index.warnings, [])
        XCTAssertEqual(index.cacheURL?.lastPathComponent, "train2017.cache")
    }

    /// The scanned corrupted dataset through one augmenting training epoch (mosaic, perspective,
    /// HSV, flips; 2 workers): every usable image (truncated JPEG, grey, CMYK, EXIF-rotated,
    /// palette PNG, background, duplicate-label) loads and every batch is well formed.
    func testCorruptedDatasetGoesThroughOneAugmentedEpoch() throws {
        struct IndexSource: SampleSource {
            let items: [LabeledImage]
            var count: Int { items.count }
            func loadImage(_ i: Int) throws -> Image {
                try ImageCodec.decode(contentsOf: URL(fileURLWithPath: items[i].imagePath)).0
            }
            func labels(_ i: Int) -> [[Float]] { items[i].labels }
            func imageSize(_ i: Int) throws -> (width: Int, height: Int) { (items[i].width, items[i].height) }
            func path(_ i: Int) -> String { items[i].imagePath }
        }
        let dir = try temporaryFolder(self)
        let index = try DatasetIndex.scan(images: [try makeDataset(in: dir)], nc: 80)
        XCTAssertEqual(index.items.count, keptNames.count)
        let loader = try DataLoader(source: IndexSource(items: index.items), imageSize: 64, batchSize: 4, augment: true,
                                    hyp: AugmentationHyperparameters(), workers: 2, seed: 3, shuffle: true)
        let iterator = loader.epoch(0)
        var seen: [Int] = []
        while let batch = try iterator.nextBatch() {
            XCTAssertEqual(batch.images.shape.dropFirst(), [64, 64, 3])
            XCTAssertEqual(batch.indices.count, batch.images.shape[0])
            for t in batch.targets {
                XCTAssertEqual(t.count, 6)
                XCTAssertTrue(t[0] >= 0 && Int(t[0]) < batch.indices.count)
                XCTAssertTrue(t[2...].allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(t)")
            }
            seen += batch.indices
        }
        XCTAssertEqual(seen.sorted(), Array(0..<keptNames.count))
    }

}
