// The closed kernel list every device must provide (DESIGN.md "The tensor engine").
// A new kernel here is a design change. Kernels take and return dense row-major tensors,
// ignore the tape, and never see `Tensor.node`. Activations are NHWC; conv weights OIHW.

/// Parameters of a 2-D convolution over NHWC input with OIHW weights.
public struct Conv2DParams: Hashable, Sendable {
    public var batch: Int, inHeight: Int, inWidth: Int, inChannels: Int
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var groups: Int

    public init(batch: Int, inHeight: Int, inWidth: Int, inChannels: Int, outChannels: Int,
                kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                groups: Int = 1) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        self.batch = batch; self.inHeight = inHeight; self.inWidth = inWidth
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelHeight = kernel.0; self.kernelWidth = kernel.1
        self.strideH = stride.0; self.strideW = stride.1
        self.padH = padding.0; self.padW = padding.1
        self.groups = groups
    }

    public var outHeight: Int { (inHeight + 2 * padH - kernelHeight) / strideH + 1 }
    public var outWidth: Int { (inWidth + 2 * padW - kernelWidth) / strideW + 1 }
    public var inputShape: [Int] { [batch, inHeight, inWidth, inChannels] }
    public var outputShape: [Int] { [batch, outHeight, outWidth, outChannels] }
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernelHeight, kernelWidth] }
    /// Multiply-adds ×2 of one forward pass (backward-data and backward-weights cost the same).
    public var flops: Double {
        2.0 * Double(batch * outHeight * outWidth * outChannels)
            * Double(inChannels / groups * kernelHeight * kernelWidth)
    }
}

/// Parameters of a 2-D max pool over NHWC input (PyTorch's `MaxPool2d`, floor mode,
/// padding filled with -inf).
public struct Pool2DParams: Hashable, Sendable {
    public var batch: Int, inHeight: Int, inWidth: Int, channels: Int
    public var kernel: Int, stride: Int, padding: Int

    public init(batch: Int, inHeight: Int, inWidth: Int, channels: Int, kernel: Int, stride: Int,
                padding: Int) {
        self.batch = batch; self.inHeight = inHeight; self.inWidth = inWidth; self.channels = channels
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (inHeight + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (inWidth + 2 * padding - kernel) / stride + 1 }
    public var outputShape: [Int] { [batch, outHeight, outWidth, channels] }
}

/// Point-wise activations with their PyTorch definitions.
public enum Activation: Hashable, Sendable {
    /// x·σ(x) (`nn.SiLU`)
    case silu
    /// σ(x) = 1 / (1 + e^-x)
    case sigmoid
    case relu
    /// x if x > 0 else slope·x (`nn.LeakyReLU`, default slope 0.01; YOLOv5 uses 0.1)
    case leakyRelu(slope: Float)
    /// x·relu6(x + 3)/6 (`nn.Hardswish`)
    case hardswish
}

/// Element-wise binary ops with NumPy broadcasting. Comparisons return 1 or 0.
public enum BinaryOp: Hashable, Sendable {
    case add, sub, mul, div, pow, minimum, maximum
    case equal, less, lessEqual, greater, greaterEqual
}

/// Element-wise unary ops.
public enum UnaryOp: Hashable, Sendable {
    case neg, exp, log, sqrt, atan, abs
    case clamp(min: Float, max: Float)
    /// 1 where `min <= x <= max`, else 0 (the derivative mask of `clamp`).
    case insideMask(min: Float, max: Float)
    /// x * s + b
    case affine(scale: Float, bias: Float)
    case powScalar(Float)
}

public enum ReduceOp: Hashable, Sendable { case sum, max }

/// The kernels a device provides. See the file comment for conventions.
public protocol Backend: AnyObject {
    var name: String { get }

    func conv2d(input: Tensor, weight: Tensor, bias: Tensor?, params: Conv2DParams) -> Tensor
    /// Inference-only convolution with an activation applied in the same pass (Conv+BN fused
    /// into `weight`/`bias`, then SiLU), as DESIGN.md's inference path wants.
    func conv2dInference(input: Tensor, weight: Tensor, bias: Tensor?, params: Conv2DParams,
                         activation: Activation?) -> Tensor
    func conv2dBackwardData(gradOutput: Tensor, weight: Tensor, params: Conv2DParams) -> Tensor
    /// Gradients of the weight (OIHW) and, when `withBias`, of the bias.
    func conv2dBackwardWeights(input: Tensor, gradOutput: Tensor, params: Conv2DParams,
                               withBias: Bool) -> (weight: Tensor, bias: Tensor?)

