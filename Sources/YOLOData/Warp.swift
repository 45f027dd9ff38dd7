// `warpAffine` / `warpPerspective`: OpenCV's geometric warps for 8-bit RGB with bilinear sampling
// and a constant border. Not the random draws (Perspective.swift).
//
// This follows recent OpenCV's float warp kernels (added around 4.11; checked against
// opencv-python-headless 5.0.0; imgproc/src/warp_kernels.simd.hpp, warpAffineLinearInvoker_8UC3):
// the inverse matrix is cast to Float, each row's offset is
// Float(y)·m1 + m2 (two roundings), the source x is fma(m0, x, offset) (divided by the fma'd w for
// perspective), the fraction is x − floor(x), and the 2x2 neighbours are blended with fmas
// f0 = fma(α, p01 − p00, p00), f1 likewise, f = fma(β, f1 − f0, f0), rounded half to even.
// A neighbour outside the source reads the border value. OpenCV <= 4.10 used 1/32-px fixed point
// instead (INTER_BITS = 5), which differs from this by up to a few levels at some pixels; OpenCV's
// scalar tail (the last < 16 or 32 columns of a row) rounds its coordinates slightly differently.
// `remapReference` is that arithmetic pixel by pixel; `remap` computes the same bytes with SIMD
// (8-pixel blocks here, the separable scale-and-translate case in Warp+AxisAligned.swift).
import Foundation

/// A 3x3 matrix, row major, in Double (NumPy's float64).
public struct Matrix3: Sendable, Equatable {
    public var m: [Double]

    public init(_ m: [Double]) {
        precondition(m.count == 9)
        self.m = m
    }

    public static let identity = Matrix3([1, 0, 0, 0, 1, 0, 0, 0, 1])

    public subscript(row: Int, column: Int) -> Double {
        get { m[row * 3 + column] }
        set { m[row * 3 + column] = newValue }
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 { r[i * 3 + j] = a.m[i * 3] * b.m[j] + a.m[i * 3 + 1] * b.m[3 + j] + a.m[i * 3 + 2] * b.m[6 + j] }
        }
        return Matrix3(r)
    }

    /// Applies the matrix to (x, y, 1); divides by the third coordinate when `projective`.
    public func apply(x: Double, y: Double, projective: Bool) -> (x: Double, y: Double) {
        let u = m[0] * x + m[1] * y + m[2], v = m[3] * x + m[4] * y + m[5]
        guard projective else { return (u, v) }
        let w = m[6] * x + m[7] * y + m[8]
        return (u / w, v / w)
    }

    /// The inverse by cofactors (a singular matrix gives zeros, as OpenCV's warps treat it).
    public var inverse: Matrix3 {
        let a = m
        let c00 = a[4] * a[8] - a[5] * a[7], c01 = a[5] * a[6] - a[3] * a[8], c02 = a[3] * a[7] - a[4] * a[6]
        let det = a[0] * c00 + a[1] * c01 + a[2] * c02
        let d = det != 0 ? 1 / det : 0
        return Matrix3([
            c00 * d, (a[2] * a[7] - a[1] * a[8]) * d, (a[1] * a[5] - a[2] * a[4]) * d,
            c01 * d, (a[0] * a[8] - a[2] * a[6]) * d, (a[2] * a[3] - a[0] * a[5]) * d,
            c02 * d, (a[1] * a[6] - a[0] * a[7]) * d, (a[0] * a[4] - a[1] * a[3]) * d,
        ])
    }
}

/// cv2.warpAffine(image, matrix[:2], (width, height), borderValue=(border,)*3) with INTER_LINEAR.
public func warpAffine(_ image: Image, matrix: Matrix3, width: Int, height: Int, border: UInt8 = 114) -> Image {
    remap(image, width: width, height: height, border: border, inverse: affineInverse(matrix), projective: false)
}

/// The inverse warpAffine samples through: OpenCV inverts only the 2x3 part, in double, then
/// rounds to float.
func affineInverse(_ matrix: Matrix3) -> [Float] {
    let a = matrix.m
    var det = a[0] * a[4] - a[1] * a[3]
    det = det != 0 ? 1 / det : 0
    let i0 = a[4] * det, i1 = -a[1] * det, i3 = -a[3] * det, i4 = a[0] * det
    let i2 = -i0 * a[2] - i1 * a[5], i5 = -i3 * a[2] - i4 * a[5]
    return [i0, i1, i2, i3, i4, i5, 0, 0, 1].map { Float($0) }
}

