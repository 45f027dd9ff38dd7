// Reading safetensors files. The header is parsed by a small strict JSON parser (so duplicate
// names are caught and integers are read exactly), and every entry is validated — dtype,
// shape, byte count, bounds, overlaps — before any tensor byte is touched.
import Foundation
import TensorCore

extension SafeTensors {
    /// Reads every tensor of a safetensors file, converted to Float32.
    public static func read(_ url: URL) throws -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError.io(file: url.path, operation: "read the file", reason: describe(error))
        }
        return try decode(data, fileName: url.path)
    }

    /// Decodes the bytes of a safetensors file; `fileName` is used in error messages.
    public static func decode(_ data: Data, fileName: String = "<memory>") throws -> SafeTensorsFile {
        let layout = try validate(data, fileName: fileName)
        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(layout.entries.count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for entry in layout.entries {
                // validate() proved: dataStart + entry.dataOffsets.upperBound <= raw.count and
                // the range holds exactly shape-count × byteSize bytes.
                let base = layout.dataStart + entry.dataOffsets.lowerBound
                var t = Tensor(uninitializedShape: entry.shape)
                t.withUnsafeMutableBufferPointer { out in
                    convert(raw, from: base, dtype: entry.dtype, into: out)
                }
                tensors[entry.name] = t
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: layout.metadata, entries: layout.entries)
    }

    /// Reads only the header of `data`: entries and metadata, fully validated against the size.
    public static func header(of data: Data, fileName: String = "<memory>") throws
        -> (entries: [SafeTensorsEntry], metadata: [String: String]) {
        let layout = try validate(data, fileName: fileName)
        return (layout.entries, layout.metadata)
    }

    // MARK: Validation

    struct Layout {
        var entries: [SafeTensorsEntry]  // sorted by data offset
        var metadata: [String: String]
        var dataStart: Int
    }

    static func validate(_ data: Data, fileName f: String) throws -> Layout {
        let fileSize = data.count
        guard fileSize >= 8 else { throw SafeTensorsError.fileTooSmall(file: f, size: fileSize) }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderLength) else { throw SafeTensorsError.headerTooLarge(file: f, headerLength: n) }
        let headerLength = Int(n)
        guard headerLength <= fileSize - 8 else {
            throw SafeTensorsError.headerBeyondFile(file: f, headerLength: n, fileSize: fileSize)
        }
        let headerBytes = [UInt8](data[(data.startIndex + 8)..<(data.startIndex + 8 + headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw SafeTensorsError.headerNotUTF8(file: f)
        }
        let json: JSONValue
        do {
            var parser = JSONParser(bytes: headerBytes)
            json = try parser.parseDocument()
        } catch let e as JSONParser.ParseError {
            throw SafeTensorsError.invalidHeaderJSON(file: f, reason: e.message)
        }
        guard case .object(let members) = json else {
            throw SafeTensorsError.invalidHeaderJSON(file: f, reason: "the top level is \(json.kind), not an object")
        }

        var seen = Set<String>()
        for (key, _) in members where !seen.insert(key).inserted {
            throw SafeTensorsError.duplicateName(file: f, tensor: key)
        }

        let bufferSize = fileSize - 8 - headerLength
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        entries.reserveCapacity(members.count)
        for (name, value) in members {
            if name == metadataKey {
                guard case .object(let pairs) = value else {
                    throw SafeTensorsError.invalidMetadata(file: f, reason: "it is \(value.kind), not an object")
                }
                for (k, v) in pairs {
                    guard case .string(let s) = v else {
                        throw SafeTensorsError.invalidMetadata(file: f, reason: "the value of '\(k)' is \(v.kind), not a string")
                    }
                    guard metadata.updateValue(s, forKey: k) == nil else {
                        throw SafeTensorsError.invalidMetadata(file: f, reason: "the key '\(k)' appears more than once")
                    }
                }
                continue
            }
            entries.append(try validateEntry(name: name, value: value, fileName: f))
        }

        // Overlaps, between entries that own at least one byte, in data order.
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var previous: SafeTensorsEntry?
        for e in entries where !e.dataOffsets.isEmpty {
            if let p = previous, e.dataOffsets.lowerBound < p.dataOffsets.upperBound {
                throw SafeTensorsError.overlappingTensors(file: f, first: p.name, second: e.name)
            }
            previous = e
        }

        // Bounds. When the entries tile the buffer from 0 without gaps, a short buffer means the
        // file was cut off; otherwise the offending entry's offsets are wrong.
        let end = entries.map(\.dataOffsets.upperBound).max() ?? 0
        if end > bufferSize {
            let total = entries.reduce(0) { $0 + $1.dataOffsets.count }  // no overflow: disjoint ranges below `end`
            if total == end {
                throw SafeTensorsError.truncated(file: f, expectedSize: 8 + headerLength + end, actualSize: fileSize)
            }
            let bad = entries.first { $0.dataOffsets.upperBound > bufferSize }!
            throw SafeTensorsError.offsetsOutOfBounds(file: f, tensor: bad.name, begin: bad.dataOffsets.lowerBound,
                                                      end: bad.dataOffsets.upperBound, bufferSize: bufferSize)
        }
        return Layout(entries: entries, metadata: metadata, dataStart: 8 + headerLength)
    }

    private static func validateEntry(name: String, value: JSONValue, fileName f: String) throws -> SafeTensorsEntry {
        func bad(_ reason: String) -> SafeTensorsError { .invalidEntry(file: f, tensor: name, reason: reason) }
        guard case .object(let fields) = value else { throw bad("the entry is \(value.kind), not an object") }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields {
            switch k {
            case "dtype": if dtypeValue != nil { throw bad("\"dtype\" appears twice") }; dtypeValue = v
            case "shape": if shapeValue != nil { throw bad("\"shape\" appears twice") }; shapeValue = v
            case "data_offsets": if offsetsValue != nil { throw bad("\"data_offsets\" appears twice") }; offsetsValue = v
            default: continue  // unknown fields are ignored, as the Python library does
            }
        }
        guard let dtypeValue else { throw bad("\"dtype\" is missing") }
        guard let shapeValue else { throw bad("\"shape\" is missing") }
        guard let offsetsValue else { throw bad("\"data_offsets\" is missing") }

        guard case .string(let dtypeName) = dtypeValue else { throw bad("\"dtype\" is \(dtypeValue.kind), not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsError.unsupportedDType(file: f, tensor: name, dtype: dtypeName)
        }

        guard case .array(let dims) = shapeValue else { throw bad("\"shape\" is \(shapeValue.kind), not an array") }
        let shapeText = "[" + dims.map(\.text).joined(separator: ", ") + "]"
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var count = 1
        for d in dims {
            guard case .number(let literal) = d, let dim = Int(literal) else {
                throw SafeTensorsError.invalidShape(file: f, tensor: name, shape: shapeText,
                                                    reason: "\(d.text) is not an integer in range")
            }
            guard dim >= 0 else {
                throw SafeTensorsError.invalidShape(file: f, tensor: name, shape: shapeText, reason: "dimension \(dim) is negative")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw SafeTensorsError.invalidShape(file: f, tensor: name, shape: shapeText,
                                                    reason: "the element count overflows a 64-bit integer")
            }
            count = product
            shape.append(dim)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw SafeTensorsError.invalidShape(file: f, tensor: name, shape: shapeText,
                                                reason: "the byte count overflows a 64-bit integer")
        }

        guard case .array(let offsets) = offsetsValue else {
            throw bad("\"data_offsets\" is \(offsetsValue.kind), not an array")
        }
        guard offsets.count == 2 else { throw bad("\"data_offsets\" has \(offsets.count) elements, not 2") }
        guard case .number(let b) = offsets[0], let begin = Int(b), case .number(let e) = offsets[1], let end = Int(e) else {
            throw bad("\"data_offsets\" [\(offsets[0].text), \(offsets[1].text)] are not integers in range")
        }
        guard begin >= 0, end >= begin else {
            throw bad("\"data_offsets\" [\(begin), \(end)] are not a range (need 0 ≤ begin ≤ end)")
        }
        guard end - begin == byteCount else {
            throw SafeTensorsError.byteCountMismatch(file: f, tensor: name, dtype: dtypeName, shape: shape,
                                                     expectedBytes: byteCount, actualBytes: end - begin)
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    // MARK: Conversion

    /// Converts `out.count` little-endian elements starting at byte `base` of `raw`.
    static func convert(_ raw: UnsafeRawBufferPointer, from base: Int, dtype: SafeTensorsDType,
                                into out: UnsafeMutableBufferPointer<Float>) {
        let n = out.count
        guard n > 0 else { return }
        precondition(base >= 0 && base + n * dtype.byteSize <= raw.count, "validated range escaped the buffer")
        switch dtype {
        case .f32:
            #if _endian(little)
            UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress! + base, byteCount: 4 * n)
            #else
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))) }
            #endif
        case .f16:
            for i in 0..<n {
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))
                out[i] = Float(Float16(bitPattern: bits))
            }
        case .bf16:
            for i in 0..<n {
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .f64:
            for i in 0..<n {
                let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self))
                out[i] = Float(Double(bitPattern: bits))
            }
        case .i64:
            for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: Int64.self))) }
        case .i32:
            for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: Int32.self))) }
        case .i16:
            for i in 0..<n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: Int16.self))) }
        case .i8:
            for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[base + i])) }
        case .u8:
            for i in 0..<n { out[i] = Float(raw[base + i]) }
        case .bool:
            for i in 0..<n { out[i] = raw[base + i] != 0 ? 1 : 0 }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? CocoaError, let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return "\(e.localizedDescription) (\(underlying.localizedDescription))"
        }
        return (error as NSError).localizedDescription
    }
}

