// Loads weights from any supported file: our training checkpoints (.safetensors with metadata),
// a plain safetensors state dict with YOLOv5 key names (architecture from --cfg), or a PyTorch
// YOLOv5 `.pt` (architecture from its pickled `yaml`, class names from `names`).
import Foundation
import NN
import TensorCore
import YOLO

public struct LoadedWeights {
    public var spec: ModelSpec?
    public var state: [String: Tensor]
    public var names: [String]?
    public var checkpoint: Checkpoint?
}

public enum WeightsError: Error, CustomStringConvertible {
    case missing(String)
    case needsConfig(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case let .missing(p): return "\(p): weights file not found"
        case let .needsConfig(p): return "\(p): a plain state dict has no architecture; pass --cfg (e.g. yolov5s.yaml)"
        case let .unsupported(p): return "\(p): unsupported weights format; use .safetensors or a YOLOv5 .pt"
        }
    }
}

public enum WeightsLoader {
    public static func load(_ path: String, cfg: String? = nil) throws -> LoadedWeights {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else { throw WeightsError.missing(path) }
        let cfgSpec = try cfg.flatMap { $0.isEmpty ? nil : try ModelSpec.load(cfg: $0) }
        switch url.pathExtension.lowercased() {
        case "pt", "pth":
            let pt = try TorchCheckpoint.read(url)
            let spec = try cfgSpec ?? pt.modelYAMLText.map { try ModelSpec(yaml: $0, name: url.deletingPathExtension().lastPathComponent, file: path) }
            return LoadedWeights(spec: spec, state: pt.stateDict, names: pt.names.isEmpty ? nil : pt.names, checkpoint: nil)
        case "safetensors":
            do {
                let ckpt = try Checkpoint.read(url)
                let spec = try cfgSpec ?? ModelSpec(yaml: ckpt.metadata.modelYAML, name: "model", file: path)
                return LoadedWeights(spec: spec, state: ckpt.inferenceWeights, names: ckpt.metadata.names, checkpoint: ckpt)
            } catch CheckpointError.foreign {
                let file = try SafeTensors.read(url)
                guard let cfgSpec else { throw WeightsError.needsConfig(path) }
                return LoadedWeights(spec: cfgSpec, state: file.tensors, names: nil, checkpoint: nil)
            }
        default:
            throw WeightsError.unsupported(path)
        }
    }

    /// Copies every tensor whose name and shape match into `model` (YOLOv5's intersect_dicts),
    /// skipping names containing any of `exclude`. Returns (transferred, total) counts.
    @discardableResult
    public static func transfer(_ state: [String: Tensor], into model: YOLOModel, exclude: [String] = []) -> (Int, Int) {
        var n = 0
        for p in model.parameters {
            if let t = state[p.name], t.shape == p.value.shape, !exclude.contains(where: { p.name.contains($0) }) {
                p.value = t; n += 1
            }
        }
        for b in model.buffers {
            if let t = state[b.name], t.shape == b.value.shape, !exclude.contains(where: { b.name.contains($0) }) {
                b.value = t; n += 1
            }
        }
        return (n, model.parameters.count + model.buffers.count)
    }

    /// A model ready for inference from a weights file (EMA preferred, Conv+BN fused).
    public static func inferenceModel(_ path: String, cfg: String? = nil, fuse: Bool = true) throws -> (YOLOModel, [String]) {
        let w = try load(path, cfg: cfg)
        guard let spec = w.spec else { throw WeightsError.needsConfig(path) }
        var g = SeededGenerator(seed: 0)
        let model = YOLOModel(spec: spec, using: &g)
        // Not strict about extra keys (v5.0 checkpoints also hold `anchor_grid`), strict about missing ones.
        let report = try loadStateDict(w.state, into: model, strict: false, source: path)
        let missing = report.missingKeys.filter { !$0.hasSuffix("num_batches_tracked") }
        guard missing.isEmpty else {
            throw StateDictError(source: path, missingKeys: missing)
        }
        if fuse { model.fuse() }
        let names = w.names ?? (0..<model.nc).map { "class\($0)" }
        return (model, names)
    }
}
