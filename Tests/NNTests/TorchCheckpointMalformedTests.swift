// Malformed and hostile PyTorch checkpoints: each must end in a TorchCheckpointError naming
// the file (never a crash), and nothing in a pickle may run. The zips and pickles are built
// here byte by byte (PickleBytes, storedZip), so every case states exactly what is wrong.
import Foundation
import NN
import TensorCore
import XCTest

/// Builds pickle streams (protocol 2) opcode by opcode.
private struct PickleBytes {
    var b: [UInt8] = [0x80, 0x02]
    @discardableResult mutating func op(_ bytes: UInt8...) -> Self { b += bytes; return self }
    mutating func str(_ s: String) { let u = Array(s.utf8); b += [0x8C, UInt8(u.count)] + u }
    mutating func int(_ i: Int32) { b.append(0x4A); b += withUnsafeBytes(of: i.littleEndian, Array.init) }
    mutating func global(_ module: String, _ name: String) { b += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    mutating func mark() { b.append(0x28) }
    mutating func tuple() { b.append(0x74) }
    mutating func stop() { b.append(0x2E) }
    /// `_rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`.
    mutating func tensor(key: String, numel: Int32, offset: Int32 = 0, size: [Int32], stride: [Int32]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark(); str("storage"); global("torch", "FloatStorage"); str(key); str("cpu"); int(numel); tuple()
        b.append(0x51)  // BINPERSID
        int(offset)
        mark(); size.forEach { int($0) }; tuple()
        mark(); stride.forEach { int($0) }; tuple()
        b.append(0x89)  // NEWFALSE
        global("collections", "OrderedDict"); b += [0x29, 0x52]  // OrderedDict()
        tuple()
        b.append(0x52)  // REDUCE
    }
    /// `{name: tensor}` — a one-entry state dict.
    static func stateDict(_ name: String, key: String, numel: Int32, size: [Int32], stride: [Int32]) -> [UInt8] {
        var p = PickleBytes()
        p.op(0x7D); p.str(name); p.tensor(key: key, numel: numel, size: size, stride: stride); p.op(0x73); p.stop()
        return p.b
    }
}

/// A zip archive of stored members (method overridable, for the unsupported-compression case).
private func storedZip(_ members: [(String, [UInt8])], method: UInt16 = 0, badCRC: Bool = false) -> [UInt8] {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func crc(_ d: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in d { c ^= UInt32(x); for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 } }
        return ~c ^ (badCRC ? 1 : 0)
    }
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in members {
        let n = Array(name.utf8), offset = UInt32(out.count), size = le32(UInt32(data.count))
        let common = le16(20) + le16(0) + le16(Int(method)) + le16(0) + le16(0) + le32(crc(data)) + size + size + le16(n.count) + le16(0)
        out += le32(0x0403_4B50) + common + n + data
        central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + n
    }
    let cdOffset = UInt32(out.count)
    out += central
    out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
        + le32(UInt32(central.count)) + le32(cdOffset) + le16(0)
    return out
}

final class TorchCheckpointMalformedTests: XCTestCase {
    private var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("torch-ckpt-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tempDir { try? FileManager.default.removeItem(at: tempDir) }
    }

