// The images/ → labels/ rule, label parsing and polygon rows.
import XCTest
@testable import YOLOData

final class LabelFilesTests: XCTestCase {
    func testLabelPathRule() {
        XCTAssertEqual(LabelFiles.labelPath(forImage: "/d/images/train2017/0001.jpg"), "/d/labels/train2017/0001.txt")
        // Only the last /images/ changes.
        XCTAssertEqual(LabelFiles.labelPath(forImage: "/images/x/images/a.b.PNG"), "/images/x/labels/a.b.txt")
        // No /images/ folder: the label sits beside the image.
        XCTAssertEqual(LabelFiles.labelPath(forImage: "/d/pics/a.jpeg"), "/d/pics/a.txt")
        XCTAssertEqual(LabelFiles.labelPath(forImage: "/d/myimages/a.jpg"), "/d/myimages/a.txt")
    }

    func testImageExtensions() {
        XCTAssertTrue(LabelFiles.isImage("a.JPG"))
        XCTAssertTrue(LabelFiles.isImage("a.webp"))
        XCTAssertTrue(LabelFiles.isImage("a.tiff"))
        XCTAssertFalse(LabelFiles.isImage("a.txt"))
        XCTAssertFalse(LabelFiles.isImage("jpg"))
        XCTAssertEqual(LabelFiles.imageExtensions.count, 10)
    }

    func testBoxRows() throws {
        let raw = try LabelFiles.parse("0 0.5 0.5 0.2 0.1\n\n  3\t0.25 0.75 0.5 0.5 \r\n", file: "l.txt")
        XCTAssertEqual(raw.rows, [[0, 0.5, 0.5, 0.2, 0.1], [3, 0.25, 0.75, 0.5, 0.5]])
        XCTAssertEqual(raw.lines, [1, 3])
        XCTAssertEqual(raw.segments, [])
        XCTAssertThrowsError(try LabelFiles.parse("0 0.5 x 0.2 0.1", file: "l.txt")) {
            XCTAssertEqual($0 as? LabelError, .notANumber(file: "l.txt", line: 1, text: "x"))
        }
    }

    /// YOLOv5 7.0: any row with more than 6 values makes every row a polygon (class + xy pairs),
    /// boxed by min/max; a 5-value row in such a file is a 2-point polygon.
    func testPolygonRows() throws {
        let raw = try LabelFiles.parse("2 0.1 0.2 0.5 0.2 0.3 0.6\n1 0.1 0.1 0.3 0.5\n", file: "p.txt")
        XCTAssertEqual(raw.rows.count, 2)
        let expected: [[Float]] = [[2, 0.3, 0.4, 0.4, 0.4], [1, 0.2, 0.3, 0.2, 0.4]]
        for (row, want) in zip(raw.rows, expected) {
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        XCTAssertEqual(raw.segments, [[0.1, 0.2, 0.5, 0.2, 0.3, 0.6], [0.1, 0.1, 0.3, 0.5]])
        XCTAssertThrowsError(try LabelFiles.parse("0 0.1 0.2 0.3 0.4 0.5 0.6 0.7\n", file: "p.txt")) {
            XCTAssertEqual($0 as? LabelError, .badPolygon(file: "p.txt", line: 1, values: 7))
        }
    }

    func testDuplicateRowsAreDroppedAndSortedAsNumpyUnique() {
        var raw = RawLabels(rows: [[1, 0.5, 0.5, 0.1, 0.1], [0, 0.2, 0.2, 0.1, 0.1], [1, 0.5, 0.5, 0.1, 0.1]],
                            segments: [], lines: [1, 2, 3])
        XCTAssertEqual(Verification.dropDuplicates(&raw), 1)
        XCTAssertEqual(raw.rows, [[0, 0.2, 0.2, 0.1, 0.1], [1, 0.5, 0.5, 0.1, 0.1]])
        var unique = RawLabels(rows: [[1, 0.5, 0.5, 0.1, 0.1], [0, 0.2, 0.2, 0.1, 0.1]], segments: [], lines: [1, 2])
        XCTAssertEqual(Verification.dropDuplicates(&unique), 0)
        XCTAssertEqual(unique.rows[0][0], 1, "order kept when nothing repeats, as upstream")
    }
}
