// What `detect --source` names: image and video files from a file, a folder, a glob or a .txt
// list (YOLOv5 LoadImages). Finding files only; decoding is ImageCodec's and VideoReader's.
import Foundation

/// The files of a detect source, images first and then videos, each sorted, as LoadImages orders
/// them (`files = images + videos`; the `n/N` counter runs over both).
public struct MediaFiles: Sendable, Equatable {
    public var images: [URL]
    public var videos: [URL]

    /// YOLOv5 `VID_FORMATS` (master, with webm), compared case-insensitively with the extension.
    public static let videoExtensions: Set<String> = [
        "asf", "avi", "gif", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "ts", "wmv", "webm",
    ]

    /// Whether a path's extension is a video extension.
    public static func isVideo(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return videoExtensions.contains(path[path.index(after: dot)...].lowercased())
    }

    public init(images: [URL], videos: [URL]) {
        self.images = images
        self.videos = videos
    }

    /// `source` as a single file (a video by extension, otherwise an image), a folder (searched
    /// recursively, as for datasets), a glob in the last path component, or a .txt list.
    /// Throws `DatasetError.sourceNotFound` for a missing path and `.noImages` when nothing matches.
    public init(source: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let paths: [String]
        if URL(fileURLWithPath: source).lastPathComponent.contains("*") {
            let dir = URL(fileURLWithPath: source).deletingLastPathComponent()
            let pattern = URL(fileURLWithPath: source).lastPathComponent
            guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else {
                throw DatasetError.sourceNotFound(path: dir.path)
            }
            paths = names.filter { fnmatch(pattern, $0, 0) == 0 }.map { dir.appendingPathComponent($0).path }
        } else if fm.fileExists(atPath: source, isDirectory: &isDir) {
            if isDir.boolValue {
                paths = try LabelFiles.filesUnder(URL(fileURLWithPath: source))
            } else if source.hasSuffix(".txt") {
                paths = try LabelFiles.listedFiles(URL(fileURLWithPath: source))
            } else {
                let url = URL(fileURLWithPath: source)
                self.init(images: Self.isVideo(source) ? [] : [url], videos: Self.isVideo(source) ? [url] : [])
                return
            }
        } else {
            throw DatasetError.sourceNotFound(path: source)
        }
        let sorted = paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.init(images: sorted.filter(LabelFiles.isImage).map { URL(fileURLWithPath: $0) },
                  videos: sorted.filter(Self.isVideo).map { URL(fileURLWithPath: $0) })
        guard count > 0 else { throw DatasetError.noImages(sources: [source]) }
    }

    /// Images plus videos.
    public var count: Int { images.count + videos.count }
}
