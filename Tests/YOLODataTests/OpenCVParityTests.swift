// Resize, letterbox, warps and HSV against OpenCV / YOLOv5 outputs in Fixtures/augment.json
// (Tools/fixtures/make_augment_fixtures.py). Images are raw RGB in base64, so no decoder is needed.
// Each test prints its largest per-channel difference.
import Foundation
import XCTest
import YOLOData

struct AugmentFixture: Decodable {
    struct RawImage: Decodable {
        let width: Int, height: Int, rgb: String
        var image: Image { Image(width: width, height: height, pixels: [UInt8](Data(base64Encoded: rgb)!)) }
    }
    struct ResizeCase: Decodable { let interpolation: String; let output: RawImage }
    struct LetterboxCase: Decodable {
        let height: Int, width: Int, auto: Bool, scaleup: Bool
        let ratio: [Double], pad: [Double]
        let output: RawImage
    }
    struct WarpCase: Decodable { let matrix: [Double]; let width: Int, height: Int; let output: RawImage }
    struct HSVCase: Decodable { let source: RawImage, colours: RawImage }
    struct GainCase: Decodable { let gains: [Double]; let source: RawImage, colours: RawImage }
    struct MatrixCase: Decodable {
        let imageWidth: Int, imageHeight: Int, borderX: Int, borderY: Int
        let draws: [String: Double]
        let matrix: [Double]
    }
    struct HSVToRGBCase: Decodable { let hsv: RawImage, rgb: RawImage }
    let source: RawImage, colours: RawImage
    let resize: [ResizeCase]
    let large: [ResizeCase]
    let hsvToRGB: HSVToRGBCase
    let letterbox: [LetterboxCase]
    let warpAffine: WarpCase, warpPerspective: WarpCase
    let hsv: HSVCase
    let augmentHSV: [GainCase]
    let perspectiveMatrix: MatrixCase

    static func load() throws -> AugmentFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "augment", withExtension: "json", subdirectory: "Fixtures"),
                                "missing Fixtures/augment.json: run Tools/fixtures/make_augment_fixtures.py")
        return try JSONDecoder().decode(AugmentFixture.self, from: Data(contentsOf: url))
    }
}

