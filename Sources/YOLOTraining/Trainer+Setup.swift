// Everything train.py does before the first epoch: resume, run folder, hyperparameters, data,
// model (weight transfer, freezing), optimizer groups, EMA, loaders, labels plot, AutoAnchor, loss.
import Foundation
import NN
import TensorCore
import YOLO
import YOLOData

public enum TrainError: Error, CustomStringConvertible {
    case noDefaultData
    case alreadyFinished(String)
    case nothingToResume
    case badImageSize(Int, Int)
    case imageSizeBelowFloor(Int, Int)
    case resumeFileMissing(String)

    public var description: String {
        switch self {
        case .noDefaultData:
            return "no --data given and the bundled default datasets/coco128/coco128.yaml is not in this folder; "
                + "run from the repository root or pass --data path/to/data.yaml"
        case let .alreadyFinished(p): return "\(p): this run already finished; nothing to resume (start a new run with --weights)"
        case .nothingToResume: return "--resume: no runs/**/last.safetensors found"
        case let .resumeFileMissing(p): return "--resume \(p): no such checkpoint file"
        case let .badImageSize(s, g): return "--img-size \(s) must be a multiple of the max stride \(g)"
        case let .imageSizeBelowFloor(s, g):
            return "--img-size \(s) is below \(2 * g), YOLOv5's floor of twice the max stride: the stride-\(g) "
                + "feature map would be 1x1, and BatchNorm needs more than one value per channel; use --img \(2 * g) or more"
        }
    }
}

extension Trainer {
    func setUp() throws {
        try loadResumeState()
        if saveDir == nil {
            saveDir = try RunDirectory.make(project: options.project, name: options.name, existOK: options.existOk)
        }
        options.saveDir = saveDir.path
        let weightsDir = saveDir.appendingPathComponent("weights")
        try FileManager.default.createDirectory(at: weightsDir, withIntermediateDirectories: true)
        generator = SeededGenerator(seed: UInt64(options.seed))
        hyp = try resumeCheckpoint.map { try Hyperparameters.decode(yaml: $0.metadata.hypYAML) }
            ?? Hyperparameters.load(options.hyp)
        if options.labelSmoothing > 0 { hyp.labelSmoothing = options.labelSmoothing }
        log("hyperparameters: " + (try hyp.yaml()).replacingOccurrences(of: "\n", with: ", "))
        try hyp.yaml().write(to: saveDir.appendingPathComponent("hyp.yaml"), atomically: true, encoding: .utf8)
        try options.yaml().write(to: saveDir.appendingPathComponent("opt.yaml"), atomically: true, encoding: .utf8)

        let data = try DatasetConfig.load(URL(fileURLWithPath: try dataPath()))
        names = options.singleCls ? ["item"] : data.names
        try buildModel(nc: names.count)
        try buildOptimizer()
        try buildLoaders(data)
        try checkAnchors()
        let nl = model.nl
        let scaled = hyp.scaledForTraining(layers: nl, classes: names.count, imageSize: options.trainImageSize)
        loss = ComputeLoss(nc: names.count, anchors: (0..<nl).map { model.levelAnchors($0).flatMap { $0 } },
                           strides: model.strides.map(Float.init), hyp: scaled)
        tensorBoard = try? TensorBoardWriter(logDirectory: saveDir)
    }

    func dataPath() throws -> String {
        if !options.data.isEmpty {
            // Absolute in opt.yaml and the checkpoint, so --resume works from any folder.
            options.data = URL(fileURLWithPath: options.data).standardizedFileURL.path
            return options.data
        }
        let bundled = "datasets/coco128/coco128.yaml"
        guard FileManager.default.fileExists(atPath: bundled) else { throw TrainError.noDefaultData }
        options.data = bundled
        return bundled
    }

