// A safe unpickler (protocols 2–5, the binary opcodes) that turns a pickle stream into an
// inert `PickleValue` tree. It never imports or calls anything: GLOBAL only names a class,
// and REDUCE/NEWOBJ/BUILD on a class outside a small allow-list record an inert
// `PickleObject`. The allow-list is what torch.save needs: `_rebuild_tensor_v2` and friends
// become `TorchTensorRef`s, persistent ids become `TorchStorageRef`s, `OrderedDict` and
// `set` become dicts and sets. Text-protocol (0/1) opcodes are reported as unsupported.
//
// Values live in an arena of nodes addressed by index while the stream runs, so the memo can
// share mutable lists and dicts as Python does, and a hostile stream cannot build a structure
// whose destruction recurses deeply. The tree is materialised once, at STOP, within the limits.

/// Decodes pickle streams without executing them.
struct Unpickler {
    /// Safety limits; exceeding one throws `TorchCheckpointError.limitExceeded`.
    struct Limits {
        /// Nesting depth of the decoded value tree (a YOLOv5 checkpoint needs about 30).
        var maxDepth = 200
        var maxMemoEntries = 10_000_000
        /// Values created while decoding.
        var maxNodes = 50_000_000
    }

    /// A value under construction. Containers refer to other nodes by index.
    private enum Node {
        case leaf(PickleValue)
        case list([Int])
        case tuple([Int])
        case dict([(Int, Int)])
        case set([Int])
        case object(module: String, name: String, args: [Int], state: Int?, dictItems: [(Int, Int)], listItems: [Int])
    }

    private let bytes: [UInt8]
    private let file: String
    private let limits: Limits
    private var pos = 0
    private var opStart = 0
    private var nodes: [Node] = []
    private var stack: [Int] = []
    private var marks: [Int] = []
    private var memo: [Int: Int] = [:]

    /// Decodes one pickle; `file` names the source in errors.
    static func decode(_ bytes: [UInt8], file: String, limits: Limits = Limits()) throws -> PickleValue {
        var u = Unpickler(bytes: bytes, file: file, limits: limits)
        let root = try u.run()
        var m = Materializer(nodes: u.nodes, file: file, maxDepth: limits.maxDepth)
        return try m.value(root, depth: 0)
    }

    private init(bytes: [UInt8], file: String, limits: Limits) {
        self.bytes = bytes
        self.file = file
        self.limits = limits
    }

    // MARK: The opcode loop

