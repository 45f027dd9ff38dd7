// nn.BatchNorm2d over NHWC activations (statistics per channel = last axis), with PyTorch's
// state: parameters weight (γ) and bias (β); buffers running_mean, running_var and
// num_batches_tracked (an integer in torch, a Float scalar here).
import TensorCore

/// Batch normalisation (`torch.nn.BatchNorm2d`, affine, tracking running statistics).
///
/// Training (`training: true`): the output uses the batch mean and biased variance over N·H·W;
/// then, outside the tape, with m = N·H·W,
///     running_mean ← (1 − momentum)·running_mean + momentum·mean
///     running_var  ← (1 − momentum)·running_var  + momentum·var·m/(m − 1)   (unbiased)
///     num_batches_tracked ← num_batches_tracked + 1
/// computed in Double and stored as Float, as torch's CPU kernel does.
/// Eval (`training: false`): the output uses the running statistics, which are not changed.
public final class BatchNorm2d: Layer, @unchecked Sendable {
    public let name: String
    public let channels: Int
    /// Added to the variance before the square root (torch default 1e-5; YOLOv5 sets 1e-3).
    public var eps: Float
    /// Weight of the new batch statistic in the running averages (torch default 0.1;
    /// YOLOv5 sets 0.03). Not torch's `None` (cumulative average): that mode is not provided.
    public var momentum: Double
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVar: Buffer
    public let numBatchesTracked: Buffer

    /// PyTorch's initial state: weight 1, bias 0, running_mean 0, running_var 1, count 0.
    public init(_ name: String, channels: Int, eps: Float = 1e-5, momentum: Double = 0.1) {
        precondition(channels > 0, "BatchNorm2d \(name): no channels")
        self.name = name
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(qualifiedName(name, "weight"), Initializers.batchNormWeight(channels: channels))
        bias = Parameter(qualifiedName(name, "bias"), Initializers.batchNormBias(channels: channels))
        runningMean = Buffer(qualifiedName(name, "running_mean"), Tensor(zeros: [channels]))
        runningVar = Buffer(qualifiedName(name, "running_var"), Tensor(repeating: 1, shape: [channels]))
        numBatchesTracked = Buffer(qualifiedName(name, "num_batches_tracked"), Tensor(0))
    }

    /// weight, bias (torch's registration order).
    public var parameters: [Parameter] { [weight, bias] }
    /// running_mean, running_var, num_batches_tracked (torch's registration order).
    public var buffers: [Buffer] { [runningMean, runningVar, numBatchesTracked] }

    /// NHWC in, same shape out. `training` chooses batch statistics (and updates the running
    /// ones) or the running statistics.
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank >= 2 && x.shape.last == channels,
                     "BatchNorm2d \(name): input \(x.shape) does not end in \(channels) channels")
        guard training else {
            return x.batchNormInference(scale: weight.tensor, shift: bias.tensor, mean: runningMean.value,
                                        variance: runningVar.value, epsilon: eps)
        }
        let m = valuesPerChannel(training: x)
        let r = x.batchNormTraining(scale: weight.tensor, shift: bias.tensor, epsilon: eps)
        updateRunningStatistics(mean: r.mean, biasedVariance: r.variance, count: m)
        return r.output
    }

    /// `silu(self(x, training:))`, YOLOv5's Conv block after its convolution. In training the
    /// normalisation and the activation are one op (one kernel each way on the fast backend).
    public func silu(_ x: Tensor, training: Bool) -> Tensor {
        guard training else { return self(x, training: false).silu() }
        let m = valuesPerChannel(training: x)
        let r = x.batchNormSiLUTraining(scale: weight.tensor, shift: bias.tensor, epsilon: eps)
        updateRunningStatistics(mean: r.mean, biasedVariance: r.variance, count: m)
        return r.output
    }

    /// Values per channel of a training input, checked: `x` ends in `channels`, and there is more
    /// than one value per channel (torch: "Expected more than 1 value per channel when training").
    private func valuesPerChannel(training x: Tensor) -> Int {
        precondition(x.rank >= 2 && x.shape.last == channels,
                     "BatchNorm2d \(name): input \(x.shape) does not end in \(channels) channels")
        let m = x.count / channels
        precondition(m > 1, "BatchNorm2d \(name): expected more than 1 value per channel when training, got \(x.shape)")
        return m
    }

    /// The running-statistics update of one training step. Plain arithmetic on the buffers'
    /// storage: nothing is recorded on the tape. `mean` and `biasedVariance` come from the
    /// kernel as values that are never on the tape.
    private func updateRunningStatistics(mean: Tensor, biasedVariance: Tensor, count m: Int) {
        let mom = momentum, keep = 1 - momentum
        let unbias = Double(m) / Double(m - 1)
        let mu = mean.scalars, v = biasedVariance.scalars
        runningMean.value.withUnsafeMutableBufferPointer { rm in
            for c in 0..<channels { rm[c] = Float(mom * Double(mu[c]) + keep * Double(rm[c])) }
        }
        runningVar.value.withUnsafeMutableBufferPointer { rv in
            for c in 0..<channels { rv[c] = Float(mom * Double(v[c]) * unbias + keep * Double(rv[c])) }
        }
        numBatchesTracked.value = Tensor(numBatchesTracked.value.scalar + 1)
    }
}
