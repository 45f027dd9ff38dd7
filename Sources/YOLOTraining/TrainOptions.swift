// The options of a training run, with the names YOLOv5 writes to `opt.yaml`. The seed is
// v5.0's train.py; later flags (--freeze, --patience, --seed, --optimizer) are included.
import Foundation
import Yams

public struct TrainOptions: Codable, Sendable, Equatable {
    public var weights = ""
    public var cfg = ""
    public var data = ""
    public var hyp = "hyp.scratch-low.yaml"
    public var epochs = 300
    public var batchSize = 16
    /// Train and validation image sizes (one value means both).
    public var imgSize = [640, 640]
    public var rect = false
    public var resume = ""
    public var nosave = false
    public var noval = false
    public var noautoanchor = false
    /// Generations of hyperparameter evolution; 0 = off.
    public var evolve = 0
    public var cacheImages = false
    public var imageWeights = false
    public var device = "cpu"
    public var multiScale = false
    public var singleCls = false
    /// SGD, Adam or AdamW.
    public var optimizer = "SGD"
    public var workers = 2
    public var project = "runs/train"
    public var name = "exp"
    public var existOk = false
    public var quad = false
    /// Linear LR instead of v5.0's one-cycle cosine.
    public var linearLr = false
    public var labelSmoothing: Double = 0
    public var savePeriod = -1
    /// Freeze the first N layers (one value) or the listed layer indices.
    public var freeze: [Int] = [0]
    public var patience = 100
    public var seed = 0
    /// The run folder (set when the run starts).
    public var saveDir = ""

    public init() {}

    enum CodingKeys: String, CodingKey {
        case weights, cfg, data, hyp, epochs, rect, resume, nosave, noval, noautoanchor, evolve, device, optimizer
        case workers, project, name, quad, freeze, patience, seed
        case batchSize = "batch_size", imgSize = "img_size", cacheImages = "cache_images"
        case imageWeights = "image_weights", multiScale = "multi_scale", singleCls = "single_cls"
        case existOk = "exist_ok", linearLr = "linear_lr", labelSmoothing = "label_smoothing"
        case savePeriod = "save_period", saveDir = "save_dir"
    }

    public var trainImageSize: Int { imgSize[0] }
    public var valImageSize: Int { imgSize.count > 1 ? imgSize[1] : imgSize[0] }

    /// opt.yaml text.
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    public static func fromYAML(_ text: String) throws -> TrainOptions {
        try YAMLDecoder().decode(TrainOptions.self, from: text)
    }
}
