// Safetensors reading and writing: values against files written by the Python reference
// library (Tools/fixtures/make_safetensors_fixtures.py), round trips, byte-exact writing,
// malformed files (each must throw a SafeTensorsError naming the file, never crash), and
// loading state dicts into layers.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

/// A small layer with two parameters and a buffer.
private final class TinyLayer: Layer {
    let weight = Parameter("model.0.conv.weight", Tensor(zeros: [2, 3]))
    let bias = Parameter("model.0.conv.bias", Tensor(zeros: [2]))
    let runningMean = Buffer("model.0.bn.running_mean", Tensor(zeros: [2]))
    var parameters: [Parameter] { [weight, bias] }
    var buffers: [Buffer] { [runningMean] }
}

/// A rank-1 tensor of `values`.
private func vec(_ values: Float...) -> Tensor { Tensor(shape: [values.count], scalars: values) }

final class SafeTensorsTests: XCTestCase {
    private var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tempDir { try? FileManager.default.removeItem(at: tempDir) }
    }

    // MARK: Helpers

    private func fixture(_ name: String, _ ext: String = "safetensors") throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures"),
                      "missing fixture \(name).\(ext); run Tools/fixtures/make_safetensors_fixtures.py")
    }

    /// tiny_values.json: files → {metadata, tensors: {name: {shape, bits}}}.
    private func expectedValues() throws -> [String: Any] {
        let data = try Data(contentsOf: fixture("tiny_values", "json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root["files"] as? [String: Any])
    }

    private func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    /// Bit-exact comparison, except that any NaN matches any NaN.
    private func assertSameBits(_ a: [UInt32], _ b: [UInt32], _ message: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        for (i, (x, y)) in zip(a, b).enumerated() {
            let fx = Float(bitPattern: x), fy = Float(bitPattern: y)
            if fx.isNaN && fy.isNaN { continue }
            if x != y {
                XCTFail("\(message) element \(i): \(fx) (0x\(String(x, radix: 16))) vs \(fy) (0x\(String(y, radix: 16)))",
                        file: file, line: line)
                return
            }
        }
    }

    private func url(_ name: String) -> URL { tempDir.appendingPathComponent(name) }

    /// Bytes of a hand-made file: the 8-byte length (the header's own unless given), header, data.
    private func makeFile(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return littleEndianBytes(declaredLength ?? UInt64(h.count)) + h + data
    }

    private func littleEndianBytes(_ n: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } }

    /// Writes `bytes` as `name` in the temp folder, reads it, and checks the thrown error.
    private func assertRejects(_ name: String, _ bytes: [UInt8], _ expected: (SafeTensorsError) -> Bool,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let path = url(name)
        try Data(bytes).write(to: path)
        do {
            let result = try SafeTensors.read(path)
            XCTFail("\(name): expected an error, read \(result.names)", file: file, line: line)
        } catch let error as SafeTensorsError {
            XCTAssertTrue(expected(error), "\(name): wrong error: \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(name), "\(name): message does not name the file: \(error)",
                          file: file, line: line)
            XCTAssertEqual(error.file, path.path, file: file, line: line)
        } catch {
            XCTFail("\(name): not a SafeTensorsError: \(error)", file: file, line: line)
        }
    }

    // MARK: Files written by the Python library

    func testReadsPythonFixturesExactly() throws {
        let expected = try expectedValues()
        for name in ["tiny_f32", "tiny_f16", "tiny_bf16", "tiny_mixed"] {
            let file = try SafeTensors.read(fixture(name))
            let spec = try XCTUnwrap(expected["\(name).safetensors"] as? [String: Any])
            XCTAssertEqual(file.metadata, spec["metadata"] as? [String: String], name)
            let tensors = try XCTUnwrap(spec["tensors"] as? [String: Any])
            XCTAssertEqual(Set(file.tensors.keys), Set(tensors.keys), name)
            for (key, value) in tensors {
                let entry = try XCTUnwrap(value as? [String: Any])
                let shape = try XCTUnwrap(entry["shape"] as? [Any]).map { ($0 as! NSNumber).intValue }
                let want = try XCTUnwrap(entry["bits"] as? [Any]).map { UInt32(truncating: $0 as! NSNumber) }
                let got = try XCTUnwrap(file.tensors[key], "\(name): \(key)")
                XCTAssertEqual(got.shape, shape, "\(name): \(key)")
                assertSameBits(bits(got), want, "\(name): \(key)")
            }
            if let dtypes = spec["dtypes"] as? [String: String] {
                XCTAssertEqual(file.dtypes.mapValues(\.rawValue), dtypes, name)
            } else {
                let dtype = try XCTUnwrap(spec["dtype"] as? String)
                XCTAssertTrue(file.entries.allSatisfy { $0.dtype.rawValue == dtype }, name)
            }
        }
    }

    func testFixtureDetails() throws {
        let file = try SafeTensors.read(fixture("tiny_f32"))
        XCTAssertEqual(file.tensors["model.0.conv.weight"]?.shape, [4, 3, 3, 3])
        XCTAssertEqual(file.tensors["model.0.bn.running_var"]?.shape, [4])
        XCTAssertEqual(file.tensors["model.24.stride"]?.shape, [])
        XCTAssertEqual(file.tensors["model.24.stride"]?.scalar, 8)
        XCTAssertEqual(file.tensors["empty.tensor"]?.shape, [0, 3])
        XCTAssertEqual(file.metadata["format"], "pt")
        let mixed = try SafeTensors.read(fixture("tiny_mixed"))
        XCTAssertEqual(mixed.tensors["model.0.bn.num_batches_tracked"]?.scalar, 1234)
        XCTAssertEqual(mixed.dtypes["a.f64"], .f64)
    }

    // MARK: Writing

    func testF32RoundTripIsBitExact() throws {
        let original = try SafeTensors.read(fixture("tiny_f32"))
        let path = url("roundtrip_f32.safetensors")
        try SafeTensors.write(original.tensors, to: path, dtype: .f32, metadata: original.metadata)
        let back = try SafeTensors.read(path)
        XCTAssertEqual(back.metadata, original.metadata)
        XCTAssertEqual(Set(back.tensors.keys), Set(original.tensors.keys))
        for (name, t) in original.tensors {
            XCTAssertEqual(back.tensors[name]?.shape, t.shape, name)
            XCTAssertEqual(back.tensors[name].map(bits), bits(t), name)  // NaN bits preserved too
        }
        // Same layout as the Python library: identical data buffer, same header once parsed.
        let ours = try Data(contentsOf: path), theirs = try Data(contentsOf: fixture("tiny_f32"))
        XCTAssertEqual(ours.count, theirs.count)
        XCTAssertEqual(try SafeTensors.header(of: ours).entries, try SafeTensors.header(of: theirs).entries)
        func dataBuffer(_ d: Data) -> Data { d.suffix(from: 8 + Int(d[0]) + Int(d[1]) << 8) }
        XCTAssertEqual(dataBuffer(ours), dataBuffer(theirs))
    }

    func testF16AndBF16WritingMatchesPythonByteForByte() throws {
        let original = try SafeTensors.read(fixture("tiny_f32"))
        for (dtype, name) in [(SafeTensorsDType.f16, "tiny_f16"), (.bf16, "tiny_bf16")] {
            let ours = try SafeTensors.encode(original.tensors, dtype: dtype, metadata: ["format": "pt"])
            let theirs = try Data(contentsOf: fixture(name))
            XCTAssertEqual(ours.count, theirs.count, name)
            // NaN is exempt: torch's vectorised BF16 conversion writes NaN as 0xFFFF, its scalar
            // path (and this writer) as 0x7FC0; both are NaN. F16 NaN is 0x7E00 everywhere.
            let dataStart = 8 + Int(theirs[0]) + Int(theirs[1]) << 8
            func element(_ d: Data, _ i: Int) -> UInt16 {
                let e = i - (i - dataStart) % 2
                return UInt16(d[e]) | UInt16(d[e + 1]) << 8
            }
            func isNaN(_ bits: UInt16) -> Bool {
                dtype == .bf16 ? Float(bitPattern: UInt32(bits) << 16).isNaN : Float16(bitPattern: bits).isNaN
            }
            for i in 0..<min(ours.count, theirs.count) where ours[i] != theirs[i] {
                if dtype == .bf16, i >= dataStart, isNaN(element(ours, i)), isNaN(element(theirs, i)) { continue }
                XCTFail("\(name): first differing byte at \(i) of \(ours.count)")
                break
            }
            // And through the file system.
            let path = url("\(name)_ours.safetensors")
            try SafeTensors.write(original.tensors, to: path, dtype: dtype, metadata: ["format": "pt"])
            XCTAssertEqual(try Data(contentsOf: path), ours, name)
        }
    }

    func testF16RoundTripIsWithinHalfPrecisionRounding() throws {
        var values = Tensor.random([257], seed: 11, lo: -8, hi: 8).scalars
        values += [0, -0, 1e-5, -3e-7, 6e-8, 65504, 1000.25, 0.333333]
        let t = Tensor(shape: [values.count], scalars: values)
        let path = url("roundtrip_f16.safetensors")
        try SafeTensors.write(["x": t], to: path, dtype: .f16)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.dtypes["x"], .f16)
        let back = try XCTUnwrap(file.tensors["x"]).scalars
        for (x, y) in zip(values, back) {
            XCTAssertEqual(y, Float(Float16(x)), "\(x)")
            // Half an F16 ulp: 2^-11 relative for normals, 2^-25 absolute for subnormals.
            XCTAssertLessThanOrEqual(abs(x - y), max(abs(x) * 0x1p-11, 0x1p-25), "\(x) -> \(y)")
        }
        let size = try Data(contentsOf: path).count
        XCTAssertEqual((size - 8 - 2 * values.count) % 8, 0, "header padded to a multiple of 8")
    }

    func testMetadataAndNamesRoundTrip() throws {
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t ctrl \u{01} é 🚀",
                        "empty": "", "epoch": "42"]
        let tensors = ["model.0.conv.weight": Tensor.random([2, 3, 1, 1], seed: 3),
                       "名前/with \"quotes\"": vec(1.5),
                       "scalar": Tensor(-2)]
        let path = url("metadata.safetensors")
        try SafeTensors.write(tensors, to: path, metadata: metadata)
        let back = try SafeTensors.read(path)
        XCTAssertEqual(back.metadata, metadata)
        XCTAssertEqual(Set(back.tensors.keys), Set(tensors.keys))
        for (k, v) in tensors { XCTAssertEqual(back.tensors[k]?.scalars, v.scalars, k) }

        // Header: 8-byte aligned, metadata first, entries sorted by name with ascending offsets.
        let data = try Data(contentsOf: path)
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0)
        let header = try XCTUnwrap(String(data: data[8..<(8 + n)], encoding: .utf8))
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{"), header)
        let entries = try SafeTensors.header(of: data).entries
        XCTAssertEqual(entries.map(\.name), ["model.0.conv.weight", "scalar", "名前/with \"quotes\""])

        // No metadata: no __metadata__ entry at all.
        try SafeTensors.write(tensors, to: path)
        XCTAssertEqual(try SafeTensors.read(path).metadata, [:])
        XCTAssertFalse(String(decoding: try Data(contentsOf: path), as: UTF8.self).contains("__metadata__"))
    }

    func testWritingReplacesAtomicallyAndReportsFailures() throws {
        let path = url("model.safetensors")
        try Data("old contents".utf8).write(to: path)
        try SafeTensors.write(["a": vec(1, 2)], to: path, dtype: .f32)
        XCTAssertEqual(try SafeTensors.read(path).tensors["a"]?.scalars, [1, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tempDir.path), ["model.safetensors"],
                       "no temporary file may be left behind")

        let missing = tempDir.appendingPathComponent("no-such-folder/out.safetensors")
        XCTAssertThrowsError(try SafeTensors.write(["a": vec(1)], to: missing)) { error in
            guard let e = error as? SafeTensorsError, case .io = e else { return XCTFail("\(error)") }
            XCTAssertTrue(e.description.contains("out.safetensors"), e.description)
        }
        XCTAssertThrowsError(try SafeTensors.write(["__metadata__": vec(1)], to: path)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .reservedName(file: path.path))
        }
        XCTAssertThrowsError(try SafeTensors.write(["a": vec(1)], to: path, dtype: .i64))
        XCTAssertEqual(try SafeTensors.read(path).tensors["a"]?.scalars, [1, 2], "failed writes leave the old file")
        XCTAssertThrowsError(try SafeTensors.read(url("absent.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("absent.safetensors"), "\(error)")
        }
    }

    // MARK: Malformed files

    func testMalformedFilesThrowErrorsNamingTheFile() throws {
        let entry = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        let four = [UInt8](repeating: 0, count: 4)

        try assertRejects("empty.safetensors", []) { if case .fileTooSmall(_, 0) = $0 { true } else { false } }
        try assertRejects("seven.safetensors", [1, 0, 0, 0, 0, 0, 0]) { if case .fileTooSmall(_, 7) = $0 { true } else { false } }
        try assertRejects("beyond.safetensors", makeFile("{}", declaredLength: 100)) {
            if case .headerBeyondFile(_, 100, 10) = $0 { true } else { false }
        }
        try assertRejects("huge.safetensors", makeFile("{}", declaredLength: UInt64.max)) {
            if case .headerTooLarge = $0 { true } else { false }
        }
        try assertRejects("huge2.safetensors", makeFile("{}", declaredLength: 100_000_001)) {
            if case .headerTooLarge = $0 { true } else { false }
        }
        try assertRejects("notjson.safetensors", makeFile("this is not json")) {
            if case .invalidHeaderJSON = $0 { true } else { false }
        }
        try assertRejects("cutjson.safetensors", makeFile(#"{"a":{"dtype":"F32","#)) {
            if case .invalidHeaderJSON = $0 { true } else { false }
        }
        try assertRejects("array.safetensors", makeFile("[1, 2, 3]")) {
            if case .invalidHeaderJSON = $0 { true } else { false }
        }
        try assertRejects("notutf8.safetensors", [3, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF, 0x7D]) {
            if case .headerNotUTF8 = $0 { true } else { false }
        }
        try assertRejects("nooffsets.safetensors", makeFile(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: four)) {
            if case .invalidEntry(_, "a", let r) = $0 { r.contains("data_offsets") } else { false }
        }
        try assertRejects("nodtype.safetensors", makeFile(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: four)) {
            if case .invalidEntry(_, "a", let r) = $0 { r.contains("dtype") } else { false }
        }
        try assertRejects("noshape.safetensors", makeFile(#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: four)) {
            if case .invalidEntry(_, "a", let r) = $0 { r.contains("shape") } else { false }
        }
        try assertRejects("notobject.safetensors", makeFile(#"{"a":[1,2]}"#)) {
            if case .invalidEntry(_, "a", _) = $0 { true } else { false }
        }
        try assertRejects("q8.safetensors", makeFile(#"{"a":{"dtype":"Q8","shape":[4],"data_offsets":[0,4]}}"#, data: four)) {
            if case .unsupportedDType(_, "a", "Q8") = $0 { true } else { false }
        }
        try assertRejects("mismatch.safetensors", makeFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: four)) {
            if case .byteCountMismatch(_, "a", "F32", [2], 8, 4) = $0 { true } else { false }
        }
        try assertRejects("outside.safetensors",
                          makeFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}}"#,
                                   data: [UInt8](repeating: 0, count: 8))) {
            if case .offsetsOutOfBounds(_, "b", 100, 104, 8) = $0 { true } else { false }
        }
        try assertRejects("overlap.safetensors",
                          makeFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                   data: [UInt8](repeating: 0, count: 12))) {
            if case .overlappingTensors(_, "a", "b") = $0 { true } else { false }
        }
        let header16 = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        try assertRejects("truncated.safetensors", makeFile(header16, data: [UInt8](repeating: 0, count: 10))) {
            if case .truncated(_, let want, let got) = $0 { want == 8 + header16.utf8.count + 16 && got == want - 6 } else { false }
        }
        try assertRejects("negative.safetensors", makeFile(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: four)) {
            if case .invalidShape(_, "a", _, let r) = $0 { r.contains("negative") } else { false }
        }
        try assertRejects("overflow.safetensors",
                          makeFile(#"{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}"#, data: four)) {
            if case .invalidShape(_, "a", _, let r) = $0 { r.contains("overflow") } else { false }
        }
        try assertRejects("bytesoverflow.safetensors",
                          makeFile(#"{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,4]}}"#, data: four)) {
            if case .invalidShape(_, "a", _, let r) = $0 { r.contains("overflow") } else { false }
        }
        try assertRejects("fraction.safetensors", makeFile(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: four)) {
            if case .invalidShape = $0 { true } else { false }
        }
        try assertRejects("bigoffset.safetensors",
                          makeFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999999]}}"#, data: four)) {
            if case .invalidEntry = $0 { true } else { false }
        }
        try assertRejects("reversed.safetensors", makeFile(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: four)) {
            if case .invalidEntry = $0 { true } else { false }
        }
        try assertRejects("duplicate.safetensors", makeFile("{\(entry),\(entry)}", data: four)) {
            if case .duplicateName(_, "a") = $0 { true } else { false }
        }
        try assertRejects("badmeta.safetensors", makeFile(#"{"__metadata__":{"epoch":3},"# + entry + "}", data: four)) {
            if case .invalidMetadata = $0 { true } else { false }
        }
        try assertRejects("deep.safetensors", makeFile(String(repeating: "[", count: 100_000))) {
            if case .invalidHeaderJSON = $0 { true } else { false }
        }
    }

    /// Every prefix of a valid file, and every single-byte corruption of its header, must be
    /// rejected with a SafeTensorsError or read correctly-shaped tensors; nothing may crash.
    func testCorruptedFilesNeverCrash() throws {
        let good = try [UInt8](Data(contentsOf: fixture("tiny_f16")))
        for length in 0..<good.count {
            XCTAssertThrowsError(try SafeTensors.decode(Data(good[..<length]), fileName: "prefix")) { error in
                XCTAssertTrue(error is SafeTensorsError, "prefix \(length): \(error)")
            }
        }
        let headerEnd = 8 + Int(good[0]) + Int(good[1]) << 8
        for position in 0..<headerEnd {
            for replacement: UInt8 in [0x00, 0x22, 0x30, 0x39, 0x5B, 0x7D, 0xFF] where good[position] != replacement {
                var bad = good
                bad[position] = replacement
                do {
                    let file = try SafeTensors.decode(Data(bad), fileName: "corrupt")
                    for e in file.entries { XCTAssertEqual(file.tensors[e.name]?.shape, e.shape) }
                } catch {
                    XCTAssertTrue(error is SafeTensorsError, "byte \(position) = \(replacement): \(error)")
                }
            }
        }
    }

    // MARK: State dicts

    func testLoadStateDictAssignsByName() throws {
        let layer = TinyLayer()
        let dict = ["model.0.conv.weight": Tensor.random([2, 3], seed: 1),
                    "model.0.conv.bias": vec(0.5, -0.5),
                    "model.0.bn.running_mean": vec(3, 4)]
        let report = try loadStateDict(dict, into: layer, strict: true)
        XCTAssertEqual(report.loaded, dict.keys.sorted())
        XCTAssertEqual(layer.weight.value.scalars, dict["model.0.conv.weight"]!.scalars)
        XCTAssertEqual(layer.bias.value.scalars, [0.5, -0.5])
        XCTAssertEqual(layer.runningMean.value.scalars, [3, 4])

        // Save and load back, in F32 and F16.
        for dtype in [SafeTensorsDType.f32, .f16] {
            let path = url("state-\(dtype.rawValue).safetensors")
            try saveStateDict(of: layer, to: path, dtype: dtype, metadata: ["format": "pt"])
            let other = TinyLayer()
            try loadStateDict(from: path, into: other)
            XCTAssertEqual(other.bias.value.scalars, [0.5, -0.5])
            assertClose(other.weight.value, layer.weight.value, rtol: dtype == .f16 ? 1e-3 : 0, atol: 0)
        }
    }

    func testLoadStateDictErrors() throws {
        let layer = TinyLayer()
        let complete = ["model.0.conv.weight": Tensor(zeros: [2, 3]), "model.0.conv.bias": Tensor(zeros: [2]),
                        "model.0.bn.running_mean": Tensor(zeros: [2])]

        var missing = complete
        missing["model.0.conv.bias"] = nil
        XCTAssertThrowsError(try loadStateDict(missing, into: layer, strict: true)) { error in
            let e = error as? StateDictError
            XCTAssertEqual(e?.missingKeys, ["model.0.conv.bias"])
            XCTAssertTrue("\(error)".contains("missing keys"), "\(error)")
            XCTAssertTrue("\(error)".contains("model.0.conv.bias"), "\(error)")
        }

        var extra = complete
        extra["model.9.extra"] = vec(1)
        XCTAssertThrowsError(try loadStateDict(extra, into: layer, strict: true)) { error in
            XCTAssertEqual((error as? StateDictError)?.unexpectedKeys, ["model.9.extra"])
            XCTAssertTrue("\(error)".contains("model.9.extra"), "\(error)")
        }

        var wrongShape = complete
        wrongShape["model.0.conv.weight"] = Tensor(repeating: 7, shape: [3, 2])
        wrongShape["model.0.conv.bias"] = vec(9, 9)
        XCTAssertThrowsError(try loadStateDict(wrongShape, into: layer, strict: false)) { error in
            XCTAssertEqual((error as? StateDictError)?.shapeMismatches,
                           [ShapeMismatch(key: "model.0.conv.weight", expected: [2, 3], found: [3, 2])])
            let text = "\(error)"
            XCTAssertTrue(text.contains("model.0.conv.weight") && text.contains("[2, 3]") && text.contains("[3, 2]"), text)
        }
        XCTAssertEqual(layer.bias.value.scalars, [0, 0], "nothing is assigned when loading fails")

        // Non-strict: missing and unexpected keys are reported, the rest is loaded.
        var partial = extra
        partial["model.0.conv.bias"] = nil
        partial["model.0.bn.running_mean"] = vec(5, 6)
        let report = try loadStateDict(partial, into: layer, strict: false)
        XCTAssertEqual(report.missingKeys, ["model.0.conv.bias"])
        XCTAssertEqual(report.unexpectedKeys, ["model.9.extra"])
        XCTAssertEqual(layer.runningMean.value.scalars, [5, 6])

        // From a file: the error names it.
        let path = url("wrong.safetensors")
        try SafeTensors.write(missing, to: path)
        XCTAssertThrowsError(try loadStateDict(from: path, into: layer)) { error in
            XCTAssertTrue("\(error)".contains("wrong.safetensors"), "\(error)")
        }
    }
}
