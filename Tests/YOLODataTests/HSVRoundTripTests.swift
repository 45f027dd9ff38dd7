// The SIMD HSV round trip (HSV+RoundTrip.swift, HSV+SIMD.swift) against the scalar code it
// replaced: byte-identical on odd widths (rounding tails), flat runs (the repeated-block copy),
// any LUTs (hue wrap-around, saturation and value clipping), and its lane kernels exhaustively.
import XCTest
@testable import YOLOData

final class HSVRoundTripTests: XCTestCase {
    typealias SplitMix = FastPathParityTests.SplitMix

    /// Noise with flat rectangles: mosaic grey 114, black, white and a random colour, some wider
    /// than a block and across the 32-pixel truncation boundary.
    func mosaicLikeImage(width: Int, height: Int, using g: inout SplitMix) -> Image {
        // Random bytes, an eighth of the pixels grey and an eighth saturated (as FastPathParityTests).
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            let r = g.next(), (a, b, c) = (UInt8(r >> 8 & 255), UInt8(r >> 16 & 255), UInt8(r >> 24 & 255))
            switch r % 8 {
            case 0: (pixels[i], pixels[i + 1], pixels[i + 2]) = (a, a, a)
            case 1: (pixels[i], pixels[i + 1], pixels[i + 2]) = (255, 0, b)
            default: (pixels[i], pixels[i + 1], pixels[i + 2]) = (a, b, c)
            }
        }
        var image = Image(width: width, height: height, pixels: pixels)
        let colours: [(UInt8, UInt8, UInt8)] = [(114, 114, 114), (0, 0, 0), (255, 255, 255),
                                                (UInt8(g.next() & 255), UInt8(g.next() & 255), UInt8(g.next() & 255))]
        for c in colours where width > 0 && height > 0 {
            let x0 = Int(g.next() % UInt64(width)), y0 = Int(g.next() % UInt64(height))
            let x1 = min(width, x0 + 1 + Int(g.next() % 48)), y1 = min(height, y0 + 1 + Int(g.next() % 6))
            for y in y0..<y1 { for x in x0..<x1 { (image[x, y, 0], image[x, y, 1], image[x, y, 2]) = c } }
        }
        return image
    }

    func testMatchesScalarReferenceOnOddWidthsAndRandomGains() {
        var g = SplitMix(2024)
        for width in [0, 1, 5, 7, 8, 9, 31, 32, 33, 40, 63, 65, 97, 130] {
            let height = width == 0 ? 2 : 1 + Int(g.next() % 5)
            let image = mosaicLikeImage(width: width, height: height, using: &g)
            for trial in 0..<4 {
                // Hue gains past 1 wrap (x·r ≥ 180), negative ones go below 0; S, V gains past 1 clip.
                let gains = trial == 0 ? (1.0, 1.0, 1.0) : (g.uniform(-1.6, 1.6), g.uniform(0, 2.5), g.uniform(0, 2.5))
                let (h, s, v) = hsvGainLUTs(hue: gains.0, saturation: gains.1, value: gains.2)
                assertSameImage(fusedHSVRoundTrip(image, hue: h, saturation: s, value: v),
                                fusedHSVRoundTripScalar(image, hue: h, saturation: s, value: v),
                                "\(width)x\(height) gains \(gains)")
            }
        }
    }

    func testMatchesScalarReferenceForArbitraryLUTs() {
        // LUT bytes anywhere in 0...255: hue values of 180 and above wrap in hsvPixelToRGB.
        var g = SplitMix(99)
        for width in [3, 37, 70] {
            let image = mosaicLikeImage(width: width, height: 7, using: &g)
            for _ in 0..<4 {
                let (h, s, v) = (randomLUT(&g), randomLUT(&g), randomLUT(&g))
                assertSameImage(fusedHSVRoundTrip(image, hue: h, saturation: s, value: v),
                                fusedHSVRoundTripScalar(image, hue: h, saturation: s, value: v), "width \(width)")
            }
        }
    }

    func testFlatImageCopiesBlocksExactly() {
        // All blocks after the first of each mode are copies; the tail (w % 32 pixels) rounds.
        for grey: UInt8 in [0, 114, 255] {
            let image = Image(width: 77, height: 3, fill: grey)
            let (h, s, v) = hsvGainLUTs(hue: 1.01, saturation: 1.4, value: 0.63)
            assertSameImage(fusedHSVRoundTrip(image, hue: h, saturation: s, value: v),
                            fusedHSVRoundTripScalar(image, hue: h, saturation: s, value: v), "grey \(grey)")
        }
    }

    func testReciprocalsMatchOpenCVTables() {
        for x in Int32(1)...255 {
            XCTAssertEqual(reciprocal12(255 * 4096, Int32x8(repeating: x))[0], hsvTables.sdiv[Int(x)], "sdiv[\(x)]")
            XCTAssertEqual(reciprocal12(30 * 4096, Int32x8(repeating: x))[0], hsvTables.hdiv[Int(x)], "hdiv[\(x)]")
        }
    }

    func testRGBToHSVLanesMatchScalarOnAllMaxMinPairs() {
        // S depends on (max, max − min), H on which channel is the max and the two differences:
        // every (max, min) pair, the middle channel at either end and between, in all 6 orders.
        var rgb: [UInt8] = []
        for hi in 0..<256 { for lo in 0...hi { for mid in Set([lo, (lo + hi) / 2, hi]) {
            let (a, b, c) = (UInt8(hi), UInt8(mid), UInt8(lo))
            rgb += [a, b, c, a, c, b, b, a, c, b, c, a, c, a, b, c, b, a]
        } } }
        let n = rgb.count / 3, blocks = (n + 7) / 8
        let expected = rgbToHSV(Image(width: n, height: 1, pixels: rgb)).pixels.map { Int32($0) }
        let padded = rgb + [UInt8](repeating: 0, count: (blocks * 8 - n) * 3 + 4)
        var got = [Int32](repeating: 0, count: blocks * 24)
        padded.withUnsafeBytes { p in
            for b in 0..<blocks {
                let (h, s, v) = loadHSV8(p.baseAddress! + b * 24)
                for lane in 0..<8 {
                    let i = (b * 8 + lane) * 3
                    (got[i], got[i + 1], got[i + 2]) = (h[lane], s[lane], v[lane])
                }
            }
        }
        XCTAssertEqual(Array(got.prefix(n * 3)), expected)
    }

    /// Tables for the identity LUTs, as fusedHSVRoundTrip fills them.
    func withIdentityTables(_ body: (HSVRoundTripScratch) -> Void) {
        let identity = (0..<256).map { UInt8($0) }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: HSVRoundTripScratch.byteCount(width: 8), alignment: 32)
        defer { memory.deallocate() }
        let scratch = HSVRoundTripScratch(width: 8, memory: memory)
        scratch.fillTables(hue: identity, saturation: identity, value: identity)
        body(scratch)
    }

    func testHSVToRGBLanesGiveTheScalarFactorsForAllHueSaturationBytes() {
        // With v = 1 the outputs are the factors themselves (each channel is v times one), so equal
        // bits here mean equal products for every v.
        withIdentityTables { tables in
            var mismatches: [String] = []
            for h8 in 0..<256 { for s0 in stride(from: 0, to: 256, by: 8) {
                let s = Floatx8((0..<8).map { tables.saturationTable[s0 + $0] })
                let rgb = hsvToRGB8(h: Floatx8(repeating: tables.hueTable[h8]), s: s, v: Floatx8(repeating: 1))
                for lane in 0..<8 {
                    let e = hsvPixelToUnitRGB(h: UInt8(h8), s: s[lane], v: 1)
                    if [rgb.r[lane], rgb.g[lane], rgb.b[lane]].map(\.bitPattern) != [e.r, e.g, e.b].map(\.bitPattern) {
                        mismatches.append("h \(h8) s \(s0 + lane)")
                    }
                }
            } }
            XCTAssertEqual(mismatches.count, 0, "\(mismatches.prefix(5))")
        }
    }

    func testLaneBytesMatchScalarInBothRoundingModes() {
        withIdentityTables { tables in
            var mismatches: [String] = []
            for h8 in 0..<256 { for s0 in stride(from: 0, to: 256, by: 8) { for v8 in [1, 114, 200, 255] {
                let rgb = hsvToRGB8(h: Floatx8(repeating: tables.hueTable[h8]),
                                    s: Floatx8((0..<8).map { tables.saturationTable[s0 + $0] }),
                                    v: Floatx8(repeating: tables.valueTable[v8]))
                for truncate in [true, false] {
                    let r = bytes8(rgb.r, truncate: truncate), g = bytes8(rgb.g, truncate: truncate)
                    let b = bytes8(rgb.b, truncate: truncate)
                    for lane in 0..<8 {
                        let e = hsvPixelToRGB(h: UInt8(h8), s: UInt8(s0 + lane), v: UInt8(v8), truncate: truncate)
                        if (r[lane], g[lane], b[lane]) != (Int32(e.0), Int32(e.1), Int32(e.2)) {
                            mismatches.append("h \(h8) s \(s0 + lane) v \(v8) truncate \(truncate)")
                        }
                    }
                }
            } } }
            XCTAssertEqual(mismatches.count, 0, "\(mismatches.prefix(5))")
        }
    }

    /// Byte-identical images, reporting the first differing pixel rather than both images.
    func assertSameImage(_ a: Image, _ b: Image, _ message: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual([a.width, a.height], [b.width, b.height], message, file: file, line: line)
        if let i = a.pixels.indices.first(where: { $0 < b.pixels.count && a.pixels[$0] != b.pixels[$0] }) {
            let (x, y) = (i / 3 % max(a.width, 1), i / 3 / max(a.width, 1))
            XCTFail("\(message): x \(x) y \(y) channel \(i % 3): \(a.pixels[i]) != \(b.pixels[i])",
                    file: file, line: line)
        }
    }

    func randomLUT(_ g: inout SplitMix) -> [UInt8] { (0..<256).map { _ in UInt8(truncatingIfNeeded: g.next()) } }
}