    /// A checkpoint archive holding `pickle` as data.pkl and four floats as storage "0".
    private func checkpoint(_ pickle: [UInt8], storages: [(String, [UInt8])] = [("0", [UInt8](repeating: 0, count: 16))]) -> [UInt8] {
        storedZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
                  + storages.map { ("archive/data/\($0.0)", $0.1) })
    }

    /// Writes `bytes`, reads them, and checks the error is the expected kind and names the file.
    @discardableResult
    private func assertRejects(_ name: String, _ bytes: [UInt8], _ matches: (TorchCheckpointError) -> Bool,
                               file: StaticString = #filePath, line: UInt = #line) throws -> TorchCheckpointError? {
        let path = tempDir.appendingPathComponent(name)
        try Data(bytes).write(to: path)
        do {
            let ckpt = try TorchCheckpoint.read(path)
            XCTFail("\(name): read succeeded with \(ckpt.stateDict.count) tensors", file: file, line: line)
            return nil
        } catch let e as TorchCheckpointError {
            XCTAssertTrue(matches(e), "\(name): unexpected error \(e)", file: file, line: line)
            XCTAssertEqual(e.file, path.path, file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(path.path + ": "), e.description, file: file, line: line)
            return e
        }
    }

    func testHandBuiltCheckpointReads() throws {
        let floats: [Float] = [1, 2, 3, 4]
        let data = floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let path = tempDir.appendingPathComponent("ok.pt")
        try Data(checkpoint(PickleBytes.stateDict("w", key: "0", numel: 4, size: [2, 2], stride: [1, 2]),
                            storages: [("0", data)])).write(to: path)
        let ckpt = try TorchCheckpoint.read(path)
        XCTAssertEqual(ckpt.stateDict["w"]?.shape, [2, 2])
        XCTAssertEqual(ckpt.stateDict["w"]?.scalars, [1, 3, 2, 4], "stride (1, 2) is the transpose")
    }

    func testEmptyAndNonZipFiles() throws {
        try assertRejects("empty.pt", []) { if case .notAZipArchive = $0 { true } else { false } }
        try assertRejects("text.pt", Array("this is not a checkpoint, just some text".utf8)) {
            if case .notAZipArchive = $0 { true } else { false }
        }
    }

    func testLegacyFormatIsNamed() throws {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        let e = try assertRejects("legacy.pt", magic + [UInt8](repeating: 0, count: 64)) {
            if case .legacyFormat = $0 { true } else { false }
        }
        XCTAssertTrue(e?.description.contains("torch>=1.6") ?? false)
    }

    func testTruncatedZip() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "yolov5_tiny_best", withExtension: "pt", subdirectory: "Fixtures"))
        let full = [UInt8](try Data(contentsOf: url))
        for cut in [full.count / 2, full.count - 30, 100] {
            try assertRejects("truncated-\(cut).pt", Array(full.prefix(cut))) {
                switch $0 { case .notAZipArchive, .malformedZip: true; default: false }
            }
        }
    }

    func testDeflatedDataPickle() throws {
        let zip = storedZip([("archive/data.pkl", [0x80, 0x02, 0x7D, 0x2E])], method: 8)
        try assertRejects("deflated.pt", zip) {
            if case .unsupportedZipEntry(_, "archive/data.pkl", let how) = $0 { how.contains("deflate") } else { false }
        }
    }

    func testMissingDataPickle() throws {
        try assertRejects("no-pkl.pt", storedZip([("archive/version", Array("3\n".utf8))])) {
            if case .missingEntry = $0 { true } else { false }
        }
    }

    func testChecksumMismatch() throws {
        try assertRejects("crc.pt", storedZip([("archive/data.pkl", [0x80, 0x02, 0x7D, 0x2E])], badCRC: true)) {
            if case .checksumMismatch(_, "archive/data.pkl") = $0 { true } else { false }
        }
    }

    func testUnknownOpcode() throws {
        try assertRejects("opcode.pt", checkpoint([0x80, 0x02, 0xFF, 0x2E])) {
            if case .unsupportedOpcode(_, 2, 0xFF) = $0 { true } else { false }
        }
    }

    func testTruncatedPickleWithoutStop() throws {
        var p = PickleBytes()
        p.op(0x7D); p.str("w")
        try assertRejects("nostop.pt", checkpoint(p.b)) {
            if case .malformedPickle(_, _, let reason) = $0 { reason.contains("STOP") } else { false }
        }
        try assertRejects("shortarg.pt", checkpoint([0x80, 0x02, 0x58, 0xFF, 0xFF, 0x00, 0x00, 0x61])) {
            if case .malformedPickle = $0 { true } else { false }
        }
    }

    func testMemoIndexOutOfRange() throws {
        try assertRejects("memo.pt", checkpoint([0x80, 0x02, 0x7D, 0x71, 0x00, 0x68, 0x07, 0x2E])) {
            if case .malformedPickle(_, _, let reason) = $0 { reason.contains("memo index 7") } else { false }
        }
    }

    func testStackUnderflow() throws {
        try assertRejects("underflow.pt", checkpoint([0x80, 0x02, 0x86, 0x2E])) {  // TUPLE2 on an empty stack
            if case .malformedPickle = $0 { true } else { false }
        }
    }

    func testMissingStorage() throws {
        let pkl = PickleBytes.stateDict("w", key: "7", numel: 4, size: [4], stride: [1])
        try assertRejects("nostorage.pt", checkpoint(pkl)) {
            if case .missingEntry(_, "archive/data/7") = $0 { true } else { false }
        }
    }

    func testStorageTooSmallForSizeAndStride() throws {
        // 4 floats stored; a (3, 3) view needs 9, and a (2, 2) view with stride (3, 1) reaches element 4
        for (size, stride) in [([Int32(3), 3], [Int32(3), 1]), ([2, 2], [3, 1]), ([2], [-1])] {
            try assertRejects("small-\(size)-\(stride).pt", checkpoint(PickleBytes.stateDict("w", key: "0", numel: 4, size: size, stride: stride))) {
                if case .invalidTensor(_, "w", _) = $0 { true } else { false }
            }
        }
    }

    func testReduceOfOsSystemRunsNothing() throws {
        let marker = tempDir.appendingPathComponent("pwned")
        func evil(_ p: inout PickleBytes) {
            p.global("os", "system"); p.mark(); p.str("touch '\(marker.path)'"); p.tuple(); p.op(0x52)
        }
        // as the whole pickle: an inert object, then rejected as not a checkpoint
        var p = PickleBytes()
        evil(&p); p.stop()
        try assertRejects("evil.pt", checkpoint(p.b)) { if case .unexpectedContent = $0 { true } else { false } }
        // beside a valid (empty) state dict: read, and kept as an inert record
        var q = PickleBytes()
        q.op(0x7D); q.mark(); q.str("state_dict"); q.op(0x7D); q.str("payload"); evil(&q); q.op(0x75); q.stop()
        let path = tempDir.appendingPathComponent("evil2.pt")
        try Data(checkpoint(q.b)).write(to: path)
        let ckpt = try TorchCheckpoint.read(path)
        guard case .object(let o)? = ckpt.contents["payload"] else { return XCTFail("payload is \(String(describing: ckpt.contents["payload"]))") }
        XCTAssertEqual(o.qualifiedName, "os.system")
        XCTAssertEqual(o.args, [.string("touch '\(marker.path)'")])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path), "os.system ran")
    }

    func testDeeplyNestedListsAreRejected() throws {
        // 100,000 empty lists, each appended into the one before it
        var p = PickleBytes()
        for _ in 0..<100_000 { p.op(0x5D) }
        for _ in 0..<99_999 { p.op(0x61) }
        p.stop()
        try assertRejects("deep.pt", checkpoint(p.b)) {
            if case .limitExceeded(_, let what, _) = $0 { what.contains("nesting") } else { false }
        }
    }

    func testReferenceCycleIsRejected() throws {
        // l = []; l.append(l)
        try assertRejects("cycle.pt", checkpoint([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E])) {
            if case .malformedPickle(_, _, let reason) = $0 { reason.contains("cycle") } else { false }
        }
    }

    func testSharedReferencesDoNotBlowUp() throws {
        // l0 = [1]; l(i+1) = [l(i), l(i)]: 2^40 leaves if expanded, 41 lists when shared
        var p = PickleBytes()
        p.op(0x7D); p.mark(); p.str("state_dict"); p.op(0x7D); p.str("bomb")
        p.op(0x5D); p.int(1); p.op(0x61)
        for _ in 0..<40 { p.op(0x71, 0x00, 0x68, 0x00, 0x86) }  // BINPUT 0, BINGET 0, TUPLE2
        p.op(0x75); p.stop()
        let path = tempDir.appendingPathComponent("bomb.pt")
        try Data(checkpoint(p.b)).write(to: path)
        let ckpt = try TorchCheckpoint.read(path)
        XCTAssertNotNil(ckpt.contents["bomb"])
    }

    func testNonTensorStateDictValue() throws {
        var p = PickleBytes()
        p.op(0x7D); p.str("w"); p.int(3); p.op(0x73); p.stop()
        try assertRejects("notensor.pt", checkpoint(p.b)) { if case .unexpectedContent = $0 { true } else { false } }
    }

    func testUnsupportedStorageType() throws {
        var p = PickleBytes()
        p.op(0x7D); p.str("w")
        p.global("torch._utils", "_rebuild_tensor_v2"); p.mark()
        p.mark(); p.str("storage"); p.global("torch", "ComplexFloatStorage"); p.str("0"); p.str("cpu"); p.int(2); p.tuple()
        p.op(0x51); p.int(0); p.mark(); p.int(2); p.tuple(); p.mark(); p.int(1); p.tuple(); p.tuple(); p.op(0x52)
        p.op(0x73); p.stop()
        try assertRejects("complex.pt", checkpoint(p.b)) {
            if case .unsupportedStorageType(_, "ComplexFloatStorage") = $0 { true } else { false }
        }
    }

    func testRandomCorruptionNeverCrashes() throws {
        var rng = SplitMix(seed: 42)
        func corrupt(_ original: [UInt8]) -> [UInt8] {
            var b = original
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            return b
        }
        // the container (CRCs catch most damage to members) …
        let url = try XCTUnwrap(Bundle.module.url(forResource: "plain_state_dict", withExtension: "pt", subdirectory: "Fixtures"))
        let file = [UInt8](try Data(contentsOf: url))
        for _ in 0..<300 {
            do { _ = try TorchCheckpoint.decode(corrupt(file), fileName: "fuzz.pt") } catch is TorchCheckpointError {}
        }
        // … and the pickle itself, re-wrapped with valid CRCs
        let pickle = PickleBytes.stateDict("w", key: "0", numel: 4, size: [2, 2], stride: [2, 1])
        for _ in 0..<2000 {
            do { _ = try TorchCheckpoint.decode(checkpoint(corrupt(pickle)), fileName: "fuzz.pt") } catch is TorchCheckpointError {}
        }
    }
}

/// A seeded generator, so a failing fuzz case can be replayed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
