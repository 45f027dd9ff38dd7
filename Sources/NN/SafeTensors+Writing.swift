// Writing safetensors files the way the Python library does: `__metadata__` first, entries
// sorted by name (byte order), compact JSON padded with spaces to a multiple of 8 bytes, data
// in entry order. Files are replaced atomically: temp file in the same folder, fsync, rename.
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SafeTensors {
    /// Writes `tensors` to `url` in `dtype` (F32, F16, BF16 or F64; F16 and BF16 round to
    /// nearest even, and F16 overflows to ±infinity beyond 65504). Replaces any existing file
    /// atomically. `metadata` becomes `__metadata__` (omitted when empty).
    public static func write(_ tensors: [String: Tensor], to url: URL, dtype: SafeTensorsDType = .f32,
                             metadata: [String: String] = [:]) throws {
        let data = try encode(tensors, dtype: dtype, metadata: metadata, fileName: url.path)
        try writeAtomically(data, to: url)
    }

    /// The bytes of a safetensors file holding `tensors`, as `write` would store them.
    public static func encode(_ tensors: [String: Tensor], dtype: SafeTensorsDType = .f32,
                              metadata: [String: String] = [:], fileName: String = "<memory>") throws -> Data {
        if tensors[metadataKey] != nil { throw SafeTensorsError.reservedName(file: fileName) }
        guard dtype.isWritable else {
            throw SafeTensorsError.unsupportedDType(file: fileName, tensor: "(all)", dtype: dtype.rawValue)
        }
        let names = tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\(jsonString(metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * dtype.byteSize
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var out = Data(count: 8 + header.count + offset)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.baseAddress!.advanced(by: 8).copyMemory(from: header, byteCount: header.count)
            var position = 8 + header.count
            for name in names {
                tensors[name]!.withUnsafeBufferPointer { values in
                    store(values, dtype: dtype, into: raw, at: position)
                }
                position += tensors[name]!.count * dtype.byteSize
            }
        }
        return out
    }

    private static func store(_ values: UnsafeBufferPointer<Float>, dtype: SafeTensorsDType,
                              into raw: UnsafeMutableRawBufferPointer, at base: Int) {
        switch dtype {
        case .f32:
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: base + 4 * i, as: UInt32.self)
            }
        case .f16:
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: base + 2 * i, as: UInt16.self)
            }
        case .bf16:
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: bfloat16Bits(v).littleEndian, toByteOffset: base + 2 * i, as: UInt16.self)
            }
        case .f64:
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: Double(v).bitPattern.littleEndian, toByteOffset: base + 8 * i, as: UInt64.self)
            }
        default:
            preconditionFailure("encode() admits only writable dtypes")
        }
    }

    /// BF16 bits of `v`, rounded to nearest even as PyTorch does; NaN becomes 0x7FC0.
    static func bfloat16Bits(_ v: Float) -> UInt16 {
        if v.isNaN { return 0x7FC0 }
        let bits = v.bitPattern
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// A JSON string literal, escaped as serde_json (the Python library's serializer) does.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    // MARK: Atomic replacement

    /// Writes `data` to a temporary file beside `url`, flushes it to disk, and renames it over
    /// `url`, so readers see the old file or the complete new one, never a torn one.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temp = directory + "/." + url.lastPathComponent + ".tmp-" + UUID().uuidString
        func failure(_ operation: String, _ code: Int32) -> SafeTensorsError {
            .io(file: path, operation: operation, reason: String(cString: strerror(code)))
        }

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure("create a temporary file in \(directory)", errno) }
        var committed = false
        defer { if !committed { unlink(temp) } }

        do {
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var written = 0
                while written < raw.count {
                    let n = systemWrite(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw failure("write \(raw.count) bytes", errno)
                    }
                    written += n
                }
            }
            guard fsync(fd) == 0 else { throw failure("flush the file to disk (fsync)", errno) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure("close the temporary file", errno) }
        guard rename(temp, path) == 0 else { throw failure("rename the temporary file over it", errno) }
        committed = true

        // Make the rename itself durable. Failure here leaves a complete file, so it is ignored.
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }
}

/// POSIX write(2), out of reach of `SafeTensors.write`'s name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
