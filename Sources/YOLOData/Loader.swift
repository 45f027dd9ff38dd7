// `DataLoader`: YOLOv5's create_dataloader + LoadImagesAndLabels as a Swift type: worker threads
// build samples (load, augment) in parallel behind a bounded prefetch window and hand out batches
// in order. Not the dataset scan (DatasetIndex/LabelCache) or image decoding (ImageCodec).
//
// Determinism: the epoch order comes from a generator derived from (seed, epoch), each sample's
// augmentation from one derived from (seed, epoch, position in the epoch) and each quad collate from
// (seed, epoch, batch); no worker owns a generator, so batches are byte-identical for any `workers`.
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Where images and labels come from.
public protocol SampleSource: Sendable {
    var count: Int { get }
    /// The decoded image `i` (orientation already applied).
    func loadImage(_ i: Int) throws -> Image
    /// Labels of image `i`: rows `[class, x, y, w, h]`, normalised.
    func labels(_ i: Int) -> [[Float]]
    /// Size of image `i`; the default decodes it. Sources that know sizes (a label cache) should say.
    func imageSize(_ i: Int) throws -> (width: Int, height: Int)
    /// A name for image `i` in batches and messages; the default is its index.
    func path(_ i: Int) -> String
    /// Whether `loadImagePart` can load parts (and `imageSize` answers without decoding); when
    /// false (the default) the loader loads whole images only.
    var loadsImageParts: Bool { get }
    /// Columns and rows of image `i` (of size `imageSize(i)`), or a larger part of it starting at
    /// the returned column and the first row asked for, with exactly the pixels `loadImage` gives
    /// there; nil when only the whole image can be loaded. The default says nil.
    func loadImagePart(_ i: Int, columns: Range<Int>, rows: Range<Int>) throws -> (image: Image, column: Int)?
}

extension SampleSource {
    public func imageSize(_ i: Int) throws -> (width: Int, height: Int) {
        let image = try loadImage(i)
        return (image.width, image.height)
    }

    public func path(_ i: Int) -> String { "\(i)" }

    public var loadsImageParts: Bool { false }

    public func loadImagePart(_ i: Int, columns: Range<Int>, rows: Range<Int>) throws -> (image: Image, column: Int)? {
        nil
    }
}

public enum DataLoaderError: Error, CustomStringConvertible {
    case insufficientMemoryForCache(requiredBytes: Int, availableBytes: Int)
    case memoryUnknown(reason: String)
    case emptySource

    public var description: String {
        switch self {
        case let .insufficientMemoryForCache(required, available):
            let gb = { (b: Int) in String(format: "%.1f GB", Double(b) / Double(1 << 30)) }
            return "caching images needs \(gb(required)) of RAM (with a 10% margin) but only \(gb(available)) is "
                + "available (MemAvailable in /proc/meminfo); train without --cache or free memory"
        case let .memoryUnknown(reason):
            return "cannot check free memory before caching images (\(reason)); train without --cache"
        case .emptySource:
            return "the dataset has no images"
        }
    }
}

/// A loader of batches for one dataset: YOLOv5's dataloader semantics (mosaic/mixup/letterbox,
/// rect batches, collate or quad collate), deterministic in (seed, epoch).
public struct DataLoader: Sendable {
    public let source: any SampleSource
    public let imageSize: Int, batchSize: Int, stride: Int, workers: Int
    public let augment: Bool, rect: Bool, shuffle: Bool, quad: Bool
    public let pad: Double
    public let seed: UInt64
    public let hyp: AugmentationHyperparameters
    /// Batches built ahead of the consumer.
    public var prefetchBatches: Int
    /// Per-image sampling weights (--image-weights): when set, each epoch draws `count` indices
    /// with replacement in proportion to them instead of shuffling, and mosaic partners come from
    /// that draw. YOLOv5 turns rect off with image weights; do not combine them.
    public var imageWeights: [Double]?
    /// Dataset order (sorted by aspect ratio when rect) and per-batch shapes (rect only).
    let baseOrder: [Int]
    /// 0..<count, the mosaic partner pool when there are no image weights (YOLOv5 self.indices).
    let allIndices: [Int]
    let batchShapes: [(height: Int, width: Int)]?
    let cache: ImageCache?
    /// Mosaic tiles are decoded (`SampleSource.loadImagePart`) and resized only where the mosaic
    /// shows them; off only to test that this changes no pixel.
    public var partialTiles = true

