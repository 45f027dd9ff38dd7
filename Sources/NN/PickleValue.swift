// The inert value tree a pickle decodes to. Nothing here can run code: classes are names,
// "calls" (REDUCE, NEWOBJ) are records of what would have been called with which arguments,
// and tensors are references into the checkpoint's storages, read later by TorchCheckpoint.

/// A tensor as `torch._utils._rebuild_tensor_v2` would rebuild it: a view into a storage.
public struct TorchTensorRef: Sendable, Equatable {
    public var storage: TorchStorageRef
    /// In elements of the storage's type.
    public var storageOffset: Int
    public var shape: [Int]
    /// In elements; may be non-contiguous (a transposed or sliced view).
    public var stride: [Int]
    public var requiresGrad: Bool
    /// Whether it was pickled as an `nn.Parameter` (`_rebuild_parameter`).
    public var isParameter: Bool
}

/// A storage named by a persistent id `('storage', torch.HalfStorage, key, location, numel)`:
/// its bytes are the archive member `<prefix>/data/<key>`.
public struct TorchStorageRef: Sendable, Equatable {
    /// The storage class name, e.g. `HalfStorage`.
    public var typeName: String
    /// Its element type, or nil when this reader cannot convert it (complex, quantized, …).
    public var dtype: SafeTensorsDType?
    public var key: String
    public var location: String
    /// Elements (of `dtype`) the storage holds, as pickled.
    public var count: Int

    static let dtypes: [String: SafeTensorsDType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]
}

/// An instance of a class outside the allow-list (a `models.yolo.Model`, an `nn.Conv2d`,
/// a numpy scalar, `os.system`…): what the pickle asked to build, never built.
public struct PickleObject: Sendable, Equatable {
    public var module: String
    public var name: String
    /// The positional arguments of the REDUCE/NEWOBJ call (a tuple's elements).
    public var args: [PickleValue]
    /// What BUILD passed to `__setstate__` (for an `nn.Module`, its `__dict__`), if anything.
    public var state: PickleValue?
    /// Items that SETITEM(S) / APPEND(S) added (dict and list subclasses).
    public var dictItems: [(PickleValue, PickleValue)]
    public var listItems: [PickleValue]

    /// `module.name`.
    public var qualifiedName: String { "\(module).\(name)" }

    public static func == (a: PickleObject, b: PickleObject) -> Bool {
        a.module == b.module && a.name == b.name && a.args == b.args && a.state == b.state
            && a.listItems == b.listItems && a.dictItems.elementsEqual(b.dictItems, by: { $0 == $1 })
    }
}

/// A decoded pickle value. Dicts keep insertion order (Python's and OrderedDict's).
public indirect enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer outside Int64, as little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    case dict([(PickleValue, PickleValue)])
    case set([PickleValue])
    /// A class or function reference (`GLOBAL module name`), e.g. `torch.float16`.
    case global(module: String, name: String)
    case object(PickleObject)
    case tensor(TorchTensorRef)
    case storage(TorchStorageRef)

    public static func == (a: PickleValue, b: PickleValue) -> Bool {
        switch (a, b) {
        case (.none, .none): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.bigInt(x), .bigInt(y)): x == y
        case let (.float(x), .float(y)): x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): x == y
        case let (.bytes(x), .bytes(y)): x == y
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)), let (.set(x), .set(y)): x == y
        case let (.dict(x), .dict(y)): x.elementsEqual(y, by: { $0 == $1 })
        case let (.global(m1, n1), .global(m2, n2)): m1 == m2 && n1 == n2
        case let (.object(x), .object(y)): x == y
        case let (.tensor(x), .tensor(y)): x == y
        case let (.storage(x), .storage(y)): x == y
        default: false
        }
    }

    // MARK: Accessors

    /// The value of `key` in a dict (string keys), or in an object's state dict.
    public subscript(key: String) -> PickleValue? {
        switch self {
        case .dict(let pairs): return pairs.first { $0.0 == .string(key) }?.1
        case .object(let o):
            if let s = o.state?[key] { return s }
            return o.dictItems.first { $0.0 == .string(key) }?.1
        default: return nil
        }
    }

    public var isNone: Bool { if case .none = self { true } else { false } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
    /// Floats, ints, and numpy scalars pickled as objects are not unwrapped (see TorchCheckpoint).
    public var doubleValue: Double? {
        switch self {
        case .float(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }
    /// The elements of a list, tuple or set.
    public var elements: [PickleValue]? {
        switch self {
        case .list(let a), .tuple(let a), .set(let a): a
        case .object(let o) where !o.listItems.isEmpty: o.listItems
        default: nil
        }
    }
    /// The key/value pairs of a dict (or a dict-subclass object).
    public var pairs: [(PickleValue, PickleValue)]? {
        switch self {
        case .dict(let p): p
        case .object(let o) where !o.dictItems.isEmpty: o.dictItems
        default: nil
        }
    }
}
