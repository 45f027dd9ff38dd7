// Decoding against what cv2.imread gives (Fixtures/decode.json, written by
// Tools/fixtures/make_data_fixtures.py), JPEG encode round trips, and refusals.
import Foundation
import XCTest
@testable import YOLOData

/// The repository root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func fnv1a64(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// A smooth RGB test pattern.
func patternImage(width: Int, height: Int) -> Image {
    var image = Image(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            image[x, y, 0] = UInt8(x * 255 / max(width - 1, 1))
            image[x, y, 1] = UInt8(y * 255 / max(height - 1, 1))
            image[x, y, 2] = UInt8((x + y) * 3 % 256)
        }
    }
    return image
}

final class ImageCodecTests: XCTestCase {
    struct Fixture: Decodable {
        struct Entry: Decodable {
            var path: String, width: Int, height: Int, fnv1a64: String
            var rgb: [Int]?
            var samples: [[Int]]?
        }
        var opencv: String
        var images: [Entry]
    }

    func loadFixture() throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "decode", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Every fixture picture decodes to OpenCV's size and pixels: exactly, except CMYK (±2, the
    /// brief's tolerance for colour conversion) and 16-bit PNG (±1, rounding of 16 → 8 bits).
    func testDecodeMatchesOpenCV() throws {
        let fixture = try loadFixture()
        XCTAssertEqual(fixture.images.count, 12)
        for entry in fixture.images {
            let url = repositoryRoot.appendingPathComponent(entry.path)
            let (image, warnings) = try ImageCodec.decode(contentsOf: url)
            XCTAssertEqual(warnings, [], entry.path)
            XCTAssertEqual(image.width, entry.width, entry.path)
            XCTAssertEqual(image.height, entry.height, entry.path)
            guard image.width == entry.width, image.height == entry.height else { continue }
            if let rgb = entry.rgb {
                let tolerance = entry.path.hasSuffix("cmyk.jpg") ? 2 : entry.path.hasSuffix("rgb16.png") ? 1 : 0
                let worst = zip(image.pixels, rgb).map { abs(Int($0) - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, tolerance, "\(entry.path): max |diff| \(worst)")
            } else {
                for s in entry.samples ?? [] {
                    let got = (0..<3).map { Int(image[s[0], s[1], $0]) }
                    XCTAssertEqual(got, Array(s[2...]), "\(entry.path) pixel (\(s[0]), \(s[1]))")
                }
                XCTAssertEqual(fnv1a64(image.pixels), entry.fnv1a64, "\(entry.path): not byte-identical to cv2.imread")
            }
        }
    }

    func testInspectGivesOrientedSizeWithoutDecoding() throws {
        let url = repositoryRoot.appendingPathComponent("Tests/YOLODataTests/Fixtures/images/exif6.jpg")
        let info = try ImageCodec.inspect(data: Data(contentsOf: url), path: url.path)
        XCTAssertEqual(info.orientation, 6)
        XCTAssertEqual([info.width, info.height], [24, 40])
        XCTAssertTrue(info.endsWithEOI)
        let bus = repositoryRoot.appendingPathComponent("datasets/images/bus.jpg")
        let busInfo = try ImageCodec.inspect(data: Data(contentsOf: bus), path: bus.path)
        XCTAssertEqual([busInfo.width, busInfo.height, busInfo.orientation], [810, 1080, 1])
    }

    func testBundledDatasetImagesDecode() throws {
        for split in ["train", "val"] {
            let folder = repositoryRoot.appendingPathComponent("datasets/coco8/images/\(split)")
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".jpg") {
                let url = folder.appendingPathComponent(name)
                let data = try Data(contentsOf: url)
                let (image, warnings) = try ImageCodec.decode(data: data, path: url.path)
                let info = try ImageCodec.inspect(data: data, path: url.path)
                XCTAssertEqual(warnings, [])
                XCTAssertEqual([image.width, image.height], [info.width, info.height], name)
                XCTAssertTrue((218...640).contains(image.width) && (218...640).contains(image.height), name)
            }
        }
        let (zidane, _) = try ImageCodec.decode(contentsOf: repositoryRoot.appendingPathComponent("datasets/images/zidane.jpg"))
        XCTAssertEqual([zidane.width, zidane.height], [1280, 720])
    }

