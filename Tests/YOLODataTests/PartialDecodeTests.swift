// Partial JPEG decoding (`ImageCodec.decodeJPEGPart`) and the loader's use of it for mosaic tiles:
// the pixels asked for equal the whole-image decode's for every bundled coco128 JPEG and for every
// chroma subsampling; files it cannot do exactly are declined; batches are byte-identical with it
// on and off.
import Foundation
import TensorCore
import XCTest
import YOLOData

/// JPEG files with fixed labels that can decode parts, counting how often they do.
final class JPEGFilesSource: SampleSource, @unchecked Sendable {
    let paths: [URL]
    let sizes: [(width: Int, height: Int)]
    private let lock = NSLock()
    private var parts = 0

    init(paths: [URL]) throws {
        self.paths = paths
        sizes = try paths.map { url in
            let info = try ImageCodec.inspect(data: Data(contentsOf: url), path: url.path)
            return (info.width, info.height)
        }
    }

    var count: Int { paths.count }
    var loadsImageParts: Bool { true }
    var partsDecoded: Int { lock.withLock { parts } }
    func loadImage(_ i: Int) throws -> Image { try ImageCodec.decode(contentsOf: paths[i]).0 }
    func labels(_ i: Int) -> [[Float]] { [[Float(i % 3), 0.4, 0.5, 0.5, 0.6], [1, 0.75, 0.25, 0.3, 0.3]] }
    func imageSize(_ i: Int) throws -> (width: Int, height: Int) { sizes[i] }
    func path(_ i: Int) -> String { paths[i].path }
    func loadImagePart(_ i: Int, columns: Range<Int>, rows: Range<Int>) throws -> (image: Image, column: Int)? {
        let part = ImageCodec.decodeJPEGPart(data: try Data(contentsOf: paths[i]), width: sizes[i].width,
                                             height: sizes[i].height, columns: columns, rows: rows)
        if part != nil { lock.withLock { parts += 1 } }
        return part
    }
}