/// The source pixels `warpAffine(_, matrix:, width:, height:)` of a `sourceWidth` x
/// `sourceHeight` image reads, when its inverse only scales and translates (the separable path):
/// columns and rows, empty when none. Nil for other matrices (then any pixel may be read).
func affineWarpSourceRegion(matrix: Matrix3, width: Int, height: Int, sourceWidth sw: Int, sourceHeight sh: Int)
    -> (columns: Range<Int>, rows: Range<Int>)? {
    let m = affineInverse(matrix)
    guard m[1] == 0 && m[3] == 0 && sw > 0 && sh > 0 else { return nil }
    let columns = axisAlignedColumns(width: width, sourceWidth: sw, m0: m[0], m2: m[2]).columns
    var first = sh, last = -1
    for y in 0..<height {
        guard let iy = axisAlignedRow(y, sourceHeight: sh, m4: m[4], m5: m[5])?.iy else { continue }
        first = min(first, max(iy, 0))
        last = max(last, min(iy + 1, sh - 1))
    }
    return (columns, first..<max(first, last + 1))
}

/// cv2.warpPerspective(image, matrix, (width, height), borderValue=(border,)*3) with INTER_LINEAR.
public func warpPerspective(_ image: Image, matrix: Matrix3, width: Int, height: Int, border: UInt8 = 114) -> Image {
    remap(image, width: width, height: height, border: border, inverse: matrix.inverse.m.map { Float($0) }, projective: true)
}

/// Bilinear sampling of `image` at inverse-mapped positions, in OpenCV's float arithmetic, equal
/// byte for byte to `remapReference`: the separable path when the matrix only scales and
/// translates (Warp+AxisAligned.swift), else 8 output pixels at a time (`RemapSource.sampleBlock`)
/// where all their neighbours are inside the source, one at a time (`sample`) elsewhere.
func remap(_ image: Image, width: Int, height: Int, border: UInt8, inverse m: [Float], projective: Bool) -> Image {
    precondition(m.count == 9 && image.pixels.count == image.width * image.height * 3)
    if !projective && m[1] == 0 && m[3] == 0 && image.width > 0 && image.height > 0 {
        let out = remapAxisAligned(image, width: width, height: height, border: border, m0: m[0], m2: m[2], m4: m[4],
                                   m5: m[5])
        return Image(width: width, height: height, pixels: out)
    }
    var out = [UInt8](repeating: border, count: width * height * 3)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let source = RemapSource(base: src.baseAddress!, width: image.width, height: image.height, border: Float(border))
            // Blocks need Int32 offsets and coordinates below 2^22 (`floorInt32`).
            let blocks = image.pixels.count < Int(Int32.max) - 8 && image.width < 1 << 22 && image.height < 1 << 22
            for y in 0..<height {
                // A block's 4-byte stores write one byte past its last pixel: not past the image.
                let blockEnd = !blocks ? 0 : y < height - 1 ? width : width - 1
                source.sampleRow(y, width: width, blockEnd: blockEnd, inverse: m, projective: projective,
                                 into: dst.baseAddress! + y * width * 3)
            }
        }
    }
    return Image(width: width, height: height, pixels: out)
}

/// The plain per-pixel remap (OpenCV's arithmetic, one channel at a time): the reference the fast
/// paths of `remap` must equal byte for byte (FastPathParityTests). Not used by the library.
func remapReference(_ image: Image, width: Int, height: Int, border: UInt8, inverse m: [Float], projective: Bool) -> Image {
    precondition(m.count == 9 && image.pixels.count == image.width * image.height * 3)
    var out = [UInt8](repeating: border, count: width * height * 3)
    let m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7], m8 = m[8]
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let source = RemapSource(base: src.baseAddress!, width: image.width, height: image.height, border: Float(border))
            for y in 0..<height {
                let fy = Float(y)
                let mx = fy * m1 + m2, my = fy * m4 + m5, mw = fy * m7 + m8
                let row = dst.baseAddress! + y * width * 3
                for x in 0..<width {
                    let fx = Float(x)
                    if projective {
                        let w = fusedMultiplyAdd(m6, fx, mw)
                        source.sample(x: fusedMultiplyAdd(m0, fx, mx) / w, y: fusedMultiplyAdd(m3, fx, my) / w,
                                      into: row + x &* 3)
                    } else {
                        source.sample(x: fusedMultiplyAdd(m0, fx, mx), y: fusedMultiplyAdd(m3, fx, my), into: row + x &* 3)
                    }
                }
            }
        }
    }
    return Image(width: width, height: height, pixels: out)
}

/// The source of a warp: bilinear reads with a constant border, without bounds-checked indexing.
private struct RemapSource {
    let base: UnsafePointer<UInt8>
    let width: Int, height: Int
    let border: Float

