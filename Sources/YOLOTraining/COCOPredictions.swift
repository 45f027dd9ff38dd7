// `yolo val --save-json`: detections as COCO results JSON, as YOLOv5 7.0's val.py writes
// `<weights>_predictions.json` (`save_one_json`, `coco80_to_coco91_class`). It is not
// pycocotools: no COCO mAP is computed from the file.
import Foundation
import YOLO
import YOLOData

/// COCO-format detection results: `[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]`.
public struct COCOPredictions: Sendable {
    /// A COCO `image_id`: the file stem as an integer when it is all digits, else the stem.
    public enum ImageID: Sendable, Equatable {
        case number(Int)
        case name(String)
    }

    /// One result row. `bbox` is [x_min, y_min, width, height] in original-image pixels.
    public struct Entry: Sendable, Equatable {
        public var imageID: ImageID
        public var categoryID: Int
        public var bbox: [Double]
        public var score: Double
    }

    /// YOLOv5's `coco80_to_coco91_class()`: the COCO category id (1…90, with gaps) of each of
    /// the 80 training classes.
    public static let coco80To91: [Int] = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
        35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
        64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
    ]

    /// The 80 class names of YOLOv5's data/coco.yaml, in index order.
    public static let cocoNames = [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
        "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
        "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
        "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
        "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
        "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
        "hair drier", "toothbrush",
    ]

    /// Whether class indices go through `coco80To91`. val.py's test is `is_coco`: the val split
    /// is one entry ending in `coco/val2017.txt`. We also map when the dataset's names are COCO's
    /// 80 names in order (coco128, coco8, a renamed copy of COCO), so their JSON uses COCO ids
    /// and can be scored against COCO annotations; upstream writes the raw index for those.
    public static func usesCOCOCategories(_ data: DatasetConfig) -> Bool {
        let isCOCOVal = data.val.count == 1 && data.val[0].standardizedFileURL.path.hasSuffix("coco/val2017.txt")
        return isCOCOVal || data.names == cocoNames
    }

    /// `int(path.stem) if path.stem.isnumeric() else path.stem`, for ASCII digits.
    public static func imageID(path: String) -> ImageID {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if !stem.isEmpty, stem.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(stem) { return .number(n) }
        return .name(stem)
    }

    public var entries: [Entry] = []
    /// Whether class indices are mapped to COCO category ids (else written as they are).
    public var mapsToCOCO: Bool

    public init(mapsToCOCO: Bool) { self.mapsToCOCO = mapsToCOCO }

    /// `save_one_json`: one entry per detection, in order. Detections are xyxy in the original
    /// image's pixels; the box becomes top-left xywh in Float32 (`xyxy2xywh`, then xy −= wh / 2),
    /// rounded to 3 decimals, the score to 5.
    public mutating func append(_ detections: [Detection], path: String) {
        let id = Self.imageID(path: path)
        for d in detections {
            let cx = (d.x1 + d.x2) / 2, cy = (d.y1 + d.y2) / 2, w = d.x2 - d.x1, h = d.y2 - d.y1
            let box = [cx - w / 2, cy - h / 2, w, h].map { Self.round(Double($0), places: 3) }
            let c = d.classIndex
            let category = mapsToCOCO && Self.coco80To91.indices.contains(c) ? Self.coco80To91[c] : c
            entries.append(Entry(imageID: id, categoryID: category, bbox: box,
                                 score: Self.round(Double(d.confidence), places: 5)))
        }
    }

    /// The file text as Python's `json.dump` writes the list: one line, `", "` and `": "`
    /// separators, floats as `repr`, non-ASCII escaped.
    public func json() -> String {
        let rows = entries.map { e -> String in
            let id: String
            switch e.imageID {
            case let .number(n): id = String(n)
            case let .name(s): id = Self.quoted(s)
            }
            return "{\"image_id\": \(id), \"category_id\": \(e.categoryID), \"bbox\": ["
                + e.bbox.map(Self.pythonRepr).joined(separator: ", ") + "], \"score\": \(Self.pythonRepr(e.score))}"
        }
        return "[" + rows.joined(separator: ", ") + "]"
    }

    public func write(to url: URL) throws {
        try Data(json().utf8).write(to: url, options: .atomic)
    }

    /// Python's `round(x, places)`: correctly rounded from the exact binary value, ties to even,
    /// which is what C's `%.Nf` does.
    static func round(_ x: Double, places: Int) -> Double {
        guard x.isFinite else { return x }
        return Double(String(format: "%.\(places)f", x)) ?? x
    }

    /// Python's float `repr` as `json.dump` writes it: Swift's `description` gives the same
    /// shortest round-tripping digits and switches to `1e+16` style at the same exponents.
    static func pythonRepr(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "NaN" : (x > 0 ? "Infinity" : "-Infinity") }
        return "\(x)"
    }

    /// A JSON string literal with `json.dumps`'s default escaping (ensure_ascii).
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.utf16 {
            switch u {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(u)!)
            default: out += String(format: "\\u%04x", u)
            }
        }
        return out + "\""
    }
}
