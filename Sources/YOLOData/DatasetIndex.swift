// `DatasetIndex`: the checked list of usable images of one split with their labels — YOLOv5's
// `LoadImagesAndLabels.__init__` up to (not including) image loading: discover images, derive
// label paths, verify each pair (in parallel, deterministic order) or reuse the cache.
import Foundation

/// One usable image and its boxes.
public struct LabeledImage: Sendable, Equatable {
    public var imagePath: String
    /// Rows `[class, cx, cy, w, h]`, normalized to 0...1; empty for background images.
    public var labels: [[Float]]
    /// Per row, the polygon points (x1, y1, x2, y2, ...) when the label file holds segments;
    /// empty otherwise. `random_perspective` uses them to re-fit boxes.
    public var segments: [[Float]]
    /// Size after EXIF orientation (what decoding gives).
    public var width: Int
    public var height: Int
}

public struct DatasetIndex: Sendable {
    /// Whether the cache was used, rebuilt, or could not be written.
    public enum CacheOutcome: Sendable, Equatable {
        case reused, written, notWritten(reason: String), disabled
    }

    public var items: [LabeledImage]
    /// One line per problem image, naming the file, in image order.
    public var warnings: [String]
    public var found: Int, missing: Int, empty: Int, corrupt: Int
    public var cacheURL: URL?
    public var cacheOutcome: CacheOutcome

    /// "N found, M missing, E empty, C corrupt" (YOLOv5 ≤ 6 wording; counts as upstream: a label
    /// file that exists counts as found even when it is empty or corrupt).
    public var summary: String { "\(found) found, \(missing) missing, \(empty) empty, \(corrupt) corrupt" }

    /// Scans the images of `sources` (folders, .txt lists) against `nc` classes.
    /// - Parameters:
    ///   - cacheDirectory: folder for the cache file; nil → YOLOv5's place beside the labels.
    ///   - useCache: false skips reading and writing the cache.
    ///   - cacheWriter: how the cache is written; a throwing writer yields a warning, not a failure.
    ///   - fullDecode: also decode every JPEG while verifying (slower; upstream reads headers only).
    ///   - requireLabels: throw when no image has a label file (upstream asserts this when
    ///     augmenting, i.e. for training sets).
    /// - Throws: `DatasetError` when a source is missing, there are no images, or (with
    ///   `requireLabels`) no image has a label file.
    public static func scan(images sources: [URL], nc: Int, cacheDirectory: URL? = nil, useCache: Bool = true,
                            cacheWriter: CacheWriter = LabelCache.atomicWriter, fullDecode: Bool = false,
                            requireLabels: Bool = true) throws -> DatasetIndex {
        precondition(nc > 0, "nc must be positive")
        let imagePaths = try LabelFiles.discoverImages(in: sources)
        let labelPaths = imagePaths.map(LabelFiles.labelPath(forImage:))
        var cacheURL = LabelCache.defaultURL(sources: sources, firstLabelPath: labelPaths[0])
        if let cacheDirectory { cacheURL = cacheDirectory.appendingPathComponent(cacheURL.lastPathComponent) }
        let hash = LabelCache.fingerprint(imagePaths: imagePaths, labelPaths: labelPaths, nc: nc)

        var outcome = CacheOutcome.disabled
        var verified: [VerifiedImage]
        if useCache, let cache = LabelCache.load(from: cacheURL, hash: hash) {
            verified = cache.images
            outcome = .reused
        } else {
            verified = verifyAll(imagePaths, labelPaths, nc: nc, fullDecode: fullDecode)
            if useCache { outcome = write(LabelCache(version: LabelCache.currentVersion, hash: hash, nc: nc, images: verified),
                                         to: cacheURL, with: cacheWriter) }
        }
        var index = DatasetIndex(verified, cacheURL: useCache ? cacheURL : nil, outcome: outcome)
        if case let .notWritten(reason) = outcome { index.warnings.append("WARNING: cache not written: \(reason)") }
        guard index.found > 0 || !requireLabels else {
            throw DatasetError.noLabels(firstImage: imagePaths[0], expectedLabel: labelPaths[0])
        }
        return index
    }

    /// One-source convenience.
    public static func scan(images source: URL, nc: Int, cacheDirectory: URL? = nil, useCache: Bool = true,
                            cacheWriter: CacheWriter = LabelCache.atomicWriter) throws -> DatasetIndex {
        try scan(images: [source], nc: nc, cacheDirectory: cacheDirectory, useCache: useCache, cacheWriter: cacheWriter)
    }

    init(_ verified: [VerifiedImage], cacheURL: URL?, outcome: CacheOutcome) {
        items = verified.filter { $0.status != .corrupt }.map {
            LabeledImage(imagePath: $0.imagePath, labels: $0.labels, segments: $0.segments, width: $0.width, height: $0.height)
        }
        warnings = verified.compactMap(\.message)
        found = verified.filter(\.labelFileExists).count
        missing = verified.filter { $0.status == .missing }.count
        empty = verified.filter { $0.status == .empty }.count
        corrupt = verified.filter { $0.status == .corrupt }.count
        self.cacheURL = cacheURL
        cacheOutcome = outcome
    }

    /// `verify_image_label` over all pairs on every core; results land in image order.
    static func verifyAll(_ images: [String], _ labels: [String], nc: Int, fullDecode: Bool) -> [VerifiedImage] {
        let slots = ResultSlots(count: images.count)
        DispatchQueue.concurrentPerform(iterations: images.count) { i in
            slots.set(i, Verification.verify(imagePath: images[i], labelPath: labels[i], nc: nc, fullDecode: fullDecode))
        }
        return slots.values.map { $0! }
    }

    static func write(_ cache: LabelCache, to url: URL, with writer: CacheWriter) -> CacheOutcome {
        do {
            try writer(try cache.encoded(), url)
            return .written
        } catch {
            return .notWritten(reason: "\(url.deletingLastPathComponent().path) is not writeable (\(error))")
        }
    }
}

/// Each index is written by exactly one iteration, so slots never race; the lock only publishes.
private final class ResultSlots: @unchecked Sendable {
    private(set) var values: [VerifiedImage?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: VerifiedImage) {
        lock.lock(); values[i] = value; lock.unlock()
    }
}
