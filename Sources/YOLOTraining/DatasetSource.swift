// A `SampleSource` over a scanned dataset: images decoded on demand from their files, labels from
// the verified index (class 0 everywhere with --single-cls).
import Foundation
import YOLOData

public struct DatasetSource: SampleSource {
    public let items: [LabeledImage]
    public let singleClass: Bool

    public init(_ index: DatasetIndex, singleClass: Bool = false) {
        items = index.items
        self.singleClass = singleClass
    }

    public var count: Int { items.count }

    public func loadImage(_ i: Int) throws -> Image {
        try ImageCodec.decode(contentsOf: URL(fileURLWithPath: items[i].imagePath)).0
    }

    public func labels(_ i: Int) -> [[Float]] {
        singleClass ? items[i].labels.map { [0] + $0.dropFirst() } : items[i].labels
    }

    public func imageSize(_ i: Int) throws -> (width: Int, height: Int) { (items[i].width, items[i].height) }

    public func path(_ i: Int) -> String { items[i].imagePath }

    /// Sizes come from the scan, and JPEGs decode in part.
    public var loadsImageParts: Bool { true }

    /// Part of a JPEG (`ImageCodec.decodeJPEGPart`); nil for other formats, rotated or damaged files.
    public func loadImagePart(_ i: Int, columns: Range<Int>, rows: Range<Int>) throws -> (image: Image, column: Int)? {
        let data = try Data(contentsOf: URL(fileURLWithPath: items[i].imagePath), options: .mappedIfSafe)
        return ImageCodec.decodeJPEGPart(data: data, width: items[i].width, height: items[i].height,
                                         columns: columns, rows: rows)
    }
}
