// The 8-lane kernels of `fusedHSVRoundTrip` (HSV+RoundTrip.swift): OpenCV's RGB -> HSV and
// HSV -> RGB on 8 pixels in SIMD lanes. Each lane computes what the scalar code (rgbToHSV,
// hsvPixelToRGB) computes, the same integers and the same float roundings, so the same bytes; it is
// not a different approximation of HSV. Swift's generic SIMD conversions and roundings and its
// vector-scalar comparisons compile to calls or per-lane loops through memory, so these kernels
// convert by bit tricks and compare vector with vector.

typealias Int32x8 = SIMD8<Int32>
typealias Floatx8 = SIMD8<Float>

@inline(always) func lanes(_ x: Int32) -> Int32x8 { Int32x8(repeating: x) }

// Float <-> Int32 in the lanes by 2^23: for 0 <= x < 2^22, x + 2^23 is 2^23 + x rounded to an
// integer half to even, exactly, and its bit pattern is 0x4B000000 plus that integer.
@inline(always) func roundedToInt(_ x: Floatx8) -> Int32x8 {
    unsafeBitCast(x + 0x1p23, to: Int32x8.self) &- 0x4B00_0000
}

/// floor(x) as an integer, for 0 <= x < 2^22 (= truncation, as Int(x) in the scalar code).
@inline(always) func floorToInt(_ x: Floatx8) -> Int32x8 {
    let n = roundedToInt(x)
    return n.replacing(with: n &- 1, where: floatOf(n) .> x)
}

/// Float(n) exactly, for 0 <= n < 2^22.
@inline(always) func floatOf(_ n: Int32x8) -> Floatx8 {
    unsafeBitCast(n &+ 0x4B00_0000, to: Floatx8.self) - 0x1p23
}

/// OpenCV's sdiv[v] = round((255 << 12) / v) and hdiv[d] = round((180 << 12) / 6d) (hsvTables) as
/// one float division and a round half to even, for x in 1...255: the quotient is correctly
/// rounded, and for every such x it rounds to the table's integer (HSVRoundTripTests checks all 255).
@inline(always) func reciprocal12(_ numerator: Float, _ x: Int32x8) -> Int32x8 {
    roundedToInt(numerator / floatOf(x))
}

/// OpenCV's integer RGB2HSV_b on 8 pixels (as rgbToHSV): H in 0..<180, S and V in 0...255.
@inline(always) func rgbToHSV8(r: Int32x8, g: Int32x8, b: Int32x8) -> (h: Int32x8, s: Int32x8, v: Int32x8) {
    let v = pointwiseMax(pointwiseMax(r, g), b), diff = v &- pointwiseMin(pointwiseMin(r, g), b)
    let one = Int32x8(repeating: 1)
    // v = 0 or diff = 0 gives s = 0 or h = 0 whatever the divisor (the tables hold 0 there).
    let s = (diff &* reciprocal12(255 * 4096, pointwiseMax(v, one)) &+ (1 << 11)) &>> 12
    var hh = r &- g &+ 4 &* diff
    hh.replace(with: b &- r &+ 2 &* diff, where: v .== g)
    hh.replace(with: g &- b, where: v .== r)
    var h = (hh &* reciprocal12(30 * 4096, pointwiseMax(diff, one)) &+ (1 << 11)) &>> 12
    h.replace(with: h &+ lanes(180), where: h .< Int32x8())
    return (h, s, v)
}

