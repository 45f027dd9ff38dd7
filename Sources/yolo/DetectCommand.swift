// `yolo detect`: detect.py over images and videos (files, folders, globs, .txt lists).
import ArgumentParser
import Foundation
import TensorCore
import TensorDNNL
import YOLOTraining

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "Run a detector on images and videos.")

    @Option(help: "Weights: a checkpoint, a YOLOv5 .pt, or a safetensors state dict with --cfg.") var weights: String
    @Option(help: "Model YAML for a plain state dict.") var cfg = ""
    @Option(help: "Image or video file, folder, glob or .txt list (videos need ffmpeg on PATH).") var source = "datasets/images"
    @Option(name: [.customLong("img-size"), .customLong("img"), .customLong("imgsz")]) var imgSize = 640
    @Option(name: .customLong("conf-thres")) var confThres = 0.25
    @Option(name: .customLong("iou-thres")) var iouThres = 0.45
    @Option(name: .customLong("max-det")) var maxDet = 1000
    @Option(parsing: .upToNextOption, help: "Keep only these classes.") var classes: [Int] = []
    @Flag(name: .customLong("agnostic-nms")) var agnosticNMS = false
    @Flag(name: .customLong("save-txt")) var saveTxt = false
    @Flag(name: .customLong("save-conf")) var saveConf = false
    @Flag(name: .customLong("save-crop")) var saveCrop = false
    @Flag var nosave = false
    @Option(name: .customLong("line-thickness")) var lineThickness = 3
    @Flag(name: .customLong("hide-labels")) var hideLabels = false
    @Flag(name: .customLong("hide-conf")) var hideConf = false
    @Option var project = "runs/detect"
    @Option var name = "exp"
    @Flag(name: .customLong("exist-ok")) var existOk = false

    func run() throws {
        Engine.backend = DNNLBackend()
        do {
            var o = PredictionOptions(weights: weights, source: source)
            o.cfg = cfg; o.imageSize = imgSize; o.confThreshold = confThres; o.iouThreshold = iouThres
            o.maxDetections = maxDet; o.classes = classes.isEmpty ? nil : classes; o.agnostic = agnosticNMS
            o.saveTxt = saveTxt; o.saveConf = saveConf; o.saveCrop = saveCrop; o.nosave = nosave
            o.lineThickness = lineThickness; o.hideLabels = hideLabels; o.hideConf = hideConf
            o.project = project; o.name = name; o.existOK = existOk
            try runPrediction(o)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
