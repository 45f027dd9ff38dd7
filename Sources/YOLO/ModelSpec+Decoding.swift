// Reading a model YAML into `ModelSpec`: walks Yams' node tree (which keeps line marks) so
// every error names the line of the offending row. Arguments are matched per module against
// YOLOv5's constructor signatures (`models/common.py`), never evaluated.
import Yams

extension ModelSpec {
    /// Decodes YAML text. `name` is the display name (file stem); `file` appears in errors.
    public init(yaml text: String, name: String = "Model", file: String = "<yaml>") throws {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ModelSpecError.invalidYAML(file: file, message: "\(error)")
        }
        guard let root, case .mapping = root else {
            throw ModelSpecError.invalidYAML(file: file, message: "the top level is not a mapping")
        }
        let d = YAMLReader(file: file)
        func required(_ key: String) throws -> Node {
            guard let n = root[key] else { throw ModelSpecError.missingKey(file: file, key: key) }
            return n
        }
        let nc = try d.int(try required("nc"), key: "nc")
        let gd = try d.double(try required("depth_multiple"), key: "depth_multiple")
        let gw = try d.double(try required("width_multiple"), key: "width_multiple")
        let anchors = try d.anchors(try required("anchors"), key: "anchors")
        let backbone = try d.rows(try required("backbone"), key: "backbone")
        let head = try d.rows(try required("head"), key: "head")
        self.init(name: name, nc: nc, depthMultiple: gd, widthMultiple: gw, anchors: anchors,
                  backbone: backbone, head: head, yaml: text)
        try validate(file: file)
    }

    /// Checks what the rows cannot check alone: `from` indices point at earlier layers, and the
    /// model ends in exactly one Detect.
    func validate(file: String) throws {
        let all = layers
        for (i, row) in all.enumerated() {
            for f in row.from where f != -1 {
                let j = f < 0 ? i + f : f
                if j < 0 || j >= i { throw ModelSpecError.badFrom(file: file, line: row.line, layer: i, from: f) }
            }
            if i == 0, row.from != [-1] { throw ModelSpecError.badFrom(file: file, line: row.line, layer: 0, from: row.from[0]) }
            if case .detect = row.module, i != all.count - 1 {
                throw ModelSpecError.badRow(file: file, line: row.line, message: "Detect must be the last layer")
            }
        }
        guard let last = all.last, case .detect = last.module else {
            throw ModelSpecError.badRow(file: file, line: all.last?.line ?? 1, message: "the last layer must be Detect")
        }
    }
}

/// Typed reads of Yams nodes with errors that carry the file and line.
struct YAMLReader {
    let file: String

    func line(_ n: Node) -> Int { n.mark?.line ?? 0 }

    func isPlainScalar(_ n: Node) -> Bool {
        if case let .scalar(s) = n { return s.style == .plain || s.style == .any }
        return false
    }

    func int(_ n: Node, key: String) throws -> Int {
        guard isPlainScalar(n), let v = n.int else {
            throw ModelSpecError.badValue(file: file, line: line(n), key: key, message: "expected an integer")
        }
        return v
    }

    func double(_ n: Node, key: String) throws -> Double {
        guard isPlainScalar(n), let v = n.float else {
            throw ModelSpecError.badValue(file: file, line: line(n), key: key, message: "expected a number")
        }
        return v
    }

    func anchors(_ n: Node, key: String) throws -> AnchorSpec {
        if case .scalar = n { return .count(try int(n, key: key)) }
        guard case let .sequence(levels) = n, !levels.isEmpty else {
            throw ModelSpecError.badValue(file: file, line: line(n), key: key,
                                          message: "expected a count or a list of [w, h, …] lists")
        }
        var out: [[Float]] = []
        for level in levels {
            guard case let .sequence(values) = level, !values.isEmpty, values.count % 2 == 0 else {
                throw ModelSpecError.badValue(file: file, line: line(level), key: key,
                                              message: "each level needs an even number of values (w, h pairs)")
            }
            out.append(try values.map { Float(try double($0, key: key)) })
        }
        guard Set(out.map(\.count)).count == 1 else {
            throw ModelSpecError.badValue(file: file, line: line(n), key: key,
                                          message: "every level needs the same number of anchors")
        }
        return .pixels(out)
    }

    func rows(_ n: Node, key: String) throws -> [LayerSpec] {
        guard case let .sequence(rows) = n else {
            throw ModelSpecError.badValue(file: file, line: line(n), key: key, message: "expected a list of rows")
        }
        return try rows.map { try row($0) }
    }

    func row(_ n: Node) throws -> LayerSpec {
        let l = line(n)
        guard case let .sequence(items) = n, items.count == 4 else {
            throw ModelSpecError.badRow(file: file, line: l, message: "a row is [from, number, module, args]")
        }
        let (from, isList): ([Int], Bool)
        if case let .sequence(list) = items[0] {
            guard !list.isEmpty else { throw ModelSpecError.badRow(file: file, line: l, message: "empty 'from' list") }
            (from, isList) = (try list.map { try int($0, key: "from") }, true)
        } else {
            (from, isList) = ([try int(items[0], key: "from")], false)
        }
        let number = try int(items[1], key: "number")
        guard number >= 1 else { throw ModelSpecError.badRow(file: file, line: l, message: "number must be ≥ 1") }
        guard let name = items[2].string, isPlainScalar(items[2]) else {
            throw ModelSpecError.badRow(file: file, line: l, message: "module must be a name")
        }
        guard case let .sequence(args) = items[3] else {
            throw ModelSpecError.badArguments(file: file, line: l, module: name, message: "args must be a list")
        }
        let module = try ModuleArguments(reader: self, module: name, line: l, args: Array(args)).decode()
        return LayerSpec(from: from, fromIsList: isList, number: number, module: module, line: l,
                         args: args.map(pythonRepr))
    }

