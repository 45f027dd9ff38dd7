// One training epoch (warmup, multi-scale, gradient accumulation to the nominal batch of 64,
// clipping, EMA), validation of the EMA weights, logs, checkpoints and the end of training.
import Foundation
import NN
import TensorCore
import YOLO
import YOLOData
import YOLOMetrics

extension Trainer {
    /// Runs one epoch; returns the mean (box, obj, cls) training loss.
    func trainEpoch(_ epoch: Int) throws -> [Float] {
        let nb = trainLoader.batchCount
        let nw = LRSchedule.warmupIterations(warmupEpochs: hyp.warmupEpochs, batchesPerEpoch: nb)
        let schedule = ScheduleHyperparameters(lr0: hyp.lr0, lrf: hyp.lrf, momentum: hyp.momentum,
                                               warmupEpochs: hyp.warmupEpochs, warmupMomentum: hyp.warmupMomentum,
                                               warmupBiasLR: hyp.warmupBiasLR)
        let nominal = max(Int((64.0 / Double(options.batchSize)).rounded(.toNearestOrEven)), 1)
        var mean: [Float] = [0, 0, 0]
        var pending: Gradients?
        let progress = ProgressLine(total: nb)
        log(ProgressLine.header)
        let iterator = trainLoader.epoch(epoch)
        var i = 0
        while let batch = try iterator.nextBatch() {
            let ni = i + nb * epoch
            if ni <= nw {
                accumulate = LRSchedule.warmupAccumulate(iteration: ni, warmupIterations: nw, batchSize: options.batchSize)
                LRSchedule.applyWarmup(to: optimizer, iteration: ni, warmupIterations: nw,
                                       lrFactor: lrFactor(Double(epoch)), hyp: schedule)
            } else {
                accumulate = nominal
            }
            let images = options.multiScale ? multiScale(batch.images) : batch.images
            var items: [Float] = []
            let (_, grads) = valueWithGradients { _ in
                let r = loss(model(images, training: true), targets: batch.targets)
                items = r.items
                return r.loss
            }
            pending = pending.map { accumulateGradients($0, grads) } ?? grads
            if ni - lastOptimizerStep >= accumulate, let g = pending {
                optimizer.step(clipGradients(g, maxNorm: 10))
                _ = ema.update(model)
                pending = nil
                lastOptimizerStep = ni
            }
            for k in 0..<3 { mean[k] = (mean[k] * Float(i) + items[k]) / Float(i + 1) }
            progress.update(done: i + 1, epoch: "\(epoch)/\(options.epochs - 1)", losses: mean,
                            labels: batch.targets.count, imageSize: images.shape[1])
            if ni < 3 { plotBatch(batch, name: "train_batch\(i).jpg") }
            i += 1
        }
        return mean
    }

    /// Sums two gradient stores (PyTorch accumulates `.grad` across backward calls).
    func accumulateGradients(_ a: Gradients, _ b: Gradients) -> Gradients {
        var sum = a
        for id in b.ids { sum[id] = a[id].map { $0 + b[id]! } ?? b[id] }
        return sum
    }

    /// Scales all gradients so their global norm is at most `maxNorm` (clip_grad_norm_, YOLOv5 ≥ 6.2).
    func clipGradients(_ g: Gradients, maxNorm: Float) -> Gradients {
        var total: Double = 0
        for id in g.ids { g[id]!.withUnsafeBufferPointer { for v in $0 { total += Double(v * v) } } }
        let norm = Float(total.squareRoot())
        guard norm > maxNorm else { return g }
        var clipped = g
        for id in g.ids { clipped[id] = g[id]! * (maxNorm / (norm + 1e-6)) }
        return clipped
    }

