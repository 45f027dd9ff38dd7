// `TensorBoardWriter`: writes the `events.out.tfevents.*` file YOLOv5's `SummaryWriter(save_dir)`
// leaves in a run folder — TFRecord-framed `Event` protos with scalar summaries, hand-encoded
// (no protobuf dependency). Scalars only: no images, histograms or graphs.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord frames use.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// CRC-32C of `bytes` (init and final xor 0xFFFFFFFF).
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC: rotate right by 15, add 0xa282ead8 (mod 2³²).
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// TFRecord framing: u64 length (LE), masked CRC32C of those 8 bytes (LE), the data, masked
/// CRC32C of the data (LE).
public enum TFRecord {
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 16)
        let length = littleEndian(UInt64(payload.count))
        out += length
        out += littleEndian(CRC32C.masked(CRC32C.checksum(length)))
        out += payload
        out += littleEndian(CRC32C.masked(CRC32C.checksum(payload)))
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
    }
}

/// The subset of TensorFlow's `Event` proto (tensorflow/core/util/event.proto) that scalar
/// logs use. Field numbers: wall_time 1 (double), step 2 (int64), file_version 3 (string),
/// summary 5 (Summary), source_metadata 10 (SourceMetadata{writer 1}). Summary.value 1 is
/// repeated Value{tag 1 (string), simple_value 2 (float)}.
public struct TensorBoardEvent: Sendable, Equatable {
    public struct Scalar: Sendable, Equatable {
        public var tag: String
        public var value: Float
        public init(tag: String, value: Float) { (self.tag, self.value) = (tag, value) }
    }

    public var wallTime: Double
    public var step: Int64
    public var fileVersion: String?
    public var sourceWriter: String?
    public var scalars: [Scalar]

    public init(wallTime: Double, step: Int64 = 0, fileVersion: String? = nil, sourceWriter: String? = nil,
                scalars: [Scalar] = []) {
        (self.wallTime, self.step, self.fileVersion) = (wallTime, step, fileVersion)
        (self.sourceWriter, self.scalars) = (sourceWriter, scalars)
    }

    /// The proto3 encoding; zero `wallTime`/`step` are omitted like any proto3 default, while
    /// `simple_value` sits in a oneof and is always written, zero included (as TensorBoard does).
    public func encoded() -> [UInt8] {
        var out = ProtoWriter()
        if wallTime != 0 { out.fixed64(field: 1, wallTime.bitPattern) }
        if step != 0 { out.varint(field: 2, UInt64(bitPattern: step)) }
        if let fileVersion { out.bytes(field: 3, Array(fileVersion.utf8)) }
        if !scalars.isEmpty {
            var summary = ProtoWriter()
            for s in scalars {
                var value = ProtoWriter()
                value.bytes(field: 1, Array(s.tag.utf8))
                value.fixed32(field: 2, s.value.bitPattern)
                summary.bytes(field: 1, value.bytes)
            }
            out.bytes(field: 5, summary.bytes)
        }
        if let sourceWriter {
            var meta = ProtoWriter()
            meta.bytes(field: 1, Array(sourceWriter.utf8))
            out.bytes(field: 10, meta.bytes)
        }
        return out.bytes
    }
}

/// Appends protobuf wire-format fields (varint = 0, fixed64 = 1, length-delimited = 2, fixed32 = 5).
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func rawVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }
    mutating func varint(field: Int, _ v: UInt64) { key(field, 0); rawVarint(v) }
    mutating func fixed64(field: Int, _ v: UInt64) { key(field, 1); bytes += TFRecord.littleEndian(v) }
    mutating func fixed32(field: Int, _ v: UInt32) { key(field, 5); bytes += TFRecord.littleEndian(v) }
    mutating func bytes(field: Int, _ payload: [UInt8]) {
        key(field, 2); rawVarint(UInt64(payload.count)); bytes += payload
    }
}

/// Writes scalars to `{logDirectory}/events.out.tfevents.{unix seconds}.{hostname}.{pid}.0`,
/// readable by TensorBoard. Records are buffered; `flush()` (call it after each epoch) writes
/// them, `close()` flushes and fsyncs. Not thread-safe: use one writer from one task.
public final class TensorBoardWriter {
    /// The `writer` TensorBoard ≥ 2.x stamps into the first event's source metadata.
    public static let sourceWriter = "tensorboard.summary.writer.event_file_writer"

    public let fileURL: URL
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var closed = false
    private let clock: () -> Double

    /// Creates the directory if needed and writes the `brain.Event:2` header event.
    /// `hostname`, `pid` and `clock` (seconds since 1970) default to the real ones; tests pin them.
    public init(logDirectory: URL, hostname: String? = nil, pid: Int32? = nil,
                clock: @escaping () -> Double = { Date().timeIntervalSince1970 }) throws {
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        self.clock = clock
        let now = clock()
        let name = String(format: "events.out.tfevents.%010d.%@.%d.0", Int(now), hostname ?? Self.hostname(),
                          Int(pid ?? getpid()))
        fileURL = logDirectory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: fileURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: fileURL.path])
        }
        handle = try FileHandle(forWritingTo: fileURL)
        append(TensorBoardEvent(wallTime: now, fileVersion: "brain.Event:2", sourceWriter: Self.sourceWriter))
        try flush()
    }

    deinit { if !closed { try? close() } }

    /// Queues one scalar event: `tag` (e.g. "metrics/mAP_0.5") = `value` at `step` (YOLOv5: epoch).
    public func addScalar(_ tag: String, _ value: Float, step: Int64) {
        append(TensorBoardEvent(wallTime: clock(), step: step, scalars: [.init(tag: tag, value: value)]))
    }

    /// One event per (tag, value), in order, as YOLOv5's loop over `dict(zip(keys, vals))` does.
    public func addScalars(_ scalars: [(tag: String, value: Float)], step: Int64) {
        for s in scalars { addScalar(s.tag, s.value, step: step) }
    }

    /// Writes queued records to the file.
    public func flush() throws {
        guard !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and closes the file; later calls do nothing.
    public func close() throws {
        guard !closed else { return }
        closed = true
        try flush()
        try handle.synchronize()
        try handle.close()
    }

    private func append(_ event: TensorBoardEvent) {
        precondition(!closed, "TensorBoardWriter used after close()")
        pending += TFRecord.frame(event.encoded())
    }

    /// `gethostname(2)`, as Python's `socket.gethostname()` used in TensorBoard's file name.
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
