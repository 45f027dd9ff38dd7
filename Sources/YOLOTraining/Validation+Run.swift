// `yolo val` as a function: load weights, scan the dataset, validate, print YOLOv5's table and
// speed line, save metrics JSON and plots in runs/val/exp{N}, and val.py's optional outputs:
// labels/*.txt (--save-txt, --save-hybrid) and <weights>_predictions.json (--save-json).
import Foundation
import YOLO
import YOLOData
import YOLOMetrics

public struct ValidationOptions: Sendable {
    public var weights: String, cfg: String, data: String
    public var imageSize: Int, batchSize: Int
    public var confThreshold: Double, iouThreshold: Double
    public var task: String
    public var singleClass: Bool, verbose: Bool
    public var workers: Int
    public var project: String, name: String, existOK: Bool
    /// labels/<stem>.txt per image with detections; `saveConf` adds the confidence column.
    public var saveTxt = false, saveConf = false
    /// <weights stem>_predictions.json in COCO results format.
    public var saveJSON = false
    /// Labels join the detections with confidence 1.0 (auto-labelling); implies `saveTxt`.
    public var saveHybrid = false

    public init(weights: String, cfg: String = "", data: String, imageSize: Int = 640, batchSize: Int = 32,
                confThreshold: Double = 0.001, iouThreshold: Double = 0.6, task: String = "val",
                singleClass: Bool = false, verbose: Bool = false, workers: Int = 2, project: String = "runs/val",
                name: String = "exp", existOK: Bool = false) {
        self.weights = weights; self.cfg = cfg; self.data = data; self.imageSize = imageSize
        self.batchSize = batchSize; self.confThreshold = confThreshold; self.iouThreshold = iouThreshold
        self.task = task; self.singleClass = singleClass; self.verbose = verbose; self.workers = workers
        self.project = project; self.name = name; self.existOK = existOK
    }
}

@discardableResult
public func runValidation(_ o: ValidationOptions, log: (String) -> Void = { print($0) }) throws -> ValidationResult {
    let (model, weightNames) = try WeightsLoader.inferenceModel(o.weights, cfg: o.cfg.isEmpty ? nil : o.cfg, fuse: true)
    let data = try DatasetConfig.load(URL(fileURLWithPath: o.data))
    let names = o.singleClass ? ["item"] : (data.names.count == model.nc ? data.names : weightNames)
    let sources = o.task == "test" && !data.test.isEmpty ? data.test : data.val
    let index = try DatasetIndex.scan(images: sources, nc: max(names.count, model.nc), requireLabels: false)
    index.warnings.forEach(log)
    log("\(o.task): Scanning '\(sources.map(\.path).joined(separator: ", "))'... \(index.summary)")
    let stride = max(model.strides.max() ?? 32, 32)
    let loader = try DataLoader(source: DatasetSource(index, singleClass: o.singleClass), imageSize: o.imageSize,
                                batchSize: o.batchSize, augment: false, rect: true, stride: stride, pad: 0.5,
                                workers: o.workers, seed: 0, shuffle: false)
    var validator = Validator(names: names)
    validator.confThreshold = o.confThreshold
    validator.iouThreshold = o.iouThreshold
    validator.saveHybrid = o.saveHybrid
    if o.saveHybrid { log("WARNING: --save-hybrid will return high mAP from hybrid labels, not from predictions alone") }
    let dir = try RunDirectory.make(project: o.project, name: o.name, existOK: o.existOK)
    var outputs = try ValidationOutputs(o, dir: dir, data: data)
    let result = try validator.run(model: model, loader: loader, onImage: { try outputs.add($0) })
    log(validator.table(result, verbose: o.verbose))
    log(String(format: "Speed: %.1fms pre-process, %.1fms inference, %.1fms NMS per image at shape (%d, 3, %d, %d)",
               result.speed.pre, result.speed.inference, result.speed.nms, o.batchSize, o.imageSize, o.imageSize))
    let m = result.metrics
    let json: [String: Any] = ["mp": m.mp, "mr": m.mr, "map50": m.map50, "map": m.map, "images": result.images,
                               "labels": result.labels, "classes": m.classes, "ap50": m.ap50, "ap": m.ap,
                               "precision": m.precision, "recall": m.recall]
    try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        .write(to: dir.appendingPathComponent("metrics.json"))
    try? writeValidationPlots(result, to: dir)
    try outputs.finish(log: log)
    log("Results saved to \(dir.path)" + outputs.labelsSummary())
    return result
}

/// val.py's per-image outputs: `save_one_txt` files and the `save_one_json` list.
struct ValidationOutputs {
    let labelsDir: URL?
    let saveConf: Bool
    var json: COCOPredictions?
    let jsonURL: URL
    var labelFiles = 0

    /// --save-hybrid implies --save-txt; a data file ending in `coco.yaml` implies --save-json
    /// (`opt.save_txt |= opt.save_hybrid`, `opt.save_json |= opt.data.endswith('coco.yaml')`).
    init(_ o: ValidationOptions, dir: URL, data: DatasetConfig) throws {
        labelsDir = o.saveTxt || o.saveHybrid ? dir.appendingPathComponent("labels") : nil
        if let labelsDir { try FileManager.default.createDirectory(at: labelsDir, withIntermediateDirectories: true) }
        saveConf = o.saveConf
        let saveJSON = o.saveJSON || o.data.hasSuffix("coco.yaml")
        json = saveJSON ? COCOPredictions(mapsToCOCO: COCOPredictions.usesCOCOCategories(data)) : nil
        let stem = URL(fileURLWithPath: o.weights).deletingPathExtension().lastPathComponent
        jsonURL = dir.appendingPathComponent("\(stem)_predictions.json")
    }

    mutating func add(_ image: ValidatedImage) throws {
        // val.py skips images without predictions. It appends to an existing file; we write each
        // image once (a rerun with --exist-ok replaces the file instead of doubling its lines).
        guard !image.detections.isEmpty else { return }
        json?.append(image.detections, path: image.path)
        guard let labelsDir else { return }
        let lines = image.detections.map { yoloLabelLine($0, imageSize: image.originalSize, conf: saveConf) }
        let stem = URL(fileURLWithPath: image.path).deletingPathExtension().lastPathComponent
        try (lines.joined(separator: "\n") + "\n").write(to: labelsDir.appendingPathComponent(stem + ".txt"),
                                                        atomically: true, encoding: .utf8)
        labelFiles += 1
    }

    /// Writes the JSON when there is anything to write (val.py: `if save_json and len(jdict)`).
    func finish(log: (String) -> Void) throws {
        guard let json else { return }
        guard !json.entries.isEmpty else {
            log("--save-json: no detections, so no \(jsonURL.lastPathComponent) written")
            return
        }
        try json.write(to: jsonURL)
        log("Saving \(jsonURL.path)... (\(json.entries.count) detections in COCO format"
            + (json.mapsToCOCO ? ", COCO category ids" : ", class indices as category ids") + ")")
    }

    func labelsSummary() -> String {
        labelsDir.map { "\n\(labelFiles) labels saved to \($0.path)" } ?? ""
    }
}
