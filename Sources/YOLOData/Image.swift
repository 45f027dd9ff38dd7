// `Image`: an 8-bit RGB picture stored HWC (row-major, 3 channels interleaved), the type every
// decoder produces and every augmentation takes.

/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Always 3 (RGB); grayscale and CMYK sources are converted when decoded.
    public var channels: Int { 3 }
    /// `height * width * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "pixel count \(pixels.count) != \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid image (YOLOv5 pads with grey 114).
    public init(width: Int, height: Int, fill: UInt8 = 114) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: fill, count: width * height * 3))
    }

    @inline(__always)
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * 3 + c] }
        set { pixels[(y * width + x) * 3 + c] = newValue }
    }
}

extension Image {
    /// Sets the pixels of `columns` x `rows` (inside the image) to `value` in all channels.
    mutating func fill(columns: Range<Int>, rows: Range<Int>, with value: UInt8) {
        guard !columns.isEmpty else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in rows {
                (p.baseAddress! + (y * w + columns.lowerBound) * 3).update(repeating: value, count: columns.count * 3)
            }
        }
    }
}
