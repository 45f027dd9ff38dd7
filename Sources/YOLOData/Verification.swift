// One image + its label file checked once, as YOLOv5 7.0's `verify_image_label`: the image must
// decode and be at least 10 px each side; label rows must be 5 finite numbers, class an integer
// in 0..<nc, coordinates in [0, 1]; duplicate rows are dropped with a warning. Differences from
// upstream, on purpose:
//  * a JPEG without its end marker is decoded as far as TurboJPEG gets and kept with a warning
//    (cv2.imread also returns such images); upstream re-saves it with PIL, or rejects it when PIL
//    cannot load it ("image file is truncated"). We never rewrite a user's file.
//  * class ≥ nc rejects that image with a message naming file, line and class; upstream aborts
//    the whole training run later (`Label class … exceeds nc`). Non-integer classes are rejected.
//  * NaN/inf values get their own message (upstream reports them as "negative label values").
import Foundation

/// What is wrong in a label file; each case names the file and 1-based line.
public enum LabelError: Error, Equatable, CustomStringConvertible {
    case notANumber(file: String, line: Int, text: String)
    case badPolygon(file: String, line: Int, values: Int)
    case columnCount(file: String, line: Int, count: Int)
    case notFinite(file: String, line: Int, row: [Float])
    case negative(file: String, line: Int, row: [Float])
    case outOfBounds(file: String, line: Int, row: [Float])
    case classOutOfRange(file: String, line: Int, classValue: Float, nc: Int)

    public var description: String {
        func r(_ row: [Float]) -> String { row.map { "\($0)" }.joined(separator: " ") }
        switch self {
        case let .notANumber(f, l, t): return "\(f):\(l): '\(t)' is not a number"
        case let .badPolygon(f, l, n): return "\(f):\(l): polygon row needs an even number of coordinates, got \(n)"
        case let .columnCount(f, l, n): return "\(f):\(l): labels require 5 columns (class cx cy w h), \(n) columns detected"
        case let .notFinite(f, l, row): return "\(f):\(l): non-finite label values: \(r(row))"
        case let .negative(f, l, row): return "\(f):\(l): negative label values: \(r(row))"
        case let .outOfBounds(f, l, row):
            return "\(f):\(l): non-normalized or out of bounds coordinates (must be within 0...1): \(r(row))"
        case let .classOutOfRange(f, l, c, nc):
            let shown = c == c.rounded() && abs(c) < 1e9 ? "\(Int(c))" : "\(c)"
            return "\(f):\(l): class \(shown) is not an integer in 0...\(nc - 1) (nc=\(nc))"
        }
    }
}

/// How an image's label file was found (YOLOv5's nm / nf / ne / nc counters).
public enum LabelStatus: String, Codable, Sendable {
    case found, missing, empty, corrupt
}

/// The outcome of checking one image, stored in the cache.
public struct VerifiedImage: Codable, Sendable, Equatable {
    public var imagePath: String
    public var labels: [[Float]]
    public var segments: [[Float]]
    public var width: Int
    public var height: Int
    /// Usable images are `found`, `missing` (background) or `empty` (background).
    public var status: LabelStatus
    /// Whether a label file existed (counted in "found" even when empty or corrupt, as upstream).
    public var labelFileExists: Bool
    /// Zero or one line, naming the file.
    public var message: String?
}

