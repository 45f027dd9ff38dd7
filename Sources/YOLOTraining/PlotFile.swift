// `PlotFile`: saves a plot `Image` by file extension — .png through `PNGEncoder`, .jpg/.jpeg
// through YOLOData's TurboJPEG codec (4:2:0, quality 75, PIL's `Image.save` defaults that YOLOv5's .jpg plots
// get). Plot-only: the data pipeline's codecs live in YOLOData.
import Foundation
import YOLOData

/// Errors saving a plot.
public enum PlotFileError: Error, Equatable, CustomStringConvertible {
    case unsupportedExtension(String)
    case jpeg(String)

    public var description: String {
        switch self {
        case let .unsupportedExtension(e): return "cannot save a plot as '.\(e)': use .png or .jpg"
        case let .jpeg(m): return "JPEG encode failed: \(m)"
        }
    }
}

public enum PlotFile {
    /// Writes `image` to `url`, the format chosen by the extension (png, jpg, jpeg).
    public static func write(_ image: Image, to url: URL, jpegQuality: Int = 75) throws {
        switch url.pathExtension.lowercased() {
        case "png": try PNGEncoder.write(image, to: url)
        case "jpg", "jpeg": try encodeJPEG(image, quality: jpegQuality).write(to: url, options: .atomic)
        case let other: throw PlotFileError.unsupportedExtension(other)
        }
    }

    /// Baseline JPEG bytes of `image` (4:2:0 chroma), through YOLOData's codec.
    public static func encodeJPEG(_ image: Image, quality: Int = 75) throws -> Data {
        do { return try ImageCodec.encodeJPEG(image, quality: quality) } catch {
            throw PlotFileError.jpeg("\(error)")
        }
    }

    /// Decodes JPEG bytes to RGB; for tests of the plots.
    static func decodeJPEGForTesting(_ data: Data) throws -> Image {
        try ImageCodec.decode(data: data, path: "plot.jpg").0
    }
}