/// Largest absolute per-channel difference (sizes must match).
func maxDifference(_ a: Image, _ b: Image, file: StaticString = #filePath, line: UInt = #line) -> Int {
    XCTAssertEqual(a.width, b.width, "width", file: file, line: line)
    XCTAssertEqual(a.height, b.height, "height", file: file, line: line)
    guard a.pixels.count == b.pixels.count else { return Int.max }
    return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

final class OpenCVParityTests: XCTestCase {
    func testResizeMatchesOpenCV() throws {
        let fx = try AugmentFixture.load()
        let source = fx.source.image
        for c in fx.resize {
            let expected = c.output.image
            let interpolation: Interpolation = c.interpolation == "area" ? .area : .linear
            let ours = resize(source, width: expected.width, height: expected.height, interpolation: interpolation)
            let d = maxDifference(ours, expected)
            print("resize \(c.interpolation) 64x48 -> \(expected.width)x\(expected.height): max diff \(d)")
            XCTAssertLessThanOrEqual(d, 1, "\(c.interpolation) \(expected.width)x\(expected.height)")
        }
    }

    /// The 400x300 procedural image the fixture script builds with the same formula.
    private func largeSource() -> Image {
        var pixels = [UInt8](repeating: 0, count: 400 * 300 * 3)
        for y in 0..<300 {
            for x in 0..<400 {
                for c in 0..<3 { pixels[(y * 400 + x) * 3 + c] = UInt8((x * 3 + y * 5 + c * 71 + ((x * y) % 7) * 13) % 256) }
            }
        }
        return Image(width: 400, height: 300, pixels: pixels)
    }

    func testLargeResizeMatchesOpenCV() throws {
        let fx = try AugmentFixture.load()
        let source = largeSource()
        for c in fx.large {
            let expected = c.output.image
            let ours = resize(source, width: expected.width, height: expected.height,
                              interpolation: c.interpolation == "area" ? .area : .linear)
            let d = maxDifference(ours, expected)
            print("resize \(c.interpolation) 400x300 -> \(expected.width)x\(expected.height): max diff \(d)")
            XCTAssertLessThanOrEqual(d, 1)
        }
    }

    func testHSVToRGBMatchesOpenCVIncludingScalarTail() throws {
        let c = try AugmentFixture.load().hsvToRGB
        let d = maxDifference(hsvToRGB(c.hsv.image), c.rgb.image)
        print("HSV->RGB 70 wide: max diff \(d)")
        XCTAssertLessThanOrEqual(d, 1)
    }

    func testLetterboxMatchesYOLOv5() throws {
        let fx = try AugmentFixture.load()
        for c in fx.letterbox {
            let ours = letterbox(fx.source.image, height: c.height, width: c.width, auto: c.auto, scaleup: c.scaleup)
            XCTAssertEqual(ours.ratio.x, c.ratio[0], accuracy: 1e-12)
            XCTAssertEqual(ours.ratio.y, c.ratio[1], accuracy: 1e-12)
            XCTAssertEqual(ours.padding.x, c.pad[0])
            XCTAssertEqual(ours.padding.y, c.pad[1])
            let d = maxDifference(ours.image, c.output.image)
            print("letterbox \(c.height)x\(c.width) auto=\(c.auto) scaleup=\(c.scaleup): max diff \(d)")
            XCTAssertLessThanOrEqual(d, 1)
        }
    }

    func testWarpAffineMatchesOpenCV() throws {
        let fx = try AugmentFixture.load()
        let c = fx.warpAffine
        let m = Matrix3(c.matrix + [0, 0, 1])
        let ours = warpAffine(fx.source.image, matrix: m, width: c.width, height: c.height)
        let d = maxDifference(ours, c.output.image)
        print("warpAffine: max diff \(d)")
        XCTAssertLessThanOrEqual(d, 1)
    }

    func testWarpPerspectiveMatchesOpenCV() throws {
        let fx = try AugmentFixture.load()
        let c = fx.warpPerspective
        let ours = warpPerspective(fx.source.image, matrix: Matrix3(c.matrix), width: c.width, height: c.height)
        let d = maxDifference(ours, c.output.image)
        print("warpPerspective: max diff \(d)")
        XCTAssertLessThanOrEqual(d, 1)
    }

    func testRGBToHSVMatchesOpenCV() throws {
        let fx = try AugmentFixture.load()
        for (input, expected) in [(fx.source, fx.hsv.source), (fx.colours, fx.hsv.colours)] {
            let d = maxDifference(rgbToHSV(input.image), expected.image)
            print("RGB->HSV: max diff \(d)")
            XCTAssertLessThanOrEqual(d, 1)
        }
    }

    func testAugmentHSVMatchesYOLOv5() throws {
        let fx = try AugmentFixture.load()
        for c in fx.augmentHSV {
            for (input, expected) in [(fx.source, c.source), (fx.colours, c.colours)] {
                let ours = applyHSVGains(input.image, hue: c.gains[0], saturation: c.gains[1], value: c.gains[2])
                let d = maxDifference(ours, expected.image)
                print("augment_hsv gains \(c.gains): max diff \(d)")
                XCTAssertLessThanOrEqual(d, 1)
            }
        }
    }

    func testPerspectiveMatrixMatchesYOLOv5() throws {
        let c = try AugmentFixture.load().perspectiveMatrix
        let d = c.draws
        let draws = PerspectiveDraws(perspectiveX: d["px"]!, perspectiveY: d["py"]!, angle: d["angle"]!, scale: d["scale"]!,
                                     shearX: d["shearX"]!, shearY: d["shearY"]!, translateX: d["translateX"]!,
                                     translateY: d["translateY"]!)
        let m = draws.matrix(inputWidth: c.imageWidth, inputHeight: c.imageHeight,
                             outputWidth: c.imageWidth + 2 * c.borderX, outputHeight: c.imageHeight + 2 * c.borderY)
        for (a, b) in zip(m.m, c.matrix) { XCTAssertEqual(a, b, accuracy: 1e-12 * max(1, abs(b))) }
    }
}