final class PartialDecodeTests: XCTestCase {
    private var coco: [URL] {
        get throws {
            let dir = repositoryRoot.appendingPathComponent("datasets/coco128/images/train2017")
            return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "jpg" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
    }

    /// Counts the values of `columns` x `rows` where the part differs from the whole decode.
    private func assertPart(_ data: Data, whole: Image, columns: Range<Int>, rows: Range<Int>, _ name: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        guard let (part, column) = ImageCodec.decodeJPEGPart(data: data, width: whole.width, height: whole.height,
                                                             columns: columns, rows: rows) else {
            return XCTFail("\(name): part \(columns) x \(rows) declined", file: file, line: line)
        }
        XCTAssertEqual(part.height, rows.count, file: file, line: line)
        XCTAssertLessThanOrEqual(column, columns.lowerBound, file: file, line: line)
        XCTAssertGreaterThanOrEqual(column + part.width, columns.upperBound, file: file, line: line)
        guard part.height == rows.count, column <= columns.lowerBound, column + part.width >= columns.upperBound else { return }
        var mismatches = 0
        part.pixels.withUnsafeBufferPointer { p in
            whole.pixels.withUnsafeBufferPointer { w in
                for (k, y) in rows.enumerated() {
                    let pr = p.baseAddress! + (k * part.width - column) * 3, wr = w.baseAddress! + y * whole.width * 3
                    for i in (columns.lowerBound * 3)..<(columns.upperBound * 3) where pr[i] != wr[i] { mismatches += 1 }
                }
            }
        }
        XCTAssertEqual(mismatches, 0, "\(name): part \(columns) x \(rows) differs from the whole decode in \(mismatches) values",
                       file: file, line: line)
    }

    private func randomRange(_ n: Int, using g: inout SeededGenerator) -> Range<Int> {
        let a = Int.random(in: 0..<n, using: &g), b = Int.random(in: 0..<n, using: &g)
        return min(a, b)..<(max(a, b) + 1)
    }

    func testPartsOfEveryBundledCOCOImageMatchTheWholeDecode() throws {
        var g = SeededGenerator(seed: 11)
        let files = try coco
        XCTAssertEqual(files.count, 128)
        for url in files {
            let data = try Data(contentsOf: url)
            let whole = try ImageCodec.decode(data: data, path: url.path).0
            let (w, h) = (whole.width, whole.height)
            let name = url.lastPathComponent
            assertPart(data, whole: whole, columns: 0..<w, rows: 0..<h, name)
            assertPart(data, whole: whole, columns: (w - 1)..<w, rows: (h / 2)..<(h / 2 + 1), name)
            assertPart(data, whole: whole, columns: randomRange(w, using: &g), rows: randomRange(h, using: &g), name)
            assertPart(data, whole: whole, columns: randomRange(w, using: &g), rows: randomRange(h, using: &g), name)
        }
    }

    func testPartsMatchForEveryChromaSubsampling() throws {
        // Noise on a gradient, at a size that is no multiple of any iMCU, so crops fall everywhere.
        var g = SeededGenerator(seed: 5)
        let (w, h) = (203, 117)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: (i % (w * 3)) / 3 + Int.random(in: 0..<90, using: &g)) }
        let image = Image(width: w, height: h, pixels: pixels)
        for subsampling in ImageCodec.Subsampling.allCases {
            let data = try ImageCodec.encodeJPEG(image, quality: 90, subsampling: subsampling)
            let whole = try ImageCodec.decode(data: data, path: "\(subsampling)").0
            for _ in 0..<40 {
                assertPart(data, whole: whole, columns: randomRange(w, using: &g), rows: randomRange(h, using: &g),
                           "\(subsampling)")
            }
            assertPart(data, whole: whole, columns: 0..<w, rows: 0..<h, "\(subsampling)")
        }
    }

    func testFilesThatMustBeDecodedWholeAreDeclined() throws {
        let fixtures = repositoryRoot.appendingPathComponent("Tests/YOLODataTests/Fixtures/images")
        // EXIF orientation 6: the stored pixels are not the image's.
        let rotated = try Data(contentsOf: fixtures.appendingPathComponent("exif6.jpg"))
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: rotated, width: 40, height: 24, columns: 0..<4, rows: 0..<4))
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: rotated, width: 24, height: 40, columns: 0..<4, rows: 0..<4))
        let cmyk = try Data(contentsOf: fixtures.appendingPathComponent("cmyk.jpg"))
        let cmykSize = try ImageCodec.inspect(data: cmyk, path: "cmyk.jpg")
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: cmyk, width: cmykSize.width, height: cmykSize.height,
                                               columns: 0..<2, rows: 0..<2))
        // Progressive: left to the whole decode (crops and skips over several scans are not tested).
        let progressive = try Data(contentsOf: fixtures.appendingPathComponent("progressive.jpg"))
        XCTAssertEqual(try ImageCodec.decode(data: progressive, path: "progressive.jpg").0.width, 40)
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: progressive, width: 40, height: 24, columns: 0..<4, rows: 0..<4))
        let png = try Data(contentsOf: fixtures.appendingPathComponent("gray.png"))
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: png, width: 1, height: 1, columns: 0..<1, rows: 0..<1))

        let url = try coco[0]
        let data = try Data(contentsOf: url)
        let whole = try ImageCodec.decode(data: data, path: url.path).0
        let (w, h) = (whole.width, whole.height)
        // Another size than the file's (the dataset changed since it was scanned), regions outside.
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: data, width: w + 1, height: h, columns: 0..<4, rows: 0..<4))
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: data, width: w, height: h, columns: 0..<(w + 1), rows: 0..<4))
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: data, width: w, height: h, columns: 0..<4, rows: 4..<4))
        // Truncated: libjpeg warns once it runs out of data; the whole decode reports that.
        let truncated = data.prefix(data.count / 2)
        XCTAssertNil(ImageCodec.decodeJPEGPart(data: truncated, width: w, height: h, columns: 0..<w, rows: 0..<h))
        XCTAssertEqual(try ImageCodec.decode(data: truncated, path: "t.jpg").1.count, 1)
        // The top rows of the truncated file are still there, and come out exact.
        assertPart(truncated, whole: whole, columns: 0..<w, rows: 0..<8, "truncated top rows")
    }

    func testLoaderBatchesAreTheSameWithAndWithoutPartialTiles() throws {
        // coco128 pictures re-encoded with 160 px long sides (load_image keeps them as they are),
        // 120 and 200 px (load_image resizes them linearly: decoded and resized in part) and 320 px
        // (an exact 2x shrink for the 640 x 480 ones, an area average: decoded whole).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [URL] = []
        let sides = [160, 160, 160, 160, 160, 120, 200, 320]
        for (k, url) in try coco.prefix(sides.count).enumerated() {
            let image = try ImageCodec.decode(contentsOf: url).0
            let side = sides[k]
            let r = Double(side) / Double(max(image.width, image.height))
            let small = resize(image, width: Int((Double(image.width) * r).rounded(.up)),
                               height: Int((Double(image.height) * r).rounded(.up)))
            let path = dir.appendingPathComponent("\(k).jpg")
            try ImageCodec.encodeJPEG(small, quality: 90).write(to: path)
            paths.append(path)
        }
        let source = try JPEGFilesSource(paths: paths)
        var hyp = AugmentationHyperparameters()  // hyp.scratch-low's: mosaic 1, scale 0.5, translate 0.1
        hyp.mixup = 0.5                          // mixup's second mosaic too
        var whole = try DataLoader(source: source, imageSize: 160, batchSize: 4, augment: true, hyp: hyp, workers: 2,
                                   seed: 9, shuffle: true)
        whole.partialTiles = false
        var partial = whole
        partial.partialTiles = true
        for epoch in 0..<2 {
            let a = try batches(whole, epoch: epoch)
            XCTAssertEqual(source.partsDecoded, 0)
            let b = try batches(partial, epoch: epoch)
            XCTAssertGreaterThan(source.partsDecoded, 0, "no tile was decoded in part")
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x.images.scalars, y.images.scalars, "epoch \(epoch): pixels differ")
                XCTAssertEqual(x.targets, y.targets)
            }
            source.resetCount()
        }
    }

    func testLinearResizeOfAPartEqualsThatPartOfTheWholeResize() {
        var g = SeededGenerator(seed: 8)
        // Enlarging, shrinking by a non-integer factor, by 3 (linear, not area), and one axis only.
        for (sw, sh, w, h) in [(97, 61, 160, 101), (203, 117, 160, 93), (90, 60, 30, 20), (64, 40, 64, 77)] {
            let source = patternImage(width: sw, height: sh, seed: sw)
            let whole = resize(source, width: w, height: h)
            for _ in 0..<30 {
                let columns = randomRange(w, using: &g), rows = randomRange(h, using: &g)
                guard let needed = linearResizeSource(sourceWidth: sw, sourceHeight: sh, width: w, height: h,
                                                      columns: columns, rows: rows) else {
                    XCTFail("\(sw)x\(sh) -> \(w)x\(h) is a linear resize"); continue
                }
                // Exactly the source part named, cut out of the source.
                var cut: [UInt8] = []
                for y in needed.rows { cut += source.pixels[(y * sw + needed.columns.lowerBound) * 3..<(y * sw + needed.columns.upperBound) * 3] }
                let part = resizeLinearPart(Image(width: needed.columns.count, height: needed.rows.count, pixels: cut),
                                            origin: (needed.columns.lowerBound, needed.rows.lowerBound), sourceWidth: sw,
                                            sourceHeight: sh, width: w, height: h, columns: columns, rows: rows)
                var expected: [UInt8] = []
                for y in rows { expected += whole.pixels[(y * w + columns.lowerBound) * 3..<(y * w + columns.upperBound) * 3] }
                XCTAssertEqual(part.pixels, expected, "\(sw)x\(sh) -> \(w)x\(h), \(columns) x \(rows)")
            }
        }
        // An exact 2x shrink is an area average, not this path; nothing to resize is not either.
        XCTAssertNil(linearResizeSource(sourceWidth: 64, sourceHeight: 48, width: 32, height: 24, columns: 0..<4, rows: 0..<4))
        XCTAssertNil(linearResizeSource(sourceWidth: 64, sourceHeight: 48, width: 64, height: 48, columns: 0..<4, rows: 0..<4))
    }

    private func batches(_ loader: DataLoader, epoch: Int) throws -> [Batch] {
        let it = loader.epoch(epoch)
        var out: [Batch] = []
        while let b = try it.nextBatch() { out.append(b) }
        return out
    }
}

extension JPEGFilesSource {
    func resetCount() { lock.withLock { parts = 0 } }
}