    /// --multi-scale: a random size in [0.5, 1.5]·imgsz rounded to the grid, images resized bilinearly.
    func multiScale(_ images: Tensor) -> Tensor {
        let size = options.trainImageSize
        let lo = Int(Double(size) * 0.5), hi = Int(Double(size) * 1.5) + gridSize
        let sz = Int.random(in: lo..<hi, using: &generator) / gridSize * gridSize
        let sf = Double(sz) / Double(max(images.shape[1], images.shape[2]))
        guard sf != 1 else { return images }
        let h = Int((Double(images.shape[1]) * sf / Double(gridSize)).rounded(.up)) * gridSize
        let w = Int((Double(images.shape[2]) * sf / Double(gridSize)).rounded(.up)) * gridSize
        return resizeBilinear(images, height: h, width: w)
    }

    func validate(plots: Bool, model chosen: YOLOModel? = nil) throws -> ValidationResult? {
        guard let valLoader else { return nil }
        let m: YOLOModel
        if let chosen { m = chosen } else {
            ema.copy(to: evalModel.parameters, buffers: evalModel.buffers)
            m = evalModel
        }
        let validator = Validator(names: names)
        let result = try validator.run(model: m, loader: valLoader, lossFunction: loss) { index, batch, detections in
            guard plots, index < 3 else { return }
            self.plotBatch(batch, name: "val_batch\(index)_labels.jpg")
            let preds = detections.enumerated().flatMap { i, dets in
                dets.map { d -> [Float] in
                    [Float(i), Float(d.classIndex), (d.x1 + d.x2) / 2, (d.y1 + d.y2) / 2, d.x2 - d.x1, d.y2 - d.y1, d.confidence]
                }
            }
            self.plotBatch(batch, name: "val_batch\(index)_pred.jpg", targets: preds)
        }
        log(validator.table(result, verbose: plots))
        return result
    }

    /// One results.csv row and its TensorBoard scalars; `learningRates` are the groups' rates of the
    /// epoch's last batch (YOLOv5 reads them before `scheduler.step()`).
    func logEpoch(_ epoch: Int, trainLosses: [Float], result: ValidationResult?, learningRates: [Double]) throws {
        let m = result?.metrics ?? .zero
        let vl = result?.losses ?? [0, 0, 0]
        let values: [Double] = trainLosses.map(Double.init) + [m.mp, m.mr, m.map50, m.map] + vl.map(Double.init)
            + learningRates
        try ResultsCSV(url: saveDir.appendingPathComponent("results.csv")).append(epoch: epoch, values: values)
        if let tb = tensorBoard {
            tb.addScalars(zip(ResultsCSV.keys, values).map { ($0, Float($1)) }, step: Int64(epoch))
            try? tb.flush()
        }
    }

    func checkpoint(epoch: Int) throws -> Checkpoint {
        let meta = CheckpointMetadata(epoch: epoch, bestFitness: bestFitness, emaUpdates: ema.updates,
                                      modelYAML: model.spec.yamlText, hypYAML: try hyp.yaml(),
                                      optionsYAML: try options.yaml(), names: names, rngState: generator.state,
                                      finished: false, lastOptimizerStep: lastOptimizerStep,
                                      stopperBestFitness: stopper.bestFitness, stopperBestEpoch: stopper.bestEpoch)
        return Checkpoint(model: model.stateDict, ema: ema.stateDict, optimizer: optimizer.exportState(), metadata: meta)
    }

    func saveCheckpoints(epoch: Int, fitness: Double) throws {
        let weights = saveDir.appendingPathComponent("weights")
        let ckpt = try checkpoint(epoch: epoch)
        try ckpt.write(to: weights.appendingPathComponent("last.safetensors"))
        if fitness == bestFitness { try ckpt.write(to: weights.appendingPathComponent("best.safetensors")) }
        if options.savePeriod > 0 && epoch % options.savePeriod == 0 {
            try ckpt.write(to: weights.appendingPathComponent("epoch\(epoch).safetensors"))
        }
    }

