// The protocol every `model.{i}` entry conforms to, and YOLOv5's basic `Conv` block
// (Conv2d without bias + BatchNorm2d + SiLU), which every other block is built from.
// Blocks take NHWC activations; parameters keep PyTorch's names and layouts.
import NN
import TensorCore

/// One entry of YOLOv5's `model` list (`model.{i}`), or a block inside one.
public protocol YOLOBlock: Layer {
    /// YOLOv5's module type as its layer table prints it (`models.common.C3`).
    var typeName: String { get }
    /// The output for the inputs named by the row's `from` (one tensor unless Concat).
    func forward(_ xs: [Tensor], training: Bool) -> Tensor
    /// Output shape for NHWC input shapes, and the operations thop counts for the block
    /// (conv multiply-adds, 4 per BatchNorm input element, 1 per nearest-upsample output).
    func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double)
    /// How many `nn.Module`s torch's `model.modules()` lists for the block (the SiLU instance
    /// that all `Conv`s share is counted once by the model, not here).
    var moduleCount: Int { get }
    /// Parameters and buffers by name in `state_dict()` order.
    var namedState: [(name: String, value: Tensor)] { get }
    /// Folds every Conv's BatchNorm into its convolution (inference only).
    func fuse()
    /// Every BatchNorm2d of the block (none left in fused Convs).
    var batchNorms: [BatchNorm2d] { get }
}

extension YOLOBlock {
    public var buffers: [Buffer] { [] }
    public func fuse() {}
    public var batchNorms: [BatchNorm2d] { [] }
}

/// State-dict entries of a Conv2d (weight, bias) in torch's order.
func namedState(_ c: Conv2d) -> [(name: String, value: Tensor)] {
    c.parameters.map { ($0.name, $0.value) }
}

/// State-dict entries of a BatchNorm2d in torch's order: weight, bias, running_mean,
/// running_var, num_batches_tracked.
func namedState(_ bn: BatchNorm2d) -> [(name: String, value: Tensor)] {
    bn.parameters.map { ($0.name, $0.value) } + bn.buffers.map { ($0.name, $0.value) }
}

/// thop's count for a convolution: output elements × (in/groups) × k × k multiply-adds.
func convOps(_ p: Conv2DParams) -> Double {
    Double(p.outputShape.reduce(1, *)) * Double(p.inChannels / p.groups * p.kernelHeight * p.kernelWidth)
}

/// YOLOv5's BatchNorm2d settings (`initialize_weights`): eps 1e-3, momentum 0.03.
func yoloBatchNorm(_ name: String, channels: Int) -> BatchNorm2d {
    BatchNorm2d(name, channels: channels, eps: 1e-3, momentum: 0.03)
}

/// `Conv(c1, c2, k, s, p)`: Conv2d(bias: false, padding: p ?? k/2) → BatchNorm2d → SiLU.
/// After `fuse()` the BatchNorm is folded into a biased convolution and `bn` is nil.
public final class Conv: YOLOBlock, @unchecked Sendable {
    public let name: String
    public private(set) var conv: Conv2d
    public private(set) var bn: BatchNorm2d?
    /// False for `act=False` (not used by the bundled models).
    public let activated: Bool

    public init(_ name: String, _ c1: Int, _ c2: Int, kernel k: Int = 1, stride s: Int = 1, padding p: Int? = nil,
                activated: Bool = true, using generator: inout some RandomNumberGenerator) {
        self.name = name
        // autopad: 'same' padding k // 2 unless given
        conv = Conv2d(name + ".conv", inChannels: c1, outChannels: c2, kernel: k, stride: s, padding: p ?? k / 2,
                      bias: false, using: &generator)
        bn = yoloBatchNorm(name + ".bn", channels: c2)
        self.activated = activated
    }

    public var typeName: String { "models.common.Conv" }
    public var outChannels: Int { conv.outChannels }
    public var parameters: [Parameter] { conv.parameters + (bn?.parameters ?? []) }
    public var buffers: [Buffer] { bn?.buffers ?? [] }
    public var namedState: [(name: String, value: Tensor)] {
        YOLO.namedState(conv) + (bn.map { YOLO.namedState($0) } ?? [])
    }
    public var batchNorms: [BatchNorm2d] { bn.map { [$0] } ?? [] }
    /// Conv, Conv2d and BatchNorm2d (the shared SiLU is counted by the model).
    public var moduleCount: Int { bn == nil ? 2 : 3 }

