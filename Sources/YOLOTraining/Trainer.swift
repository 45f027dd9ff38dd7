// `yolo train`: YOLOv5's train.py (seed v5.0, with the later fixes listed in the README) as a
// loop that fits on a screen; set-up, the epoch, validation, checkpoints and logs are named calls
// in Trainer+Setup.swift and Trainer+Epoch.swift.
import Foundation
import NN
import TensorCore
import YOLO
import YOLOData
import YOLOMetrics

public final class Trainer {
    public internal(set) var options: TrainOptions
    let log: (String) -> Void
    // Set up by Trainer+Setup.swift.
    var saveDir: URL!
    var hyp: Hyperparameters!
    var names: [String] = []
    var model: YOLOModel!
    var evalModel: YOLOModel!
    var optimizer: (any Optimizer)!
    var ema: ModelEMA!
    var trainLoader: DataLoader!
    var valLoader: DataLoader?
    var loss: ComputeLoss!
    var generator = SeededGenerator(seed: 0)
    var startEpoch = 0
    var bestFitness = 0.0
    var accumulate = 1
    var lastOptimizerStep = -1
    var gridSize = 32
    var tensorBoard: TensorBoardWriter?
    var resumeCheckpoint: Checkpoint?
    var stopper = EarlyStopping(patience: 0)

    public init(options: TrainOptions, log: @escaping (String) -> Void = { print($0); fflush(nil) }) {
        self.options = options
        self.log = log
    }

    /// Trains, validates each epoch, writes the run folder; returns the final validation of `best`.
    @discardableResult
    public func run() throws -> ValidationResult? {
        try setUp()
        let epochs = options.epochs
        stopper.patience = options.patience
        log("Image sizes \(options.trainImageSize) train, \(options.valImageSize) val\nLogging results to \(saveDir.path)\n"
            + "Starting training for \(epochs) epochs...")
        for epoch in startEpoch..<epochs {
            let trainLosses = try trainEpoch(epoch)
            let lrs = optimizer.groups.map(\.lr)  // logged as YOLOv5 does: before the scheduler steps
            // train.py's LambdaLR: its constructor already stepped once, then train.py sets
            // `scheduler.last_epoch = start_epoch - 1`, so the step after epoch e sets lf(e), not
            // lf(e + 1): every epoch after warmup trains one schedule step behind (e at lf(e − 1)).
            LRSchedule.applyEpoch(to: optimizer, lrFactor: lrFactor(Double(epoch)))
            let final = epoch + 1 == epochs
            let result = (!options.noval || final) ? try validate(plots: false) : nil
            let fitness = result?.metrics.fitness ?? 0
            if fitness > bestFitness { bestFitness = fitness }
            try logEpoch(epoch, trainLosses: trainLosses, result: result, learningRates: lrs)
            // The stopper is updated before saving so `last` carries its state for a resume.
            let stop = stopper.shouldStop(epoch: epoch, fitness: fitness)
            if !options.nosave || final { try saveCheckpoints(epoch: epoch, fitness: fitness) }
            if stop {
                log("Stopping training early as no improvement observed in last \(options.patience) epochs.")
                break
            }
        }
        return try finish()
    }

    func lrFactor(_ epoch: Double) -> Double {
        LRSchedule.factor(epoch: epoch, epochs: options.epochs, lrf: hyp.lrf, cosine: !options.linearLr)
    }
}

/// YOLOv5's EarlyStopping: stop when fitness has not improved for `patience` epochs.
struct EarlyStopping {
    var patience: Int
    var bestFitness = 0.0
    var bestEpoch = 0

    mutating func shouldStop(epoch: Int, fitness: Double) -> Bool {
        if fitness >= bestFitness {
            bestEpoch = epoch
            bestFitness = fitness
        }
        return patience > 0 && epoch - bestEpoch >= patience
    }
}
