// `ImageCodec`: file bytes → `Image` (JPEG via TurboJPEG, PNG via libpng's simplified API) and
// `Image` → JPEG bytes. It aims at what `cv2.imread(path, IMREAD_COLOR)` gives YOLOv5, converted to
// RGB: EXIF orientation applied (JPEG), grayscale replicated, CMYK converted as OpenCV does, PNG
// alpha dropped without compositing. It is not a general image library: other formats are refused.
import CImageCodecs
import CJPEGRegion
import Foundation

/// Why a picture could not be decoded or encoded. Every case names the file.
public enum ImageCodecError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a format we decode (BMP, TIFF, WebP, ... or not an image at all).
    case unsupportedFormat(path: String, detected: String)
    case empty(path: String)
    /// The decoder gave up; `reason` is the library's message.
    case corrupt(path: String, reason: String)
    case encodeFailed(reason: String)

    public var description: String {
        switch self {
        case let .unsupportedFormat(path, detected):
            return "\(path): unsupported image format (\(detected)); only JPEG and PNG are decoded"
        case let .empty(path): return "\(path): empty file (0 bytes)"
        case let .corrupt(path, reason): return "\(path): corrupt image: \(reason)"
        case let .encodeFailed(reason): return "JPEG encode failed: \(reason)"
        }
    }
}

/// The container a file's bytes are in, sniffed from the magic number (never the extension,
/// as OpenCV also sniffs).
public enum ImageFormat: String, Sendable {
    case jpeg, png, bmp, gif, tiff, webp, unknown

    public init(sniffing bytes: UnsafeRawBufferPointer) {
        func starts(_ magic: [UInt8]) -> Bool { bytes.count >= magic.count && zip(bytes, magic).allSatisfy { $0 == $1 } }
        if starts([0xFF, 0xD8, 0xFF]) { self = .jpeg }
        else if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png }
        else if starts([0x42, 0x4D]) { self = .bmp }
        else if starts([0x47, 0x49, 0x46, 0x38]) { self = .gif }
        else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { self = .tiff }
        else if starts([0x52, 0x49, 0x46, 0x46]), bytes.count >= 12,
                bytes[8] == 0x57, bytes[9] == 0x45, bytes[10] == 0x42, bytes[11] == 0x50 { self = .webp }
        else { self = .unknown }
    }
}

/// Header facts read without decoding the pixels (used by the dataset scan).
public struct ImageInfo: Sendable, Equatable {
    public var format: ImageFormat
    /// Size after EXIF orientation, i.e. the size `decode` returns.
    public var width: Int
    public var height: Int
    /// EXIF orientation 1...8 (1 when absent).
    public var orientation: Int
    /// JPEG only: whether the file ends in the EOI marker FF D9 (YOLOv5's corrupt-JPEG test).
    public var endsWithEOI: Bool
}

public enum ImageCodec {
    /// Decodes JPEG or PNG bytes to RGB. `path` is only used in messages. Recoverable damage
    /// (a truncated JPEG, extraneous bytes) is decoded as far as the library gets and reported in
    /// `warnings`, as `cv2.imread` does; unrecoverable damage throws.
    public static func decode(data: Data, path: String) throws -> (Image, [String]) {
        guard !data.isEmpty else { throw ImageCodecError.empty(path: path) }
        return try data.withUnsafeBytes { raw -> (Image, [String]) in
            switch ImageFormat(sniffing: raw) {
            case .jpeg: return try decodeJPEG(raw, path: path)
            case .png: return try decodePNG(raw, path: path)
            case let other: throw ImageCodecError.unsupportedFormat(path: path, detected: other.rawValue)
            }
        }
    }

    /// Reads and decodes a file; see `decode(data:path:)`.
    public static func decode(contentsOf url: URL) throws -> (Image, [String]) {
        let data = try Data(contentsOf: url, options: .mappedIfSafe)
        return try decode(data: data, path: url.path)
    }

    /// Format, oriented size and EXIF orientation from the header only (cheap; PIL `verify()`'s
    /// role in YOLOv5). PNGs are fully decoded, since a bad chunk CRC can only be found that way.
    public static func inspect(data: Data, path: String) throws -> ImageInfo {
        guard !data.isEmpty else { throw ImageCodecError.empty(path: path) }
        return try data.withUnsafeBytes { raw -> ImageInfo in
            switch ImageFormat(sniffing: raw) {
            case .jpeg:
                let (w, h, _, _) = try jpegHeader(raw, path: path)
                let orientation = EXIF.orientation(jpeg: raw)
                let swap = orientation >= 5
                let n = raw.count
                let eoi = n >= 2 && raw[n - 2] == 0xFF && raw[n - 1] == 0xD9
                return ImageInfo(format: .jpeg, width: swap ? h : w, height: swap ? w : h,
                                 orientation: orientation, endsWithEOI: eoi)
            case .png:
                let (image, _) = try decodePNG(raw, path: path)
                return ImageInfo(format: .png, width: image.width, height: image.height,
                                 orientation: 1, endsWithEOI: true)
            case let other: throw ImageCodecError.unsupportedFormat(path: path, detected: other.rawValue)
            }
        }
    }

