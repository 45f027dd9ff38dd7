// `augmentHSV`: YOLOv5's HSV colour-space augmentation (utils/augmentations.py augment_hsv) and the
// OpenCV 8-bit RGB <-> HSV conversions it runs through (H in [0, 180), S and V in [0, 255]).
//
// RGB -> HSV is OpenCV's integer RGB2HSV_b (12-bit reciprocal tables, rounded shifts); HSV -> RGB
// is OpenCV's HSV2RGB_b (S, V scaled by 1/255 in float, sector formula with fused 1 − s·h, then ·255).
// OpenCV's SIMD loop (blocks of 32 pixels per row in the AVX2 dispatch of opencv-python) truncates
// that to UInt8 while its scalar tail rounds half to even; we do the same per row, which matches
// opencv-python 5.0 on all 180·256·256 inputs both ways. Other dispatch widths differ by ±1 at
// some tail pixels.
// Both are per pixel with no allocation beyond the output.

/// OpenCV's 12-bit reciprocal tables: sdiv[v] = round((255 << 12) / v), hdiv[d] = round((180 << 12) / (6d)).
let hsvTables: (sdiv: [Int32], hdiv: [Int32]) = {
    var s = [Int32](repeating: 0, count: 256), h = [Int32](repeating: 0, count: 256)
    for i in 1..<256 {
        s[i] = Int32((Double(255 << 12) / Double(i)).rounded(.toNearestOrEven))
        h[i] = Int32((Double(180 << 12) / (6 * Double(i))).rounded(.toNearestOrEven))
    }
    return (s, h)
}()

/// cv2.cvtColor(RGB2HSV) for 8-bit: returns an image whose three channels are H, S, V.
public func rgbToHSV(_ image: Image) -> Image {
    var out = image
    let (sdiv, hdiv) = hsvTables
    out.pixels.withUnsafeMutableBufferPointer { p in
        sdiv.withUnsafeBufferPointer { sdiv in
            hdiv.withUnsafeBufferPointer { hdiv in
                for i in stride(from: 0, to: p.count, by: 3) {
                    let r = Int32(p[i]), g = Int32(p[i + 1]), b = Int32(p[i + 2])
                    let v = max(max(r, g), b), vmin = min(min(r, g), b)
                    let diff = v - vmin
                    let s = (diff * sdiv[Int(v)] + (1 << 11)) >> 12
                    var h: Int32
                    if v == r { h = g - b } else if v == g { h = b - r + 2 * diff } else { h = r - g + 4 * diff }
                    h = (h * hdiv[Int(diff)] + (1 << 11)) >> 12
                    if h < 0 { h += 180 }
                    p[i] = UInt8(clamping: h)
                    p[i + 1] = UInt8(s)
                    p[i + 2] = UInt8(v)
                }
            }
        }
    }
    return out
}

/// cv2.cvtColor(HSV2RGB) for 8-bit input with H in [0, 180).
public func hsvToRGB(_ image: Image) -> Image {
    let identity = (0..<256).map { UInt8($0) }
    return mapHSVToRGB(image, hue: identity, saturation: identity, value: identity)
}

/// Pixels per block in OpenCV's vectorised HSV2RGB_b loop (AVX2: 4 vectors of 8 floats).
let hsvSIMDBlock = 32

/// Maps each H, S, V byte through its 256-entry table and converts to RGB as OpenCV does,
/// truncating in whole 32-pixel blocks of each row and rounding in the tail.
func mapHSVToRGB(_ image: Image, hue: [UInt8], saturation: [UInt8], value: [UInt8]) -> Image {
    var out = image
    let w = image.width, vectorized = (w / hsvSIMDBlock) * hsvSIMDBlock
    out.pixels.withUnsafeMutableBufferPointer { p in
        for y in 0..<image.height {
            for x in 0..<w {
                let i = (y * w + x) * 3
                let (r, g, b) = hsvPixelToRGB(h: hue[Int(p[i])], s: saturation[Int(p[i + 1])], v: value[Int(p[i + 2])],
                                              truncate: x < vectorized)
                p[i] = r; p[i + 1] = g; p[i + 2] = b
            }
        }
    }
    return out
}

/// One pixel of OpenCV's HSV2RGB_b / HSV2RGB_native (hscale = 6/180).
@inline(__always) func hsvPixelToRGB(h h8: UInt8, s s8: UInt8, v v8: UInt8, truncate: Bool) -> (UInt8, UInt8, UInt8) {
    let (r, g, b) = hsvPixelToUnitRGB(h: h8, s: Float(s8) * (1 / Float(255)), v: Float(v8) * (1 / Float(255)))
    @inline(__always) func byte(_ x: Float) -> UInt8 {
        truncate ? UInt8(clamping: Int(x * 255)) : roundedByte(x * 255)
    }
    return (byte(r), byte(g), byte(b))
}