    /// NHWC (B, H, W, c1) → (B, H', W', c2).
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        // Fused and not recording (inference): one convolution with bias and SiLU fused in.
        if bn == nil, !training, currentTape == nil {
            return x.conv2dInference(weight: conv.weight.value, bias: conv.bias?.value,
                                     stride: (conv.stride, conv.stride), padding: (conv.padding, conv.padding),
                                     groups: conv.groups, activation: activated ? .silu : nil)
        }
        let y = conv(x)
        guard let bn else { return activated ? y.silu() : y }
        return activated ? bn.silu(y, training: training) : bn(y, training: training)
    }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor { self(xs[0], training: training) }

    func convParams(_ shape: [Int]) -> Conv2DParams {
        Conv2DParams(batch: shape[0], inHeight: shape[1], inWidth: shape[2], inChannels: shape[3],
                     outChannels: conv.outChannels, kernel: (conv.kernel, conv.kernel),
                     stride: (conv.stride, conv.stride), padding: (conv.padding, conv.padding), groups: conv.groups)
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let p = convParams(shapes[0])
        let out = p.outputShape
        return (out, convOps(p) + (bn == nil ? 0 : 4 * Double(out.reduce(1, *))))
    }

    /// YOLOv5's `fuse_conv_and_bn`: with s = γ / √(running_var + eps),
    ///     W' = s · W (per output channel),   b' = β − s · running_mean   (the conv has no bias).
    /// Upstream builds the fused conv with `requires_grad_(False)` but then fills it with an
    /// in-place copy from tensors that require grad, so its summary still counts the fused
    /// parameters as gradients; they stay trainable here too, so the counts agree.
    public func fuse() {
        guard let bn else { return }
        let outC = conv.outChannels
        let gamma = bn.weight.value.scalars, beta = bn.bias.value.scalars
        let mean = bn.runningMean.value.scalars, variance = bn.runningVar.value.scalars
        var scale = [Float](repeating: 0, count: outC), bias = [Float](repeating: 0, count: outC)
        for c in 0..<outC {
            scale[c] = gamma[c] / (bn.eps + variance[c]).squareRoot()
            bias[c] = beta[c] - gamma[c] * mean[c] / (variance[c] + bn.eps).squareRoot()
        }
        var w = conv.weight.value
        let per = w.count / outC
        w.withUnsafeMutableBufferPointer { p in
            for c in 0..<outC { for j in 0..<per { p[c * per + j] *= scale[c] } }
        }
        let fused = Conv2d(conv.name, weight: w, bias: Tensor(shape: [outC], scalars: bias), stride: conv.stride,
                           padding: conv.padding, groups: conv.groups)
        conv = fused
        self.bn = nil
    }
}

/// `nn.Sequential` of one block repeated: a row with n > 1 whose module does not take the
/// repeat count itself (`model.{i}.{k}.…`).
public final class RepeatedBlock: YOLOBlock, @unchecked Sendable {
    public let blocks: [any YOLOBlock]
    init(_ blocks: [any YOLOBlock]) { self.blocks = blocks }

    public var typeName: String { blocks[0].typeName }
    public var parameters: [Parameter] { blocks.flatMap(\.parameters) }
    public var buffers: [Buffer] { blocks.flatMap(\.buffers) }
    public var namedState: [(name: String, value: Tensor)] { blocks.flatMap(\.namedState) }
    public var moduleCount: Int { 1 + blocks.reduce(0) { $0 + $1.moduleCount } }
    public var batchNorms: [BatchNorm2d] { blocks.flatMap(\.batchNorms) }
    public func fuse() { blocks.forEach { $0.fuse() } }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor {
        var y = blocks[0].forward(xs, training: training)
        for b in blocks.dropFirst() { y = b.forward([y], training: training) }
        return y
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        var (shape, ops) = blocks[0].profile(shapes)
        for b in blocks.dropFirst() {
            let r = b.profile([shape])
            shape = r.shape
            ops += r.ops
        }
        return (shape, ops)
    }
}
