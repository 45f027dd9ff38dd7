// The safetensors checkpoint format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of UTF-8 JSON describing each tensor
// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`),
// then the byte buffer the offsets point into. This file holds the types, the errors and the
// state-dict conveniences; reading is in SafeTensors+Reading.swift, writing in +Writing.swift.
import Foundation
import TensorCore

/// Element types of the safetensors format that this reader understands. Every one is read
/// into a Float32 `Tensor`; F32, F16, BF16 and F64 can also be written.
public enum SafeTensorsDType: String, Sendable, CaseIterable, Equatable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    /// Integer types (PyTorch's `num_batches_tracked` is I64) are read as Float; large values
    /// lose precision beyond 2^24.
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// Whether `SafeTensors.write` can store tensors in this type.
    public var isWritable: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
}

/// One tensor's header entry, as validated against the file.
public struct SafeTensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    /// Byte range relative to the start of the data buffer (after the header).
    public var dataOffsets: Range<Int>

    public init(name: String, dtype: SafeTensorsDType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }
}

/// The contents of a safetensors file: every tensor converted to Float32, and the metadata.
public struct SafeTensorsFile: Sendable {
    public var tensors: [String: Tensor]
    /// The `__metadata__` map (empty when the file has none).
    public var metadata: [String: String]
    /// Every header entry in data-buffer order, with the dtype each tensor was stored in.
    public var entries: [SafeTensorsEntry]

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }
    /// The stored dtype of each tensor.
    public var dtypes: [String: SafeTensorsDType] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.dtype) })
    }
}

/// Reading and writing safetensors files.
public enum SafeTensors {
    /// Largest header accepted (the Python library's limit).
    public static let maxHeaderLength = 100_000_000
    /// The reserved header key for the string-to-string metadata map.
    public static let metadataKey = "__metadata__"
}

