// Image flips (np.fliplr / np.flipud on HWC): in-place row reversal and row swaps, no allocation
// beyond the copy. The label side lives in BoxFormat.swift.

extension Image {
    /// Mirrored left-right.
    public func flippedHorizontally() -> Image {
        var out = self
        let w = width
        out.pixels.withUnsafeMutableBufferPointer { p in
            for y in 0..<height {
                let row = p.baseAddress! + y * w * 3
                var a = 0, b = w - 1
                while a < b {
                    for c in 0..<3 { swap(&row[a * 3 + c], &row[b * 3 + c]) }
                    a += 1; b -= 1
                }
            }
        }
        return out
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