public enum Verification {
    /// Checks one image and its label file. Never throws: problems become `.corrupt` plus a message.
    /// `fullDecode` also decodes every JPEG (upstream only reads headers, PIL `verify()`).
    public static func verify(imagePath: String, labelPath: String, nc: Int, fullDecode: Bool = false) -> VerifiedImage {
        var result = VerifiedImage(imagePath: imagePath, labels: [], segments: [], width: 0, height: 0,
                                   status: .missing, labelFileExists: false, message: nil)
        var notes: [String] = []
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: imagePath), options: .mappedIfSafe)
            let info = try ImageCodec.inspect(data: data, path: imagePath)
            guard info.width > 9, info.height > 9 else {
                throw VerificationFailure("image size \(info.width)x\(info.height) <10 pixels")
            }
            if info.format == .jpeg, fullDecode || !info.endsWithEOI {
                let (_, warnings) = try ImageCodec.decode(data: data, path: imagePath)
                let details = warnings.map { $0.replacingOccurrences(of: "\(imagePath): ", with: "") }
                if !info.endsWithEOI {
                    notes.append("corrupt JPEG (no end-of-image marker), kept: " + (details.isEmpty ? "decoded" : details.joined(separator: "; ")))
                } else if !details.isEmpty { notes.append(details.joined(separator: "; ")) }
            }
            result.width = info.width
            result.height = info.height
        } catch {
            result.status = .corrupt
            result.message = "WARNING: \(imagePath): ignoring corrupt image/label: \(reason(error, path: imagePath))"
            return result
        }
        do {
            try readLabels(labelPath, nc: nc, into: &result, notes: &notes)
        } catch {
            result.status = .corrupt
            result.labels = []
            result.segments = []
            result.message = "WARNING: \(imagePath): ignoring corrupt image/label: \(reason(error, path: imagePath))"
            return result
        }
        if !notes.isEmpty { result.message = "WARNING: \(imagePath): " + notes.joined(separator: "; ") }
        return result
    }

    static func readLabels(_ labelPath: String, nc: Int, into result: inout VerifiedImage, notes: inout [String]) throws {
        guard FileManager.default.fileExists(atPath: labelPath) else { result.status = .missing; return }
        result.labelFileExists = true
        let text = try String(contentsOf: URL(fileURLWithPath: labelPath), encoding: .utf8)
        var raw = try LabelFiles.parse(text, file: labelPath)
        guard !raw.rows.isEmpty else { result.status = .empty; return }
        try validate(raw, file: labelPath, nc: nc)
        let removed = dropDuplicates(&raw)
        if removed > 0 { notes.append("\(removed) duplicate labels removed") }
        result.labels = raw.rows
        result.segments = raw.segments
        result.status = .found
    }

    /// The per-row checks, in upstream's order: columns, (finite), negative, ≤ 1, then class.
    static func validate(_ raw: RawLabels, file: String, nc: Int) throws {
        for (row, line) in zip(raw.rows, raw.lines) where row.count != 5 {
            throw LabelError.columnCount(file: file, line: line, count: row.count)
        }
        for (row, line) in zip(raw.rows, raw.lines) {
            if !row.allSatisfy(\.isFinite) { throw LabelError.notFinite(file: file, line: line, row: row) }
            if row.contains(where: { $0 < 0 }) { throw LabelError.negative(file: file, line: line, row: row) }
            if row.dropFirst().contains(where: { $0 > 1 }) { throw LabelError.outOfBounds(file: file, line: line, row: row) }
            if row[0] >= Float(nc) || row[0] != row[0].rounded() {
                throw LabelError.classOutOfRange(file: file, line: line, classValue: row[0], nc: nc)
            }
        }
    }

    /// `np.unique(lb, axis=0, return_index=True)`: when any row repeats, keep the first of each
    /// and (as upstream, since `unique` sorts) order the rows lexicographically. Returns how many
    /// were removed.
    static func dropDuplicates(_ raw: inout RawLabels) -> Int {
        let n = raw.rows.count
        let order = (0..<n).sorted { a, b in
            raw.rows[a].lexicographicallyPrecedes(raw.rows[b]) || (raw.rows[a] == raw.rows[b] && a < b)
        }
        var keep: [Int] = []
        for i in order where keep.last.map({ raw.rows[$0] != raw.rows[i] }) ?? true { keep.append(i) }
        guard keep.count < n else { return 0 }
        raw.rows = keep.map { raw.rows[$0] }
        if !raw.segments.isEmpty { raw.segments = keep.map { raw.segments[$0] } }
        raw.lines = keep.map { raw.lines[$0] }
        return n - keep.count
    }

    static func reason(_ error: Error, path: String) -> String {
        switch error {
        case let e as ImageCodecError: return e.description.replacingOccurrences(of: "\(path): ", with: "")
        case let e as LabelError: return e.description
        case let e as VerificationFailure: return e.reason
        default: return "\(error)"
        }
    }
}

struct VerificationFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
