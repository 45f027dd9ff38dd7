// A minimal, bounds-checked zip reader for PyTorch checkpoints: the end-of-central-directory
// record (with its zip64 variant), the central directory and local headers, and STORED
// members only (torch.save never compresses; deflate and encryption are reported, not read).
// It is not a general zip library: no multi-disk archives, no decompression, no writing.
// Every offset and size is validated against the file before a byte is read, so a hostile
// archive ends in a `TorchCheckpointError`, never a crash.

/// A zip archive held in memory, with its central directory parsed and validated.
struct ZipArchive {
    /// One member, as its central directory record and local header describe it.
    struct Entry {
        var name: String
        /// 0 = stored; anything else is compressed.
        var method: UInt16
        var flags: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    let fileName: String
    let bytes: [UInt8]
    /// Members in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    static let localHeaderSignature: UInt32 = 0x0403_4B50
    static let centralHeaderSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    /// More members than this is not a checkpoint (yolov5x has ~1,500 storages).
    static let maxEntries = 1_000_000

    /// Parses the central directory of `bytes`; `fileName` is used in error messages.
    init(bytes: [UInt8], fileName: String) throws {
        self.fileName = fileName
        self.bytes = bytes
        let end = try Self.findEnd(bytes, fileName: fileName)
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var p = end.directoryOffset
        for _ in 0..<end.entryCount {
            let entry = try Self.parseCentralRecord(bytes, at: &p, directoryEnd: end.directoryEnd, fileName: fileName)
            guard index.updateValue(entries.count, forKey: entry.name) == nil else {
                throw TorchCheckpointError.malformedZip(file: fileName, reason: "member '\(entry.name)' appears twice")
            }
            entries.append(entry)
        }
        self.entries = entries
        self.index = index
    }