    func testJPEGRoundTrip() throws {
        let original = patternImage(width: 97, height: 61)
        var previousError = Double.infinity
        for quality in [75, 95, 100] {
            let data = try ImageCodec.encodeJPEG(original, quality: quality)
            XCTAssertEqual(Array(data.prefix(3)), [0xFF, 0xD8, 0xFF])
            let (decoded, warnings) = try ImageCodec.decode(data: data, path: "roundtrip.jpg")
            XCTAssertEqual(warnings, [])
            XCTAssertEqual([decoded.width, decoded.height], [97, 61])
            let meanError = zip(decoded.pixels, original.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) }
                / Double(original.pixels.count)
            XCTAssertLessThan(meanError, 4, "quality \(quality)")
            XCTAssertLessThanOrEqual(meanError, previousError + 1e-9, "quality \(quality)")
            previousError = meanError
        }
        XCTAssertEqual(try ImageCodec.encodeJPEG(original), try ImageCodec.encodeJPEG(original, quality: 95))
    }

    func testTruncatedJPEGDecodesWithWarning() throws {
        let data = try ImageCodec.encodeJPEG(patternImage(width: 64, height: 48))
        let cut = data.prefix(data.count * 6 / 10)
        let (image, warnings) = try ImageCodec.decode(data: Data(cut), path: "cut.jpg")
        XCTAssertEqual([image.width, image.height], [64, 48])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("cut.jpg"), warnings[0])
    }

    func testRefusals() throws {
        XCTAssertThrowsError(try ImageCodec.decode(data: Data(), path: "zero.jpg")) {
            XCTAssertEqual($0 as? ImageCodecError, .empty(path: "zero.jpg"))
        }
        XCTAssertThrowsError(try ImageCodec.decode(data: Data("hello".utf8), path: "text.jpg")) {
            XCTAssertEqual($0 as? ImageCodecError, .unsupportedFormat(path: "text.jpg", detected: "unknown"))
        }
        XCTAssertThrowsError(try ImageCodec.decode(data: Data([0x42, 0x4D, 0, 0, 0, 0]), path: "x.bmp")) {
            XCTAssertTrue("\($0)".contains("x.bmp") && "\($0)".contains("bmp"), "\($0)")
        }
        // A PNG whose IHDR CRC is wrong.
        let png = repositoryRoot.appendingPathComponent("Tests/YOLODataTests/Fixtures/images/gray.png")
        var bytes = try [UInt8](Data(contentsOf: png))
        bytes[29] ^= 0xFF
        XCTAssertThrowsError(try ImageCodec.decode(data: Data(bytes), path: "crc.png")) {
            guard case .corrupt(path: "crc.png", reason: let reason)? = $0 as? ImageCodecError else {
                return XCTFail("\($0)")
            }
            XCTAssertTrue(reason.lowercased().contains("crc"), reason)
        }
    }

    func testEXIFOrientationTransforms() {
        // A 3x2 image with distinct pixels; orientation 6 (90° clockwise) gives 2x3.
        let px: [UInt8] = (0..<18).map(UInt8.init)
        let (rotated, w, h) = EXIF.apply(orientation: 6, pixels: px, width: 3, height: 2)
        XCTAssertEqual([w, h], [2, 3])
        // Top-left of the result is the bottom-left source pixel (x 0, y 1 → bytes 9...11).
        XCTAssertEqual(Array(rotated[0..<3]), [9, 10, 11])
        for o in 1...8 {
            let (once, w1, h1) = EXIF.apply(orientation: o, pixels: px, width: 3, height: 2)
            XCTAssertEqual(w1 * h1, 6)
            XCTAssertEqual(once.sorted(), px, "orientation \(o) is a permutation")
        }
    }
}