    /// Output row `y` (`width` pixels) into `d`: blocks of 8 pixels below `blockEnd`, then single
    /// pixels; the coordinates as OpenCV's (per row Float(y)·m1 + m2, per pixel fma(m0, x, ·)).
    func sampleRow(_ y: Int, width: Int, blockEnd: Int, inverse m: [Float], projective: Bool,
                   into d: UnsafeMutablePointer<UInt8>) {
        let m0 = m[0], m3 = m[3], m6 = m[6], fy = Float(y)
        let mx = fy * m[1] + m[2], my = fy * m[4] + m[5], mw = fy * m[7] + m[8]
        var x = 0
        while x + 8 <= blockEnd {
            let fx = Float(x) + SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7)
            var sx = fusedMultiplyAdd(SIMD8(repeating: m0), fx, SIMD8(repeating: mx))
            var sy = fusedMultiplyAdd(SIMD8(repeating: m3), fx, SIMD8(repeating: my))
            if projective {
                let w = fusedMultiplyAdd(SIMD8(repeating: m6), fx, SIMD8(repeating: mw))
                sx /= w
                sy /= w
            }
            if !sampleBlock(x: sx, y: sy, into: d + x &* 3) {
                for k in 0..<8 { sample(x: sx[k], y: sy[k], into: d + (x &+ k) &* 3) }
            }
            x &+= 8
        }
        while x < width {
            let fx = Float(x)
            var sx = fusedMultiplyAdd(m0, fx, mx), sy = fusedMultiplyAdd(m3, fx, my)
            if projective {
                let w = fusedMultiplyAdd(m6, fx, mw)
                sx /= w
                sy /= w
            }
            sample(x: sx, y: sy, into: d + x &* 3)
            x &+= 1
        }
    }

    /// Writes the blend at source position (sx, sy) to `d[0..<3]`; leaves `d` (the border) alone
    /// when every neighbour is outside (or the position is not finite).
    @inline(__always) func sample(x sx: Float, y sy: Float, into d: UnsafeMutablePointer<UInt8>) {
        guard sx > -2 && sx < Float(width + 1) && sy > -2 && sy < Float(height + 1) else { return }
        let ix = floorToInt(sx), iy = floorToInt(sy)
        let alpha = sx - Float(ix), beta = sy - Float(iy)
        if UInt(bitPattern: ix) < UInt(bitPattern: width &- 1) && UInt(bitPattern: iy) < UInt(bitPattern: height &- 1) {
            let p = base + (iy &* width &+ ix) &* 3, q = p + width &* 3
            d[0] = blend(Float(p[0]), Float(p[3]), Float(q[0]), Float(q[3]), alpha, beta)
            d[1] = blend(Float(p[1]), Float(p[4]), Float(q[1]), Float(q[4]), alpha, beta)
            d[2] = blend(Float(p[2]), Float(p[5]), Float(q[2]), Float(q[5]), alpha, beta)
        } else {
            for c in 0..<3 {
                d[c] = blend(at(ix, iy, c), at(ix &+ 1, iy, c), at(ix, iy &+ 1, c), at(ix &+ 1, iy &+ 1, c), alpha, beta)
            }
        }
    }

    /// `sample` at 8 positions whose 2x2 neighbours are all inside the source (else returns false
    /// and writes nothing), as SIMD8 lanes: floor by the 2^23 trick (exact for 0 <= s < 2^23), the
    /// neighbours gathered as 4-byte words (3 channels and a spare byte), each channel blended with
    /// the same fmas as `sample`. Writes 4 bytes a pixel, in order, the 4th the border value (the
    /// next pixel's first byte: overwritten, or left as border): `d[0..<25]`.
    @inline(__always) func sampleBlock(x sx: SIMD8<Float>, y sy: SIMD8<Float>, into d: UnsafeMutablePointer<UInt8>) -> Bool {
        // (Comparisons with a scalar: with a runtime SIMD8(repeating:) they do not vectorise.)
        let inside = (sx .>= 0) .& (sx .< Float(width &- 1)) .& (sy .>= 0) .& (sy .< Float(height &- 1))
        // The p11 word of the last 2x2 block would read one byte past the image.
        let last = (sx .>= Float(width &- 2)) .& (sy .>= Float(height &- 2))
        guard all(inside) && !any(last) else { return false }
        let ix = floorInt32(sx), iy = floorInt32(sy)
        let alpha = sx - SIMD8<Float>(ix), beta = sy - SIMD8<Float>(iy)
        let o = (iy &* Int32(width) &+ ix) &* 3, row = Int32(width &* 3)
        let w00 = words(o), w01 = words(o &+ 3), w10 = words(o &+ row), w11 = words(o &+ (row &+ 3))
        var rgb = SIMD8<UInt32>(repeating: UInt32(border) << 24)
        for c in 0..<3 {
            let shift = UInt32(8 * c)
            let p00 = channel(w00, shift), p01 = channel(w01, shift), p10 = channel(w10, shift), p11 = channel(w11, shift)
            let f0 = fusedMultiplyAdd(alpha, p01 - p00, p00), f1 = fusedMultiplyAdd(alpha, p11 - p10, p10)
            rgb |= roundedBytes(fusedMultiplyAdd(beta, f1 - f0, f0)) &<< shift
        }
        let raw = UnsafeMutableRawPointer(d)
        for k in 0..<8 { raw.storeBytes(of: rgb[k], toByteOffset: k &* 3, as: UInt32.self) }
        return true
    }

    /// The 4-byte words at byte offsets `o`.
    @inline(__always) private func words(_ o: SIMD8<Int32>) -> SIMD8<UInt32> {
        let raw = UnsafeRawPointer(base)
        return SIMD8(raw.loadUnaligned(fromByteOffset: Int(o[0]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[1]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[2]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[3]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[4]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[5]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[6]), as: UInt32.self),
                     raw.loadUnaligned(fromByteOffset: Int(o[7]), as: UInt32.self))
    }

    @inline(__always) func at(_ x: Int, _ y: Int, _ c: Int) -> Float {
        x >= 0 && x < width && y >= 0 && y < height ? Float(base[(y &* width &+ x) &* 3 &+ c]) : border
    }
}

