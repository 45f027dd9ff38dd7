// `fusedHSVRoundTrip`: applyHSVGains' RGB -> HSV -> LUTs -> RGB in one pass over an image, row by
// row through the 8-lane kernels of HSV+SIMD.swift. Same bytes as `fusedHSVRoundTripScalar`.

/// `mapHSVToRGB(rgbToHSV(image), hue:saturation:value:)` in one pass, 8 pixels at a time: each
/// row's first (w / 32)·32 pixels truncate, the rest round (OpenCV's SIMD blocks and scalar tail).
func fusedHSVRoundTrip(_ image: Image, hue: [UInt8], saturation: [UInt8], value: [UInt8]) -> Image {
    precondition(hue.count == 256 && saturation.count == 256 && value.count == 256)
    guard !image.pixels.isEmpty else { return image }
    let count = image.pixels.count, rowBytes = image.width * 3
    let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
        let bytes = HSVRoundTripScratch.byteCount(width: image.width)
        withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 32) { memory in
            let scratch = HSVRoundTripScratch(width: image.width, memory: memory.baseAddress!)
            scratch.fillTables(hue: hue, saturation: saturation, value: value)
            image.pixels.withUnsafeBufferPointer { src in
                let (src, dst) = (src.baseAddress!, out.baseAddress!)
                for row in stride(from: 0, to: count, by: rowBytes) {
                    // A row's blocks read and write up to `span` bytes from its start: rows at the
                    // end of the image go through `padded` (in place: a row is read before written).
                    if row + scratch.span <= count {
                        scratch.convertRow(src + row, dst + row)
                    } else {
                        scratch.padded.copyMemory(from: src + row, byteCount: rowBytes)
                        scratch.convertRow(scratch.padded, scratch.padded)
                        let converted = scratch.padded.assumingMemoryBound(to: UInt8.self)
                        (dst + row).initialize(from: converted, count: rowBytes)
                    }
                }
            }
        }
        initialized = count
    }
    return Image(width: image.width, height: image.height, pixels: pixels)
}

/// fusedHSVRoundTrip's tables and per-row buffers, carved from one allocation. A row is done in
/// three passes: RGB -> HSV bytes (SIMD), the tables by scalar loads (LLVM emits AVX2 gathers only
/// for CPUs where they are fast, not for the Haswell target, and lane inserts crowd one port),
/// HSV -> RGB (SIMD). A block of 8 pixels equal to the block on its left (runs of mosaic grey,
/// flat areas) in the same rounding mode copies that block's output.
struct HSVRoundTripScratch {
    let width: Int, blocks: Int, vectorized: Int
    /// 256 each, indexed by H, S, V byte: the hue LUT times 6/180, wrapped into [0, 6) as
    /// hsvPixelToRGB wraps it; the saturation and value LUTs times 1/255.
    let hueTable: UnsafeMutablePointer<Float>, saturationTable: UnsafeMutablePointer<Float>
    let valueTable: UnsafeMutablePointer<Float>
    /// 8·blocks each: a row's H, S, V bytes, then their table values.
    let h: UnsafeMutablePointer<Int32>, s: UnsafeMutablePointer<Int32>, v: UnsafeMutablePointer<Int32>
    let hf: UnsafeMutablePointer<Float>, sf: UnsafeMutablePointer<Float>, vf: UnsafeMutablePointer<Float>
    /// Per block: the same input bytes and rounding mode as the block on its left.
    let repeats: UnsafeMutablePointer<Bool>
    /// `span` bytes: a row copied in and converted in place.
    let padded: UnsafeMutableRawPointer

    /// Bytes a row's blocks read or write from its start: 24 per block and 4 beyond (the 16-byte
    /// loads and stores at 12 bytes into the last block).
    var span: Int { blocks * 24 + 4 }

    static func byteCount(width: Int) -> Int {
        let lanes = (width + 7) / 8 * 8
        return 3 * 256 * 4 + 6 * lanes * 4 + lanes / 8 + lanes * 3 + 4
    }

