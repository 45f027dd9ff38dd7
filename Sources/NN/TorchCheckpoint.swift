// Reading PyTorch YOLOv5 checkpoints (`best.pt`, `last.pt`, as YOLOv5 v5.0–v7.0 write them
// with torch.save ≥ 1.6) without executing anything: the zip archive is parsed by
// ZipArchive, `data.pkl` by the safe Unpickler, and the state dict is rebuilt from the
// pickled nn.Module tree the way `Module.state_dict()` would list it. Also reads a pickled
// plain state dict (a dict of tensors). Not supported: the legacy pre-1.6 format, TorchScript
// archives' code, and tensor types beyond the real and integer storages.
import Foundation
import TensorCore

/// A PyTorch checkpoint, decoded into Float32 tensors and inert metadata.
public struct TorchCheckpoint: Sendable {
    /// Every parameter and persistent buffer, converted to Float32 (F16, BF16, F64 and integer
    /// storages are converted; views honour their offset and strides), keyed like
    /// PyTorch's `state_dict()`: `model.0.conv.weight`, `model.24.anchors`, ….
    public var stateDict: [String: Tensor]
    /// The state dict's keys in PyTorch's order (parameters, then buffers, then submodules).
    public var stateDictKeys: [String]
    /// Whether the state dict comes from the checkpoint's `ema` model (preferred when present).
    public var usedEMA: Bool
    /// The model's `yaml` attribute (a dict: nc, depth_multiple, width_multiple, anchors,
    /// backbone, head, …) as an inert value tree, or nil when the checkpoint holds no model
    /// object. Strings stay strings (`"nn.Upsample"`, `"None"`), as PyYAML produced them.
    public var modelYAML: PickleValue?
    /// `modelYAML` rendered as YAML text in YOLOv5's layout (see `TorchCheckpoint.renderYAML`).
    public var modelYAMLText: String? { modelYAML.flatMap(TorchCheckpoint.renderYAML) }
    /// Class names, index order (from a list, or a `{index: name}` dict).
    public var names: [String]
    /// The `epoch` entry (-1 after YOLOv5's strip_optimizer), if any.
    public var epoch: Int?
    /// The `best_fitness` entry (a float, or a one-element numpy array/scalar), if any.
    public var bestFitness: Double?
    /// The keys of the top-level dict, in order (`epoch`, `best_fitness`, `model`, `ema`, …).
    public var topLevelKeys: [String]
    /// The whole decoded `data.pkl`, for anything else (`opt`, `date`, `optimizer`, …).
    public var contents: PickleValue

