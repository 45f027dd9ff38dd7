// EXIF orientation (tag 0x0112) read from a JPEG's APP1 segment and applied to pixels, as
// `cv2.imread` does by default. Only IFD0's orientation is read; nothing else of EXIF.
import Foundation

public enum EXIF {
    /// The orientation 1...8 of a JPEG, or 1 when there is no (valid) EXIF orientation. Walks the
    /// marker segments up to the first scan; accepts both TIFF byte orders.
    public static func orientation(jpeg bytes: UnsafeRawBufferPointer) -> Int {
        let n = bytes.count
        guard n >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return 1 }
        var i = 2
        while i + 4 <= n {
            guard bytes[i] == 0xFF else { return 1 }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xDA || marker == 0xD9 { return 1 }  // start of scan / end: no EXIF before it
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }  // no length
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= n else { return 1 }
            if marker == 0xE1, let o = orientation(app1: bytes, start: i + 4, end: i + 2 + length) { return o }
            i += 2 + length
        }
        return 1
    }

    /// Parses "Exif\0\0" + TIFF header + IFD0 inside bytes[start..<end].
    static func orientation(app1 b: UnsafeRawBufferPointer, start: Int, end: Int) -> Int? {
        guard end - start >= 14, b[start] == 0x45, b[start + 1] == 0x78, b[start + 2] == 0x69,
              b[start + 3] == 0x66, b[start + 4] == 0, b[start + 5] == 0 else { return nil }
        let tiff = start + 6
        let little: Bool
        switch (b[tiff], b[tiff + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ p: Int) -> Int? {
            guard p >= tiff, p + 2 <= end else { return nil }
            return little ? Int(b[p]) | Int(b[p + 1]) << 8 : Int(b[p]) << 8 | Int(b[p + 1])
        }
        func u32(_ p: Int) -> Int? {
            guard let lo = u16(little ? p : p + 2), let hi = u16(little ? p + 2 : p) else { return nil }
            return hi << 16 | lo
        }
        guard u16(tiff + 2) == 42, let ifd = u32(tiff + 4), let count = u16(tiff + ifd) else { return nil }
        for e in 0..<count {
            let entry = tiff + ifd + 2 + 12 * e
            guard let tag = u16(entry) else { return nil }
            guard tag == 0x0112 else { continue }
            // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
            guard u16(entry + 2) == 3, let value = u16(entry + 8), (1...8).contains(value) else { return nil }
            return value
        }
        return nil
    }

    /// Pixels (HWC, 3 channels) transformed so that the picture displays upright; orientations
    /// 5...8 swap width and height. Returns (pixels, width, height).
    public static func apply(orientation: Int, pixels: [UInt8], width w: Int, height h: Int) -> ([UInt8], Int, Int) {
        guard (2...8).contains(orientation) else { return (pixels, w, h) }
        let swap = orientation >= 5
        let ow = swap ? h : w, oh = swap ? w : h
        // For output (x, y): source (sx, sy). 2 mirror, 3 rotate 180, 4 flip, 5 transpose,
        // 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { x, y in (w - 1 - x, y) }
        case 3: source = { x, y in (w - 1 - x, h - 1 - y) }
        case 4: source = { x, y in (x, h - 1 - y) }
        case 5: source = { x, y in (y, x) }
        case 6: source = { x, y in (y, h - 1 - x) }
        case 7: source = { x, y in (w - 1 - y, h - 1 - x) }
        default: source = { x, y in (w - 1 - y, x) }
        }
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (sx, sy) = source(x, y)
                        let s = (sy * w + sx) * 3, d = (y * ow + x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return (out, ow, oh)
    }
}