    /// Strips the optimizer from last/best (marking the run finished), validates `best` with plots.
    func finish() throws -> ValidationResult? {
        let weights = saveDir.appendingPathComponent("weights")
        var result: ValidationResult?
        for name in ["last", "best"] {
            let url = weights.appendingPathComponent("\(name).safetensors")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let stripped = try Checkpoint.read(url).stripped()
            try stripped.write(to: url)
            if name == "best", valLoader != nil {
                log("\nValidating \(url.path)...")
                var g = SeededGenerator(seed: 2)
                let best = YOLOModel(spec: model.spec, using: &g)
                _ = try loadStateDict(stripped.model, into: best, strict: false)
                result = try validate(plots: true, model: best)
                if let r = result { try writeValidationPlots(r, to: saveDir) }
            }
        }
        try? Charts.plotResults(csv: saveDir.appendingPathComponent("results.csv"))
        try tensorBoard?.close()
        log("Results saved to \(saveDir.path)")
        return result
    }

    func plotBatch(_ batch: Batch, name: String, targets: [[Float]]? = nil) {
        let images = imagesFromBatch(batch.images)
        try? Charts.plotImages(images, targets: targets ?? batch.targets, paths: batch.paths, names: names,
                               to: saveDir.appendingPathComponent(name))
    }
}

/// The confusion matrix and the PR / F1 / P / R curves of a validation, as YOLOv5 writes them.
public func writeValidationPlots(_ r: ValidationResult, to dir: URL) throws {
    let names = (0..<r.confusion.nc).map { "\($0)" }
    try Charts.plotConfusionMatrix(r.confusion.matrix, names: names, to: dir.appendingPathComponent("confusion_matrix.png"))
    guard let ap = r.ap else { return }
    let classNames = ap.classes.map { "\($0)" }
    let grid = confidenceGrid
    try Charts.plotMetricCurve(confidence: grid, values: ap.f1Curve, names: classNames, yLabel: "F1",
                               to: dir.appendingPathComponent("F1_curve.png"))
    try Charts.plotMetricCurve(confidence: grid, values: ap.precisionCurve, names: classNames, yLabel: "Precision",
                               to: dir.appendingPathComponent("P_curve.png"))
    try Charts.plotMetricCurve(confidence: grid, values: ap.recallCurve, names: classNames, yLabel: "Recall",
                               to: dir.appendingPathComponent("R_curve.png"))
    // Precision at each recall of the grid: the curves are traced over confidence.
    let pr: [[Double]] = ap.classes.indices.map { c in
        grid.map { x in
            var best = 0.0
            for k in grid.indices where ap.recallCurve[c][k] >= x { best = max(best, ap.precisionCurve[c][k]) }
            return best
        }
    }
    try Charts.plotPRCurve(recall: grid, precision: pr, ap50: ap.ap.map { $0[0] }, names: classNames,
                           to: dir.appendingPathComponent("PR_curve.png"))
}

/// (B, H, W, 3) floats in [0, 1] → images.
func imagesFromBatch(_ t: Tensor) -> [Image] {
    let (b, h, w) = (t.shape[0], t.shape[1], t.shape[2])
    return t.withUnsafeBufferPointer { p in
        (0..<b).map { i in
            let base = i * h * w * 3
            return Image(width: w, height: h, pixels: (0..<(h * w * 3)).map { UInt8(max(0, min(255, (p[base + $0] * 255).rounded()))) })
        }
    }
}

/// Bilinear resize of NHWC floats (align_corners false, as F.interpolate).
func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var out = Tensor(uninitializedShape: [b, height, width, c])
    let sy = Float(h) / Float(height), sx = Float(w) / Float(width)
    x.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for n in 0..<b { for i in 0..<height { for j in 0..<width {
                let fy = max(0, (Float(i) + 0.5) * sy - 0.5), fx = max(0, (Float(j) + 0.5) * sx - 0.5)
                let y0 = min(Int(fy), h - 1), x0 = min(Int(fx), w - 1)
                let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
                let ly = fy - Float(y0), lx = fx - Float(x0)
                for k in 0..<c {
                    func at(_ y: Int, _ xx: Int) -> Float { src[((n * h + y) * w + xx) * c + k] }
                    dst[((n * height + i) * width + j) * c + k] = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1))
                        + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
                }
            } } }
        }
    }
    return out
}