    /// - Parameters mirror create_dataloader: `pad` 0.5 for validation rect batches, 0 for training;
    ///   `rect` disables mosaic and shuffle (as YOLOv5 does, with a warning); `workers` threads
    ///   (at least 1); `cacheImages` keeps every load_image result in RAM after checking
    ///   MemAvailable, and throws `DataLoaderError.insufficientMemoryForCache` if it would not fit.
    public init(source: any SampleSource, imageSize: Int = 640, batchSize: Int = 16, augment: Bool = false,
                hyp: AugmentationHyperparameters = AugmentationHyperparameters(), rect: Bool = false,
                stride: Int = 32, pad: Double = 0, workers: Int = 8, seed: UInt64 = 0, shuffle: Bool = false,
                cacheImages: Bool = false, quad: Bool = false) throws {
        guard source.count > 0 else { throw DataLoaderError.emptySource }
        Allocator.keepLargeFreedBlocksInHeap()
        self.source = source
        self.imageSize = imageSize
        self.batchSize = max(1, min(batchSize, source.count))
        self.stride = stride
        self.workers = max(1, workers)
        self.augment = augment
        self.rect = rect
        if rect && shuffle {
            FileHandle.standardError.write(Data("WARNING: --rect is incompatible with shuffle, setting shuffle=False\n".utf8))
        }
        self.shuffle = shuffle && !rect
        self.quad = quad
        self.pad = pad
        self.seed = seed
        self.hyp = hyp
        self.prefetchBatches = 2 + workers / max(1, batchSize)
        allIndices = Array(0..<source.count)
        if rect {
            let sizes = try (0..<source.count).map { try source.imageSize($0) }
            let (order, shapes) = rectBatchShapes(sizes: sizes, batchSize: self.batchSize, imageSize: imageSize,
                                                  stride: stride, pad: pad)
            baseOrder = order
            batchShapes = shapes
        } else {
            baseOrder = Array(0..<source.count)
            batchShapes = nil
        }
        cache = cacheImages ? try ImageCache(source: source, imageSize: imageSize, augment: augment) : nil
    }

    public var count: Int { source.count }

    /// Batches per epoch (the last may be partial; quad drops a last batch of fewer than 4).
    public var batchCount: Int { (count + batchSize - 1) / batchSize }

    /// The dataset indices of `epoch`, in order.
    public func order(epoch: Int) -> [Int] {
        var g = derivedGenerator(seed: seed, stream: 0, epoch)
        if let weights = imageWeights { return weightedChoices(weights: weights, count: count, using: &g) }
        var order = baseOrder
        if shuffle { order.shuffleInPlace(using: &g) }
        return order
    }

    /// load_image for index `i`, from the RAM cache when there is one.
    func loadResized(_ i: Int) throws -> LoadedImage {
        if let cached = cache?.images[i] { return LoadedImage(image: cached.image, originalWidth: cached.originalWidth,
                                                             originalHeight: cached.originalHeight, labels: source.labels(i)) }
        let image = try source.loadImage(i)
        return LoadedImage(image: resizeForTraining(image, imageSize: imageSize, augment: augment),
                           originalWidth: image.width, originalHeight: image.height, labels: source.labels(i))
    }

    /// A mosaic tile: only the part `view` shows when the source can decode parts (decoded, and
    /// resized as load_image does, only there); the whole image from the RAM cache, for sources
    /// that cannot, and where load_image would not resize linearly.
    func loadTile(_ i: Int, view: MosaicTileView) throws -> MosaicTile {
        if partialTiles && source.loadsImageParts && cache == nil && augment {
            let (w0, h0) = try source.imageSize(i)
            let (w, h) = trainingSize(width: w0, height: h0, imageSize: imageSize)
            let part = view.visible(width: w, height: h)
            let origin = (part.columns.lowerBound, part.rows.lowerBound)
            if part.columns.isEmpty || part.rows.isEmpty {
                return MosaicTile(part: Image(width: 0, height: 0, pixels: []), origin: (0, 0), width: w, height: h,
                                  labels: source.labels(i))
            }
            if (w, h) == (w0, h0) {
                if let (image, column) = try source.loadImagePart(i, columns: part.columns, rows: part.rows) {
                    return MosaicTile(part: image, origin: (column, origin.1), width: w, height: h, labels: source.labels(i))
                }
            } else if let needed = linearResizeSource(sourceWidth: w0, sourceHeight: h0, width: w, height: h,
                                                      columns: part.columns, rows: part.rows),
                      let (image, column) = try source.loadImagePart(i, columns: needed.columns, rows: needed.rows) {
                let resized = resizeLinearPart(image, origin: (column, needed.rows.lowerBound), sourceWidth: w0,
                                               sourceHeight: h0, width: w, height: h, columns: part.columns, rows: part.rows)
                return MosaicTile(part: resized, origin: origin, width: w, height: h, labels: source.labels(i))
            }
        }
        let l = try loadResized(i)
        return MosaicTile(image: l.image, labels: l.labels)
    }

