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
private func remap(_ image: Image, width: Int, height: Int, border: UInt8, inverse m: [Float], projective: Bool) -> Image {
    var out = [UInt8](repeating: border, count: width * height * 3)
    let sw = image.width, sh = image.height, b = Float(border)
    let xLimit = Float(sw + 1), yLimit = Float(sh + 1)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            @inline(__always) func at(_ x: Int, _ y: Int, _ c: Int) -> Float {
                x >= 0 && x < sw && y >= 0 && y < sh ? Float(src[(y * sw + x) * 3 + c]) : b
            }
            for y in 0..<height {
                let fy = Float(y)
                let mx = fy * m[1] + m[2], my = fy * m[4] + m[5], mw = fy * m[7] + m[8]
                let row = dst.baseAddress! + y * width * 3
                for x in 0..<width {
                    let fx = Float(x)
                    var sx = fusedMultiplyAdd(m[0], fx, mx), sy = fusedMultiplyAdd(m[3], fx, my)
                    if projective {
                        let w = fusedMultiplyAdd(m[6], fx, mw)
                        sx /= w
                        sy /= w
                    }
                    // Entirely outside (or not finite): every neighbour is the border.
                    guard sx > -2 && sx < xLimit && sy > -2 && sy < yLimit else { continue }
                    let ix = floorToInt(sx), iy = floorToInt(sy)
                    let alpha = sx - Float(ix), beta = sy - Float(iy)
                    let d = row + x * 3
                    if ix >= 0 && ix < sw - 1 && iy >= 0 && iy < sh - 1 {
                        let p = (iy * sw + ix) * 3, q = p + sw * 3
                        for c in 0..<3 {
                            let p00 = Float(src[p + c]), p01 = Float(src[p + 3 + c])
                            let p10 = Float(src[q + c]), p11 = Float(src[q + 3 + c])
                            d[c] = blend(p00, p01, p10, p11, alpha, beta)
                        }
                    } else {
                        for c in 0..<3 {
                            d[c] = blend(at(ix, iy, c), at(ix + 1, iy, c), at(ix, iy + 1, c), at(ix + 1, iy + 1, c),
                                         alpha, beta)
                        }
                    }
                }
            }
        }
    }
    return Image(width: width, height: height, pixels: out)
}

/// a·b + c rounded once, as a hardware fma: the Float product is exact in Double, so only the
/// (vanishingly rare) double rounding of the sum can differ from a true fma. `Float.addingProduct`
/// is a libm call on baseline x86-64, several times slower in these per-pixel loops.
@inline(__always) func fusedMultiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
    Float(Double(a) * Double(b) + Double(c))
}

/// Round half to even for 0 <= x < 2^22 by the 2^23 trick: baseline x86-64 has no roundss, so
/// `rounded(.toNearestOrEven)` is a libm call.
@inline(__always) func roundedByte(_ x: Float) -> UInt8 {
    let v = min(max(x, 0), 255)
    return UInt8(truncatingIfNeeded: Int((v + 0x1p23) - 0x1p23))
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