/// Why a safetensors file could not be read or written. Every message names the file, says
/// what is wrong and what to do about it.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// Opening, reading, writing, syncing or renaming failed at the operating-system level.
    case io(file: String, operation: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case fileTooSmall(file: String, size: Int)
    /// The header length is larger than `SafeTensors.maxHeaderLength`.
    case headerTooLarge(file: String, headerLength: UInt64)
    /// The header length points past the end of the file.
    case headerBeyondFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(file: String)
    /// The header is not a JSON object (syntax error, or an array, string, …).
    case invalidHeaderJSON(file: String, reason: String)
    /// `__metadata__` is not an object of string values.
    case invalidMetadata(file: String, reason: String)
    /// An entry lacks `dtype`, `shape` or `data_offsets`, or one of them has the wrong form.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// The dtype is unknown or not supported by this reader (or, when writing, writer).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A negative dimension, or a shape whose element or byte count overflows.
    case invalidShape(file: String, tensor: String, shape: String, reason: String)
    /// `data_offsets` span a different number of bytes than shape × dtype size.
    case byteCountMismatch(file: String, tensor: String, dtype: String, shape: [Int],
                           expectedBytes: Int, actualBytes: Int)
    /// `data_offsets` point outside the data buffer.
    case offsetsOutOfBounds(file: String, tensor: String, begin: Int, end: Int, bufferSize: Int)
    /// Two tensors claim some of the same bytes.
    case overlappingTensors(file: String, first: String, second: String)
    /// The header is consistent but the file ends before the data it describes.
    case truncated(file: String, expectedSize: Int, actualSize: Int)
    /// A name appears twice in the header.
    case duplicateName(file: String, tensor: String)
    /// A tensor to write is named `__metadata__`.
    case reservedName(file: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .io(let f, _, _), .fileTooSmall(let f, _), .headerTooLarge(let f, _),
             .headerBeyondFile(let f, _, _), .headerNotUTF8(let f), .invalidHeaderJSON(let f, _),
             .invalidMetadata(let f, _), .invalidEntry(let f, _, _), .unsupportedDType(let f, _, _),
             .invalidShape(let f, _, _, _), .byteCountMismatch(let f, _, _, _, _, _),
             .offsetsOutOfBounds(let f, _, _, _, _), .overlappingTensors(let f, _, _),
             .truncated(let f, _, _), .duplicateName(let f, _), .reservedName(let f):
            return f
        }
    }

    public var description: String {
        let damaged = "The file is damaged or was not written as safetensors; re-download or re-export it"
        switch self {
        case let .io(f, op, reason):
            return "\(f): could not \(op): \(reason). Check that the path exists and is readable/writable, and that the disk has space."
        case let .fileTooSmall(f, size):
            return "\(f): the file is \(size) bytes, too small for a safetensors file (which starts with an 8-byte header length). It is probably empty or truncated; re-download or re-export it."
        case let .headerTooLarge(f, n):
            return "\(f): the header length is \(n) bytes, more than the \(SafeTensors.maxHeaderLength)-byte limit. This is not a safetensors file (or its first 8 bytes are corrupt); check that the path names a .safetensors file."
        case let .headerBeyondFile(f, n, size):
            return "\(f): the header length \(n) is larger than the rest of the \(size)-byte file. The file is truncated or not a safetensors file; re-download or re-export it."
        case let .headerNotUTF8(f):
            return "\(f): the header is not valid UTF-8 text. \(damaged)."
        case let .invalidHeaderJSON(f, reason):
            return "\(f): the header is not a valid safetensors JSON object: \(reason). \(damaged)."
        case let .invalidMetadata(f, reason):
            return "\(f): invalid \"__metadata__\": \(reason). It must be an object whose values are all strings; re-export the file."
        case let .invalidEntry(f, t, reason):
            return "\(f): tensor '\(t)': \(reason). Each entry needs \"dtype\" (string), \"shape\" (array of non-negative integers) and \"data_offsets\" ([begin, end]). \(damaged)."
        case let .unsupportedDType(f, t, dtype):
            let supported = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(f): tensor '\(t)' has dtype \"\(dtype)\", which is not supported (supported: \(supported); writable: F32, F16, BF16, F64). Convert the checkpoint to F32 or F16 before loading."
        case let .invalidShape(f, t, shape, reason):
            return "\(f): tensor '\(t)' has invalid shape \(shape): \(reason). \(damaged)."
        case let .byteCountMismatch(f, t, dtype, shape, expected, actual):
            return "\(f): tensor '\(t)' (\(dtype), shape \(shape)) needs \(expected) bytes but its data_offsets span \(actual) bytes. \(damaged)."
        case let .offsetsOutOfBounds(f, t, b, e, size):
            return "\(f): tensor '\(t)' has data_offsets [\(b), \(e)] outside the \(size)-byte data buffer. \(damaged)."
        case let .overlappingTensors(f, a, b):
            return "\(f): tensors '\(a)' and '\(b)' have overlapping data_offsets. \(damaged)."
        case let .truncated(f, expected, actual):
            return "\(f): the file is truncated: its header describes \(expected) bytes but the file has \(actual). Re-download or re-export it."
        case let .duplicateName(f, t):
            return "\(f): the name '\(t)' appears more than once in the header. \(damaged)."
        case let .reservedName(f):
            return "\(f): a tensor may not be named \"\(SafeTensors.metadataKey)\", which the format reserves for metadata. Rename the tensor."
        }
    }
}

// MARK: - State dicts

/// A tensor whose shape in the checkpoint differs from the model's.
public struct ShapeMismatch: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var expected: [Int]
    public var found: [Int]
    public init(key: String, expected: [Int], found: [Int]) {
        self.key = key
        self.expected = expected
        self.found = found
    }
    public var description: String { "'\(key)': the model expects shape \(expected), the checkpoint has \(found)" }
}