    /// Chroma subsampling of an encoded JPEG (TurboJPEG's TJSAMP_*); `gray` stores luma only.
    public enum Subsampling: Sendable, CaseIterable {
        case s444, s422, s420, s440, s411, gray

        var turbo: Int32 {
            switch self {
            case .s444: Int32(TJSAMP_444.rawValue)
            case .s422: Int32(TJSAMP_422.rawValue)
            case .s420: Int32(TJSAMP_420.rawValue)
            case .s440: Int32(TJSAMP_440.rawValue)
            case .s411: Int32(TJSAMP_411.rawValue)
            case .gray: Int32(TJSAMP_GRAY.rawValue)
            }
        }
    }

    /// Baseline JPEG of an RGB image, quality 1...100 (95 as `cv2.imwrite`), 4:2:0 chroma
    /// subsampling (OpenCV `imwrite`'s default) unless told otherwise.
    public static func encodeJPEG(_ image: Image, quality: Int = 95, subsampling: Subsampling = .s420) throws -> Data {
        precondition((1...100).contains(quality), "JPEG quality \(quality) outside 1...100")
        guard let handle = tjInitCompress() else { throw ImageCodecError.encodeFailed(reason: "tjInitCompress") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = image.pixels.withUnsafeBufferPointer { px in
            tjCompress2(handle, px.baseAddress, Int32(image.width), Int32(image.width * 3), Int32(image.height),
                        Int32(TJPF_RGB.rawValue), &buffer, &size, subsampling.turbo, Int32(quality),
                        TJFLAG_ACCURATEDCT)
        }
        defer { if let buffer { tjFree(buffer) } }
        guard rc == 0, let buffer else { throw ImageCodecError.encodeFailed(reason: errorString(handle)) }
        return Data(bytes: buffer, count: Int(size))
    }

    /// Encodes and writes atomically.
    public static func writeJPEG(_ image: Image, to url: URL, quality: Int = 95) throws {
        try encodeJPEG(image, quality: quality).write(to: url, options: .atomic)
    }
}

// MARK: - JPEG

extension ImageCodec {
    /// (width, height, subsampling, colorspace) as stored, before orientation.
    static func jpegHeader(_ raw: UnsafeRawBufferPointer, path: String) throws -> (Int, Int, Int32, Int32) {
        guard let handle = tjInitDecompress() else { throw ImageCodecError.corrupt(path: path, reason: "tjInitDecompress") }
        defer { tjDestroy(handle) }
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        let base = raw.bindMemory(to: UInt8.self).baseAddress
        guard tjDecompressHeader3(handle, base, UInt(raw.count), &w, &h, &sub, &cs) == 0 else {
            throw ImageCodecError.corrupt(path: path, reason: errorString(handle))
        }
        return (Int(w), Int(h), sub, cs)
    }

    /// Columns `columns` and rows `rows` of a JPEG whose stored size is `width` x `height` and whose
    /// EXIF orientation is 1, byte-identical to the same pixels of `decode(data:path:)`; the image
    /// returned may be wider (its first column is `column`). Rows above `rows` are only entropy-
    /// decoded (but the last iMCU row, decoded and dropped), rows below not at all, columns outside
    /// are not transformed (`jpeg_region_decode_rgb`). Nil when the file
    /// should be decoded whole: not a JPEG, another size, a rotated, CMYK or progressive image, or any damage
    /// (the whole-image decode then reports it).
    public static func decodeJPEGPart(data: Data, width: Int, height: Int, columns: Range<Int>,
                                      rows: Range<Int>) -> (image: Image, column: Int)? {
        guard !columns.isEmpty, !rows.isEmpty, columns.lowerBound >= 0, columns.upperBound <= width,
              rows.lowerBound >= 0, rows.upperBound <= height else { return nil }
        return data.withUnsafeBytes { raw -> (image: Image, column: Int)? in
            guard ImageFormat(sniffing: raw) == .jpeg, EXIF.orientation(jpeg: raw) == 1,
                  let (w, h, _, _) = try? jpegHeader(raw, path: ""), w == width, h == height else { return nil }
            // libjpeg-turbo upsamples chroma at a crop's edge as at the image's: ask for 4 more
            // columns each side, so the columns wanted are the whole-image decode's.
            let first = max(columns.lowerBound - 4, 0), last = min(columns.upperBound + 4, width)
            var column = Int32(first), cropWidth = Int32(last - first)
            // The crop widens to the left by less than one iMCU (at most 32 columns).
            let capacity = (last - first + 32) * 3 * rows.count
            var written = 0
            let pixels = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                let rc = jpeg_region_decode_rgb(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &column,
                                                &cropWidth, Int32(rows.lowerBound), Int32(rows.upperBound),
                                                buffer.baseAddress, capacity)
                written = rc == 0 ? Int(cropWidth) * 3 * rows.count : 0
                count = written
            }
            guard written > 0, Int(column) <= columns.lowerBound, Int(column + cropWidth) >= columns.upperBound else {
                return nil
            }
            return (Image(width: Int(cropWidth), height: rows.count, pixels: pixels), Int(column))
        }
    }

