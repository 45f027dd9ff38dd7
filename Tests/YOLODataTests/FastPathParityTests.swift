// The optimised warps and HSV augmentation against straightforward per-pixel versions of the same
// arithmetic (the code they replaced): outputs must be byte-identical, edges, tails and all.
// OpenCVParityTests checks those same semantics against OpenCV itself.
import Foundation
import XCTest
@testable import YOLOData

final class FastPathParityTests: XCTestCase {
    /// Pseudo-random bytes with flat runs (so grey, saturated and equal-channel pixels all occur).
    func noiseImage(width: Int, height: Int, seed: UInt64) -> Image {
        var g = SplitMix(seed)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            let r = g.next()
            switch r % 8 {
            case 0: pixels[i] = UInt8(r >> 8 & 255); pixels[i + 1] = pixels[i]; pixels[i + 2] = pixels[i]
            case 1: pixels[i] = 255; pixels[i + 1] = 0; pixels[i + 2] = UInt8(r >> 16 & 255)
            default: pixels[i] = UInt8(r >> 8 & 255); pixels[i + 1] = UInt8(r >> 16 & 255); pixels[i + 2] = UInt8(r >> 24 & 255)
            }
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    struct SplitMix {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() >> 11) * 0x1p-53 }
    }

    func testFusedHSVMatchesTwoPassConversion() {
        var g = SplitMix(7)
        // 70 wide: two SIMD blocks plus a rounding tail; 5 wide: tail only.
        for (w, h) in [(70, 40), (5, 3), (64, 2)] {
            let image = noiseImage(width: w, height: h, seed: g.next())
            for _ in 0..<6 {
                let gains = (g.uniform(0.5, 1.5), g.uniform(0, 2), g.uniform(0, 2))
                var lutH = [UInt8](repeating: 0, count: 256), lutS = lutH, lutV = lutH
                for x in 0..<256 {
                    let d = Double(x)
                    let hh = (d * gains.0).truncatingRemainder(dividingBy: 180)
                    lutH[x] = UInt8(truncatingIfNeeded: Int(hh < 0 ? hh + 180 : hh))
                    lutS[x] = UInt8(Int(min(max(d * gains.1, 0), 255)))
                    lutV[x] = UInt8(Int(min(max(d * gains.2, 0), 255)))
                }
                let reference = mapHSVToRGB(rgbToHSV(image), hue: lutH, saturation: lutS, value: lutV)
                XCTAssertEqual(applyHSVGains(image, hue: gains.0, saturation: gains.1, value: gains.2), reference,
                               "\(w)x\(h) gains \(gains)")
            }
        }
    }

    func testFusedHSVCoversAllHueSaturationValueBytes() {
        // Every (r, g, b) on a coarse grid through the identity gains: the round trip as OpenCV's.
        var pixels: [UInt8] = []
        for r in stride(from: 0, to: 256, by: 5) { for g in stride(from: 0, to: 256, by: 5) { for b in stride(from: 0, to: 256, by: 3) {
            pixels += [UInt8(r), UInt8(g), UInt8(b)]
        } } }
        let image = Image(width: pixels.count / 3 / 86, height: 86, pixels: Array(pixels.prefix(pixels.count / 3 / 86 * 86 * 3)))
        let identity = (0..<256).map { UInt8($0) }
        XCTAssertEqual(applyHSVGains(image, hue: 1, saturation: 1, value: 1),
                       mapHSVToRGB(rgbToHSV(image), hue: identity, saturation: identity, value: identity))
    }

    func testWarpsMatchPerPixelReference() {
        var g = SplitMix(11)
        let image = noiseImage(width: 97, height: 61, seed: 3)
        for trial in 0..<24 {
            // Scale/translate only (the mosaic case), then with rotation and shear, then projective.
            let draws = PerspectiveDraws(perspectiveX: trial >= 16 ? g.uniform(-0.002, 0.002) : 0,
                                         perspectiveY: trial >= 16 ? g.uniform(-0.002, 0.002) : 0,
                                         angle: trial >= 8 ? g.uniform(-30, 30) : 0, scale: g.uniform(0.4, 1.6),
                                         shearX: trial >= 8 ? g.uniform(-10, 10) : 0, shearY: trial >= 8 ? g.uniform(-10, 10) : 0,
                                         translateX: g.uniform(0.3, 0.7), translateY: g.uniform(0.3, 0.7))
            let (w, h) = (50 + Int(g.next() % 90), 40 + Int(g.next() % 60))
            let m = draws.matrix(inputWidth: image.width, inputHeight: image.height, outputWidth: w, outputHeight: h)
            if trial < 16 {
                XCTAssertEqual(warpAffine(image, matrix: m, width: w, height: h), referenceAffine(image, m, w, h), "trial \(trial)")
            } else {
                XCTAssertEqual(warpPerspective(image, matrix: m, width: w, height: h),
                               referenceRemap(image, width: w, height: h, border: 114, inverse: m.inverse.m.map { Float($0) },
                                              projective: true), "trial \(trial)")
            }
        }
    }

    /// The fast paths of `remap` (axis-aligned, SIMD8 blocks, their edges and tails) against the
    /// per-pixel `remapReference`, on random inverse matrices of each kind that map the output over
    /// and past the source's edges: odd sizes, outputs smaller and larger than the source.
    func testRemapMatchesReferenceOnRandomMatrices() {
        var g = SplitMix(23)
        func f(_ lo: Double, _ hi: Double) -> Float { Float(g.uniform(lo, hi)) }
        for trial in 0..<240 {
            let sw = 1 + Int(g.next() % 45), sh = 1 + Int(g.next() % 37)
            let image = noiseImage(width: sw, height: sh, seed: UInt64(trial))
            let w = 1 + Int(g.next() % 70), h = 1 + Int(g.next() % 30), border = UInt8(g.next() % 256)
            let kind = trial % 5
            // Scale (sometimes a flip), then rotation / shear terms, then projective terms.
            var m: [Float] = [f(0.2, 2.5) * (g.next() % 7 == 0 ? -1 : 1), 0, 0, 0, f(0.2, 2.5), 0, 0, 0, 1]
            if kind == 1 || kind == 3 { m[1] = f(-0.4, 0.4); m[3] = f(-0.4, 0.4) }
            if kind == 2 { m[1] = f(-0.3, 0.3) }
            if kind == 3 { m[6] = f(-0.004, 0.004); m[7] = f(-0.004, 0.004); m[8] = f(0.9, 1.1) }
            if kind == 4 { m[0] = Float(g.next() % 3); m[4] = Float(g.next() % 3) }  // integer steps, exact taps
            // Translate so the output's centre lands anywhere from 4 px before to 4 px after the source.
            m[2] = f(-4, Double(sw) + 4) - m[0] * Float(w) / 2 - m[1] * Float(h) / 2
            m[5] = f(-4, Double(sh) + 4) - m[3] * Float(w) / 2 - m[4] * Float(h) / 2
            if kind == 4 { m[2] = m[2].rounded(); m[5] = (m[5] * 2).rounded() / 2 }
            let projective = kind == 3
            XCTAssertEqual(remap(image, width: w, height: h, border: border, inverse: m, projective: projective),
                           remapReference(image, width: w, height: h, border: border, inverse: m, projective: projective),
                           "trial \(trial): \(sw)x\(sh) -> \(w)x\(h), inverse \(m)")
        }
    }

    /// A mosaic-sized warp through the public entry points (both paths, with many full SIMD blocks)
    /// against `remapReference`.
    func testLargeWarpsMatchReference() {
        let image = noiseImage(width: 203, height: 171, seed: 5)
        for draws in [PerspectiveDraws(scale: 0.63, translateX: 0.45, translateY: 0.52),
                      PerspectiveDraws(angle: 7, scale: 1.3, shearX: 2, translateX: 0.55, translateY: 0.5)] {
            let m = draws.matrix(inputWidth: 203, inputHeight: 171, outputWidth: 150, outputHeight: 120)
            let a = m.m
            let det = 1 / (a[0] * a[4] - a[1] * a[3])
            let i0 = a[4] * det, i1 = -a[1] * det, i3 = -a[3] * det, i4 = a[0] * det
            let inverse = [i0, i1, -i0 * a[2] - i1 * a[5], i3, i4, -i3 * a[2] - i4 * a[5], 0, 0, 1].map { Float($0) }
            XCTAssertEqual(warpAffine(image, matrix: m, width: 150, height: 120),
                           remapReference(image, width: 150, height: 120, border: 114, inverse: inverse, projective: false))
        }
    }

    func referenceAffine(_ image: Image, _ matrix: Matrix3, _ width: Int, _ height: Int) -> Image {
        let a = matrix.m
        var det = a[0] * a[4] - a[1] * a[3]
        det = det != 0 ? 1 / det : 0
        let i0 = a[4] * det, i1 = -a[1] * det, i3 = -a[3] * det, i4 = a[0] * det
        let i2 = -i0 * a[2] - i1 * a[5], i5 = -i3 * a[2] - i4 * a[5]
        return referenceRemap(image, width: width, height: height, border: 114,
                              inverse: [i0, i1, i2, i3, i4, i5, 0, 0, 1].map { Float($0) }, projective: false)
    }

    /// The per-pixel remap the optimised one replaced.
    func referenceRemap(_ image: Image, width: Int, height: Int, border: UInt8, inverse m: [Float], projective: Bool) -> Image {
        func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { Float(Double(a) * Double(b) + Double(c)) }
        func blend(_ p00: Float, _ p01: Float, _ p10: Float, _ p11: Float, _ alpha: Float, _ beta: Float) -> UInt8 {
            let f0 = fma(alpha, p01 - p00, p00), f1 = fma(alpha, p11 - p10, p10)
            return UInt8(min(max(fma(beta, f1 - f0, f0), 0), 255).rounded(.toNearestOrEven))
        }
        var out = [UInt8](repeating: border, count: width * height * 3)
        let sw = image.width, sh = image.height, b = Float(border), src = image.pixels
        func at(_ x: Int, _ y: Int, _ c: Int) -> Float { x >= 0 && x < sw && y >= 0 && y < sh ? Float(src[(y * sw + x) * 3 + c]) : b }
        for y in 0..<height {
            let fy = Float(y)
            let mx = fy * m[1] + m[2], my = fy * m[4] + m[5], mw = fy * m[7] + m[8]
            for x in 0..<width {
                let fx = Float(x)
                var sx = fma(m[0], fx, mx), sy = fma(m[3], fx, my)
                if projective {
                    let w = fma(m[6], fx, mw)
                    sx /= w
                    sy /= w
                }
                guard sx > -2 && sx < Float(sw + 1) && sy > -2 && sy < Float(sh + 1) else { continue }
                let ix = Int(sx.rounded(.down)), iy = Int(sy.rounded(.down))
                let alpha = sx - Float(ix), beta = sy - Float(iy)
                for c in 0..<3 {
                    out[(y * width + x) * 3 + c] = blend(at(ix, iy, c), at(ix + 1, iy, c), at(ix, iy + 1, c),
                                                         at(ix + 1, iy + 1, c), alpha, beta)
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }
}