/// a·b + c rounded once, as a hardware fma: the Float product is exact in Double, so only the
/// (vanishingly rare) double rounding of the sum can differ from a true fma. `Float.addingProduct`
/// is a libm call on baseline x86-64, several times slower in these per-pixel loops.
/// With FMA3 (release builds for Haswell and later) it is the hardware instruction.
@inline(__always) func fusedMultiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
    #if FMA3
    c.addingProduct(a, b)
    #else
    Float(Double(a) * Double(b) + Double(c))
    #endif
}

/// `fusedMultiplyAdd` in each of 8 lanes, the same operation (the HSV round trip's SIMD lanes).
@inline(__always) func fusedMultiplyAdd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
    #if FMA3
    c.addingProduct(a, b)
    #else
    SIMD8<Float>(SIMD8<Double>(a) * SIMD8<Double>(b) + SIMD8<Double>(c))
    #endif
}

/// `fusedMultiplyAdd` lane by lane (hardware fma with FMA3, else each lane through Double).
@inline(__always) func fusedMultiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Float {
    #if FMA3
    c.addingProduct(a, b)
    #else
    var r = c
    for i in r.indices { r[i] = fusedMultiplyAdd(a[i], b[i], c[i]) }
    return r
    #endif
}

/// `roundedByte` lane by lane, as UInt32 lanes (clamped by compare and select: `clamped` is IEEE
/// minimum/maximum, which does not vectorise; the two agree on the finite values blended here).
@inline(__always) func roundedBytes(_ x: SIMD8<Float>) -> SIMD8<UInt32> {
    let v = x.replacing(with: 0, where: x .< 0).replacing(with: 255, where: x .> 255) + 0x1p23
    return unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0xFF
}

/// Byte `shift / 8` of each word, as Float.
@inline(__always) private func channel(_ w: SIMD8<UInt32>, _ shift: UInt32) -> SIMD8<Float> {
    SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: (w &>> shift) & 0xFF))
}

/// floor(x) for 0 <= x < 2^23 (other lanes: unspecified): x + 2^23 rounds x to an integer held in
/// the low mantissa bits, one less where that rounded up.
@inline(__always) func floorInt32(_ x: SIMD8<Float>) -> SIMD8<Int32> {
    let r = x + 0x1p23
    let i = SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(r, to: SIMD8<UInt32>.self) &- 0x4B00_0000)
    return i.replacing(with: i &- 1, where: r - 0x1p23 .> x)
}

/// x clamped to [0, 255] and rounded half to even by the 2^23 trick (baseline x86-64 has no
/// roundss, so `rounded(.toNearestOrEven)` is a libm call): for v in [0, 255], v + 2^23 is
/// 2^23 + round(v) exactly, so its low mantissa byte is the result, with no float-to-int
/// conversion (and its range check) in the way of vectorising loops of it.
@inline(__always) func roundedByte(_ x: Float) -> UInt8 {
    let v = min(max(x, 0), 255)
    return UInt8(truncatingIfNeeded: (v + 0x1p23).bitPattern)
}

/// floor(x) for |x| < 2^31 without a libm call.
@inline(__always) func floorToInt(_ x: Float) -> Int {
    let i = Int(x)
    return Float(i) > x ? i - 1 : i
}

/// OpenCV's float bilinear blend with fmas, rounded half to even and saturated.
@inline(__always) private func blend(_ p00: Float, _ p01: Float, _ p10: Float, _ p11: Float,
                                     _ alpha: Float, _ beta: Float) -> UInt8 {
    let f0 = fusedMultiplyAdd(alpha, p01 - p00, p00), f1 = fusedMultiplyAdd(alpha, p11 - p10, p10)
    return roundedByte(fusedMultiplyAdd(beta, f1 - f0, f0))
}
