// Runs the real `yolo` binary, as a user would.
import Foundation
import XCTest

final class CLITests: XCTestCase {
    /// The built `yolo` next to the test bundle (.build/<config>/yolo).
    var yolo: URL {
        Bundle.main.bundleURL.appendingPathComponent("yolo")
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = yolo
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testHelpListsBenchmark() throws {
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("benchmark"), r.stdout)
    }

    func testUnknownSubcommandFailsWithMessage() throws {
        let r = try run(["benchmark", "nonsense"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("nonsense"), r.stderr)
    }

    struct Report: Decodable {
        struct Row: Decodable {
            var layer: String
            var fwd_gflops: Double, bwd_data_gflops: Double, bwd_weights_gflops: Double
            var engine_ms: Double, onednn_ms: Double
        }
        struct Bandwidth: Decodable { var copy_gbs: Double, batchnorm_gbs: Double, silu_gbs: Double }
        var conv: [Row]
        var bandwidth: Bandwidth
    }

    func testBenchmarkOpsJSON() throws {
        let r = try run(["benchmark", "ops", "--json", "--batch", "1", "--repeats", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(report.conv.map(\.layer), [
            "3->16 k6 s2 320x320", "16->32 k3 s2 160x160", "32->32 k1 s1 80x80",
            "64->64 k3 s1 40x40", "128->128 k3 s1 20x20", "256->256 k1 s1 10x10",
        ])
        for row in report.conv {
            for v in [row.fwd_gflops, row.bwd_data_gflops, row.bwd_weights_gflops, row.engine_ms, row.onednn_ms] {
                XCTAssertTrue(v.isFinite && v > 0, "\(row.layer): \(v)")
            }
        }
        for v in [report.bandwidth.copy_gbs, report.bandwidth.batchnorm_gbs, report.bandwidth.silu_gbs] {
            XCTAssertTrue(v.isFinite && v > 0)
        }
    }

    /// `benchmark data --dump-batches`: NumPy files a Python reader takes (format 1.0: header padded
    /// to 64 bytes, then the data), one pair per batch, images as the loader's bytes.
    func testBenchmarkDataDumpsBatchesAsNumPyFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try run(["benchmark", "data", "--source", root.appendingPathComponent("datasets/coco128/coco128.yaml").path,
                         "--img", "64", "--batch-size", "32", "--dump-batches", dir.path, "--dump-epochs", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for epoch in 0..<2 {
            for b in 0..<4 {
                func read(_ suffix: String) throws -> (header: String, body: Data) {
                    let data = try Data(contentsOf: dir.appendingPathComponent("e\(epoch)_b\(b)_\(suffix).npy"))
                    XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
                    let length = Int(data[8]) | Int(data[9]) << 8
                    XCTAssertEqual((10 + length) % 64, 0)
                    let header = String(decoding: data[10..<(10 + length)], as: UTF8.self)
                    XCTAssertTrue(header.hasSuffix("\n"))
                    return (header, data.subdata(in: (10 + length)..<data.count))
                }
                let images = try read("images"), targets = try read("targets")
                XCTAssertTrue(images.header.contains("'descr': '|u1'") && images.header.contains("'shape': (32, 64, 64, 3)"),
                              images.header)
                XCTAssertEqual(images.body.count, 32 * 64 * 64 * 3)
                XCTAssertTrue(targets.header.contains("'descr': '<f4'"), targets.header)
                let rows = targets.body.count / 24
                XCTAssertTrue(targets.header.contains("'shape': (\(rows), 6)"), targets.header)
                let values = targets.body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                XCTAssertGreaterThan(rows, 0)
                for k in 0..<rows {
                    XCTAssertTrue((0..<32).contains(Int(values[k * 6])) && values[k * 6 + 2..<k * 6 + 6].allSatisfy { $0 >= 0 && $0 <= 1 })
                }
            }
        }
    }
}