    func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The bytes of a stored member, after checking its local header and CRC-32.
    func contents(of entry: Entry) throws -> ArraySlice<UInt8> {
        let f = fileName
        if entry.flags & 1 != 0 {
            throw TorchCheckpointError.unsupportedZipEntry(file: f, entry: entry.name, reason: "encrypted")
        }
        guard entry.method == 0 else {
            let how = entry.method == 8 ? "deflate-compressed" : "compressed (method \(entry.method))"
            throw TorchCheckpointError.unsupportedZipEntry(file: f, entry: entry.name, reason: how)
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw TorchCheckpointError.malformedZip(
                file: f, reason: "stored member '\(entry.name)' has compressed size \(entry.compressedSize) ≠ size \(entry.uncompressedSize)")
        }
        let h = entry.localHeaderOffset
        guard h <= bytes.count - 30, Self.u32(bytes, h) == Self.localHeaderSignature else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "member '\(entry.name)' has no local header at offset \(h)")
        }
        let start = h + 30 + Int(Self.u16(bytes, h + 26)) + Int(Self.u16(bytes, h + 28))
        guard start <= bytes.count, entry.compressedSize <= bytes.count - start else {
            throw TorchCheckpointError.malformedZip(
                file: f, reason: "member '\(entry.name)' (\(entry.compressedSize) bytes at offset \(start)) extends past the end of the \(bytes.count)-byte file; the file is truncated")
        }
        let data = bytes[start..<(start + entry.compressedSize)]
        guard CRC32.checksum(data) == entry.crc32 else {
            throw TorchCheckpointError.checksumMismatch(file: f, entry: entry.name)
        }
        return data
    }

    // MARK: End of central directory

    private struct End {
        var entryCount: Int
        var directoryOffset: Int
        var directoryEnd: Int
    }

    /// Finds the end-of-central-directory record (searching back over a comment of up to
    /// 64 KiB) and, when its fields are saturated, the zip64 record it points to.
    private static func findEnd(_ b: [UInt8], fileName f: String) throws -> End {
        guard b.count >= 22 else {
            throw TorchCheckpointError.notAZipArchive(file: f, reason: "the file is \(b.count) bytes, too small for a zip archive")
        }
        var p = b.count - 22
        let lowest = max(0, b.count - 22 - 0xFFFF)
        while p >= lowest, !(u32(b, p) == endSignature && p + 22 + Int(u16(b, p + 20)) <= b.count) { p -= 1 }
        guard p >= lowest else {
            let reason = u32(b, 0) == localHeaderSignature
                ? "it starts like a zip archive but has no end-of-central-directory record (the file is truncated)"
                : "it has no zip end-of-central-directory record"
            throw TorchCheckpointError.notAZipArchive(file: f, reason: reason)
        }
        guard u16(b, p + 4) == 0, u16(b, p + 6) == 0 else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "multi-disk archives are not supported")
        }
        var count = Int(u16(b, p + 10))
        var size = Int(u32(b, p + 12))
        var offset = Int(u32(b, p + 16))
        var recordStart = p
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            let l = p - 20
            guard l >= 0, u32(b, l) == zip64LocatorSignature else {
                throw TorchCheckpointError.malformedZip(file: f, reason: "zip64 sizes are used but the zip64 locator is missing")
            }
            let r64 = u64(b, l + 8)
            guard r64 <= UInt64(l), Int(r64) <= l - 56, u32(b, Int(r64)) == zip64EndSignature else {
                throw TorchCheckpointError.malformedZip(file: f, reason: "the zip64 end-of-central-directory record is missing or out of bounds")
            }
            let r = Int(r64)
            let c64 = u64(b, r + 32), s64 = u64(b, r + 40), o64 = u64(b, r + 48)
            guard c64 <= UInt64(maxEntries), s64 <= UInt64(b.count), o64 <= UInt64(b.count) else {
                throw TorchCheckpointError.malformedZip(file: f, reason: "the zip64 record's counts are out of range")
            }
            (count, size, offset, recordStart) = (Int(c64), Int(s64), Int(o64), r)
        }
        guard offset <= recordStart, size <= recordStart - offset else {
            throw TorchCheckpointError.malformedZip(
                file: f, reason: "the central directory (\(size) bytes at offset \(offset)) overlaps its end record or lies outside the file; the file is truncated or damaged")
        }
        guard count <= size / 46 else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "\(count) members cannot fit in a \(size)-byte central directory")
        }
        return End(entryCount: count, directoryOffset: offset, directoryEnd: offset + size)
    }

    // MARK: Central directory records

    private static func parseCentralRecord(_ b: [UInt8], at p: inout Int, directoryEnd: Int,
                                           fileName f: String) throws -> Entry {
        guard p <= directoryEnd - 46, u32(b, p) == centralHeaderSignature else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "bad central directory record at offset \(p)")
        }
        let nameLength = Int(u16(b, p + 28)), extraLength = Int(u16(b, p + 30)), commentLength = Int(u16(b, p + 32))
        let next = p + 46 + nameLength + extraLength + commentLength
        guard next <= directoryEnd else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "central directory record at offset \(p) runs past the directory")
        }
        let nameBytes = b[(p + 46)..<(p + 46 + nameLength)]
        guard let name = String(validating: nameBytes, as: UTF8.self) else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "a member name at offset \(p) is not UTF-8")
        }
        var entry = Entry(name: name, method: u16(b, p + 10), flags: u16(b, p + 8), crc32: u32(b, p + 16),
                          compressedSize: Int(u32(b, p + 20)), uncompressedSize: Int(u32(b, p + 24)),
                          localHeaderOffset: Int(u32(b, p + 42)))
        try applyZip64Extra(b, extra: (p + 46 + nameLength)..<(p + 46 + nameLength + extraLength), to: &entry, fileName: f)
        guard entry.localHeaderOffset < b.count, entry.compressedSize <= b.count, entry.uncompressedSize <= Int(Int32.max) * 1024 else {
            throw TorchCheckpointError.malformedZip(file: f, reason: "member '\(name)' has sizes or an offset outside the file")
        }
        p = next
        return entry
    }

    /// Replaces saturated (0xFFFFFFFF) sizes and offsets by the zip64 extra field's values,
    /// which appear in the order uncompressed size, compressed size, local header offset.
    private static func applyZip64Extra(_ b: [UInt8], extra: Range<Int>, to e: inout Entry, fileName f: String) throws {
        let saturated = 0xFFFF_FFFF
        let needed = [e.uncompressedSize == saturated, e.compressedSize == saturated, e.localHeaderOffset == saturated]
        guard needed.contains(true) else { return }
        var q = extra.lowerBound
        while q + 4 <= extra.upperBound {
            let id = u16(b, q), length = Int(u16(b, q + 2))
            guard q + 4 + length <= extra.upperBound else { break }
            if id == 0x0001 {
                var r = q + 4
                var values: [Int] = []
                for need in needed {
                    guard need else { values.append(-1); continue }
                    guard r + 8 <= q + 4 + length, u64(b, r) <= UInt64(Int.max / 2) else {
                        throw TorchCheckpointError.malformedZip(file: f, reason: "member '\(e.name)' has a short zip64 extra field")
                    }
                    values.append(Int(u64(b, r)))
                    r += 8
                }
                if needed[0] { e.uncompressedSize = values[0] }
                if needed[1] { e.compressedSize = values[1] }
                if needed[2] { e.localHeaderOffset = values[2] }
                return
            }
            q += 4 + length
        }
        throw TorchCheckpointError.malformedZip(file: f, reason: "member '\(e.name)' needs a zip64 extra field but has none")
    }

    // MARK: Little-endian loads (callers check bounds)

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        guard i >= 0, i + 4 <= b.count else { return 0 }
        return UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(u32(b, i)) | UInt64(u32(b, i + 4)) << 32 }
}

/// CRC-32 (IEEE 802.3, the zip checksum).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            data.withUnsafeBufferPointer { d in
                for byte in d { c = t[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
            }
        }
        return c ^ 0xFFFF_FFFF
    }
}
