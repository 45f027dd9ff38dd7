// `ResultsCSV`: the run folder's results.csv exactly as YOLOv5 7.0's `Loggers.on_fit_epoch_end`
// writes it (right-aligned `%20s` header, `%20.5g` values, no spaces after commas), and a
// reader for `plot_results`. It does not write the classifier's `%23s` GenericLogger variant
// unless asked with `width: 23`.
import Foundation

/// Errors reading results.csv.
public enum ResultsCSVError: Error, Equatable, CustomStringConvertible {
    case empty(path: String)
    case badNumber(path: String, line: Int, field: String)
    case wrongColumnCount(path: String, line: Int, expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .empty(p): return "\(p): no header line; delete it or rerun the epoch that writes it"
        case let .badNumber(p, l, f): return "\(p):\(l): '\(f)' is not a number"
        case let .wrongColumnCount(p, l, e, f): return "\(p):\(l): \(f) columns, header has \(e)"
        }
    }
}

/// results.csv: one header line, then one line per epoch.
public struct ResultsCSV: Sendable {
    /// YOLOv5's `Loggers.keys` for detection, in column order after `epoch`.
    public static let keys = [
        "train/box_loss", "train/obj_loss", "train/cls_loss",  // train loss
        "metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95",  // metrics
        "val/box_loss", "val/obj_loss", "val/cls_loss",  // val loss
        "x/lr0", "x/lr1", "x/lr2",  // learning rates of the three parameter groups
    ]

    public let url: URL
    public let keys: [String]
    /// Field width: 20 in YOLOv5 7.0's detection logger.
    public let width: Int

    public init(url: URL, keys: [String] = ResultsCSV.keys, width: Int = 20) {
        (self.url, self.keys, self.width) = (url, keys, width)
    }

    /// `('%20s,' * n % tuple(['epoch'] + keys)).rstrip(',')`.
    public static func header(keys: [String] = ResultsCSV.keys, width: Int = 20) -> String {
        (["epoch"] + keys).map { pad($0, width) }.joined(separator: ",")
    }

    /// `('%20.5g,' * n % tuple([epoch] + vals)).rstrip(',')`.
    public static func row(epoch: Int, values: [Double], width: Int = 20) -> String {
        ([Double(epoch)] + values).map { String(format: "%\(width).5g", $0) }.joined(separator: ",")
    }

    /// Appends one epoch, writing the header first when the file does not exist yet.
    public func append(epoch: Int, values: [Double]) throws {
        precondition(values.count == keys.count, "\(values.count) values for \(keys.count) keys")
        let exists = FileManager.default.fileExists(atPath: url.path)
        let text = (exists ? "" : Self.header(keys: keys, width: width) + "\n")
            + Self.row(epoch: epoch, values: values, width: width) + "\n"
        if !exists {
            try Data(text.utf8).write(to: url)
            return
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Drops the rows of epochs ≥ `epoch` (a resumed run trains them again); keeps the header
    /// and every other line byte for byte. Does nothing when the file does not exist.
    public func truncate(toEpochsBelow epoch: Int) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let kept = lines.enumerated().filter { k, line in
            guard k > 0, let first = line.split(separator: ",").first,
                  let e = Double(first.trimmingCharacters(in: .whitespaces)) else { return true }
            return e < Double(epoch)
        }.map(\.element)
        guard kept.count != lines.count else { return }
        try Data((kept.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
    }

    /// The parsed table: trimmed column names (like `[x.strip() for x in data.columns]`) and rows.
    public struct Table: Sendable, Equatable {
        public var columns: [String]
        public var rows: [[Double]]

        /// The values of column `name`, or nil when absent.
        public func column(_ name: String) -> [Double]? {
            columns.firstIndex(of: name).map { i in rows.map { $0[i] } }
        }
    }

    /// Reads any results.csv with a header line (YOLOv5's or ours).
    public static func read(_ url: URL) throws -> Table {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        guard let head = lines.first else { throw ResultsCSVError.empty(path: url.path) }
        let columns = head.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var rows: [[Double]] = []
        for (k, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns.count else {
                throw ResultsCSVError.wrongColumnCount(path: url.path, line: k + 2, expected: columns.count,
                                                       found: fields.count)
            }
            rows.append(try fields.map { f in
                let t = f.trimmingCharacters(in: .whitespaces)
                guard let v = Double(t) ?? (t.lowercased() == "nan" ? .nan : nil) else {
                    throw ResultsCSVError.badNumber(path: url.path, line: k + 2, field: t)
                }
                return v
            })
        }
        return Table(columns: columns, rows: rows)
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
