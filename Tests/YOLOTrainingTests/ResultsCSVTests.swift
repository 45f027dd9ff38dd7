// results.csv against a file written with YOLOv5 7.0's own format strings
// (Fixtures/results.csv, made by Tools/fixtures/make_logging_fixtures.py).
import Foundation
import XCTest
@testable import YOLOTraining

final class ResultsCSVTests: XCTestCase {
    func testBytesMatchYOLOv5FormatStrings() throws {
        let fixtures = TensorBoardTests.fixtures
        let expected = try Data(contentsOf: fixtures.appendingPathComponent("results.csv"))
        let values = try TensorBoardTests.referenceValues()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = ResultsCSV(url: dir.appendingPathComponent("results.csv"))
        for (epoch, row) in values.enumerated() { try csv.append(epoch: epoch, values: row) }
        let written = try Data(contentsOf: csv.url)
        XCTAssertEqual(String(decoding: written, as: UTF8.self), String(decoding: expected, as: UTF8.self))
        XCTAssertEqual(written, expected)
    }

    func testHeaderAndRowFormat() {
        XCTAssertTrue(ResultsCSV.header().hasPrefix("               epoch,      train/box_loss,"))
        XCTAssertTrue(ResultsCSV.header().hasSuffix(",               x/lr2"))
        XCTAssertTrue(ResultsCSV.header().contains(",metrics/mAP_0.5:0.95,"))  // exactly 20 wide
        XCTAssertEqual(ResultsCSV.row(epoch: 7, values: [0.000123456, 1e6]),
                       "                   7,          0.00012346,               1e+06")
        XCTAssertEqual(ResultsCSV.header(keys: ["a"], width: 23), "                  epoch,                      a")
    }

    func testReadBack() throws {
        let table = try ResultsCSV.read(TensorBoardTests.fixtures.appendingPathComponent("results.csv"))
        XCTAssertEqual(table.columns, ["epoch"] + ResultsCSV.keys)
        XCTAssertEqual(table.rows.count, 3)
        XCTAssertEqual(table.column("epoch"), [0, 1, 2])
        XCTAssertEqual(table.column("metrics/recall")?[2], 1.2346e+05)
        XCTAssertNil(table.column("nope"))
    }
}