    /// Normalises over all but the last axis with batch statistics. Returns the output, the
    /// per-channel mean and the biased variance.
    func batchNormTraining(input: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor)
    func batchNormInference(input: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                            variance: Tensor, epsilon: Float) -> Tensor
    /// Backward of `batchNormTraining` (batch statistics; `variance` is the biased one).
    func batchNormBackward(input: Tensor, gradOutput: Tensor, scale: Tensor, mean: Tensor,
                           variance: Tensor, epsilon: Float)
        -> (input: Tensor, scale: Tensor, shift: Tensor)

    /// `batchNormTraining` followed by SiLU in one kernel (YOLOv5's Conv block in training).
    /// Returns the activated output and the batch mean and biased variance.
    func batchNormSiLUTraining(input: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor)
    /// Backward of `batchNormSiLUTraining`: the normalised pre-activation is recomputed from
    /// `input` and the batch statistics, so only the convolution's output is kept for it.
    func batchNormSiLUBackward(input: Tensor, gradOutput: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                               variance: Tensor, epsilon: Float)
        -> (input: Tensor, scale: Tensor, shift: Tensor)

    func activation(_ kind: Activation, _ x: Tensor) -> Tensor
    func activationBackward(_ kind: Activation, input: Tensor, gradOutput: Tensor) -> Tensor

    func maxPool2d(input: Tensor, params: Pool2DParams) -> Tensor
    func maxPool2dBackward(input: Tensor, gradOutput: Tensor, params: Pool2DParams) -> Tensor
    /// NHWC nearest-neighbour upsampling by an integer factor.
    func upsampleNearest(input: Tensor, scale: Int) -> Tensor
    func upsampleNearestBackward(gradOutput: Tensor, scale: Int) -> Tensor

    func concat(_ xs: [Tensor], axis: Int) -> Tensor
    func slice(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor
    func permute(_ x: Tensor, dims: [Int]) -> Tensor

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor
    func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor
    /// `cond != 0 ? a : b`, all three broadcast to one shape.
    func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor
    /// Reduces over `axes`, keeping them as size-1 dimensions.
    func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) -> Tensor

    /// 2-D matrix product with optional transposes.
    func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor
    /// Rows of `x` viewed as (R, C): result (indices.count, C).
    func gatherRows(_ x: Tensor, indices: [Int]) -> Tensor
    /// Adds row i of `source` (K, C) into row `indices[i]` of a zero (rows, C) tensor.
    func scatterAddRows(_ source: Tensor, indices: [Int], rows: Int) -> Tensor
}

extension Backend {
    /// Unfused default: batch norm, then SiLU.
    public func batchNormSiLUTraining(input: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let r = batchNormTraining(input: input, scale: scale, shift: shift, epsilon: epsilon)
        return (activation(.silu, r.output), r.mean, r.variance)
    }

    /// Unfused default: the pre-activation again (batch norm with the batch's statistics is the
    /// affine map `batchNormInference` applies), SiLU's backward, then batch norm's.
    public func batchNormSiLUBackward(input: Tensor, gradOutput: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                      variance: Tensor, epsilon: Float)
        -> (input: Tensor, scale: Tensor, shift: Tensor) {
        let z = batchNormInference(input: input, scale: scale, shift: shift, mean: mean, variance: variance,
                                   epsilon: epsilon)
        let gz = activationBackward(.silu, input: z, gradOutput: gradOutput)
        return batchNormBackward(input: input, gradOutput: gz, scale: scale, mean: mean, variance: variance,
                                 epsilon: epsilon)
    }

    /// Unfused default: the convolution, then the activation.
    public func conv2dInference(input: Tensor, weight: Tensor, bias: Tensor?, params: Conv2DParams,
                                activation: Activation?) -> Tensor {
        let y = conv2d(input: input, weight: weight, bias: bias, params: params)
        return activation.map { self.activation($0, y) } ?? y
    }
}

/// The backend every op runs on. Chosen once at start-up by the executable (or a test).
public enum Engine {
    nonisolated(unsafe) public static var backend: any Backend = ReferenceBackend()
}

/// Broadcast shape of two shapes (NumPy rules), or nil when incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}
