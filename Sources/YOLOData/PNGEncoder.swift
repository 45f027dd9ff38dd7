// `PNGEncoder`: writes an `Image` as an 8-bit RGB PNG through libpng's simplified API
// (`png_image_write_to_memory`). It is the encoder behind every plot YOLOv5 saves as .png;
// it does not decode (the image codecs do), except for a small round-trip helper for tests.
import CImageCodecs
import Foundation

/// Errors from PNG encoding; the message is libpng's own.
public enum PNGError: Error, Equatable, CustomStringConvertible {
    case emptyImage(width: Int, height: Int)
    case encodeFailed(String)
    case decodeFailed(String)

    public var description: String {
        switch self {
        case let .emptyImage(w, h): return "cannot write a \(w)x\(h) PNG: both sides must be positive"
        case let .encodeFailed(m): return "PNG encode failed: \(m)"
        case let .decodeFailed(m): return "PNG decode failed: \(m)"
        }
    }
}

/// Encodes `Image`s as PNG (8-bit RGB, no alpha, libpng's default zlib level).
public enum PNGEncoder {
    /// The PNG bytes of `image`.
    public static func encode(_ image: Image) throws -> Data {
        guard image.width > 0, image.height > 0 else {
            throw PNGError.emptyImage(width: image.width, height: image.height)
        }
        var png = makeHeader(width: image.width, height: image.height)
        let stride = Int32(image.width * 3)
        // First pass sizes the output (memory == nil), second writes it.
        var size = 0
        let sized = image.pixels.withUnsafeBytes { raw in
            png_image_write_to_memory(&png, nil, &size, 0, raw.baseAddress, stride, nil)
        }
        guard sized != 0, size > 0 else { throw PNGError.encodeFailed(message(of: &png)) }
        var out = Data(count: size)
        let written = out.withUnsafeMutableBytes { dst in
            image.pixels.withUnsafeBytes { raw in
                png_image_write_to_memory(&png, dst.baseAddress, &size, 0, raw.baseAddress, stride, nil)
            }
        }
        png_image_free(&png)
        guard written != 0 else { throw PNGError.encodeFailed(message(of: &png)) }
        return out.prefix(size)
    }

    /// Encodes `image` and writes it to `url` atomically.
    public static func write(_ image: Image, to url: URL) throws {
        try encode(image).write(to: url, options: .atomic)
    }

    /// Decodes a PNG into RGB with libpng's simplified reader. For tests of the encoder and
    /// the plots; the data pipeline uses the image codecs instead.
    public static func decodeForTesting(_ data: Data) throws -> Image {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&png, raw.baseAddress, raw.count)
        }
        guard began != 0 else { throw PNGError.decodeFailed(message(of: &png)) }
        png.format = UInt32(PNG_FORMAT_RGB)
        let width = Int(png.width), height = Int(png.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let finished = pixels.withUnsafeMutableBytes { dst in
            png_image_finish_read(&png, nil, dst.baseAddress, Int32(width * 3), nil)
        }
        guard finished != 0 else { throw PNGError.decodeFailed(message(of: &png)) }
        return Image(width: width, height: height, pixels: pixels)
    }

    private static func makeHeader(width: Int, height: Int) -> png_image {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(width)
        png.height = UInt32(height)
        png.format = UInt32(PNG_FORMAT_RGB)
        return png
    }

    /// libpng keeps its last error in a fixed 64-byte C string inside the control struct.
    private static func message(of png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }
}
