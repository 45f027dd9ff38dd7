// `yolo val --save-json` / `--save-txt` rows against YOLOv5 7.0's val.py `save_one_json` and
// `save_one_txt`, run on the same Float32 detections in the peer venv; and when COCO ids apply.
import Foundation
import XCTest
import YOLO
import YOLOData
@testable import YOLOTraining

final class COCOPredictionsTests: XCTestCase {
    /// predn rows [x1, y1, x2, y2, conf, cls] as torch.float32.
    let detections = [
        Detection(x1: 10.12345, y1: 20.5, x2: 30.0, y2: 60.25, confidence: 0.123456789, classIndex: 2),
        Detection(x1: 0, y1: 0, x2: 640, y2: 480, confidence: 0.9999999, classIndex: 11),
        Detection(x1: 100.3333, y1: 200.6667, x2: 150.1111, y2: 201.0001, confidence: 0.000123456, classIndex: 79),
    ]

    func testJSONMatchesSaveOneJSON() {
        // save_one_json(predn, jdict, Path('/data/images/000000000042.jpg'), coco80_to_coco91_class()),
        // then save_one_json(predn[:1], jdict, Path('/data/bus.jpg'), list(range(1000))); json.dumps(jdict).
        var coco = COCOPredictions(mapsToCOCO: true)
        coco.append(detections, path: "/data/images/000000000042.jpg")
        var plain = COCOPredictions(mapsToCOCO: false)
        plain.append(Array(detections.prefix(1)), path: "/data/bus.jpg")
        coco.entries += plain.entries
        XCTAssertEqual(coco.json(), """
            [{"image_id": 42, "category_id": 3, "bbox": [10.123, 20.5, 19.877, 39.75], "score": 0.12346}, \
            {"image_id": 42, "category_id": 13, "bbox": [0.0, 0.0, 640.0, 480.0], "score": 1.0}, \
            {"image_id": 42, "category_id": 90, "bbox": [100.333, 200.667, 49.778, 0.333], "score": 0.00012}, \
            {"image_id": "bus", "category_id": 2, "bbox": [10.123, 20.5, 19.877, 39.75], "score": 0.12346}]
            """)
        XCTAssertEqual(COCOPredictions(mapsToCOCO: true).json(), "[]")
    }

    func testLabelLinesMatchSaveOneTxt() {
        // save_one_txt(predn, save_conf=True, shape=(480, 640), file) in the peer venv.
        let lines = detections.map { yoloLabelLine($0, imageSize: (480, 640), conf: true) }
        XCTAssertEqual(lines, ["2 0.0313464 0.0841146 0.0310571 0.0828125 0.123457",
                               "11 0.5 0.5 1 1 1",
                               "79 0.19566 0.418403 0.0777778 0.000694593 0.000123456"])
        XCTAssertEqual(yoloLabelLine(detections[1], imageSize: (480, 640), conf: false), "11 0.5 0.5 1 1")
    }

    func testImageIDIsTheNumericStemElseTheStem() {
        XCTAssertEqual(COCOPredictions.imageID(path: "/coco/images/val2017/000000397133.jpg"), .number(397133))
        XCTAssertEqual(COCOPredictions.imageID(path: "bus.jpg"), .name("bus"))
        XCTAssertEqual(COCOPredictions.imageID(path: "/x/12a.png"), .name("12a"))
        XCTAssertEqual(COCOPredictions.imageID(path: "/x/img.001.jpg"), .name("img.001"))  // Path.stem drops one suffix
        // json.dumps escapes non-ASCII (ensure_ascii) and quotes.
        XCTAssertEqual(COCOPredictions.quoted("café \"1\""), "\"caf\\u00e9 \\\"1\\\"\"")
    }

    /// val.py's is_coco (val entry ending in coco/val2017.txt), and our addition: COCO's 80 names.
    func testCOCOCategoriesWhenCOCOValOrCOCONames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coco-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func config(_ yaml: String) throws -> DatasetConfig {
            let url = dir.appendingPathComponent("\(UUID().uuidString).yaml")
            try Data(yaml.utf8).write(to: url)
            return try DatasetConfig.load(url)
        }
        let cocoNames = "names: [" + COCOPredictions.cocoNames.map { "'\($0)'" }.joined(separator: ", ") + "]\n"
        XCTAssertEqual(COCOPredictions.cocoNames.count, 80)
        XCTAssertEqual(COCOPredictions.coco80To91.count, 80)
        XCTAssertTrue(COCOPredictions.usesCOCOCategories(try config("path: ../coco\ntrain: train2017.txt\nval: val2017.txt\nnames: [a, b]\n")))
        XCTAssertTrue(COCOPredictions.usesCOCOCategories(try config("train: images/train\nval: images/val\n" + cocoNames)))
        XCTAssertFalse(COCOPredictions.usesCOCOCategories(try config("train: images/train\nval: images/val\nnames: [a, b]\n")))
        let renamed = cocoNames.replacingOccurrences(of: "'person'", with: "'human'")
        XCTAssertFalse(COCOPredictions.usesCOCOCategories(try config("train: images/train\nval: images/val\n" + renamed)))
    }
}