    func loadResumeState() throws {
        guard !options.resume.isEmpty else { return }
        let path: String
        if options.resume == "latest" {
            guard let url = RunDirectory.latestLast() else { throw TrainError.nothingToResume }
            path = url.path
        } else {
            path = options.resume
        }
        guard FileManager.default.fileExists(atPath: path) else { throw TrainError.resumeFileMissing(path) }
        let ckpt = try Checkpoint.read(URL(fileURLWithPath: path))
        if ckpt.metadata.finished { throw TrainError.alreadyFinished(path) }
        var restored = try TrainOptions.fromYAML(ckpt.metadata.optionsYAML)
        restored.resume = path
        options = restored
        saveDir = URL(fileURLWithPath: restored.saveDir)
        resumeCheckpoint = ckpt
        startEpoch = ckpt.metadata.epoch + 1
        bestFitness = ckpt.metadata.bestFitness
        lastOptimizerStep = ckpt.metadata.lastOptimizerStep ?? -1
        if let f = ckpt.metadata.stopperBestFitness, let e = ckpt.metadata.stopperBestEpoch {
            stopper.bestFitness = f
            stopper.bestEpoch = e
        }
        // Rows (and their plots) of epochs that will be trained again: a run killed after
        // writing results.csv but before `last` would otherwise list an epoch twice.
        try? ResultsCSV(url: saveDir.appendingPathComponent("results.csv")).truncate(toEpochsBelow: startEpoch)
        log("Resuming training from \(path) from epoch \(startEpoch) to \(options.epochs) total epochs")
    }

    func buildModel(nc: Int) throws {
        var spec: ModelSpec
        var transferred: [String: Tensor]?
        if let ckpt = resumeCheckpoint {
            spec = try ModelSpec(yaml: ckpt.metadata.modelYAML, name: "model")
            transferred = ckpt.model
        } else if !options.weights.isEmpty {
            let w = try WeightsLoader.load(options.weights, cfg: options.cfg)
            guard let s = w.spec else { throw WeightsError.needsConfig(options.weights) }
            spec = s
            transferred = w.state
        } else {
            spec = try ModelSpec.load(cfg: options.cfg.isEmpty ? "yolov5s.yaml" : options.cfg)
        }
        model = YOLOModel(spec: spec, nc: nc, using: &generator)
        if let state = transferred {
            let exclude = resumeCheckpoint == nil && (!options.cfg.isEmpty || hyp.anchors != nil) ? ["anchor"] : []
            let (n, total) = WeightsLoader.transfer(state, into: model, exclude: exclude)
            log("Transferred \(n)/\(total) items from \(resumeCheckpoint == nil ? options.weights : options.resume)")
        }
        freezeLayers()
        log(model.summary())
        var g = SeededGenerator(seed: 1)
        evalModel = YOLOModel(spec: model.spec, using: &g)
        gridSize = max(model.strides.max() ?? 32, 32)
        for s in options.imgSize where s % gridSize != 0 { throw TrainError.badImageSize(s, gridSize) }
        // train.py's check_img_size(imgsz, gs, floor=gs * 2).
        for s in options.imgSize where s < 2 * gridSize { throw TrainError.imageSizeBelowFloor(s, gridSize) }
    }

    /// --freeze N freezes model.0 … model.{N-1}; several values freeze exactly those layers.
    func freezeLayers() {
        let layers = options.freeze.count == 1 ? Array(0..<options.freeze[0]) : options.freeze
        let prefixes = layers.map { "model.\($0)." }
        for p in model.parameters where prefixes.contains(where: { p.name.hasPrefix($0) }) {
            p.requiresGradient = false
        }
        if !layers.isEmpty { log("freezing \(prefixes.joined(separator: ", "))") }
    }

    func buildOptimizer() throws {
        let nbs = 64
        accumulate = max(Int((Double(nbs) / Double(options.batchSize)).rounded(.toNearestOrEven)), 1)
        let decay = hyp.weightDecay * Double(options.batchSize * accumulate) / Double(nbs)
        let groups = ParameterGroup.yoloGroups(model.parameters.filter(\.requiresGradient), lr: hyp.lr0,
                                               momentum: hyp.momentum, weightDecay: decay)
        let kind = options.optimizer.lowercased()
        switch kind {
        case "adam": optimizer = Adam(groups: groups, betas: (hyp.momentum, 0.999))
        case "adamw": optimizer = AdamW(groups: groups, betas: (hyp.momentum, 0.999))
        default: optimizer = SGD(groups: groups, nesterov: true)
        }
        log("optimizer: \(options.optimizer)(lr=\(hyp.lr0)) with parameter groups \(groups[2].parameters.count) "
            + "weight(decay=0.0), \(groups[1].parameters.count) weight(decay=\(decay)), \(groups[0].parameters.count) bias")
        ema = ModelEMA(model)
        if let ckpt = resumeCheckpoint {
            if let state = ckpt.optimizer { try optimizer.importState(state) }
            if let e = ckpt.ema { ema.load(e) }
            ema.updates = ckpt.metadata.emaUpdates
            if let s = ckpt.metadata.rngState { generator.state = s }
        }
        // The rate the first epoch trains at: lf(0) from scratch; when resuming at epoch e, lf(e − 1),
        // the one train.py's scheduler left after epoch e − 1 (see `run`).
        LRSchedule.applyEpoch(to: optimizer, lrFactor: lrFactor(Double(max(startEpoch - 1, 0))))
    }

