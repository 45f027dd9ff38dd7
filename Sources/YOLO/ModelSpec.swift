// A YOLOv5 model YAML (`nc`, `depth_multiple`, `width_multiple`, `anchors`, `backbone`,
// `head`) decoded into typed values. YOLOv5's `parse_model` `eval`s module names and
// arguments; here each row becomes a `ModuleSpec` case or a `ModelSpecError` naming the line.
// This file holds the types and errors; ModelSpec+Decoding.swift reads the YAML and
// ModelSpec+Loading.swift finds bundled or user files.

/// Anchors of a model YAML: per level `[w0, h0, w1, h1, …]` in pixels, or only a count per level.
public enum AnchorSpec: Sendable, Equatable {
    /// Pixel (w, h) pairs, flattened per output level.
    case pixels([[Float]])
    /// `anchors: 3`: that many anchors per level, with placeholder sizes 0, 1, 2, … as YOLOv5
    /// uses until AutoAnchor replaces them.
    case count(Int)

    /// The flattened pixel pairs for `levels` output levels.
    public func pairs(levels: Int) -> [[Float]] {
        switch self {
        case let .pixels(p): return p
        case let .count(n): return Array(repeating: (0..<(2 * n)).map(Float.init), count: levels)
        }
    }
}

/// One block of a model YAML with its arguments as written (channels before the width gain).
public enum ModuleSpec: Sendable, Equatable {
    /// `Conv [c2, k=1, s=1, p=None]`: Conv2d (no bias) + BatchNorm2d + SiLU.
    case conv(channels: Int, kernel: Int, stride: Int, padding: Int?)
    /// `Focus [c2, k=1, s=1, p=None]`: space-to-depth, then Conv (v5.0 stem).
    case focus(channels: Int, kernel: Int, stride: Int, padding: Int?)
    /// `Bottleneck [c2, shortcut=True]`.
    case bottleneck(channels: Int, shortcut: Bool)
    /// `BottleneckCSP [c2, shortcut=True]`; the row's repeat count goes inside the block.
    case bottleneckCSP(channels: Int, shortcut: Bool)
    /// `C3 [c2, shortcut=True]`; the row's repeat count goes inside the block.
    case c3(channels: Int, shortcut: Bool)
    /// `SPP [c2, [5, 9, 13]]`: parallel stride-1 max-pools.
    case spp(channels: Int, kernels: [Int])
    /// `SPPF [c2, 5]`: the same pools in series (v6.0+).
    case sppf(channels: Int, kernel: Int)
    /// `Concat [1]`: channel concatenation (dimension 1 of NCHW).
    case concat(dimension: Int)
    /// `nn.Upsample [None, scale, 'nearest']`.
    case upsample(scale: Int)
    /// `Detect [nc, anchors]`; nil stands for the YAML's own `nc` / `anchors`.
    case detect(nc: Int?, anchors: AnchorSpec?)

    /// The YAML spelling of the module.
    public var yamlName: String {
        switch self {
        case .conv: return "Conv"
        case .focus: return "Focus"
        case .bottleneck: return "Bottleneck"
        case .bottleneckCSP: return "BottleneckCSP"
        case .c3: return "C3"
        case .spp: return "SPP"
        case .sppf: return "SPPF"
        case .concat: return "Concat"
        case .upsample: return "nn.Upsample"
        case .detect: return "Detect"
        }
    }

    /// The module names `parse_model` accepts here (anything else is `unknownModule`).
    public static let knownNames = ["Conv", "Focus", "Bottleneck", "BottleneckCSP", "C3", "SPP", "SPPF",
                                    "Concat", "nn.Upsample", "Detect"]

    /// Output channels as written, for the blocks whose width `parse_model` scales.
    var scaledChannels: Int? {
        switch self {
        case let .conv(c, _, _, _), let .focus(c, _, _, _), let .bottleneck(c, _), let .bottleneckCSP(c, _),
             let .c3(c, _), let .spp(c, _), let .sppf(c, _):
            return c
        case .concat, .upsample, .detect: return nil
        }
    }

    /// Whether the row's repeat count is passed into the block (`parse_model`: BottleneckCSP, C3).
    var takesRepeats: Bool {
        switch self {
        case .bottleneckCSP, .c3: return true
        default: return false
        }
    }
}

/// One `[from, number, module, args]` row.
public struct LayerSpec: Sendable, Equatable {
    /// Input layers: -1 is the previous layer; other negatives count back from this row.
    public var from: [Int]
    /// Whether `from` was written as a list (`[-1, 6]`) rather than a bare integer.
    public var fromIsList: Bool
    /// Repeat count as written (before the depth gain).
    public var number: Int
    public var module: ModuleSpec
    /// 1-based line of the row in the YAML text.
    public var line: Int
    /// The arguments as Python prints them (`False`, `None`, `'nearest'`, `[5, 9, 13]`, `nc`),
    /// for YOLOv5's layer table.
    public var args: [String]

