// The dataset YAML (`coco128.yaml`) as YOLOv5 7.0's `check_dataset` reads it: `path`, `train`,
// `val`, `test` (a folder, a .txt list, or a list of either), `nc`, `names` (list or
// {index: name}). Downloads (`download:`) are not done.
//
// One deliberate difference: a relative `path:` is resolved against the YAML's own folder;
// upstream resolves it against the YOLOv5 repository root. With no `path:` both use a base
// folder: ours is the YAML's folder, upstream's the repository root.
import Foundation
import Yams

public enum DatasetConfigError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case missingKey(file: String, key: String)
    case badValue(file: String, key: String, reason: String)
    case classCountMismatch(file: String, nc: Int, names: Int)

    public var description: String {
        switch self {
        case let .unreadable(f, r): return "\(f): cannot read dataset YAML: \(r)"
        case let .missingKey(f, k): return "\(f): '\(k):' field missing"
        case let .badValue(f, k, r): return "\(f): '\(k):' \(r)"
        case let .classCountMismatch(f, nc, n):
            return "\(f): nc: \(nc) but names: lists \(n) classes; make them agree (or drop nc:)"
        }
    }
}

public struct DatasetConfig: Sendable, Equatable {
    /// The dataset root all relative split entries were resolved against.
    public var root: URL
    /// Resolved sources per split: each a folder of images or a .txt list of image paths.
    public var train: [URL]
    public var val: [URL]
    public var test: [URL]
    public var names: [String]
    public var nc: Int { names.count }

    /// Reads and resolves a dataset YAML.
    public static func load(_ url: URL) throws -> DatasetConfig {
        let file = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DatasetConfigError.unreadable(file: file, reason: "\(error)")
        }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch {
            throw DatasetConfigError.unreadable(file: file, reason: "\(error)")
        }
        guard let dict = parsed as? [AnyHashable: Any] else {
            throw DatasetConfigError.unreadable(file: file, reason: "top level is not a mapping")
        }
        var yaml: [String: Any] = [:]
        for (k, v) in dict { yaml["\(k.base)"] = v }
        return try resolve(yaml, yamlFolder: url.deletingLastPathComponent(), file: file)
    }

    static func resolve(_ yaml: [String: Any], yamlFolder: URL, file: String) throws -> DatasetConfig {
        for key in ["train", "val"] where yaml[key] == nil { throw DatasetConfigError.missingKey(file: file, key: key) }
        let names = try parseNames(yaml, file: file)
        var root = yamlFolder
        if let p = yaml["path"], !(p is NSNull) {
            let s = "\(p)"
            if !s.isEmpty { root = s.hasPrefix("/") ? URL(fileURLWithPath: s) : yamlFolder.appendingPathComponent(s) }
        }
        root = root.standardizedFileURL
        func split(_ key: String) throws -> [URL] {
            switch yaml[key] {
            case nil, is NSNull: return []
            case let s as String: return s.isEmpty ? [] : [entry(s, root: root, fallbackForDotDot: true)]
            case let list as [Any]: return list.map { entry("\($0)", root: root, fallbackForDotDot: false) }
            case let other?: throw DatasetConfigError.badValue(file: file, key: key, reason: "expected a path or a list of paths, got \(other)")
            }
        }
        return DatasetConfig(root: root, train: try split("train"), val: try split("val"), test: try split("test"), names: names)
    }

    /// `path / entry`, and upstream's retry without a leading `../` when that does not exist.
    static func entry(_ s: String, root: URL, fallbackForDotDot: Bool) -> URL {
        let direct = (s.hasPrefix("/") ? URL(fileURLWithPath: s) : root.appendingPathComponent(s)).standardizedFileURL
        if fallbackForDotDot, s.hasPrefix("../"), !FileManager.default.fileExists(atPath: direct.path) {
            return root.appendingPathComponent(String(s.dropFirst(3))).standardizedFileURL
        }
        return direct
    }

    /// `names:` as a list or an {int: name} map with keys 0..<n; `nc:` must agree when given.
    /// Without `names:`, `nc:` gives `class0`, `class1`, ... (YOLOv5 ≤ 6.1; 7.0 requires names).
    static func parseNames(_ yaml: [String: Any], file: String) throws -> [String] {
        let nc: Int?
        switch yaml["nc"] {
        case nil, is NSNull: nc = nil
        case let n as Int where n > 0: nc = n
        case let other?: throw DatasetConfigError.badValue(file: file, key: "nc", reason: "must be a positive integer, got \(other)")
        }
        let names: [String]
        switch yaml["names"] {
        case nil, is NSNull:
            guard let nc else { throw DatasetConfigError.missingKey(file: file, key: "names") }
            return (0..<nc).map { "class\($0)" }
        case let list as [Any]:
            names = list.map { "\($0)" }
        case let map as [AnyHashable: Any]:
            var byIndex: [Int: String] = [:]
            for (k, v) in map {
                // Yams gives every mapping key as a String, so `"2": car` is accepted too.
                guard let i = (k.base as? Int) ?? Int("\(k.base)") else {
                    throw DatasetConfigError.badValue(file: file, key: "names", reason: "keys must be integers, i.e. 2: car (got \(k.base))")
                }
                byIndex[i] = "\(v)"
            }
            guard Set(byIndex.keys) == Set(0..<byIndex.count) else {
                throw DatasetConfigError.badValue(file: file, key: "names", reason: "keys must be 0...\(byIndex.count - 1) without gaps")
            }
            names = (0..<byIndex.count).map { byIndex[$0]! }
        case let other?:
            throw DatasetConfigError.badValue(file: file, key: "names", reason: "expected a list or a map, got \(other)")
        }
        guard !names.isEmpty else { throw DatasetConfigError.badValue(file: file, key: "names", reason: "is empty") }
        if let nc, nc != names.count { throw DatasetConfigError.classCountMismatch(file: file, nc: nc, names: names.count) }
        return names
    }
}
