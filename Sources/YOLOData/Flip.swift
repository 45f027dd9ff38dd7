// Image flips (np.fliplr / np.flipud on HWC): in-place row reversal and row swaps, no allocation
// beyond the copy. The label side lives in BoxFormat.swift.

extension Image {
    /// Mirrored left-right: each row written once, front to back, four pixels (12 bytes) per
    /// 16-byte shuffle, the rest of the row pixel by pixel.
    public func flippedHorizontally() -> Image {
        let w = width, h = height, rowBytes = w * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: rowBytes * h) { out, count in
            self.pixels.withUnsafeBufferPointer { src in
                for y in 0..<h {
                    let rowIn = src.baseAddress! + y * rowBytes, rowOut = out.baseAddress! + y * rowBytes
                    var x = 0
                    // Output pixels x…x+3 are input pixels w−1−x … w−4−x: 16 bytes loaded from 4
                    // bytes before input pixel w−4−x, stored at output pixel x (its last 4 bytes
                    // are rewritten by what follows). With x + 6 ≤ w both stay inside the row.
                    while x + 6 <= w {
                        let v = UnsafeRawPointer(rowIn + (w - 4 - x) * 3 - 4).loadUnaligned(as: SIMD16<UInt8>.self)
                        let r = SIMD16<UInt8>(v[13], v[14], v[15], v[10], v[11], v[12], v[7], v[8], v[9],
                                              v[4], v[5], v[6], 0, 0, 0, 0)
                        UnsafeMutableRawPointer(rowOut + x * 3).storeBytes(of: r, as: SIMD16<UInt8>.self)
                        x += 4
                    }
                    while x < w {
                        let from = rowIn + (w - 1 - x) * 3, to = rowOut + x * 3
                        to[0] = from[0]; to[1] = from[1]; to[2] = from[2]
                        x += 1
                    }
                }
            }
            count = rowBytes * h
        }
        return Image(width: w, height: h, pixels: pixels)
    }

    /// Mirrored top-bottom.
    public func flippedVertically() -> Image {
        var out = self
        let rowBytes = width * 3
        out.pixels.withUnsafeMutableBufferPointer { p in
            var a = 0, b = height - 1
            while a < b {
                let ra = p.baseAddress! + a * rowBytes, rb = p.baseAddress! + b * rowBytes
                for i in 0..<rowBytes { swap(&ra[i], &rb[i]) }
                a += 1; b -= 1
            }
        }
        return out
    }
}
