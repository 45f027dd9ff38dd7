// evolve.csv and hyp_evolve.yaml as YOLOv5 7.0's print_mutation writes them; not the plots.
import Foundation

/// One row of evolve.csv: the 7 validation results and the generation's hyperparameters.
public struct EvolveRecord: Equatable, Sendable {
    /// P, R, mAP@0.5, mAP@0.5:0.95, val box/obj/cls loss (`EvolveCSV.resultKeys`).
    public var results: [Double]
    public var hyp: Hyperparameters
    public var fitness: Double { Evolution.fitness(results) }

    public init(results: [Double], hyp: Hyperparameters) {
        precondition(results.count == EvolveCSV.resultKeys.count, "7 results per generation")
        self.results = results
        self.hyp = hyp
    }
}

/// Why evolve.csv could not be read.
public enum EvolveCSVError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case badRow(file: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): not a readable evolve.csv (\(reason))"
        case let .badRow(file, line, reason):
            return "\(file):\(line): \(reason); delete the row or the file to restart evolution"
        }
    }
}

/// evolve.csv: a header of `%20s` keys, then one `%20.5g` row per generation (values are kept
/// to 5 significant digits), all comma separated.
public enum EvolveCSV {
    public static let resultKeys = ["metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95",
                                    "val/box_loss", "val/obj_loss", "val/cls_loss"]

    /// Appends one generation, writing the header first when the file does not exist.
    public static func append(_ record: EvolveRecord, to url: URL) throws {
        let keys = resultKeys + Evolution.genes(for: record.hyp).map(\.key)
        let values = record.results + Evolution.genes(for: record.hyp).map { record.hyp[evolvable: $0.key] ?? 0 }
        let fm = FileManager.default
        var text = ""
        if !fm.fileExists(atPath: url.path) {
            text += keys.map { String(repeating: " ", count: max(0, 20 - $0.count)) + $0 }.joined(separator: ",") + "\n"
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw EvolveCSVError.unreadable(file: url.path, reason: "cannot create the file")
            }
        }
        text += values.map { String(format: "%20.5g", $0) }.joined(separator: ",") + "\n"
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Reads every generation; hyperparameters absent from the file come from `base`.
    public static func read(_ url: URL, base: Hyperparameters) throws -> [EvolveRecord] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw EvolveCSVError.unreadable(file: url.path, reason: "\(error)")
        }
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        guard let header = lines.first else { return [] }
        let keys = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard Array(keys.prefix(resultKeys.count)) == resultKeys else {
            throw EvolveCSVError.badRow(file: url.path, line: 1, reason: "header does not start with the 7 result keys")
        }
        return try lines.dropFirst().enumerated().map { i, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let values = fields.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard fields.count == keys.count, values.count == keys.count else {
                throw EvolveCSVError.badRow(file: url.path, line: i + 2, reason: "expected \(keys.count) numbers")
            }
            var hyp = base
            for (k, v) in zip(keys, values).dropFirst(resultKeys.count) { hyp[evolvable: k] = v }
            return EvolveRecord(results: Array(values.prefix(resultKeys.count)), hyp: hyp)
        }
    }

    /// hyp_evolve.yaml text: a comment header (best and last generation, the best's results)
    /// and the best generation's evolved hyperparameters. Best is the first maximum of fitness.
    public static func evolvedHypYAML(_ records: [EvolveRecord]) -> String {
        guard let i = records.indices.max(by: { (records[$0].fitness, $1) < (records[$1].fitness, $0) }) else { return "" }
        let best = records[i]
        var s = "# YOLOv5 Hyperparameter Evolution Results\n# Best generation: \(i)\n# Last generation: \(records.count - 1)\n"
        s += "# " + resultKeys.map { String(repeating: " ", count: max(0, 20 - $0.count)) + $0 }.joined(separator: ", ") + "\n"
        s += "# " + best.results.map { String(format: "%20.5g", $0) }.joined(separator: ", ") + "\n\n"
        for gene in Evolution.genes(for: best.hyp) {
            s += "\(gene.key): \(pythonFloat(best.hyp[evolvable: gene.key] ?? 0))\n"
        }
        return s
    }

    /// Writes `evolvedHypYAML` to `url` (YOLOv5 7.0 names it `hyp_evolve.yaml`, v5.0 `hyp_evolved.yaml`).
    public static func writeEvolvedHyp(_ records: [EvolveRecord], to url: URL) throws {
        try Data(evolvedHypYAML(records).utf8).write(to: url)
    }

    /// A float as PyYAML's safe_dump writes it: Python's repr, with `1e-05` as `1.0e-05`.
    static func pythonFloat(_ v: Double) -> String {
        var s = "\(v)"
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            if !s[..<e].contains(".") { s.insert(contentsOf: ".0", at: e) }
        }
        return s
    }
}