    func scan(_ sources: [URL], requireLabels: Bool, prefix: String) throws -> DatasetIndex {
        let index = try DatasetIndex.scan(images: sources, nc: max(names.count, 1), requireLabels: requireLabels)
        for w in index.warnings { log("\(prefix)\(w)") }
        log("\(prefix)Scanning '\(sources.map(\.path).joined(separator: ", "))'... \(index.summary)")
        return index
    }

    func buildLoaders(_ data: DatasetConfig) throws {
        let train = try scan(data.train, requireLabels: true, prefix: "train: ")
        trainLoader = try DataLoader(
            source: DatasetSource(train, singleClass: options.singleCls), imageSize: options.trainImageSize,
            batchSize: options.batchSize, augment: true, hyp: AugmentationHyperparameters(hyp), rect: options.rect, stride: gridSize,
            pad: 0, workers: options.workers, seed: UInt64(options.seed), shuffle: true,
            cacheImages: options.cacheImages, quad: options.quad)
        if options.imageWeights {
            let labels = train.items.map(\.labels)
            trainLoader.imageWeights = imageWeights(labels: labels, classWeights: classWeights(labels: labels, classCount: names.count))
        }
        if !data.val.isEmpty {
            let val = try scan(data.val, requireLabels: false, prefix: "val: ")
            valLoader = try DataLoader(
                source: DatasetSource(val, singleClass: options.singleCls), imageSize: options.valImageSize,
                batchSize: options.batchSize * 2, augment: false, rect: true, stride: gridSize, pad: 0.5,
                workers: options.workers, seed: UInt64(options.seed), shuffle: false)
        }
        if startEpoch == 0 {
            let all = train.items.flatMap { $0.labels.map { options.singleCls ? [0] + $0.dropFirst() : $0 } }
            try? Charts.plotLabels(all, names: names, to: saveDir.appendingPathComponent("labels.jpg"))
        }
    }

    /// AutoAnchor: replaces the anchors only when k-means + evolution fit the labels better.
    func checkAnchors() throws {
        guard !options.noautoanchor, resumeCheckpoint == nil else { return }
        let source = trainLoader.source
        let shapes = try (0..<source.count).map { try source.imageSize($0) }
        let labels = (0..<source.count).map { source.labels($0) }
        let strides = model.strides.map(Float.init)
        let pixels = (0..<model.nl).map { l in model.levelAnchors(l).map { SIMD2<Float>($0[0], $0[1]) * strides[l] } }
        let r = AnchorCheck.checkAnchors(anchors: pixels, strides: strides, shapes: shapes, labels: labels,
                                         imageSize: options.trainImageSize, threshold: hyp.anchorT, using: &generator)
        r.messages.forEach(log)
        guard r.replaced else { return }
        let grid = r.anchors.enumerated().flatMap { l, level in level.flatMap { [$0.x / strides[l], $0.y / strides[l]] } }
        let anchorBuffer = model.buffers.first { $0.name.hasSuffix(".anchors") }!
        anchorBuffer.value = Tensor(shape: anchorBuffer.value.shape, scalars: grid)
    }
}

extension AugmentationHyperparameters {
    /// The augmentation keys of a YOLOv5 hyperparameter set.
    public init(_ hyp: Hyperparameters) {
        self.init()
        hsvH = hyp.hsvH; hsvS = hyp.hsvS; hsvV = hyp.hsvV
        degrees = hyp.degrees; translate = hyp.translate; scale = hyp.scale; shear = hyp.shear
        perspective = hyp.perspective; flipud = hyp.flipud; fliplr = hyp.fliplr
        mosaic = hyp.mosaic; mixup = hyp.mixup
    }
}
