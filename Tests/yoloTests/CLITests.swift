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
}