/// hsvPixelToRGB before the ·255 and the conversion to bytes: r, g, b in [0, 1] for s and v in [0, 1].
@inline(__always) func hsvPixelToUnitRGB(h h8: UInt8, s: Float, v: Float) -> (r: Float, g: Float, b: Float) {
    var r = v, g = v, b = v
    if s != 0 {
        var h = Float(h8) * (Float(6) / 180)
        while h < 0 { h += 6 }
        while h >= 6 { h -= 6 }
        var sector = Int(h)  // h >= 0 here, so truncation is floor
        h -= Float(sector)
        if sector < 0 || sector >= 6 { sector = 0; h = 0 }
        // 1 − s·h as one fma, as the x86-64 opencv-python build computes it (exact over all 8-bit HSV).
        let t0 = v, t1 = v * (1 - s), t2 = v * fusedMultiplyAdd(-s, h, 1), t3 = v * fusedMultiplyAdd(-s, 1 - h, 1)
        // OpenCV's sector_data {{1,3,0}, {1,0,2}, {3,0,1}, {0,2,1}, {0,1,3}, {2,1,0}} as (b, g, r).
        switch sector {
        case 0: (b, g, r) = (t1, t3, t0)
        case 1: (b, g, r) = (t1, t0, t2)
        case 2: (b, g, r) = (t3, t0, t1)
        case 3: (b, g, r) = (t0, t2, t1)
        case 4: (b, g, r) = (t0, t1, t3)
        default: (b, g, r) = (t2, t1, t0)
        }
    }
    return (r, g, b)
}

/// YOLOv5 augment_hsv with given gains (r = 1 + uniform(−1, 1)·gain per channel): hue LUT
/// (x·r0) mod 180, saturation and value LUTs clip(x·r, 0, 255), truncated to UInt8, applied in
/// OpenCV's HSV space and converted back.
public func applyHSVGains(_ image: Image, hue: Double, saturation: Double, value: Double) -> Image {
    let (lutH, lutS, lutV) = hsvGainLUTs(hue: hue, saturation: saturation, value: value)
    return fusedHSVRoundTrip(image, hue: lutH, saturation: lutS, value: lutV)
}

/// augment_hsv's three 256-entry LUTs for the gains.
func hsvGainLUTs(hue: Double, saturation: Double, value: Double)
    -> (hue: [UInt8], saturation: [UInt8], value: [UInt8]) {
    var lutH = [UInt8](repeating: 0, count: 256), lutS = lutH, lutV = lutH
    for x in 0..<256 {
        let d = Double(x)
        let h = (d * hue).truncatingRemainder(dividingBy: 180)
        lutH[x] = UInt8(truncatingIfNeeded: Int(h < 0 ? h + 180 : h))
        lutS[x] = UInt8(Int(min(max(d * saturation, 0), 255)))
        lutV[x] = UInt8(Int(min(max(d * value, 0), 255)))
    }
    return (lutH, lutS, lutV)
}

