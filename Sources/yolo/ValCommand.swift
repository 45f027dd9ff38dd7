// `yolo val`: val.py on a dataset with any supported weights file.
import ArgumentParser
import Foundation
import TensorCore
import TensorDNNL
import YOLOTraining

struct ValCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "val", abstract: "Validate a detector on a dataset.")

    @Option(help: "Weights: a checkpoint, a YOLOv5 .pt, or a safetensors state dict with --cfg.") var weights: String
    @Option(help: "Model YAML for a plain state dict.") var cfg = ""
    @Option(help: "Dataset YAML.") var data = "datasets/coco128/coco128.yaml"
    @Option(name: [.customLong("img-size"), .customLong("img"), .customLong("imgsz")]) var imgSize = 640
    @Option(name: .customLong("batch-size")) var batchSize = 32
    @Option(name: .customLong("conf-thres")) var confThres = 0.001
    @Option(name: .customLong("iou-thres")) var iouThres = 0.6
    @Option(help: "val, test or speed.") var task = "val"
    @Flag(name: .customLong("single-cls")) var singleCls = false
    @Flag(help: "Per-class results.") var verbose = false
    @Flag(name: .customLong("save-txt"), help: "Save detections to labels/*.txt.") var saveTxt = false
    @Flag(name: .customLong("save-hybrid"), help: "Save labels + detections to labels/*.txt (auto-labelling).")
    var saveHybrid = false
    @Flag(name: .customLong("save-conf"), help: "Add confidences to --save-txt labels.") var saveConf = false
    @Flag(name: .customLong("save-json"), help: "Save COCO-format detections to <weights>_predictions.json.")
    var saveJSON = false
    @Option var workers = 2
    @Option var project = "runs/val"
    @Option var name = "exp"
    @Flag(name: .customLong("exist-ok")) var existOk = false

    func run() throws {
        Engine.backend = DNNLBackend()
        do {
            var options = ValidationOptions(weights: weights, cfg: cfg, data: data, imageSize: imgSize, batchSize: batchSize,
                                            confThreshold: confThres, iouThreshold: iouThres, task: task,
                                            singleClass: singleCls, verbose: verbose, workers: workers,
                                            project: project, name: name, existOK: existOk)
            options.saveTxt = saveTxt; options.saveHybrid = saveHybrid; options.saveConf = saveConf
            options.saveJSON = saveJSON
            try runValidation(options)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