    /// Reads a checkpoint. Throws `TorchCheckpointError` naming the file for anything it
    /// cannot read; never executes code from the file.
    public static func read(_ url: URL) throws -> TorchCheckpoint {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw TorchCheckpointError.io(file: url.path, reason: SafeTensors.describe(error))
        }
        return try decode([UInt8](data), fileName: url.path)
    }

    /// Decodes the bytes of a checkpoint file; `fileName` is used in error messages.
    public static func decode(_ bytes: [UInt8], fileName f: String) throws -> TorchCheckpoint {
        try rejectNonZip(bytes, fileName: f)
        let zip = try ZipArchive(bytes: bytes, fileName: f)
        let prefix = try archivePrefix(zip)
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.contents(of: order), as: UTF8.self)
            guard text == "little" else {
                throw TorchCheckpointError.unexpectedContent(file: f, reason: "the tensors are stored \(text)-endian; only little-endian is supported")
            }
        }
        guard let pkl = zip.entry(named: prefix + "data.pkl") else {
            throw TorchCheckpointError.missingEntry(file: f, entry: prefix + "data.pkl")
        }
        let root = try Unpickler.decode(Array(try zip.contents(of: pkl)), file: f)
        var reader = TensorReader(zip: zip, prefix: prefix + "data/")
        return try interpret(root, tensors: &reader, fileName: f)
    }

    // MARK: Container checks

    /// Empty files, the legacy pickle-stream format, and tar archives get their own message.
    private static func rejectNonZip(_ b: [UInt8], fileName f: String) throws {
        guard !b.isEmpty else { throw TorchCheckpointError.notAZipArchive(file: f, reason: "the file is empty") }
        if b.starts(with: [0x50, 0x4B]) { return }  // "PK"
        // torch<1.6 pickled a magic number first: PROTO 2, LONG1 0x1950a86a20f9469cfc6c.
        if b.starts(with: [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]) {
            throw TorchCheckpointError.legacyFormat(file: f)
        }
        if b.count > 262, Array(b[257..<262]) == Array("ustar".utf8) { throw TorchCheckpointError.legacyFormat(file: f) }
        if b[0] == 0x80 {
            throw TorchCheckpointError.notAZipArchive(
                file: f, reason: "it is a bare pickle stream, not a torch.save archive (a legacy checkpoint has the same look: re-save it with torch>=1.6)")
        }
    }

    /// The folder holding `data.pkl` ("archive/", "last/", …; torch names it after the file).
    private static func archivePrefix(_ zip: ZipArchive) throws -> String {
        let candidates = zip.entries.map(\.name).filter { $0.hasSuffix("data.pkl") }
            .filter { $0 == "data.pkl" || ($0.hasSuffix("/data.pkl") && $0.dropLast(9).firstIndex(of: "/") == nil) }
        guard let pkl = candidates.min(by: { $0.count < $1.count }) else {
            throw TorchCheckpointError.missingEntry(file: zip.fileName, entry: "<archive>/data.pkl")
        }
        return String(pkl.dropLast(8))
    }

    // MARK: Interpreting data.pkl

    private static func interpret(_ root: PickleValue, tensors: inout TensorReader, fileName f: String) throws -> TorchCheckpoint {
        var ckpt = TorchCheckpoint(stateDict: [:], stateDictKeys: [], usedEMA: false, modelYAML: nil, names: [],
                                   epoch: nil, bestFitness: nil, topLevelKeys: [], contents: root)
        var refs: [(String, TorchTensorRef)]
        switch root {
        case .dict(let pairs):
            ckpt.topLevelKeys = pairs.compactMap { $0.0.stringValue }
            let ema = root["ema"].flatMap { $0.isNone ? nil : $0 }
            if let module = ema ?? root["model"].flatMap({ $0.isNone ? nil : $0 }) {
                ckpt.usedEMA = ema != nil
                refs = try moduleOrStateDict(module, fileName: f)
                let model = root["model"].flatMap { $0.isNone ? nil : $0 }
                ckpt.modelYAML = [model, ema].compactMap { $0?["yaml"] }.first { $0.pairs != nil }
                ckpt.names = try [model, ema].compactMap { $0?["names"] }.first.map { try classNames($0, fileName: f) } ?? []
            } else if let sd = root["state_dict"], sd.pairs != nil {
                refs = try stateDictRefs(sd, fileName: f)
            } else {
                refs = try stateDictRefs(root, fileName: f)
            }
            ckpt.epoch = root["epoch"]?.intValue
            ckpt.bestFitness = root["best_fitness"].flatMap(numericValue)
        case .object:
            refs = try moduleStateDict(root, fileName: f)  // torch.save(model)
            ckpt.modelYAML = root["yaml"].flatMap { $0.pairs != nil ? $0 : nil }
            ckpt.names = try root["names"].map { try classNames($0, fileName: f) } ?? []
        default:
            throw TorchCheckpointError.unexpectedContent(file: f, reason: "data.pkl holds \(kind(root)), not a dict or a model")
        }
        for (name, ref) in refs {
            guard ckpt.stateDict[name] == nil else {
                throw TorchCheckpointError.unexpectedContent(file: f, reason: "the state dict has the key '\(name)' twice")
            }
            ckpt.stateDict[name] = try tensors.tensor(ref, name: name)
            ckpt.stateDictKeys.append(name)
        }
        return ckpt
    }

    private static func moduleOrStateDict(_ v: PickleValue, fileName f: String) throws -> [(String, TorchTensorRef)] {
        if case .object = v { return try moduleStateDict(v, fileName: f) }
        return try stateDictRefs(v, fileName: f)
    }

    /// A dict of name → tensor (None entries skipped).
    private static func stateDictRefs(_ v: PickleValue, fileName f: String) throws -> [(String, TorchTensorRef)] {
        guard let pairs = v.pairs else {
            throw TorchCheckpointError.unexpectedContent(file: f, reason: "expected a dict of tensors, found \(kind(v))")
        }
        var refs: [(String, TorchTensorRef)] = []
        for (k, value) in pairs {
            guard let name = k.stringValue else {
                throw TorchCheckpointError.unexpectedContent(file: f, reason: "a state dict key is \(kind(k)), not a string")
            }
            switch value {
            case .none: continue
            case .tensor(let t): refs.append((name, t))
            default:
                throw TorchCheckpointError.unexpectedContent(
                    file: f, reason: "'\(name)' is \(kind(value)), not a tensor (data.pkl is neither a YOLOv5 checkpoint nor a state dict)")
            }
        }
        return refs
    }

    /// `Module.state_dict()` of a pickled nn.Module: its `_parameters`, then its persistent
    /// `_buffers`, then each child in `_modules`, depth first, names joined with dots.
    static func moduleStateDict(_ module: PickleValue, fileName f: String) throws -> [(String, TorchTensorRef)] {
        var refs: [(String, TorchTensorRef)] = []
        try collect(module, prefix: "", into: &refs, fileName: f)
        return refs
    }

    private static func collect(_ module: PickleValue, prefix: String, into refs: inout [(String, TorchTensorRef)],
                                fileName f: String) throws {
        guard case .object(let o) = module, let params = module["_parameters"], let buffers = module["_buffers"],
              let children = module["_modules"] else {
            let at = prefix.isEmpty ? "the model" : "'\(prefix.dropLast())'"
            throw TorchCheckpointError.unexpectedContent(file: f, reason: "\(at) is \(kind(module)), not an nn.Module (no _parameters/_buffers/_modules)")
        }
        let nonPersistent = Set((module["_non_persistent_buffers_set"]?.elements ?? []).compactMap(\.stringValue))
        for (isBuffer, table) in [(false, params), (true, buffers)] {
            for (name, value) in try stateDictRefs(table, fileName: f) where !(isBuffer && nonPersistent.contains(name)) {
                refs.append((prefix + name, value))
            }
        }
        guard let modules = children.pairs else {
            throw TorchCheckpointError.unexpectedContent(file: f, reason: "\(o.qualifiedName)._modules is \(kind(children)), not a dict")
        }
        for (k, child) in modules where !child.isNone {
            guard let name = k.stringValue else {
                throw TorchCheckpointError.unexpectedContent(file: f, reason: "a submodule name of \(o.qualifiedName) is \(kind(k))")
            }
            try collect(child, prefix: prefix + name + ".", into: &refs, fileName: f)
        }
    }

    // MARK: Metadata

    /// Names from `['person', …]` or `{0: 'person', …}` (missing indices are named by number).
    static func classNames(_ v: PickleValue, fileName f: String) throws -> [String] {
        if let items = v.elements {
            return items.map { $0.stringValue ?? describeScalar($0) }
        }
        guard let pairs = v.pairs else { return [] }
        var byIndex: [Int: String] = [:]
        for (k, name) in pairs {
            guard let i = k.intValue, i >= 0, i < 1_000_000 else {
                throw TorchCheckpointError.unexpectedContent(file: f, reason: "a class-name key is \(kind(k)), not a non-negative index")
            }
            byIndex[i] = name.stringValue ?? describeScalar(name)
        }
        let n = (byIndex.keys.max() ?? -1) + 1
        return (0..<n).map { byIndex[$0] ?? "\($0)" }
    }

    /// A float or int, or a numpy float64/float32 scalar or one-element array (YOLOv5's
    /// `best_fitness` is `fitness(...)`, a numpy array of shape (1,), after the first epoch).
    public static func numericValue(_ v: PickleValue) -> Double? {
        if let d = v.doubleValue { return d }
        guard case .object(let o) = v, o.module.hasPrefix("numpy") else { return nil }
        func decode(_ dtype: PickleValue?, _ raw: PickleValue?) -> Double? {
            guard case .object(let d)? = dtype, let code = d.args.first?.stringValue, case .bytes(let b)? = raw else { return nil }
            let order = d.state?.elements.flatMap { $0.count > 1 ? $0[1].stringValue : nil } ?? "<"
            let bytes = order == ">" ? Array(b.reversed()) : b
            switch (code, bytes.count) {
            case ("f8", 8...): return Double(bitPattern: bytes.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })
            case ("f4", 4...): return Double(Float(bitPattern: bytes.prefix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }))
            default: return nil
            }
        }
        if o.name == "scalar" { return decode(o.args.first, o.args.count > 1 ? o.args[1] : nil) }  // numpy scalar
        // ndarray: _reconstruct(...) then BUILD((version, shape, dtype, is_fortran, raw bytes))
        guard let s = o.state?.elements, s.count == 5, let shape = s[1].elements,
              shape.allSatisfy({ $0.intValue == 1 }) else { return nil }
        return decode(s[2], s[4])
    }

    static func kind(_ v: PickleValue) -> String {
        switch v {
        case .none: "None"
        case .bool: "a bool"
        case .int, .bigInt: "an int"
        case .float: "a float"
        case .string: "a string"
        case .bytes: "bytes"
        case .list: "a list"
        case .tuple: "a tuple"
        case .dict: "a dict"
        case .set: "a set"
        case .global(let m, let n): "the global \(m).\(n)"
        case .object(let o): "an inert \(o.qualifiedName) object"
        case .tensor: "a tensor"
        case .storage: "a storage"
        }
    }

    private static func describeScalar(_ v: PickleValue) -> String {
        switch v {
        case .int(let i): "\(i)"
        case .float(let d): "\(d)"
        case .bool(let b): b ? "True" : "False"
        default: kind(v)
        }
    }
}