    private mutating func run() throws -> Int {
        while true {
            opStart = pos
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                            // PROTO
            case 0x95: _ = try take(8)                                           // FRAME
            case 0x2E:                                                           // STOP
                guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack (expected 1)") }
                return stack[0]
            case 0x4E: try push(.leaf(.none))                                    // NONE
            case 0x88: try push(.leaf(.bool(true)))                              // NEWTRUE
            case 0x89: try push(.leaf(.bool(false)))                             // NEWFALSE
            case 0x4A: try push(.leaf(.int(Int(Int32(bitPattern: UInt32(try le(4)))))))  // BININT
            case 0x4B: try push(.leaf(.int(Int(try byte()))))                    // BININT1
            case 0x4D: try push(.leaf(.int(Int(try le(2)))))                     // BININT2
            case 0x8A: try push(.leaf(try long(Int(try byte()))))                // LONG1
            case 0x8B: try push(.leaf(try long(try length(4))))                  // LONG4
            case 0x47: try push(.leaf(.float(Double(bitPattern: try be8()))))    // BINFLOAT
            case 0x58: try push(.leaf(.string(try text(try length(4)))))         // BINUNICODE
            case 0x8C: try push(.leaf(.string(try text(Int(try byte())))))       // SHORT_BINUNICODE
            case 0x8D: try push(.leaf(.string(try text(try length(8)))))         // BINUNICODE8
            case 0x54: try push(.leaf(.string(try text(try length(4)))))         // BINSTRING
            case 0x55: try push(.leaf(.string(try text(Int(try byte())))))       // SHORT_BINSTRING
            case 0x42: try push(.leaf(.bytes(Array(try take(try length(4))))))   // BINBYTES
            case 0x43: try push(.leaf(.bytes(Array(try take(Int(try byte()))))))  // SHORT_BINBYTES
            case 0x8E, 0x96: try push(.leaf(.bytes(Array(try take(try length(8))))))  // BINBYTES8, BYTEARRAY8
            case 0x29: try push(.tuple([]))                                      // EMPTY_TUPLE
            case 0x5D: try push(.list([]))                                       // EMPTY_LIST
            case 0x7D: try push(.dict([]))                                       // EMPTY_DICT
            case 0x8F: try push(.set([]))                                        // EMPTY_SET
            case 0x28: marks.append(stack.count)                                 // MARK
            case 0x74: try push(.tuple(try popMark()))                           // TUPLE
            case 0x85, 0x86, 0x87: try push(.tuple(try pop(Int(op) - 0x84)))     // TUPLE1/2/3
            case 0x6C: try push(.list(try popMark()))                            // LIST
            case 0x64: try push(.dict(try pairs(try popMark())))                 // DICT
            case 0x91: try push(.set(try popMark()))                             // FROZENSET
            case 0x61: try append(try pop(1))                                    // APPEND
            case 0x65: try append(try popMark())                                 // APPENDS
            case 0x90: try append(try popMark())                                 // ADDITEMS
            case 0x73: try setItems(try pairs(try pop(2)))                       // SETITEM
            case 0x75: try setItems(try pairs(try popMark()))                    // SETITEMS
            case 0x30: _ = try pop(1)                                            // POP
            case 0x31: _ = try popMark()                                         // POP_MARK
            case 0x32: stack.append(try top())                                   // DUP
            case 0x71: try put(Int(try byte()))                                  // BINPUT
            case 0x72: try put(Int(try le(4)))                                   // LONG_BINPUT
            case 0x94: try put(memo.count)                                       // MEMOIZE
            case 0x68: try get(Int(try byte()))                                  // BINGET
            case 0x6A: try get(Int(try le(4)))                                   // LONG_BINGET
            case 0x63: try push(.leaf(.global(module: try line(), name: try line())))  // GLOBAL
            case 0x93:                                                           // STACK_GLOBAL
                let mn = try pop(2)
                guard let m = leaf(mn[0])?.stringValue, let n = leaf(mn[1])?.stringValue else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(.leaf(.global(module: m, name: n)))
            case 0x52:                                                           // REDUCE
                let fa = try pop(2)
                try push(try call(fa[0], args: try tupleItems(fa[1], "REDUCE arguments")))
            case 0x81:                                                           // NEWOBJ
                let ca = try pop(2)
                try push(try call(ca[0], args: try tupleItems(ca[1], "NEWOBJ arguments")))
            case 0x92:                                                           // NEWOBJ_EX
                let cak = try pop(3)
                try push(try call(cak[0], args: try tupleItems(cak[1], "NEWOBJ_EX arguments")))
            case 0x62: try build(state: try pop(1)[0])                           // BUILD
            case 0x51: try push(.leaf(try persistentID(try pop(1)[0])))          // BINPERSID
            default: throw TorchCheckpointError.unsupportedOpcode(file: file, offset: opStart, opcode: op)
            }
        }
    }

    // MARK: Reading the stream

    private func fail(_ reason: String) -> TorchCheckpointError {
        .malformedPickle(file: file, offset: opStart, reason: reason)
    }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - pos else {
            throw fail("the stream ends \(pos >= bytes.count ? "without a STOP opcode" : "inside an argument") (truncated)")
        }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    private mutating func byte() throws -> UInt8 { try take(1).first! }

    /// An unsigned little-endian integer of `n` ≤ 8 bytes.
    private mutating func le(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func be8() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }

    /// A length argument, checked against what is left of the stream.
    private mutating func length(_ n: Int) throws -> Int {
        let v = try le(n)
        guard v <= UInt64(bytes.count - pos) else { throw fail("a length of \(v) bytes runs past the end of the stream") }
        return Int(v)
    }

    private mutating func text(_ n: Int) throws -> String { String(decoding: try take(n), as: UTF8.self) }

    /// A newline-terminated ASCII argument (GLOBAL's module and name).
    private mutating func line() throws -> String {
        guard let end = bytes[pos...].prefix(1024).firstIndex(of: 0x0A) else {
            throw fail("GLOBAL argument is not newline-terminated within 1024 bytes")
        }
        defer { pos = end + 1 }
        return String(decoding: bytes[pos..<end], as: UTF8.self)
    }

    /// A little-endian two's-complement integer of `n` bytes (LONG1/LONG4).
    private mutating func long(_ n: Int) throws -> PickleValue {
        let b = Array(try take(n))
        guard n > 8 else {
            guard n > 0 else { return .int(0) }
            var v = UInt64(0)
            for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
            if b[n - 1] & 0x80 != 0, n < 8 { v |= ~UInt64(0) << (8 * UInt64(n)) }  // sign-extend
            return .int(Int(Int64(bitPattern: v)))
        }
        return .bigInt(b)
    }

    // MARK: The stack, marks and memo

    private mutating func push(_ node: Node) throws {
        guard nodes.count < limits.maxNodes else {
            throw TorchCheckpointError.limitExceeded(file: file, what: "values", limit: limits.maxNodes)
        }
        nodes.append(node)
        stack.append(nodes.count - 1)
    }

    private func top() throws -> Int {
        guard let t = stack.last, stack.count > (marks.last ?? 0) else { throw fail("the stack is empty") }
        return t
    }

    private mutating func pop(_ n: Int) throws -> [Int] {
        guard stack.count - n >= (marks.last ?? 0) else { throw fail("stack underflow (needed \(n) values)") }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private mutating func popMark() throws -> [Int] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        defer { stack.removeSubrange(m...) }
        return Array(stack[m...])
    }

    private func pairs(_ items: [Int]) throws -> [(Int, Int)] {
        guard items.count % 2 == 0 else { throw fail("a dict needs key/value pairs, got \(items.count) values") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    private mutating func put(_ index: Int) throws {
        guard memo.count < limits.maxMemoEntries || memo[index] != nil else {
            throw TorchCheckpointError.limitExceeded(file: file, what: "memo entries", limit: limits.maxMemoEntries)
        }
        memo[index] = try top()
    }

    private mutating func get(_ index: Int) throws {
        guard let id = memo[index] else { throw fail("memo index \(index) was never stored") }
        stack.append(id)
    }

    // MARK: Containers

    private mutating func append(_ items: [Int]) throws {
        let target = try top()
        switch nodes[target] {
        case .list(var a): nodes[target] = .leaf(.none); a += items; nodes[target] = .list(a)
        case .set(var a): nodes[target] = .leaf(.none); a += items; nodes[target] = .set(a)
        case .object(let m, let n, let args, let state, let d, var l):
            nodes[target] = .leaf(.none)  // so `l` is uniquely referenced: no copy per append
            l += items
            nodes[target] = .object(module: m, name: n, args: args, state: state, dictItems: d, listItems: l)
        default: throw fail("APPEND(S)/ADDITEMS on a value that is not a list or set")
        }
    }

    private mutating func setItems(_ items: [(Int, Int)]) throws {
        let target = try top()
        switch nodes[target] {
        case .dict(var d): nodes[target] = .leaf(.none); d += items; nodes[target] = .dict(d)
        case .object(let m, let n, let args, let state, var d, let l):
            nodes[target] = .leaf(.none)
            d += items
            nodes[target] = .object(module: m, name: n, args: args, state: state, dictItems: d, listItems: l)
        default: throw fail("SETITEM(S) on a value that is not a dict")
        }
    }

    private mutating func build(state: Int) throws {
        let target = try top()
        switch nodes[target] {
        case .object(let m, let n, let args, _, let d, let l):
            nodes[target] = .object(module: m, name: n, args: args, state: state, dictItems: d, listItems: l)
        case .leaf(.tensor), .dict:
            break  // tensor python state / dict __dict__: nothing a state dict needs
        default: throw fail("BUILD on a value that is not an object")
        }
    }

    // MARK: Calls (REDUCE, NEWOBJ): the allow-list, everything else inert

    private func leaf(_ id: Int) -> PickleValue? { if case .leaf(let v) = nodes[id] { v } else { nil } }

    private func tupleItems(_ id: Int, _ what: String) throws -> [Int] {
        switch nodes[id] {
        case .tuple(let a), .list(let a): return a
        default: throw fail("\(what) are not a tuple")
        }
    }

    private func int(_ id: Int, _ what: String) throws -> Int {
        guard let i = leaf(id)?.intValue else { throw fail("\(what) is not an integer") }
        return i
    }

    private mutating func call(_ callable: Int, args: [Int]) throws -> Node {
        guard case .leaf(.global(let module, let name)) = nodes[callable] else {
            throw fail("REDUCE/NEWOBJ of a value that is not a class or function")
        }
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            return .leaf(.tensor(try rebuildTensor(args)))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard args.count >= 2, case .leaf(.tensor(var t)) = nodes[args[0]] else {
                throw fail("_rebuild_parameter needs (tensor, requires_grad, …)")
            }
            t.requiresGrad = leaf(args[1])?.intValue == 1
            t.isParameter = true
            return .leaf(.tensor(t))
        case ("torch._tensor", "_rebuild_from_type_v2"):
            guard args.count >= 3 else { throw fail("_rebuild_from_type_v2 needs (func, type, args, state)") }
            return try call(args[0], args: try tupleItems(args[2], "_rebuild_from_type_v2 arguments"))
        case ("collections", "OrderedDict"):
            guard let first = args.first else { return .dict([]) }
            let items = try tupleItems(first, "OrderedDict items")
            return .dict(try items.map { item in
                let kv = try tupleItems(item, "OrderedDict items")
                guard kv.count == 2 else { throw fail("an OrderedDict item is not a (key, value) pair") }
                return (kv[0], kv[1])
            })
        case ("builtins", "set"), ("builtins", "frozenset"), ("__builtin__", "set"), ("__builtin__", "frozenset"):
            return .set(try args.first.map { try tupleItems($0, "set items") } ?? [])
        case ("_codecs", "encode"):  // how protocol 2 pickles `bytes`: encode(latin-1 text, 'latin1')
            guard args.count == 2, let s = leaf(args[0])?.stringValue else { throw fail("_codecs.encode needs (str, encoding)") }
            return .leaf(.bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
        default:
            return .object(module: module, name: name, args: args, state: nil, dictItems: [], listItems: [])
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [Int]) throws -> TorchTensorRef {
        guard args.count >= 4, case .leaf(.storage(let storage)) = nodes[args[0]] else {
            throw fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, …) with a persistent storage")
        }
        let offset = try int(args[1], "the storage offset")
        let shape = try tupleItems(args[2], "tensor sizes").map { try int($0, "a tensor size") }
        let stride = try tupleItems(args[3], "tensor strides").map { try int($0, "a tensor stride") }
        let requiresGrad = args.count > 4 ? leaf(args[4])?.intValue == 1 : false
        return TorchTensorRef(storage: storage, storageOffset: offset, shape: shape, stride: stride,
                              requiresGrad: requiresGrad, isParameter: false)
    }

    /// torch.save's persistent id: `('storage', torch.<Type>Storage, key, location, numel)`.
    private func persistentID(_ id: Int) throws -> PickleValue {
        let items = try tupleItems(id, "the persistent id")
        guard items.count == 5, leaf(items[0])?.stringValue == "storage",
              case .leaf(.global(_, let typeName)) = nodes[items[1]],
              let key = leaf(items[2])?.stringValue, let location = leaf(items[3])?.stringValue,
              let count = leaf(items[4])?.intValue, count >= 0 else {
            throw fail("unsupported persistent id (expected ('storage', type, key, location, numel))")
        }
        return .storage(TorchStorageRef(typeName: typeName, dtype: TorchStorageRef.dtypes[typeName], key: key,
                                        location: location, count: count))
    }

    // MARK: Materialising the tree

    /// Converts arena nodes to values once each (shared subtrees share storage), rejecting
    /// cycles and trees deeper than the limit.
    private struct Materializer {
        let nodes: [Node]
        let file: String
        let maxDepth: Int
        var done: [Int: (value: PickleValue, height: Int)] = [:]
        var active: Set<Int> = []

        mutating func value(_ id: Int, depth: Int) throws -> PickleValue {
            try entry(id, depth: depth).value
        }

        private mutating func entry(_ id: Int, depth: Int) throws -> (value: PickleValue, height: Int) {
            if let d = done[id] {
                guard depth + d.height <= maxDepth else { throw tooDeep() }
                return d
            }
            guard depth <= maxDepth else { throw tooDeep() }
            guard active.insert(id).inserted else {
                throw TorchCheckpointError.malformedPickle(file: file, offset: 0, reason: "a value contains itself (a reference cycle)")
            }
            var height = 0
            func child(_ c: Int) throws -> PickleValue {
                let e = try entry(c, depth: depth + 1)
                height = max(height, e.height + 1)
                return e.value
            }
            let v: PickleValue
            switch nodes[id] {
            case .leaf(let x): v = x
            case .list(let a): v = .list(try a.map(child))
            case .tuple(let a): v = .tuple(try a.map(child))
            case .set(let a): v = .set(try a.map(child))
            case .dict(let p): v = .dict(try p.map { (try child($0.0), try child($0.1)) })
            case let .object(m, n, args, state, d, l):
                v = .object(PickleObject(module: m, name: n, args: try args.map(child), state: try state.map(child),
                                         dictItems: try d.map { (try child($0.0), try child($0.1)) },
                                         listItems: try l.map(child)))
            }
            active.remove(id)
            done[id] = (v, height)
            return (v, height)
        }

        private func tooDeep() -> TorchCheckpointError {
            .limitExceeded(file: file, what: "levels of nesting", limit: maxDepth)
        }
    }
}
