// Why a PyTorch checkpoint (`.pt`) could not be read: one typed error for the zip container,
// the pickle stream and the tensors it describes. Every message names the file, says what is
// wrong and what to do about it.

/// Why a PyTorch checkpoint could not be read. Nothing in the file is ever executed, so a
/// hostile file can at worst produce one of these errors.
public enum TorchCheckpointError: Error, CustomStringConvertible, Equatable {
    /// Opening or reading the file failed at the operating-system level.
    case io(file: String, reason: String)
    /// The file is written in PyTorch's pre-1.6 (non-zip) serialization format.
    case legacyFormat(file: String)
    /// The file is not a zip archive at all (empty, or some other format).
    case notAZipArchive(file: String, reason: String)
    /// The zip structure is damaged: a record points outside the file, sizes disagree, …
    case malformedZip(file: String, reason: String)
    /// An entry is compressed (deflate, …) or encrypted; PyTorch writes entries stored.
    case unsupportedZipEntry(file: String, entry: String, reason: String)
    /// An entry's bytes do not match the CRC-32 in its central directory record.
    case checksumMismatch(file: String, entry: String)
    /// A required archive member (`data.pkl`, a storage) is missing.
    case missingEntry(file: String, entry: String)
    /// The pickle stream is malformed (truncated, stack underflow, bad argument, …).
    case malformedPickle(file: String, offset: Int, reason: String)
    /// An opcode this reader does not understand.
    case unsupportedOpcode(file: String, offset: Int, opcode: UInt8)
    /// A safety limit (nesting depth, memo size, object count, …) was exceeded.
    case limitExceeded(file: String, what: String, limit: Int)
    /// A tensor's storage has an element type this reader cannot convert.
    case unsupportedStorageType(file: String, type: String)
    /// A tensor's size/stride/offset do not fit its storage, or are invalid.
    case invalidTensor(file: String, tensor: String, reason: String)
    /// The pickle was read, but it is not a checkpoint or state dict this reader understands.
    case unexpectedContent(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .io(let f, _), .legacyFormat(let f), .notAZipArchive(let f, _), .malformedZip(let f, _),
             .unsupportedZipEntry(let f, _, _), .checksumMismatch(let f, _), .missingEntry(let f, _),
             .malformedPickle(let f, _, _), .unsupportedOpcode(let f, _, _), .limitExceeded(let f, _, _),
             .unsupportedStorageType(let f, _), .invalidTensor(let f, _, _), .unexpectedContent(let f, _):
            return f
        }
    }

    public var description: String {
        let damaged = "The file is damaged or is not a PyTorch checkpoint; re-download or re-save it"
        switch self {
        case let .io(f, reason):
            return "\(f): could not read the file: \(reason). Check that the path exists and is readable."
        case let .legacyFormat(f):
            return "\(f): this checkpoint uses PyTorch's legacy (pre-1.6, non-zip) format, which is not supported. Re-save it with torch>=1.6: torch.save(torch.load(f), f)."
        case let .notAZipArchive(f, reason):
            return "\(f): not a PyTorch checkpoint: \(reason). torch.save (torch>=1.6) writes a zip archive; check that the path names a .pt file."
        case let .malformedZip(f, reason):
            return "\(f): the zip archive is damaged: \(reason). \(damaged)."
        case let .unsupportedZipEntry(f, entry, reason):
            return "\(f): archive member '\(entry)' is \(reason), which is not supported; torch.save writes members uncompressed. Re-save the file with torch.save instead of re-zipping it."
        case let .checksumMismatch(f, entry):
            return "\(f): archive member '\(entry)' does not match its CRC-32. \(damaged)."
        case let .missingEntry(f, entry):
            return "\(f): the archive has no member '\(entry)'. \(damaged)."
        case let .malformedPickle(f, offset, reason):
            return "\(f): the pickle stream is malformed at byte \(offset): \(reason). \(damaged)."
        case let .unsupportedOpcode(f, offset, op):
            let hex = String(op, radix: 16, uppercase: true)
            return "\(f): unsupported pickle opcode 0x\(hex.count == 1 ? "0" + hex : hex) at byte \(offset). \(damaged) (torch.save writes pickle protocol 2)."
        case let .limitExceeded(f, what, limit):
            return "\(f): the pickle exceeds the limit of \(limit) \(what). This is not a checkpoint this reader accepts (it may be hostile)."
        case let .unsupportedStorageType(f, type):
            return "\(f): tensor storage type '\(type)' is not supported (supported: Float, Half, BFloat16, Double, Long, Int, Short, Char, Byte, Bool). Convert the tensors to float32 or float16 and re-save."
        case let .invalidTensor(f, tensor, reason):
            return "\(f): tensor '\(tensor)': \(reason). \(damaged)."
        case let .unexpectedContent(f, reason):
            return "\(f): \(reason). Expected a YOLOv5 checkpoint (a dict with 'model' or 'ema') or a state dict (a dict of tensors)."
        }
    }
}