    init(width: Int, memory: UnsafeMutableRawPointer) {
        self.width = width
        blocks = (width + 7) / 8
        vectorized = (width / hsvSIMDBlock) * hsvSIMDBlock
        let lanes = blocks * 8
        let floats = memory.bindMemory(to: Float.self, capacity: 3 * 256 + 3 * lanes)
        (hueTable, saturationTable, valueTable) = (floats, floats + 256, floats + 512)
        (hf, sf, vf) = (floats + 768, floats + 768 + lanes, floats + 768 + 2 * lanes)
        let ints = (memory + (768 + 3 * lanes) * 4).bindMemory(to: Int32.self, capacity: 3 * lanes)
        (h, s, v) = (ints, ints + lanes, ints + 2 * lanes)
        repeats = (memory + (768 + 6 * lanes) * 4).bindMemory(to: Bool.self, capacity: blocks)
        padded = memory + (768 + 6 * lanes) * 4 + blocks
    }

    func fillTables(hue: [UInt8], saturation: [UInt8], value: [UInt8]) {
        for i in 0..<256 {
            var h = Float(hue[i]) * (Float(6) / 180)
            while h < 0 { h += 6 }
            while h >= 6 { h -= 6 }
            // hsvPixelToRGB resets an out-of-range sector to 0 with fraction 0.
            hueTable[i] = Int(h) < 0 || Int(h) >= 6 ? 0 : h
            saturationTable[i] = Float(saturation[i]) * (1 / Float(255))
            valueTable[i] = Float(value[i]) * (1 / Float(255))
        }
    }

    /// One row of `width` pixels (`span` bytes readable at `input`, writable at `output`; the
    /// two may be the same).
    func convertRow(_ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer) {
        hsvPass(input)
        tablePass()
        rgbPass(output, 0..<vectorized / 8, truncate: true)
        rgbPass(output, vectorized / 8..<blocks, truncate: false)
    }

    func hsvPass(_ input: UnsafeRawPointer) {
        for b in 0..<blocks {
            // A short last block compares bytes past the row too: equal bytes, equal outputs.
            repeats[b] = b > 0 && b &* 8 != vectorized && sameBytes24(input + b &* 24, input + (b &- 1) &* 24)
            if repeats[b] { continue }
            let (hb, sb, vb) = loadHSV8(input + b &* 24)
            UnsafeMutableRawPointer(h + b &* 8).storeBytes(of: hb, as: Int32x8.self)
            UnsafeMutableRawPointer(s + b &* 8).storeBytes(of: sb, as: Int32x8.self)
            UnsafeMutableRawPointer(v + b &* 8).storeBytes(of: vb, as: Int32x8.self)
        }
    }

    func tablePass() {
        for b in 0..<blocks where !repeats[b] {
            // Every index is an H, S or V byte (H < 180), within the 256-entry tables.
            for i in b &* 8..<b &* 8 &+ 8 {
                hf[i] = hueTable[Int(UInt32(bitPattern: h[i]))]
                sf[i] = saturationTable[Int(UInt32(bitPattern: s[i]))]
                vf[i] = valueTable[Int(UInt32(bitPattern: v[i]))]
            }
        }
    }

    @inline(always) func rgbPass(_ output: UnsafeMutableRawPointer, _ blockRange: Range<Int>, truncate: Bool) {
        for b in blockRange {
            let at = output + b &* 24
            if repeats[b] {
                at.copyMemory(from: at - 24, byteCount: 24)
                continue
            }
            let rgb = hsvToRGB8(h: UnsafeRawPointer(hf + b &* 8).loadUnaligned(as: Floatx8.self),
                                s: UnsafeRawPointer(sf + b &* 8).loadUnaligned(as: Floatx8.self),
                                v: UnsafeRawPointer(vf + b &* 8).loadUnaligned(as: Floatx8.self))
            storeRGB8(at, r: bytes8(rgb.r, truncate: truncate), g: bytes8(rgb.g, truncate: truncate),
                      b: bytes8(rgb.b, truncate: truncate))
        }
    }
}

/// Whether the 24 bytes at `a` and `b` are equal.
@inline(always) func sameBytes24(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Bool {
    let d = (a.loadUnaligned(as: UInt64.self) ^ b.loadUnaligned(as: UInt64.self))
        | (a.loadUnaligned(fromByteOffset: 8, as: UInt64.self) ^ b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        | (a.loadUnaligned(fromByteOffset: 16, as: UInt64.self) ^ b.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    return d == 0
}