    static func decodeJPEG(_ raw: UnsafeRawBufferPointer, path: String) throws -> (Image, [String]) {
        guard let handle = tjInitDecompress() else { throw ImageCodecError.corrupt(path: path, reason: "tjInitDecompress") }
        defer { tjDestroy(handle) }
        let base = raw.bindMemory(to: UInt8.self).baseAddress
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        guard tjDecompressHeader3(handle, base, UInt(raw.count), &w, &h, &sub, &cs) == 0 else {
            throw ImageCodecError.corrupt(path: path, reason: errorString(handle))
        }
        let width = Int(w), height = Int(h)
        let cmyk = cs == Int32(TJCS_CMYK.rawValue) || cs == Int32(TJCS_YCCK.rawValue)
        let channels = cmyk ? 4 : 3
        let format = cmyk ? TJPF_CMYK : TJPF_RGB
        var warnings: [String] = []
        // Grayscale JPEGs decode straight to RGB (TurboJPEG replicates), like IMREAD_COLOR.
        var decoded = [UInt8](repeating: 0, count: width * height * channels)
        let rc = decoded.withUnsafeMutableBufferPointer { out in
            tjDecompress2(handle, base, UInt(raw.count), out.baseAddress, w, Int32(width * channels), h,
                          Int32(format.rawValue), TJFLAG_ACCURATEDCT)
        }
        if rc != 0 {
            let message = errorString(handle)
            // TJERR_WARNING: libjpeg finished (filling missing rows) — the "Premature end of JPEG
            // file" case cv2.imread also returns. Anything else is fatal.
            guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
                throw ImageCodecError.corrupt(path: path, reason: message)
            }
            warnings.append("\(path): corrupt JPEG decoded as far as possible (\(message))")
        }
        var pixels = cmyk ? cmykToRGB(decoded) : decoded
        var outW = width, outH = height
        let orientation = EXIF.orientation(jpeg: raw)
        if orientation != 1 {
            (pixels, outW, outH) = EXIF.apply(orientation: orientation, pixels: pixels, width: width, height: height)
        }
        return (Image(width: outW, height: outH, pixels: pixels), warnings)
    }

    /// OpenCV's `icvCvt_CMYK2BGR_8u_C4C3R` on libjpeg's raw (Adobe-inverted) CMYK samples:
    /// channel = k − ((255 − c)·k >> 8).
    static func cmykToRGB(_ cmyk: [UInt8]) -> [UInt8] {
        let n = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: n * 3)
        cmyk.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let k = Int(src[4 * i + 3])
                    for c in 0..<3 {
                        dst[3 * i + c] = UInt8(k - (((255 - Int(src[4 * i + c])) * k) >> 8))
                    }
                }
            }
        }
        return rgb
    }

    static func errorString(_ handle: tjhandle) -> String {
        guard let cString = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: cString)
    }
}

// MARK: - PNG

extension ImageCodec {
    /// libpng simplified read into RGBA, then alpha dropped (OpenCV IMREAD_COLOR strips alpha; the
    /// simplified API would composite). Palette, gray, low-bit-depth and tRNS are expanded by
    /// libpng; 16-bit samples are flagged sRGB so they are scaled, not gamma-encoded.
    static func decodePNG(_ raw: UnsafeRawBufferPointer, path: String) throws -> (Image, [String]) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
            throw ImageCodecError.corrupt(path: path, reason: pngMessage(&image))
        }
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)  // PNG_FORMAT_RGBA
        let width = Int(image.width), height = Int(image.height)
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let ok = rgba.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 4), nil)
        }
        guard ok != 0 else { throw ImageCodecError.corrupt(path: path, reason: pngMessage(&image)) }
        var warnings: [String] = []
        if image.warning_or_error & UInt32(PNG_IMAGE_WARNING) != 0 {
            warnings.append("\(path): PNG warning: \(pngMessage(&image))")
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgba.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    dst[3 * i] = src[4 * i]
                    dst[3 * i + 1] = src[4 * i + 1]
                    dst[3 * i + 2] = src[4 * i + 2]
                }
            }
        }
        return (Image(width: width, height: height, pixels: rgb), warnings)
    }

    private static func pngMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { bytes in
            let chars = bytes.prefix { $0 != 0 }
            return String(decoding: chars, as: UTF8.self)
        }
    }
}
