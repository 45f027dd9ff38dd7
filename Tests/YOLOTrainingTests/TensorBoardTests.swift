// TensorBoard event files: CRC32C vectors, TFRecord framing, our writer read back, and a file
// written by PyTorch's SummaryWriter (Fixtures/tensorboard/reference.tfevents, made by
// Tools/fixtures/make_logging_fixtures.py) read by our reader and matched record by record.
import Foundation
import XCTest
@testable import YOLOTraining

final class TensorBoardTests: XCTestCase {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)  // RFC 3720 B.4
        XCTAssertEqual(CRC32C.checksum((0..<32).map(UInt8.init)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    func testMaskedCRC() {
        let crc: UInt32 = 0xE306_9283
        XCTAssertEqual(CRC32C.masked(crc), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // Length 0x48 (72) as in the reference's first record: its masked CRC from the file.
        XCTAssertEqual(CRC32C.masked(CRC32C.checksum(TFRecord.littleEndian(UInt64(0x48)))), 0x9D48_92FE)
    }

    func testFrameLayout() {
        let payload: [UInt8] = [1, 2, 3]
        let framed = TFRecord.frame(payload)
        XCTAssertEqual(framed.count, 8 + 4 + 3 + 4)
        XCTAssertEqual(Array(framed[0..<8]), [3, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(framed[12..<15]), payload)
        let records = try? EventFileReader(bytes: framed).records()
        XCTAssertEqual(records?.first?.data, payload)
    }

    func testWriteThenReadBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var t = 1_700_000_000.25
        let writer = try TensorBoardWriter(logDirectory: dir, hostname: "host", pid: 42, clock: { t += 1; return t })
        XCTAssertEqual(writer.fileURL.lastPathComponent, "events.out.tfevents.1700000001.host.42.0")
        writer.addScalar("train/box_loss", 0.5, step: 0)
        writer.addScalars([("metrics/mAP_0.5", 0.25), ("x/lr0", 0)], step: 300)
        try writer.flush()
        writer.addScalar("metrics/mAP_0.5:0.95", -1.5, step: 1 << 40)
        try writer.close()

        let reader = try EventFileReader(contentsOf: writer.fileURL)
        let records = try reader.records()
        XCTAssertEqual(records.count, 5)
        for r in records {
            XCTAssertEqual(Int(r.length), r.data.count)
            XCTAssertEqual(r.dataCRC, CRC32C.masked(CRC32C.checksum(r.data)))
        }
        let events = try reader.events()
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].sourceWriter, TensorBoardWriter.sourceWriter)
        XCTAssertEqual(events[0].wallTime, 1_700_000_001.25)
        XCTAssertEqual(events.dropFirst().map { $0.scalars.first?.tag },
                       ["train/box_loss", "metrics/mAP_0.5", "x/lr0", "metrics/mAP_0.5:0.95"])
        XCTAssertEqual(events.dropFirst().map { $0.scalars.first?.value }, [0.5, 0.25, 0, -1.5])
        XCTAssertEqual(events.dropFirst().map(\.step), [0, 300, 300, 1 << 40])
        XCTAssertEqual(events.dropFirst().map(\.wallTime), [1_700_000_002.25, 1_700_000_003.25, 1_700_000_004.25,
                                                              1_700_000_005.25])
    }

    func testCorruptionIsDetected() throws {
        var bytes = TFRecord.frame(TensorBoardEvent(wallTime: 1, step: 2, scalars: [.init(tag: "a", value: 1)]).encoded())
        var flipped = bytes
        flipped[14] ^= 1
        XCTAssertThrowsError(try EventFileReader(bytes: flipped).records()) {
            XCTAssertEqual($0 as? EventFileError, .dataCRCMismatch(offset: 0))
        }
        flipped = bytes
        flipped[0] ^= 1
        XCTAssertThrowsError(try EventFileReader(bytes: flipped).records()) {
            XCTAssertEqual($0 as? EventFileError, .lengthCRCMismatch(offset: 0))
        }
        bytes.removeLast()
        XCTAssertThrowsError(try EventFileReader(bytes: bytes).records()) {
            XCTAssertEqual($0 as? EventFileError, .truncated(offset: 0))
        }
    }

    /// PyTorch's file read by our reader, then our encoding of the same scalars matched to its
    /// bytes record by record with only wall_time taken from the reference.
    func testReferenceFileFromPyTorchSummaryWriter() throws {
        let url = Self.fixtures.appendingPathComponent("tensorboard/reference.tfevents")
        let reader = try EventFileReader(contentsOf: url)
        let records = try reader.records()
        let events = try reader.events()
        let values = try Self.referenceValues()
        XCTAssertEqual(events.count, 1 + values.count * ResultsCSV.keys.count)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].sourceWriter, TensorBoardWriter.sourceWriter)

        var k = 1
        for (epoch, row) in values.enumerated() {
            for (tag, v) in zip(ResultsCSV.keys, row) {
                let ref = events[k]
                XCTAssertEqual(ref.step, Int64(epoch))
                XCTAssertEqual(ref.scalars, [.init(tag: tag, value: Float(v))])
                let ours = TensorBoardEvent(wallTime: ref.wallTime, step: Int64(epoch),
                                            scalars: [.init(tag: tag, value: Float(v))])
                XCTAssertEqual(ours.encoded(), records[k].data, "record \(k) (\(tag), epoch \(epoch))")
                XCTAssertEqual(TFRecord.frame(ours.encoded()), Array(reader.bytes[records[k].offset..<(records[k].offset
                    + records[k].data.count + 16)]))
                k += 1
            }
        }
        let header = TensorBoardEvent(wallTime: events[0].wallTime, fileVersion: "brain.Event:2",
                                      sourceWriter: TensorBoardWriter.sourceWriter)
        XCTAssertEqual(header.encoded(), records[0].data)

        // Our writer's whole file has the same record lengths as the reference.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TensorBoardWriter(logDirectory: dir)
        for (epoch, row) in values.enumerated() {
            writer.addScalars(zip(ResultsCSV.keys, row).map { ($0, Float($1)) }, step: Int64(epoch))
            try writer.flush()
        }
        try writer.close()
        let mine = try EventFileReader(contentsOf: writer.fileURL).records()
        XCTAssertEqual(mine.map(\.length), records.map(\.length))
        XCTAssertEqual(try Data(contentsOf: writer.fileURL).count, reader.bytes.count)
        XCTAssertTrue(writer.fileURL.lastPathComponent.hasPrefix("events.out.tfevents."))
    }

    static func referenceValues() throws -> [[Double]] {
        let text = try String(contentsOf: fixtures.appendingPathComponent("results_values.txt"), encoding: .utf8)
        return text.split(separator: "\n").map { $0.split(separator: " ").map { Double(String($0))! } }
    }
}
