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
    // OpenCV inverts only the 2x3 part (the affine inverse), in double.
    let a = matrix.m
    var det = a[0] * a[4] - a[1] * a[3]
    det = det != 0 ? 1 / det : 0
    let i0 = a[4] * det, i1 = -a[1] * det, i3 = -a[3] * det, i4 = a[0] * det
    let i2 = -i0 * a[2] - i1 * a[5], i5 = -i3 * a[2] - i4 * a[5]
    let m = [i0, i1, i2, i3, i4, i5, 0, 0, 1].map { Float($0) }
    return remap(image, width: width, height: height, border: border, inverse: m, projective: false)
}

/// cv2.warpPerspective(image, matrix, (width, height), borderValue=(border,)*3) with INTER_LINEAR.
public func warpPerspective(_ image: Image, matrix: Matrix3, width: Int, height: Int, border: UInt8 = 114) -> Image {
    remap(image, width: width, height: height, border: border, inverse: matrix.inverse.m.map { Float($0) }, projective: true)
}

/// Bilinear sampling of `image` at inverse-mapped positions, in OpenCV's float arithmetic.
func remap(_ image: Image, width: Int, height: Int, border: UInt8, inverse m: [Float], projective: Bool) -> Image {
    precondition(m.count == 9 && image.pixels.count == image.width * image.height * 3)
    var out = [UInt8](repeating: border, count: width * height * 3)
    let m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7], m8 = m[8]
    if !projective && m1 == 0 && m3 == 0 && image.width > 0 && image.height > 0 {
        remapAxisAligned(image, into: &out, width: width, height: height, border: border, m0: m0, m2: m2, m4: m4, m5: m5)
        return Image(width: width, height: height, pixels: out)
    }
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let source = RemapSource(base: src.baseAddress!, width: image.width, height: image.height, border: Float(border))
            for y in 0..<height {
                let fy = Float(y)
                let mx = fy * m1 + m2, my = fy * m4 + m5, mw = fy * m7 + m8
                let row = dst.baseAddress! + y * width * 3
                if projective {
                    for x in 0..<width {
                        let fx = Float(x), w = fusedMultiplyAdd(m6, fx, mw)
                        source.sample(x: fusedMultiplyAdd(m0, fx, mx) / w, y: fusedMultiplyAdd(m3, fx, my) / w,
                                      into: row + x &* 3)
                    }
                } else {
                    for x in 0..<width {
                        let fx = Float(x)
                        source.sample(x: fusedMultiplyAdd(m0, fx, mx), y: fusedMultiplyAdd(m3, fx, my), into: row + x &* 3)
                    }
                }
            }
        }
    }
    return Image(width: width, height: height, pixels: out)
}

/// The plain per-pixel remap (OpenCV's arithmetic, one channel at a time): the reference the fast
/// paths of `remap` must equal byte for byte (FastPathParityTests).
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

/// The affine remap when the inverse matrix has no rotation or shear (m1 = m3 = 0: scale and
/// translate only, YOLOv5's mosaic warp with degrees = shear = 0). Then the source x depends on
/// the output column only and the source y on the row only, so OpenCV's blend
/// f0 = fma(α, p01 − p00, p00) (row iy), f1 likewise (row iy + 1), f = fma(β, f1 − f0, f0) splits
/// into a horizontal pass per source row (cached: consecutive output rows share source rows) and a
/// vertical pass per output row, with the very same float operations per pixel as `RemapSource`.
/// A neighbour outside the source reads the border: source rows are copied with 2 border pixels
/// either side, rows outside the source are all border. A position whose neighbours are all
/// outside blends to the border value exactly, as the per-pixel path leaves it.
private func remapAxisAligned(_ image: Image, into out: inout [UInt8], width: Int, height: Int, border: UInt8,
                              m0: Float, m2: Float, m4: Float, m5: Float) {
    let sw = image.width, sh = image.height, n = width * 3, b = Float(border)
    // Per output element (column x, channel c): offset of the left tap in a padded source row
    // (pixel ix + 2) and α. Columns entirely outside (or not finite) read two border pixels.
    var offsets = [Int32](repeating: 0, count: n), alphas = [Float](repeating: 0, count: n)
    for x in 0..<width {
        let sx = fusedMultiplyAdd(m0, Float(x), m2)
        var ix = -2, alpha: Float = 0
        if sx > -2 && sx < Float(sw + 1) {
            ix = floorToInt(sx)
            alpha = sx - Float(ix)
        }
        for c in 0..<3 {
            offsets[x * 3 + c] = Int32((ix + 2) * 3 + c)
            alphas[x * 3 + c] = alpha
        }
    }
    var padded = [UInt8](repeating: border, count: (sw + 4) * 3)
    // Two cached horizontal rows (value f per element) and the source rows they hold (Int.min: none).
    var rows = [Float](repeating: 0, count: 2 * n)
    var held = (Int.min, Int.min)
    let borderRow = [Float](repeating: b, count: n)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            padded.withUnsafeMutableBufferPointer { padded in
                rows.withUnsafeMutableBufferPointer { rows in
                    offsets.withUnsafeBufferPointer { offsets in
                        alphas.withUnsafeBufferPointer { alphas in
                            borderRow.withUnsafeBufferPointer { borderRow in
                                let pr = padded.baseAddress!, off = offsets.baseAddress!, al = alphas.baseAddress!
                                /// The horizontal pass of source row `r` (inside the source) into `h`.
                                func horizontal(_ r: Int, into h: UnsafeMutablePointer<Float>) {
                                    (pr + 6).update(from: src.baseAddress! + r * sw * 3, count: sw * 3)
                                    for i in 0..<n {
                                        let o = Int(off[i])
                                        let p0 = Float(pr[o]), p1 = Float(pr[o &+ 3])
                                        h[i] = fusedMultiplyAdd(al[i], p1 - p0, p0)
                                    }
                                }
                                /// The horizontal values of source row `r`: cached, computed into the
                                /// slot not holding `keep`, or the border row.
                                func row(_ r: Int, keep: Int) -> UnsafePointer<Float> {
                                    if r < 0 || r >= sh { return borderRow.baseAddress! }
                                    if held.0 == r { return UnsafePointer(rows.baseAddress!) }
                                    if held.1 == r { return UnsafePointer(rows.baseAddress! + n) }
                                    if held.0 != keep || held.0 == Int.min {
                                        horizontal(r, into: rows.baseAddress!)
                                        held.0 = r
                                        return UnsafePointer(rows.baseAddress!)
                                    }
                                    horizontal(r, into: rows.baseAddress! + n)
                                    held.1 = r
                                    return UnsafePointer(rows.baseAddress! + n)
                                }
                                for y in 0..<height {
                                    let sy = Float(y) * m4 + m5
                                    guard sy > -2 && sy < Float(sh + 1) else { continue }
                                    let iy = floorToInt(sy), beta = sy - Float(iy)
                                    let h0 = row(iy, keep: Int.min), h1 = row(iy + 1, keep: iy)
                                    let d = dst.baseAddress! + y * n
                                    for i in 0..<n {
                                        let f0 = h0[i]
                                        d[i] = roundedByte(fusedMultiplyAdd(beta, h1[i] - f0, f0))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The source of a warp: bilinear reads with a constant border, without bounds-checked indexing.
private struct RemapSource {
    let base: UnsafePointer<UInt8>
    let width: Int, height: Int
    let border: Float

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
