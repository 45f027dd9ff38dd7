// The scan result stored beside the labels (`labels/train2017.cache`, YOLOv5's
// `Path(label_files[0]).parent.with_suffix('.cache')`) so that later runs skip verification.
// Ours is JSON, not a pickled numpy dict, keyed by a hash of every image and label path, size and
// modification time (upstream hashes paths and total size only), plus nc and a format version.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes cache bytes; injectable so tests can simulate an unwritable folder.
public typealias CacheWriter = @Sendable (Data, URL) throws -> Void

public struct LabelCache: Codable, Sendable, Equatable {
    /// Bumped whenever the stored meaning changes; a different version is a stale cache.
    public static let currentVersion = "yoloswift-labels-1"

    public var version: String
    public var hash: String
    public var nc: Int
    public var images: [VerifiedImage]

    /// Where YOLOv5 puts the cache: next to a single .txt source (`train.txt` → `train.cache`),
    /// else the first label file's folder with its suffix replaced (`labels/train2017.cache`).
    public static func defaultURL(sources: [URL], firstLabelPath: String) -> URL {
        var isDir: ObjCBool = false
        if sources.count == 1, FileManager.default.fileExists(atPath: sources[0].path, isDirectory: &isDir), !isDir.boolValue {
            return sources[0].deletingPathExtension().appendingPathExtension("cache")
        }
        // Path(...).parent.with_suffix('.cache'), on the path string (a folder URL's trailing
        // slash would otherwise survive).
        let folder = (firstLabelPath as NSString).deletingLastPathComponent
        return URL(fileURLWithPath: (folder as NSString).deletingPathExtension + ".cache")
    }

    /// FNV-1a 64 over "path size mtime" of every file (missing files as -1), nc and the version.
    public static func fingerprint(imagePaths: [String], labelPaths: [String], nc: Int) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ s: String) {
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        mix("\(currentVersion) nc=\(nc)\n")
        for path in imagePaths + labelPaths {
            var st = stat()
            if stat(path, &st) == 0 {
                mix("\(path) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\n")
            } else {
                mix("\(path) -1\n")
            }
        }
        return String(h, radix: 16)
    }

    /// The stored cache if it exists, decodes, and matches version and hash; nil otherwise.
    public static func load(from url: URL, hash: String) -> LabelCache? {
        guard let data = try? Data(contentsOf: url),
              let cache = try? JSONDecoder().decode(LabelCache.self, from: data),
              cache.version == currentVersion, cache.hash == hash else { return nil }
        return cache
    }

    /// Default writer: `Data.write(options: .atomic)` writes a temporary file and renames it.
    public static let atomicWriter: CacheWriter = { data, url in try data.write(to: url, options: .atomic) }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
