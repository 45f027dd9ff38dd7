// Training checkpoints: one `.safetensors` file holding the model, EMA and optimizer tensors under
// `model.`, `ema.` and `optimizer.` prefixes, and JSON metadata (format version, epoch, best
// fitness, EMA updates, model YAML, hyperparameters, options, class names, RNG state). Written
// to a temporary file, fsynced and renamed (SafeTensors.write), so `last` is never torn.
import Foundation
import NN
import TensorCore

/// What a checkpoint records besides tensors.
public struct CheckpointMetadata: Codable, Sendable, Equatable {
    public static let currentFormatVersion = 1
    public var formatVersion = CheckpointMetadata.currentFormatVersion
    /// The last completed epoch (0-based); -1 for a final, stripped checkpoint.
    public var epoch: Int
    public var bestFitness: Double
    public var emaUpdates: Int
    /// The model architecture in YOLOv5's YAML format.
    public var modelYAML: String
    /// Hyperparameters as YAML text (YOLOv5 keys).
    public var hypYAML: String
    /// The run's options (opt.yaml) as YAML text.
    public var optionsYAML: String
    public var names: [String]
    /// The training RNG's state (xoshiro256** words), for bit-exact resume.
    public var rngState: [UInt64]?
    /// ISO-8601 time of writing.
    public var date: String
    /// True once training has finished (a finished run cannot be resumed).
    public var finished: Bool
    /// The global iteration of the last optimizer step (gradient accumulation spans epochs, so
    /// resume needs it to step on the same iterations as an uninterrupted run). Nil in older files.
    public var lastOptimizerStep: Int?
    /// EarlyStopping's best fitness and epoch, so --patience counts across a resume. Nil in older files.
    public var stopperBestFitness: Double?
    public var stopperBestEpoch: Int?

    public init(epoch: Int, bestFitness: Double, emaUpdates: Int, modelYAML: String, hypYAML: String,
                optionsYAML: String, names: [String], rngState: [UInt64]?, finished: Bool,
                lastOptimizerStep: Int? = nil, stopperBestFitness: Double? = nil, stopperBestEpoch: Int? = nil) {
        self.epoch = epoch
        self.bestFitness = bestFitness
        self.emaUpdates = emaUpdates
        self.modelYAML = modelYAML
        self.hypYAML = hypYAML
        self.optionsYAML = optionsYAML
        self.names = names
        self.rngState = rngState
        self.date = ISO8601DateFormatter().string(from: Date())
        self.finished = finished
        self.lastOptimizerStep = lastOptimizerStep
        self.stopperBestFitness = stopperBestFitness
        self.stopperBestEpoch = stopperBestEpoch
    }
}

public enum CheckpointError: Error, CustomStringConvertible {
    case foreign(file: String)
    case unsupportedVersion(file: String, version: Int)
    case badMetadata(file: String, reason: String)
    case unreadable(file: String, underlying: String)

    public var description: String {
        switch self {
        case let .foreign(file):
            return "\(file): not a YOLOSwift training checkpoint (no yolo-swift metadata). For a YOLOv5 .pt or a "
                + "plain state dict use --weights; --resume needs a runs/train/*/weights/last.safetensors"
        case let .unsupportedVersion(file, version):
            return "\(file): checkpoint format version \(version) is newer than this build understands "
                + "(\(CheckpointMetadata.currentFormatVersion)); update yolo"
        case let .badMetadata(file, reason):
            return "\(file): checkpoint metadata is damaged (\(reason)); use another checkpoint"
        case let .unreadable(file, underlying):
            return "\(file): cannot read checkpoint: \(underlying)"
        }
    }
}

/// A training checkpoint in memory.
public struct Checkpoint: Sendable {
    public static let formatKey = "yolo-swift"
    public var model: [String: Tensor]
    public var ema: [String: Tensor]?
    public var optimizer: [String: Tensor]?
    public var metadata: CheckpointMetadata

    public init(model: [String: Tensor], ema: [String: Tensor]?, optimizer: [String: Tensor]?,
                metadata: CheckpointMetadata) {
        self.model = model
        self.ema = ema
        self.optimizer = optimizer
        self.metadata = metadata
    }

    /// The weights to run: the EMA when present (as YOLOv5 prefers `ema`), else the model.
    public var inferenceWeights: [String: Tensor] { ema ?? model }

    /// Writes atomically; `dtype` .f16 halves the size of a final checkpoint.
    public func write(to url: URL, dtype: SafeTensorsDType = .f32) throws {
        var tensors: [String: Tensor] = [:]
        for (k, v) in model { tensors["model." + k] = v }
        for (k, v) in ema ?? [:] { tensors["ema." + k] = v }
        for (k, v) in optimizer ?? [:] { tensors[k.hasPrefix("optimizer.") ? k : "optimizer." + k] = v }
        let json = try JSONEncoder().encode(metadata)
        try SafeTensors.write(tensors, to: url, dtype: dtype,
                              metadata: ["format": Checkpoint.formatKey, "meta": String(decoding: json, as: UTF8.self)])
    }

    /// Reads a checkpoint, with a clear error for a torn, foreign or newer file.
    public static func read(_ url: URL) throws -> Checkpoint {
        let file = try SafeTensors.read(url)
        guard file.metadata["format"] == formatKey, let meta = file.metadata["meta"] else {
            throw CheckpointError.foreign(file: url.path)
        }
        let metadata: CheckpointMetadata
        do {
            metadata = try JSONDecoder().decode(CheckpointMetadata.self, from: Data(meta.utf8))
        } catch {
            throw CheckpointError.badMetadata(file: url.path, reason: "\(error)")
        }
        guard metadata.formatVersion <= CheckpointMetadata.currentFormatVersion else {
            throw CheckpointError.unsupportedVersion(file: url.path, version: metadata.formatVersion)
        }
        var model: [String: Tensor] = [:], ema: [String: Tensor] = [:], optimizer: [String: Tensor] = [:]
        for (k, v) in file.tensors {
            if k.hasPrefix("model.") { model[String(k.dropFirst(6))] = v }
            else if k.hasPrefix("ema.") { ema[String(k.dropFirst(4))] = v }
            else if k.hasPrefix("optimizer.") { optimizer[k] = v }
        }
        return Checkpoint(model: model, ema: ema.isEmpty ? nil : ema, optimizer: optimizer.isEmpty ? nil : optimizer,
                          metadata: metadata)
    }

    /// The final form written at the end of training: optimizer dropped, EMA as the model
    /// (YOLOv5's strip_optimizer), marked finished.
    public func stripped() -> Checkpoint {
        var meta = metadata
        meta.epoch = -1
        meta.finished = true
        return Checkpoint(model: ema ?? model, ema: nil, optimizer: nil, metadata: meta)
    }
}