/// OpenCV's float HSV2RGB_b on 8 pixels, as hsvPixelToUnitRGB: h = sector + fraction f in [0, 6)
/// (the hue table's value), s and v in [0, 1]; returns r, g, b in [0, 1] (before ·255).
///
/// hsvPixelToUnitRGB picks each channel from t0 = v, t1 = v·(1 − s), t2 = v·fma(−s, f, 1) and
/// t3 = v·fma(−s, 1 − f, 1) by the sector (OpenCV's sector_data). Each is v·fma(−s, q, 1) with
/// q = 0, 1, f or 1 − f (fma(−s, 0, 1) = 1 and fma(−s, 1, 1) = 1 − s exactly, each rounded once),
/// and per channel q is a clamped hue ramp: r: min(h − 1, 5 − h), g: max(1 − h, h − 3),
/// b: max(3 − h, h − 5), clamped to [0, 1]. Where a ramp is in (0, 1) it is h − k or k − h at the
/// sector's own k, which equals f or 1 − f exactly (Sterbenz: h and k within a factor 2; for
/// sector 0, 1 − h is 1 − f itself); elsewhere it clamps to exactly 0 or 1. So each channel is
/// the same product of the same two floats as in the scalar code.
@inline(always) func hsvToRGB8(h: Floatx8, s: Floatx8, v: Floatx8) -> (r: Floatx8, g: Floatx8, b: Floatx8) {
    let zero = Floatx8(), one = Floatx8(repeating: 1), ns = zero - s
    @inline(always) func channel(_ q: Floatx8) -> Floatx8 {
        var q = q
        q.replace(with: zero, where: q .< zero)
        q.replace(with: one, where: q .> one)
        return v * fusedMultiplyAdd(ns, q, one)
    }
    @inline(always) func k(_ x: Float) -> Floatx8 { Floatx8(repeating: x) }
    let hm1 = h - one, p5mh = k(5) - h, omh = one - h, hm3 = h - k(3), p3mh = k(3) - h, hm5 = h - k(5)
    return (channel(hm1.replacing(with: p5mh, where: p5mh .< hm1)),
            channel(omh.replacing(with: hm3, where: hm3 .> omh)),
            channel(p3mh.replacing(with: hm5, where: hm5 .> p3mh)))
}

/// x·255 to a byte: truncated and saturated (OpenCV's SIMD blocks) or rounded half to even and
/// saturated (its scalar tail, as roundedByte).
@inline(always) func bytes8(_ x: Floatx8, truncate: Bool) -> Int32x8 {
    // x·255 >= 0 (v, s and the fraction are in [0, 1]), so clamping first and then truncating or
    // rounding is the same as UInt8(clamping: Int32(y)) and roundedByte(y).
    var y = x * 255
    y.replace(with: Floatx8(), where: y .< Floatx8())
    y.replace(with: Floatx8(repeating: 255), where: y .> Floatx8(repeating: 255))
    return truncate ? floorToInt(y) : roundedToInt(y)
}

/// OpenCV's RGB -> HSV bytes of 8 interleaved RGB pixels: reads 28 bytes at `src` (24 used).
@inline(always) func loadHSV8(_ src: UnsafeRawPointer) -> (h: Int32x8, s: Int32x8, v: Int32x8) {
    // Pixels 0-3 and 4-7 as 16-byte loads, each pixel's r, g, b moved into the low bytes of a lane.
    let x = SIMD32<UInt8>(lowHalf: src.loadUnaligned(as: SIMD16<UInt8>.self),
                          highHalf: (src + 12).loadUnaligned(as: SIMD16<UInt8>.self))
    let words = unsafeBitCast(SIMD32<UInt8>(
        x[0], x[1], x[2], 0, x[3], x[4], x[5], 0, x[6], x[7], x[8], 0, x[9], x[10], x[11], 0,
        x[16], x[17], x[18], 0, x[19], x[20], x[21], 0, x[22], x[23], x[24], 0, x[25], x[26], x[27], 0),
        to: Int32x8.self)
    let byte = lanes(255)
    return rgbToHSV8(r: words & byte, g: (words &>> 8) & byte, b: words &>> 16)
}

/// Stores 8 pixels' r, g, b bytes interleaved: writes 28 bytes at `dst` (24 meaningful; the
/// last 4 are overwritten by the next block or dropped).
@inline(always) func storeRGB8(_ dst: UnsafeMutableRawPointer, r: Int32x8, g: Int32x8, b: Int32x8) {
    let packed = unsafeBitCast(r | g &<< 8 | b &<< 16, to: SIMD32<UInt8>.self)
    // 12 bytes per 4 pixels: the second store overwrites the first one's 4 spare bytes.
    let lo = packed.lowHalf, hi = packed.highHalf
    dst.storeBytes(of: SIMD16<UInt8>(lo[0], lo[1], lo[2], lo[4], lo[5], lo[6], lo[8], lo[9], lo[10], lo[12], lo[13],
                                     lo[14], 0, 0, 0, 0), as: SIMD16<UInt8>.self)
    (dst + 12).storeBytes(of: SIMD16<UInt8>(hi[0], hi[1], hi[2], hi[4], hi[5], hi[6], hi[8], hi[9], hi[10], hi[12],
                                            hi[13], hi[14], 0, 0, 0, 0), as: SIMD16<UInt8>.self)
}
