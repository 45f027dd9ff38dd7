// The axis-aligned fast path of `remap` (Warp.swift): scale and translate only, YOLOv5's mosaic
// warp with degrees = shear = perspective = 0. Separable, so a horizontal pass per source row and a
// vertical pass per output row, each SIMD; byte-identical to the per-pixel `remapReference`.

/// Per output column x of the separable remap: the left tap's source column ix and its weight α
/// (ix = −2, α = 0 for a column entirely outside), handed to `each`; returns the source columns
/// read, as a range and as (first, last) (first > last when none).
@discardableResult
func axisAlignedColumns(width: Int, sourceWidth sw: Int, m0: Float, m2: Float,
                        _ each: (_ x: Int, _ ix: Int, _ alpha: Float) -> Void = { _, _, _ in })
    -> (columns: Range<Int>, bounds: (Int, Int)) {
    var first = sw, last = -1
    for x in 0..<width {
        let sx = fusedMultiplyAdd(m0, Float(x), m2)
        var ix = -2, alpha: Float = 0
        if sx > -2 && sx < Float(sw + 1) {
            ix = floorToInt(sx)
            alpha = sx - Float(ix)
            first = min(first, max(ix, 0))
            last = max(last, min(ix + 1, sw - 1))
        }
        each(x, ix, alpha)
    }
    return (first..<max(first, last + 1), (first, last))
}

/// Output row y of the separable remap: the upper tap's source row iy and its weight β, or nil
/// when the row is all border (rows iy and iy + 1 are read where inside the source).
@inline(__always) func axisAlignedRow(_ y: Int, sourceHeight sh: Int, m4: Float, m5: Float) -> (iy: Int, beta: Float)? {
    let sy = Float(y) * m4 + m5
    guard sy > -2 && sy < Float(sh + 1) else { return nil }
    let iy = floorToInt(sy)
    return (iy, sy - Float(iy))
}

/// The affine remap when the inverse matrix has no rotation or shear (m1 = m3 = 0: scale and
/// translate only, YOLOv5's mosaic warp with degrees = shear = 0). Then the source x depends on
/// the output column only and the source y on the row only, so OpenCV's blend
/// f0 = fma(α, p01 − p00, p00) (row iy), f1 likewise (row iy + 1), f = fma(β, f1 − f0, f0) splits
/// into a horizontal pass per source row (`HorizontalRows`, cached: consecutive output rows share
/// source rows) and a vertical pass per output row, with the very same float operations per pixel
/// as `RemapSource`. Rows outside the source are all border; a position whose neighbours are all
/// outside blends to the border value exactly, as the per-pixel path leaves it.
func remapAxisAligned(_ image: Image, width: Int, height: Int, border: UInt8, m0: Float, m2: Float, m4: Float,
                      m5: Float) -> [UInt8] {
    let sw = image.width, sh = image.height, n = width * 3, b = Float(border)
    // Per output column x: the left tap's offset in a padded Float row (pixel ix + 2) and α.
    // Columns entirely outside (or not finite) read two border pixels.
    let offsets = UnsafeMutablePointer<Int>.allocate(capacity: width)
    let alphas = UnsafeMutablePointer<Float>.allocate(capacity: width)
    // Padded Float source row (pixels −2 ..< sw + 2, 3 floats each, + 1 for the last tap's 4th lane);
    // two cached horizontal rows (stride n + 1 for the last pixel's 4th lane), then a border row.
    let paddedCount = (sw + 4) * 3 + 1, stride = n + 1
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)
    let slots = UnsafeMutablePointer<Float>.allocate(capacity: 3 * stride)
    padded.initialize(repeating: b, count: paddedCount)
    slots.initialize(repeating: b, count: 3 * stride)
    defer { offsets.deallocate(); alphas.deallocate(); padded.deallocate(); slots.deallocate() }
    let (first, last) = axisAlignedColumns(width: width, sourceWidth: sw, m0: m0, m2: m2) { x, ix, alpha in
        offsets[x] = (ix + 2) * 3
        alphas[x] = alpha
    }.bounds
    return [UInt8](unsafeUninitializedCapacity: n * height) { out, count in
        image.pixels.withUnsafeBufferPointer { src in
            var rows = HorizontalRows(source: src.baseAddress!, sourceWidth: sw, width: width, offsets: offsets,
                                      alphas: alphas, columns: first..<max(first, last + 1), padded: padded,
                                      slots: slots, stride: stride)
            for y in 0..<height {
                let d = out.baseAddress! + y * n
                guard let (iy, beta) = axisAlignedRow(y, sourceHeight: sh, m4: m4, m5: m5) else {
                    d.initialize(repeating: border, count: n)
                    continue
                }
                let borderRow = UnsafePointer(slots + 2 * stride)
                let h0 = iy >= 0 && iy < sh ? rows.row(iy, keep: Int.min) : borderRow
                let h1 = iy + 1 >= 0 && iy + 1 < sh ? rows.row(iy + 1, keep: iy) : borderRow
                vertical(h0, h1, beta: beta, count: n, into: d)
            }
        }
        count = n * height
    }
}