// MARK: - A strict JSON parser for the header

/// A parsed JSON value. Objects keep their members in order, duplicates included; numbers
/// keep their literal text so integers are converted exactly.
indirect enum JSONValue {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// A short rendering for error messages.
    var text: String {
        switch self {
        case .number(let s): s
        case .string(let s): "\"\(s.prefix(40))\""
        case .bool(let b): "\(b)"
        case .null: "null"
        case .array: "[…]"
        case .object: "{…}"
        }
    }
}

struct JSONParser {
    struct ParseError: Error { var message: String }

    let bytes: [UInt8]
    var i = 0
    /// Nesting limit: a safetensors header needs 3 levels; this stops stack exhaustion.
    static let maxDepth = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let v = try parseValue(depth: 0)
        skipWhitespace()
        guard i == bytes.count else { throw fail("unexpected text after the JSON value") }
        return v
    }

    private func fail(_ what: String) -> ParseError { ParseError(message: "\(what) at byte \(i)") }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard i < bytes.count, bytes[i] == byte else { throw fail("expected \(what)") }
        i += 1
    }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < JSONParser.maxDepth else { throw fail("nesting deeper than \(JSONParser.maxDepth) levels") }
        guard i < bytes.count else { throw fail("unexpected end of the header") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, JSONValue)] = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return .object(members)
            }
        case UInt8(ascii: "["):
            i += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return .array(elements)
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw fail("unexpected character '\(Unicode.Scalar(bytes[i]).escaped(asASCII: true))'")
        }
    }

    private mutating func literal(_ word: String) throws {
        for b in word.utf8 {
            guard i < bytes.count, bytes[i] == b else { throw fail("invalid literal (expected \(word))") }
            i += 1
        }
    }

    private mutating func parseNumber() throws -> String {
        let start = i
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while p.i < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.i]) { p.i += 1 }
            return p.i - s
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        guard digits(&self) > 0 else { throw fail("invalid number") }
        if bytes[intStart] == UInt8(ascii: "0"), i - intStart > 1 { throw fail("invalid number (leading zero)") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// Parses a string starting at its opening quote. The bytes are known to be valid UTF-8.
    private mutating func parseString() throws -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw fail("control character in a string") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw fail("invalid escape '\\\(Unicode.Scalar(e).escaped(asASCII: true))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}
