// Learning-rate schedules and warmup of YOLOv5 7.0's train.py, as pure functions in Double
// (Python's float), so a trainer can set `ParameterGroup.lr`/`.momentum` from them.
//
// In train.py the epoch schedule is `LambdaLR(optimizer, lf)`: after each epoch every group's
// lr = initial_lr · lf(epoch). During the first nw iterations the warmup overrides lr and
// momentum each iteration (see `LRSchedule.warmup`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The hyperparameters the schedules read (names as in YOLOv5's hyp.*.yaml).
public struct ScheduleHyperparameters: Sendable, Equatable {
    /// Initial learning rate (`lr0`).
    public var lr0: Double
    /// Final lr as a fraction of lr0 (`lrf`).
    public var lrf: Double
    /// SGD momentum / Adam β₁ (`momentum`).
    public var momentum: Double
    /// Warmup length in epochs (`warmup_epochs`, fractional allowed).
    public var warmupEpochs: Double
    /// Momentum at the start of warmup (`warmup_momentum`).
    public var warmupMomentum: Double
    /// The bias group's lr at the start of warmup (`warmup_bias_lr`).
    public var warmupBiasLR: Double

    /// Defaults of YOLOv5's data/hyps/hyp.scratch-low.yaml.
    public init(lr0: Double = 0.01, lrf: Double = 0.01, momentum: Double = 0.937,
                warmupEpochs: Double = 3.0, warmupMomentum: Double = 0.8, warmupBiasLR: Double = 0.1) {
        self.lr0 = lr0
        self.lrf = lrf
        self.momentum = momentum
        self.warmupEpochs = warmupEpochs
        self.warmupMomentum = warmupMomentum
        self.warmupBiasLR = warmupBiasLR
    }
}

public enum LRSchedule {
    /// YOLOv5's `one_cycle(y1, y2, steps)(x)`: a half cosine from y1 (x = 0) to y2 (x = steps):
    /// ((1 − cos(x·π/steps)) / 2)·(y2 − y1) + y1. train.py uses y1 = 1, y2 = lrf, steps = epochs
    /// (`--cos-lr`).
    public static func oneCycle(_ x: Double, y1: Double = 0, y2: Double = 1, steps: Double) -> Double {
        ((1 - cos(x * Double.pi / steps)) / 2) * (y2 - y1) + y1
    }

    /// train.py's cosine lr factor: `one_cycle(1, lrf, epochs)(epoch)`.
    public static func cosineFactor(epoch: Double, epochs: Int, lrf: Double) -> Double {
        oneCycle(epoch, y1: 1, y2: lrf, steps: Double(epochs))
    }

    /// train.py's (default) linear lr factor in YOLOv5 7.0: (1 − x/epochs)·(1 − lrf) + lrf.
    /// (Releases before 6.2 divided by epochs − 1; 7.0 divides by epochs.)
    public static func linearFactor(epoch: Double, epochs: Int, lrf: Double) -> Double {
        (1 - epoch / Double(epochs)) * (1.0 - lrf) + lrf
    }

    /// The lr factor `lf(epoch)` of train.py: cosine when `cosine` (`--cos-lr`), else linear.
    public static func factor(epoch: Double, epochs: Int, lrf: Double, cosine: Bool) -> Double {
        cosine ? cosineFactor(epoch: epoch, epochs: epochs, lrf: lrf)
               : linearFactor(epoch: epoch, epochs: epochs, lrf: lrf)
    }

    /// Number of warmup iterations: max(round(warmup_epochs · nb), 100), with Python's
    /// round-half-to-even. `batchesPerEpoch` is train.py's nb (len(train_loader)).
    public static func warmupIterations(warmupEpochs: Double, batchesPerEpoch nb: Int) -> Int {
        max(Int((warmupEpochs * Double(nb)).rounded(.toNearestOrEven)), 100)
    }

    /// `np.interp(x, [x0, x1], [y0, y1])` for x0 < x1, bit for bit: y0 left of x0, y1 at and
    /// right of x1, else slope·(x − x0) + y0 with slope = (y1 − y0)/(x1 − x0).
    public static func interp(_ x: Double, _ x0: Double, _ x1: Double, _ y0: Double, _ y1: Double) -> Double {
        if x.isNaN { return x }
        if x < x0 { return y0 }
        if x >= x1 { return y1 }
        if x == x0 { return y0 }
        let slope = (y1 - y0) / (x1 - x0)
        var r = slope * (x - x0) + y0
        if r.isNaN {
            r = slope * (x - x1) + y1
            if r.isNaN, y0 == y1 { r = y0 }
        }
        return r
    }

    /// train.py's warmup for param group `groupIndex` at iteration `ni` (valid while ni ≤ nw):
    /// lr = interp(ni, [0, nw], [warmup_bias_lr if bias group else 0, initial_lr · lf(epoch)]),
    /// momentum = interp(ni, [0, nw], [warmup_momentum, momentum]).
    /// `lrFactor` is lf(epoch) for the current epoch. The bias group is index 0
    /// (`ParameterGroup.yoloBiasGroupIndex`), the group YOLOv5 7.0's smart_optimizer builds the
    /// optimizer with. Apply momentum only to optimizers that have it (`Optimizer.hasMomentum`).
    public static func warmup(iteration ni: Int, warmupIterations nw: Int, groupIndex: Int,
                              initialLR: Double, lrFactor: Double,
                              hyp: ScheduleHyperparameters,
                              biasGroupIndex: Int = ParameterGroup.yoloBiasGroupIndex)
        -> (lr: Double, momentum: Double)
    {
        let x = Double(ni), x1 = Double(nw)
        let start = groupIndex == biasGroupIndex ? hyp.warmupBiasLR : 0.0
        let lr = interp(x, 0, x1, start, initialLR * lrFactor)
        let momentum = interp(x, 0, x1, hyp.warmupMomentum, hyp.momentum)
        return (lr, momentum)
    }

    /// train.py's gradient accumulation during warmup:
    /// max(1, round(interp(ni, [0, nw], [1, nbs / batch_size]))), nbs = 64; half-to-even rounding.
    /// After warmup train.py keeps the last value (max(round(nbs / batch_size), 1) before it).
    public static func warmupAccumulate(iteration ni: Int, warmupIterations nw: Int,
                                        batchSize: Int, nominalBatchSize nbs: Int = 64) -> Int {
        let a = interp(Double(ni), 0, Double(nw), 1, Double(nbs) / Double(batchSize))
        return max(1, Int(a.rounded(.toNearestOrEven)))
    }

    /// Sets every group's lr (and momentum, when the optimizer has it) for warmup iteration `ni`,
    /// as train.py's warmup loop does. Call only while ni ≤ nw.
    public static func applyWarmup(to optimizer: any Optimizer, iteration ni: Int, warmupIterations nw: Int,
                                   lrFactor: Double, hyp: ScheduleHyperparameters) {
        let hasMomentum = optimizer.hasMomentum
        for j in optimizer.groups.indices {
            let (lr, momentum) = warmup(iteration: ni, warmupIterations: nw, groupIndex: j,
                                        initialLR: optimizer.groups[j].initialLR, lrFactor: lrFactor, hyp: hyp)
            optimizer.groups[j].lr = lr
            if hasMomentum { optimizer.groups[j].momentum = momentum }
        }
    }

    /// The epoch-end scheduler step (LambdaLR): every group's lr = initial_lr · lf(epoch).
    public static func applyEpoch(to optimizer: any Optimizer, lrFactor: Double) {
        for j in optimizer.groups.indices {
            optimizer.groups[j].lr = optimizer.groups[j].initialLR * lrFactor
        }
    }
}