/// The horizontal pass of `remapAxisAligned`: f = fma(α, p1 − p0, p0) per output column and channel
/// for one source row, into one of two cached slots. The row's used columns are first converted to
/// Float in a row padded with 2 border pixels either side (converting there, vectorised, costs less
/// than converting each pixel's taps), so that each pixel's 3 channels blend as one SIMD4 (4-float
/// loads of the two taps; the 4th lane is overwritten by the next pixel).
private struct HorizontalRows {
    let source: UnsafePointer<UInt8>
    let sourceWidth: Int, width: Int
    let offsets: UnsafePointer<Int>, alphas: UnsafePointer<Float>
    let columns: Range<Int>
    let padded: UnsafeMutablePointer<Float>, slots: UnsafeMutablePointer<Float>
    let stride: Int
    /// The source rows the two slots hold (Int.min: none).
    var held = (Int.min, Int.min)

    /// The horizontal values of source row `r` (inside the source): cached, or computed into the
    /// slot not holding `keep`.
    mutating func row(_ r: Int, keep: Int) -> UnsafePointer<Float> {
        if held.0 == r { return UnsafePointer(slots) }
        if held.1 == r { return UnsafePointer(slots + stride) }
        if held.0 != keep || held.0 == Int.min {
            compute(r, into: slots)
            held.0 = r
            return UnsafePointer(slots)
        }
        compute(r, into: slots + stride)
        held.1 = r
        return UnsafePointer(slots + stride)
    }

    private func compute(_ r: Int, into h: UnsafeMutablePointer<Float>) {
        let s = source + (r * sourceWidth + columns.lowerBound) * 3, p = padded + (columns.lowerBound + 2) * 3
        for i in 0..<columns.count * 3 { p[i] = Float(s[i]) }
        let raw = UnsafeRawPointer(padded), out = UnsafeMutableRawPointer(h)
        for x in 0..<width {
            let o = offsets[x] &* 4
            let p0 = raw.loadUnaligned(fromByteOffset: o, as: SIMD4<Float>.self)
            let p1 = raw.loadUnaligned(fromByteOffset: o &+ 12, as: SIMD4<Float>.self)
            out.storeBytes(of: fusedMultiplyAdd(SIMD4(repeating: alphas[x]), p1 - p0, p0), toByteOffset: x &* 12,
                           as: SIMD4<Float>.self)
        }
    }
}

/// d[i] = roundedByte(fma(β, h1[i] − h0[i], h0[i])) for i < count. The clamp is written as
/// selects LLVM turns into vector min/max (equal to `roundedByte`'s on the finite values here), so
/// the loop vectorises 32 wide.
@inline(__always) private func vertical(_ h0: UnsafePointer<Float>, _ h1: UnsafePointer<Float>, beta: Float,
                                        count: Int, into d: UnsafeMutablePointer<UInt8>) {
    for i in 0..<count {
        let f0 = h0[i], f = fusedMultiplyAdd(beta, h1[i] - f0, f0)
        let v = f > 0 ? f : 0, c = v < 255 ? v : 255
        d[i] = UInt8(truncatingIfNeeded: (c + 0x1p23).bitPattern)
    }
}