    /// How Python prints the value YOLOv5 reads from this node (symbols such as `nc` stay names).
    func pythonRepr(_ n: Node) -> String {
        switch n {
        case let .sequence(items): return "[" + items.map(pythonRepr).joined(separator: ", ") + "]"
        case .mapping: return "{…}"
        case let .scalar(s):
            guard isPlainScalar(n) else { return "'" + s.string + "'" }
            if let i = n.int { return String(i) }
            if let b = n.bool { return b ? "True" : "False" }
            if let d = n.float { return String(d) }
            return s.string
        }
    }
}

/// The arguments of one row, matched to a module's signature.
struct ModuleArguments {
    let reader: YAMLReader
    let module: String
    let line: Int
    let args: [Node]

    func fail(_ message: String) -> ModelSpecError {
        .badArguments(file: reader.file, line: line, module: module, message: message)
    }

    /// Fails when more than `count` arguments are given.
    func atMost(_ count: Int, _ signature: String) throws {
        if args.count > count { throw fail("too many arguments; expected \(signature)") }
    }

    func int(_ i: Int, default d: Int? = nil) throws -> Int {
        guard i < args.count else {
            if let d { return d }
            throw fail("missing argument \(i + 1)")
        }
        guard reader.isPlainScalar(args[i]), let v = args[i].int else { throw fail("argument \(i + 1) must be an integer") }
        return v
    }

    /// An integer or `None`.
    func optionalInt(_ i: Int) throws -> Int? {
        guard i < args.count, !isNone(args[i]) else { return nil }
        return try int(i)
    }

    func bool(_ i: Int, default d: Bool) throws -> Bool {
        guard i < args.count else { return d }
        guard reader.isPlainScalar(args[i]), let v = args[i].bool else { throw fail("argument \(i + 1) must be True or False") }
        return v
    }

    func isNone(_ n: Node) -> Bool {
        reader.isPlainScalar(n) && (n.string == "None" || n.null != nil)
    }

    func decode() throws -> ModuleSpec {
        switch module {
        case "Conv", "Focus":
            try atMost(4, "[c2, k, s, p]")
            let (c, k, s, p) = (try int(0), try int(1, default: 1), try int(2, default: 1), try optionalInt(3))
            return module == "Conv" ? .conv(channels: c, kernel: k, stride: s, padding: p)
                                    : .focus(channels: c, kernel: k, stride: s, padding: p)
        case "Bottleneck", "BottleneckCSP", "C3":
            try atMost(2, "[c2, shortcut]")
            let (c, sc) = (try int(0), try bool(1, default: true))
            switch module {
            case "Bottleneck": return .bottleneck(channels: c, shortcut: sc)
            case "C3": return .c3(channels: c, shortcut: sc)
            default: return .bottleneckCSP(channels: c, shortcut: sc)
            }
        case "SPP":
            try atMost(2, "[c2, [k1, k2, …]]")
            guard args.count < 2 || { if case .sequence = args[1] { return true }; return false }() else {
                throw fail("argument 2 must be a list of kernel sizes")
            }
            let ks = args.count < 2 ? [5, 9, 13] : try args[1].array().map {
                guard reader.isPlainScalar($0), let k = $0.int, k % 2 == 1 else { throw fail("kernel sizes must be odd integers") }
                return k
            }
            return .spp(channels: try int(0), kernels: ks)
        case "SPPF":
            try atMost(2, "[c2, k]")
            return .sppf(channels: try int(0), kernel: try int(1, default: 5))
        case "Concat":
            try atMost(1, "[dimension]")
            let d = try int(0, default: 1)
            guard d == 1 else { throw fail("only channel concatenation (dimension 1) is supported") }
            return .concat(dimension: d)
        case "nn.Upsample":
            return try upsample()
        case "Detect":
            return try detect()
        default:
            throw ModelSpecError.unknownModule(file: reader.file, line: line, name: module)
        }
    }

    func upsample() throws -> ModuleSpec {
        try atMost(3, "[None, scale, 'nearest']")
        guard args.count >= 2, isNone(args[0]) else { throw fail("expected [None, scale, 'nearest'] (size is not supported)") }
        if args.count == 3, args[2].string != "nearest" { throw fail("only mode 'nearest' is supported") }
        guard reader.isPlainScalar(args[1]), let s = args[1].float, s >= 1, s == s.rounded() else {
            throw fail("scale must be a whole number ≥ 1")
        }
        return .upsample(scale: Int(s))
    }

    func detect() throws -> ModuleSpec {
        try atMost(2, "[nc, anchors]")
        var nc: Int? = nil
        if !args.isEmpty, !(args[0].string == "nc" && reader.isPlainScalar(args[0])) { nc = try int(0) }
        var anchors: AnchorSpec? = nil
        if args.count > 1, !(args[1].string == "anchors" && reader.isPlainScalar(args[1])) {
            anchors = try reader.anchors(args[1], key: "Detect anchors")
        }
        return .detect(nc: nc, anchors: anchors)
    }
}