/// Why a state dict could not be loaded into a layer. Nothing is assigned when this is thrown.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    /// Where the tensors came from (a file path), when known.
    public var source: String?
    /// Names the layer has but the state dict lacks (only an error when loading strictly).
    public var missingKeys: [String] = []
    /// Names the state dict has but the layer lacks (only an error when loading strictly).
    public var unexpectedKeys: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []
    /// Names that more than one parameter/buffer of the layer share (a model bug).
    public var duplicateNames: [String] = []

    public init(source: String? = nil, missingKeys: [String] = [], unexpectedKeys: [String] = [],
                shapeMismatches: [ShapeMismatch] = [], duplicateNames: [String] = []) {
        self.source = source
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
        self.shapeMismatches = shapeMismatches
        self.duplicateNames = duplicateNames
    }

    public var description: String {
        var lines = ["\(source.map { "\($0): " } ?? "")the state dict does not match the model:"]
        func list(_ keys: [String]) -> String {
            keys.prefix(20).joined(separator: ", ") + (keys.count > 20 ? ", … (\(keys.count) in all)" : "")
        }
        if !missingKeys.isEmpty { lines.append("  missing keys (in the model, not in the checkpoint): \(list(missingKeys))") }
        if !unexpectedKeys.isEmpty { lines.append("  unexpected keys (in the checkpoint, not in the model): \(list(unexpectedKeys))") }
        for m in shapeMismatches { lines.append("  shape mismatch for \(m)") }
        if !duplicateNames.isEmpty { lines.append("  names used by more than one parameter/buffer of the model: \(list(duplicateNames))") }
        lines.append("  Check that the checkpoint was made for this model configuration (depth/width multiples, number of classes)"
                     + (missingKeys.isEmpty && unexpectedKeys.isEmpty ? "." : ", or load with strict: false to skip missing and unexpected keys."))
        return lines.joined(separator: "\n")
    }
}

/// What `loadStateDict` did.
public struct StateDictLoadReport: Sendable, Equatable {
    /// Names assigned, sorted.
    public var loaded: [String]
    /// Names of the layer left unchanged because the state dict lacks them (non-strict only).
    public var missingKeys: [String]
    /// Names of the state dict that the layer does not have (non-strict only).
    public var unexpectedKeys: [String]
}

/// Assigns `tensors` to `layer`'s parameters and buffers by their PyTorch names.
///
/// All checks happen before anything is assigned. A shape mismatch is always an error; with
/// `strict` (PyTorch's default) missing and unexpected keys are errors too, otherwise they
/// are skipped and listed in the returned report.
@discardableResult
public func loadStateDict(_ tensors: [String: Tensor], into layer: some Layer, strict: Bool = true,
                          source: String? = nil) throws -> StateDictLoadReport {
    var targets: [String: [Int]] = [:]
    var error = StateDictError(source: source)
    for name in layer.parameters.map(\.name) + layer.buffers.map(\.name) {
        if targets[name] != nil { error.duplicateNames.append(name) }
    }
    for p in layer.parameters { targets[p.name] = p.value.shape }
    for b in layer.buffers { targets[b.name] = b.value.shape }
    let missing = targets.keys.filter { tensors[$0] == nil }.sorted()
    let unexpected = tensors.keys.filter { targets[$0] == nil }.sorted()
    if strict {
        error.missingKeys = missing
        error.unexpectedKeys = unexpected
    }
    for (name, shape) in targets.sorted(by: { $0.key < $1.key }) {
        if let t = tensors[name], t.shape != shape {
            error.shapeMismatches.append(ShapeMismatch(key: name, expected: shape, found: t.shape))
        }
    }
    error.duplicateNames = Array(Set(error.duplicateNames)).sorted()
    if !(error.missingKeys.isEmpty && error.unexpectedKeys.isEmpty && error.shapeMismatches.isEmpty
         && error.duplicateNames.isEmpty) {
        throw error
    }
    for p in layer.parameters { if let t = tensors[p.name] { p.value = t.detached } }
    for b in layer.buffers { if let t = tensors[b.name] { b.value = t.detached } }
    return StateDictLoadReport(loaded: targets.keys.filter { tensors[$0] != nil }.sorted(),
                               missingKeys: missing, unexpectedKeys: unexpected)
}

/// Reads a safetensors file and loads it into `layer` (see `loadStateDict(_:into:strict:source:)`).
@discardableResult
public func loadStateDict(from url: URL, into layer: some Layer, strict: Bool = true) throws -> StateDictLoadReport {
    let file = try SafeTensors.read(url)
    return try loadStateDict(file.tensors, into: layer, strict: strict, source: url.path)
}

/// Writes `layer`'s parameters and buffers, under their PyTorch names, to a safetensors file
/// (atomically: a crash leaves either the old file or the new one).
public func saveStateDict(of layer: some Layer, to url: URL, dtype: SafeTensorsDType = .f32,
                          metadata: [String: String] = ["format": "pt"]) throws {
    try SafeTensors.write(layer.stateDict, to: url, dtype: dtype, metadata: metadata)
}
