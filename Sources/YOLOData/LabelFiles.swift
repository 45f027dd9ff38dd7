// Where images and labels are: YOLOv5's image discovery (folders, .txt lists, lists of either,
// filtered by IMG_FORMATS), the images/ → labels/ path rule, and label-file parsing including
// polygon rows. No checking of values here; that is `Verification`.
import Foundation

/// Errors in finding a dataset's files.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case sourceNotFound(path: String)
    case noImages(sources: [String])
    /// No image has a label file; `firstImage` and `expectedLabel` show the rule at work.
    case noLabels(firstImage: String, expectedLabel: String)

    public var description: String {
        switch self {
        case let .sourceNotFound(path): return "\(path) does not exist (expected a folder of images or a .txt list)"
        case let .noImages(sources):
            return "no images found in \(sources.joined(separator: ", ")); extensions searched: "
                + LabelFiles.imageExtensions.sorted().joined(separator: " ")
        case let .noLabels(image, label):
            return "no labels found. The label for \(image) would be \(label): images must sit under an "
                + "'images' folder with labels in the sibling 'labels' folder (same relative path, .txt)"
        }
    }
}

/// A parsed label file before validation: one `[class, cx, cy, w, h]` per row, plus the polygons
/// when the file holds segments.
public struct RawLabels: Sendable, Equatable {
    /// Rows exactly as split on whitespace; polygon rows are already converted to boxes.
    public var rows: [[Float]]
    /// Per row, the polygon's normalized (x, y) points flattened; empty for box files.
    public var segments: [[Float]]
    /// 1-based line number in the file of each row (blank lines are skipped as upstream).
    public var lines: [Int]
}

public enum LabelFiles {
    /// YOLOv5 7.0 `IMG_FORMATS`, compared case-insensitively with the text after the last dot.
    public static let imageExtensions: Set<String> = ["bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm"]

    /// Whether a path's extension is an image extension.
    public static func isImage(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: ".") else { return false }
        return imageExtensions.contains(path[path.index(after: dot)...].lowercased())
    }

    /// `img2label_paths`: the last `/images/` becomes `/labels/` and the extension becomes `.txt`.
    /// A path without `/images/` keeps its folder (the label then sits beside the image).
    public static func labelPath(forImage path: String) -> String {
        var p = path
        if let r = p.range(of: "/images/", options: .backwards) { p.replaceSubrange(r, with: "/labels/") }
        if let dot = p.lastIndex(of: "."), !p[dot...].contains("/") { p = String(p[..<dot]) }
        return p + ".txt"
    }

    /// All image paths under the sources, sorted by code point as Python's `sorted`.
    /// A folder is searched recursively (hidden files skipped, as `glob('**/*.*')`); a file is a
    /// list of image paths, one per line, relative entries resolved against the list's folder
    /// (upstream does that only for entries starting with `./`, others against the working directory).
    public static func discoverImages(in sources: [URL]) throws -> [String] {
        var found: [String] = []
        for source in sources {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDir) else {
                throw DatasetError.sourceNotFound(path: source.path)
            }
            found += isDir.boolValue ? try filesUnder(source) : try listedFiles(source)
        }
        let images = found.filter(isImage).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !images.isEmpty else { throw DatasetError.noImages(sources: sources.map(\.path)) }
        return images
    }

    static func filesUnder(_ folder: URL) throws -> [String] {
        let root = folder.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            // glob skips names starting with '.' at every level.
            if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            out.append(root + "/" + rel)
        }
        return out
    }

    static func listedFiles(_ list: URL) throws -> [String] {
        let text = try String(contentsOf: list, encoding: .utf8)
        let parent = list.deletingLastPathComponent()
        return text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let entry = line.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { return nil }
            if entry.hasPrefix("/") { return entry }
            let rel = entry.hasPrefix("./") ? String(entry.dropFirst(2)) : entry
            return parent.appendingPathComponent(rel).standardizedFileURL.path
        }
    }

    /// Splits a label file into float rows. YOLOv5 7.0: if any row has more than 6 values, every
    /// row is a polygon `class x1 y1 x2 y2 ...` and becomes its bounding box (`segments2boxes`).
    /// Throws `LabelError` for text that is not numbers or polygons with odd coordinate counts.
    public static func parse(_ text: String, file: String) throws -> RawLabels {
        var rows: [[Float]] = [], lines: [Int] = []
        // Character-wise: "\r\n" is one Character, so newline and whitespace tests, not "\n" / " ".
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard !fields.isEmpty else { continue }
            var row: [Float] = []
            row.reserveCapacity(fields.count)
            for f in fields {
                guard let v = Float(f) else { throw LabelError.notANumber(file: file, line: i + 1, text: String(f)) }
                row.append(v)
            }
            rows.append(row)
            lines.append(i + 1)
        }
        guard rows.contains(where: { $0.count > 6 }) else { return RawLabels(rows: rows, segments: [], lines: lines) }
        var boxes: [[Float]] = [], segments: [[Float]] = []
        for (row, line) in zip(rows, lines) {
            let xy = Array(row.dropFirst())
            guard !xy.isEmpty, xy.count % 2 == 0 else { throw LabelError.badPolygon(file: file, line: line, values: xy.count) }
            boxes.append([row[0]] + boxOfPolygon(xy))
            segments.append(xy)
        }
        return RawLabels(rows: boxes, segments: segments, lines: lines)
    }

    /// `segments2boxes` for one polygon: min/max of the points as xyxy, then → (cx, cy, w, h).
    public static func boxOfPolygon(_ xy: [Float]) -> [Float] {
        var x0 = Float.infinity, y0 = Float.infinity, x1 = -Float.infinity, y1 = -Float.infinity
        for p in stride(from: 0, to: xy.count, by: 2) {
            x0 = min(x0, xy[p]); x1 = max(x1, xy[p])
            y0 = min(y0, xy[p + 1]); y1 = max(y1, xy[p + 1])
        }
        return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
    }
}