/// The scalar reference of `fusedHSVRoundTrip` (HSV+RoundTrip.swift), which replaced it in applyHSVGains.
/// `mapHSVToRGB(rgbToHSV(image), hue:saturation:value:)` in one pass over the pixels, with the
/// same integer RGB -> HSV and the same float HSV -> RGB operations per pixel (so the same bytes),
/// without the intermediate image. HSV -> RGB picks each of r, g, b from t0 = v, t1 = v·(1 − s),
/// t2 = v·fma(−s, f, 1), t3 = v·fma(−s, 1 − f, 1) by the hue's sector, so each channel is v times a
/// factor (1, 1 − s, fma(−s, f, 1) or fma(−s, 1 − f, 1), with v·1 = v exactly) that depends on the
/// hue and saturation bytes only: those factors are tabulated once per call for every (H, S) byte
/// pair, the LUTs folded in. With s = 0 every factor is exactly 1, OpenCV's grey case.
func fusedHSVRoundTripScalar(_ image: Image, hue: [UInt8], saturation: [UInt8], value: [UInt8]) -> Image {
    precondition(hue.count == 256 && saturation.count == 256 && value.count == 256)
    let hues = 180  // RGB -> HSV gives H in 0..<180
    var factors = [Float](repeating: 0, count: hues * 256 * 4)
    var vv = [Float](repeating: 0, count: 256), sv = vv
    for x in 0..<256 {
        sv[x] = Float(saturation[x]) * (1 / Float(255))
        vv[x] = Float(value[x]) * (1 / Float(255))
    }
    for h8 in 0..<hues {
        // Sector and fraction of h·6/180 as hsvPixelToRGB derives them.
        var h = Float(hue[h8]) * (Float(6) / 180)
        while h < 0 { h += 6 }
        while h >= 6 { h -= 6 }
        var sector = Int(h)
        h -= Float(sector)
        if sector < 0 || sector >= 6 { sector = 0; h = 0 }
        for s8 in 0..<256 {
            let s = sv[s8]
            let k0: Float = 1, k1 = 1 - s, k2 = fusedMultiplyAdd(-s, h, 1), k3 = fusedMultiplyAdd(-s, 1 - h, 1)
            let r: Float, g: Float, b: Float
            switch sector {  // OpenCV sector_data, as in hsvPixelToRGB
            case 0: (b, g, r) = (k1, k3, k0)
            case 1: (b, g, r) = (k1, k0, k2)
            case 2: (b, g, r) = (k3, k0, k1)
            case 3: (b, g, r) = (k0, k2, k1)
            case 4: (b, g, r) = (k0, k1, k3)
            default: (b, g, r) = (k2, k1, k0)
            }
            let e = (h8 * 256 + s8) * 4
            factors[e] = r; factors[e + 1] = g; factors[e + 2] = b
        }
    }
    var out = image
    let w = image.width, height = image.height, vectorized = (w / hsvSIMDBlock) * hsvSIMDBlock
    let (sdivTable, hdivTable) = hsvTables
    out.pixels.withUnsafeMutableBufferPointer { p in
        sdivTable.withUnsafeBufferPointer { sdiv in
            hdivTable.withUnsafeBufferPointer { hdiv in
                factors.withUnsafeBufferPointer { factors in
                    vv.withUnsafeBufferPointer { vv in
                        @inline(__always) func convert(_ q: UnsafeMutablePointer<UInt8>, truncate: Bool) {
                            let r = Int32(q[0]), g = Int32(q[1]), b = Int32(q[2])
                            let v = max(max(r, g), b), vmin = min(min(r, g), b)
                            let diff = v &- vmin
                            let s8 = (diff &* sdiv[Int(v)] &+ (1 << 11)) >> 12
                            var hh: Int32
                            if v == r { hh = g &- b } else if v == g { hh = b &- r &+ 2 &* diff } else { hh = r &- g &+ 4 &* diff }
                            hh = (hh &* hdiv[Int(diff)] &+ (1 << 11)) >> 12
                            if hh < 0 { hh &+= 180 }
                            let h8 = Int(UInt8(clamping: hh))
                            guard h8 < hues else {  // not produced by the conversion above; kept exact anyway
                                let (r8, g8, b8) = hsvPixelToRGB(h: hue[h8], s: saturation[Int(s8)], v: value[Int(v)],
                                                                 truncate: truncate)
                                q[0] = r8; q[1] = g8; q[2] = b8
                                return
                            }
                            let k = factors.baseAddress! + (h8 &* 256 &+ Int(s8)) &* 4, vf = vv[Int(v)]
                            let rr = vf * k[0], gg = vf * k[1], bb = vf * k[2]
                            if truncate {
                                q[0] = UInt8(clamping: Int32(rr * 255))
                                q[1] = UInt8(clamping: Int32(gg * 255))
                                q[2] = UInt8(clamping: Int32(bb * 255))
                            } else {
                                q[0] = roundedByte(rr * 255); q[1] = roundedByte(gg * 255); q[2] = roundedByte(bb * 255)
                            }
                        }
                        // A pixel equal to its left neighbour (runs of mosaic grey, flat areas)
                        // copies that neighbour's result: the conversion is a function of the bytes.
                        @inline(__always) func span(_ row: UnsafeMutablePointer<UInt8>, _ range: Range<Int>,
                                                    truncate: Bool) {
                            var last: (UInt8, UInt8, UInt8) = (0, 0, 0), out: (UInt8, UInt8, UInt8) = (0, 0, 0)
                            var haveLast = false
                            for x in range {
                                let q = row + x &* 3
                                let key = (q[0], q[1], q[2])
                                if haveLast && key == last {
                                    q[0] = out.0; q[1] = out.1; q[2] = out.2
                                    continue
                                }
                                convert(q, truncate: truncate)
                                last = key
                                out = (q[0], q[1], q[2])
                                haveLast = true
                            }
                        }
                        for y in 0..<height {
                            let row = p.baseAddress! + y * w * 3
                            span(row, 0..<vectorized, truncate: true)
                            span(row, vectorized..<w, truncate: false)
                        }
                    }
                }
            }
        }
    }
    return out
}

/// YOLOv5 augment_hsv: draws three uniforms in (−1, 1) (h, s, v order) and applies the gains.
/// Does nothing (and draws nothing) when all gains are zero, as YOLOv5.
public func augmentHSV(_ image: Image, hgain: Double = 0.5, sgain: Double = 0.5, vgain: Double = 0.5,
                       using g: inout some RandomNumberGenerator) -> Image {
    guard hgain != 0 || sgain != 0 || vgain != 0 else { return image }
    let rh = g.uniform(-1, 1) * hgain + 1, rs = g.uniform(-1, 1) * sgain + 1, rv = g.uniform(-1, 1) * vgain + 1
    return applyHSVGains(image, hue: rh, saturation: rs, value: rv)
}

