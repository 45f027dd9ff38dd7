// `yolo train`: train.py's flags under the same names.
import ArgumentParser
import Foundation
import TensorCore
import TensorDNNL
import YOLOTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a YOLOv5 detector.")

    @Option(help: "Initial weights: a checkpoint, a YOLOv5 .pt or a safetensors state dict.") var weights = ""
    @Option(help: "Model YAML (bundled name such as yolov5s.yaml, or a path).") var cfg = ""
    @Option(help: "Dataset YAML (default: the bundled datasets/coco128/coco128.yaml).") var data = ""
    @Option(help: "Hyperparameter YAML (bundled name or path).") var hyp = "hyp.scratch-low.yaml"
    @Option var epochs = 300
    @Option(name: .customLong("batch-size")) var batchSize = 16
    @Option(name: [.customLong("img-size"), .customLong("img"), .customLong("imgsz")], parsing: .upToNextOption,
            help: "Train and val image sizes (one or two values).") var imgSize: [Int] = [640]
    @Flag(help: "Rectangular training.") var rect = false
    @Option(help: "Resume the newest run ('latest', also --resume alone) or the given last.safetensors.") var resume = ""
    @Flag(help: "Only save the final checkpoint.") var nosave = false
    @Flag(name: [.customLong("noval"), .customLong("notest")], help: "Only validate the final epoch.") var noval = false
    @Flag(help: "Disable AutoAnchor.") var noautoanchor = false
    @Option(help: "Evolve hyperparameters for this many generations (--evolve alone: 300).") var evolve = 0
    @Flag(name: [.customLong("cache-images"), .customLong("cache")], help: "Cache images in RAM.") var cacheImages = false
    @Flag(name: .customLong("image-weights")) var imageWeights = false
    @Option var device = "cpu"
    @Flag(name: .customLong("multi-scale")) var multiScale = false
    @Flag(name: .customLong("single-cls")) var singleCls = false
    @Flag(help: "Use Adam (same as --optimizer Adam).") var adam = false
    @Option(help: "SGD, Adam or AdamW.") var optimizer = "SGD"
    @Option var workers = 2
    @Option var project = "runs/train"
    @Option var name = "exp"
    @Flag(name: .customLong("exist-ok")) var existOk = false
    @Flag var quad = false
    @Flag(name: .customLong("linear-lr")) var linearLr = false
    @Option(name: .customLong("label-smoothing")) var labelSmoothing = 0.0
    @Option(name: .customLong("save-period")) var savePeriod = -1
    @Option(parsing: .upToNextOption, help: "Freeze the first N layers, or the listed layers.") var freeze: [Int] = [0]
    @Option(help: "Stop after this many epochs without improvement.") var patience = 100
    @Option var seed = 0

    func run() throws {
        Engine.backend = DNNLBackend()
        var o = TrainOptions()
        o.weights = weights; o.cfg = cfg; o.data = data; o.hyp = hyp; o.epochs = epochs; o.batchSize = batchSize
        o.imgSize = imgSize.count == 1 ? [imgSize[0], imgSize[0]] : Array(imgSize.prefix(2))
        o.rect = rect; o.resume = resume; o.nosave = nosave; o.noval = noval; o.noautoanchor = noautoanchor
        o.evolve = evolve; o.cacheImages = cacheImages; o.imageWeights = imageWeights; o.device = device
        o.multiScale = multiScale; o.singleCls = singleCls; o.optimizer = adam ? "Adam" : optimizer
        o.workers = workers; o.project = project; o.name = name; o.existOk = existOk; o.quad = quad
        o.linearLr = linearLr; o.labelSmoothing = labelSmoothing; o.savePeriod = savePeriod; o.freeze = freeze
        o.patience = patience; o.seed = seed
        do {
            if evolve > 0 {
                try Evolver(options: o).run()
            } else {
                try Trainer(options: o).run()
            }
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
