// `EventFileReader`: reads a TFRecord event file back, checking both CRCs of every record,
// and decodes the scalar `Event` fields `TensorBoardWriter` writes. For tests and tools; it
// skips (does not decode) images, histograms, tensors and graphs.
import Foundation

/// What is wrong with an event file, with the byte offset of the bad record.
public enum EventFileError: Error, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    case lengthCRCMismatch(offset: Int)
    case dataCRCMismatch(offset: Int)
    case malformedProto(String)

    public var description: String {
        switch self {
        case let .truncated(o): return "event file truncated in the record at byte \(o) (was the writer closed?)"
        case let .lengthCRCMismatch(o): return "length CRC mismatch in the record at byte \(o): not a TFRecord file"
        case let .dataCRCMismatch(o): return "data CRC mismatch in the record at byte \(o): file corrupted"
        case let .malformedProto(m): return "malformed Event proto: \(m)"
        }
    }
}

/// Reads TFRecord-framed `Event`s.
public struct EventFileReader: Sendable {
    /// One framed record as found in the file.
    public struct Record: Sendable, Equatable {
        public var offset: Int
        public var length: UInt64
        public var lengthCRC: UInt32
        public var data: [UInt8]
        public var dataCRC: UInt32
    }

    public let bytes: [UInt8]

    public init(contentsOf url: URL) throws { bytes = [UInt8](try Data(contentsOf: url)) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Every record, each with its length CRC and data CRC verified.
    public func records() throws -> [Record] {
        var out: [Record] = [], at = 0
        while at < bytes.count {
            guard at + 12 <= bytes.count else { throw EventFileError.truncated(offset: at) }
            let lengthBytes = bytes[at..<(at + 8)]
            let length = readLE(UInt64.self, at)
            let lengthCRC = readLE(UInt32.self, at + 8)
            guard CRC32C.masked(CRC32C.checksum(lengthBytes)) == lengthCRC else {
                throw EventFileError.lengthCRCMismatch(offset: at)
            }
            let remaining = bytes.count - at - 16  // after both CRCs
            guard remaining >= 0, length <= UInt64(remaining) else { throw EventFileError.truncated(offset: at) }
            let start = at + 12, end = start + Int(length)
            let data = Array(bytes[start..<end])
            let dataCRC = readLE(UInt32.self, end)
            guard CRC32C.masked(CRC32C.checksum(data)) == dataCRC else {
                throw EventFileError.dataCRCMismatch(offset: at)
            }
            out.append(Record(offset: at, length: length, lengthCRC: lengthCRC, data: data, dataCRC: dataCRC))
            at = end + 4
        }
        return out
    }

    /// Every record decoded as an `Event`.
    public func events() throws -> [TensorBoardEvent] {
        try records().map { try Self.decodeEvent($0.data) }
    }

    /// Decodes the scalar-relevant fields of one `Event`; unknown fields are skipped.
    public static func decodeEvent(_ data: [UInt8]) throws -> TensorBoardEvent {
        var event = TensorBoardEvent(wallTime: 0)
        var reader = ProtoReader(bytes: data[...])
        while let (field, wire) = try reader.nextKey() {
            switch (field, wire) {
            case (1, 1): event.wallTime = Double(bitPattern: try reader.fixed64())
            case (2, 0): event.step = Int64(bitPattern: try reader.varint())
            case (3, 2): event.fileVersion = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (5, 2): event.scalars += try decodeSummary(try reader.lengthDelimited())
            case (10, 2):
                var meta = ProtoReader(bytes: try reader.lengthDelimited())
                while let (f, w) = try meta.nextKey() {
                    if f == 1, w == 2 {
                        event.sourceWriter = String(decoding: try meta.lengthDelimited(), as: UTF8.self)
                    } else { try meta.skip(wireType: w) }
                }
            default: try reader.skip(wireType: wire)
            }
        }
        return event
    }

    static func decodeSummary(_ data: ArraySlice<UInt8>) throws -> [TensorBoardEvent.Scalar] {
        var out: [TensorBoardEvent.Scalar] = []
        var summary = ProtoReader(bytes: data)
        while let (field, wire) = try summary.nextKey() {
            guard field == 1, wire == 2 else { try summary.skip(wireType: wire); continue }
            var value = ProtoReader(bytes: try summary.lengthDelimited())
            var tag = "", simple: Float?
            while let (f, w) = try value.nextKey() {
                switch (f, w) {
                case (1, 2): tag = String(decoding: try value.lengthDelimited(), as: UTF8.self)
                case (2, 5): simple = Float(bitPattern: try value.fixed32())
                default: try value.skip(wireType: w)
                }
            }
            if let simple { out.append(.init(tag: tag, value: simple)) }
        }
        return out
    }

    private func readLE<T: FixedWidthInteger>(_: T.Type, _ at: Int) -> T {
        var v: T = 0
        for k in 0..<(T.bitWidth / 8) { v |= T(bytes[at + k]) << (8 * k) }
        return v
    }
}

/// Reads protobuf wire-format fields from a byte slice.
struct ProtoReader {
    var bytes: ArraySlice<UInt8>

    mutating func nextKey() throws -> (Int, Int)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        return (Int(key >> 3), Int(key & 7))
    }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while let b = bytes.popFirst() {
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
            guard shift < 64 else { throw EventFileError.malformedProto("varint longer than 10 bytes") }
        }
        throw EventFileError.malformedProto("varint runs past the end")
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count else { throw EventFileError.malformedProto("field runs past the end") }
        let out = bytes.prefix(n)
        bytes = bytes.dropFirst(n)
        return out
    }

    mutating func fixed64() throws -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func fixed32() throws -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func lengthDelimited() throws -> ArraySlice<UInt8> { try take(Int(try varint())) }

    mutating func skip(wireType: Int) throws {
        switch wireType {
        case 0: _ = try varint()
        case 1: _ = try take(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try take(4)
        default: throw EventFileError.malformedProto("unsupported wire type \(wireType)")
        }
    }
}
