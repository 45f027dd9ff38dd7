// `yolo val` as a function: load weights, scan the dataset, validate, print YOLOv5's table and
// speed line, save metrics JSON and plots in runs/val/exp{N}.
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
    let dir = try RunDirectory.make(project: o.project, name: o.name, existOK: o.existOK)
    let result = try validator.run(model: model, loader: loader)
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
    log("Results saved to \(dir.path)")
    return result
}