    /// The sample at `position` of an epoch whose order is `order`.
    func sample(position: Int, order: [Int], epoch: Int) throws -> Sample {
        var g = derivedGenerator(seed: seed, stream: 1, epoch, position)
        let shape = batchShapes.map { $0[position / batchSize] } ?? (imageSize, imageSize)
        let pool = imageWeights == nil ? allIndices : order
        return try sample(index: order[position], shape: shape, pool: pool, using: &g)
    }

    /// Dataset item `index` as this loader makes it (YOLOv5's `dataset[index]`), with the random
    /// draws taken from `g`: letterboxed to imageSize² when not a mosaic, mosaic partners drawn
    /// from the whole dataset. Batches use the per-sample generators of `epoch(_:)`; this is for
    /// looking at augmentations and for replaying YOLOv5's own draws.
    public func sample(index: Int, using g: inout some RandomNumberGenerator) throws -> Sample {
        try sample(index: index, shape: (imageSize, imageSize), pool: allIndices, using: &g)
    }

    func sample(index: Int, shape: (height: Int, width: Int), pool: [Int],
                using g: inout some RandomNumberGenerator) throws -> Sample {
        let recipe = SampleRecipe(imageSize: imageSize, augment: augment, rect: rect, hyp: hyp)
        return try makeSample(index: index, recipe: recipe, shape: shape, pool: pool, count: count,
                              using: &g, load: loadResized, loadTile: loadTile)
    }

    /// Collates the samples of batch `b`.
    func batch(_ b: Int, samples: [Sample], order: [Int], epoch: Int) -> Batch {
        let positions = (b * batchSize)..<min((b + 1) * batchSize, count)
        let indices = positions.map { order[$0] }, paths = indices.map { source.path($0) }
        guard quad else { return collate(samples, indices: indices, paths: paths) }
        var g = derivedGenerator(seed: seed, stream: 2, epoch, b)
        return collateQuad(samples, indices: indices, paths: paths, using: &g)
    }

    /// The batches of `epoch`, built by `workers` threads.
    public func epoch(_ epoch: Int) -> EpochIterator { EpochIterator(loader: self, epoch: epoch) }
}

/// Images held in RAM after load_image (resized), filled once at loader creation.
final class ImageCache: @unchecked Sendable {
    let images: [LoadedImage?]

    /// Loads every image once, in parallel over all cores, after the memory check.
    init(source: any SampleSource, imageSize: Int, augment: Bool) throws {
        let n = source.count
        try ImageCache.checkMemory(source: source, imageSize: imageSize)
        var slots = [Result<LoadedImage, any Error>?](repeating: nil, count: n)
        slots.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: n) { i in
                out[i] = Result {
                    let image = try source.loadImage(i)
                    return LoadedImage(image: resizeForTraining(image, imageSize: imageSize, augment: augment),
                                       originalWidth: image.width, originalHeight: image.height, labels: [])
                }
            }
        }
        images = try slots.map { try $0!.get() }
    }

    /// YOLOv5 check_cache_ram: extrapolate the cached size from up to 30 images (evenly spaced here
    /// rather than random) and require it plus 10% to fit in MemAvailable.
    static func checkMemory(source: any SampleSource, imageSize: Int) throws {
        let n = source.count, k = min(n, 30)
        var bytes = 0.0
        for j in 0..<k {
            let (w, h) = try source.imageSize(j * n / k)
            let r = Double(imageSize) / Double(max(w, h))
            bytes += Double(w * h * 3) * r * r
        }
        let required = Int(bytes * Double(n) / Double(k) * 1.1)
        let available = try availableMemoryBytes()
        if required >= available {
            throw DataLoaderError.insufficientMemoryForCache(requiredBytes: required, availableBytes: available)
        }
    }
}

/// MemAvailable from /proc/meminfo, in bytes (what the RAM cache check compares against).
public func availableMemoryBytes() throws -> Int {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else {
        throw DataLoaderError.memoryUnknown(reason: "/proc/meminfo is not readable")
    }
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
        let fields = line.split(separator: " ")
        if fields.count >= 2, let kb = Int(fields[1]) { return kb * 1024 }
    }
    throw DataLoaderError.memoryUnknown(reason: "no MemAvailable line in /proc/meminfo")
}