    public init(from: [Int], fromIsList: Bool, number: Int, module: ModuleSpec, line: Int, args: [String] = []) {
        self.from = from
        self.fromIsList = fromIsList
        self.number = number
        self.module = module
        self.line = line
        self.args = args
    }

    /// Absolute input layer indices for row `index` (-1 stays -1: the previous output).
    func resolvedFrom(index: Int) -> [Int] {
        from.map { $0 == -1 ? -1 : ($0 < 0 ? index + $0 : $0) }
    }
}

/// A decoded model YAML.
public struct ModelSpec: Sendable, Equatable {
    /// Display name: the YAML file's stem (`yolov5s`), "Model" for text without a file.
    public var name: String
    /// Number of classes.
    public var nc: Int
    /// Depth gain gd: a repeat count n > 1 becomes max(round(n·gd), 1).
    public var depthMultiple: Double
    /// Width gain gw: output channels c become make_divisible(c·gw, 8).
    public var widthMultiple: Double
    public var anchors: AnchorSpec
    public var backbone: [LayerSpec]
    public var head: [LayerSpec]
    /// The YAML text it was decoded from (kept for checkpoints).
    public var yaml: String

    public init(name: String, nc: Int, depthMultiple: Double, widthMultiple: Double, anchors: AnchorSpec,
                backbone: [LayerSpec], head: [LayerSpec], yaml: String = "") {
        self.name = name
        self.nc = nc
        self.depthMultiple = depthMultiple
        self.widthMultiple = widthMultiple
        self.anchors = anchors
        self.backbone = backbone
        self.head = head
        self.yaml = yaml
    }

    /// Backbone rows then head rows: layer i of the model is `layers[i]`.
    public var layers: [LayerSpec] { backbone + head }

    /// This spec with `nc` replaced (YOLOv5's "Overriding model.yaml nc=… with nc=…").
    /// The YAML text with its top-level `nc:` set to this spec's `nc` (what checkpoints store, so
    /// a model trained with another class count rebuilds with the right head).
    public var yamlText: String {
        var replaced = false
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard !replaced, line.hasPrefix("nc:") else { return String(line) }
            replaced = true
            return "nc: \(nc)  # number of classes"
        }
        return replaced ? lines.joined(separator: "\n") : "nc: \(nc)\n" + yaml
    }

    public func with(nc newNC: Int) -> ModelSpec {
        var s = self
        s.nc = newNC
        return s
    }

    /// Repeats after the depth gain (`parse_model`: n = max(round(n·gd), 1) when n > 1).
    public func scaledRepeats(_ n: Int) -> Int {
        n > 1 ? max(Int((Double(n) * depthMultiple).rounded(.toNearestOrEven)), 1) : n
    }

    /// Channels after the width gain: ceil(c·gw / 8)·8 (`make_divisible(c * gw, 8)`).
    public func scaledChannels(_ c: Int) -> Int {
        Int((Double(c) * widthMultiple / 8).rounded(.up)) * 8
    }
}

/// Why a model YAML could not be used. Each case names the file and, where it applies, the line.
public enum ModelSpecError: Error, CustomStringConvertible, Equatable {
    /// No file at that path and no bundled model of that name.
    case notFound(cfg: String, bundled: [String])
    case unreadable(file: String, message: String)
    case invalidYAML(file: String, message: String)
    case missingKey(file: String, key: String)
    case badValue(file: String, line: Int, key: String, message: String)
    case unknownModule(file: String, line: Int, name: String)
    case badFrom(file: String, line: Int, layer: Int, from: Int)
    case badArguments(file: String, line: Int, module: String, message: String)
    case badRow(file: String, line: Int, message: String)

    public var description: String {
        switch self {
        case let .notFound(cfg, bundled):
            return "model '\(cfg)' not found: not a file, and not a bundled model (\(bundled.joined(separator: ", ")))"
        case let .unreadable(file, message): return "\(file): cannot read: \(message)"
        case let .invalidYAML(file, message): return "\(file): not valid YAML: \(message)"
        case let .missingKey(file, key): return "\(file): missing key '\(key)'"
        case let .badValue(file, line, key, message): return "\(file):\(line): '\(key)': \(message)"
        case let .unknownModule(file, line, name):
            return "\(file):\(line): unknown module '\(name)'; known: \(ModuleSpec.knownNames.joined(separator: ", "))"
        case let .badFrom(file, line, layer, from):
            return "\(file):\(line): layer \(layer) takes input from \(from), which is not an earlier layer"
        case let .badArguments(file, line, module, message): return "\(file):\(line): \(module): \(message)"
        case let .badRow(file, line, message): return "\(file):\(line): \(message)"
        }
    }

    /// The YAML line the error points at, when it has one.
    public var line: Int? {
        switch self {
        case let .badValue(_, l, _, _), let .unknownModule(_, l, _), let .badFrom(_, l, _, _),
             let .badArguments(_, l, _, _), let .badRow(_, l, _):
            return l
        default: return nil
        }
    }
}
