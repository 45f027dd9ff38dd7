// Stateless layers: point-wise activations, max-pooling, nearest upsampling and channel
// concatenation, each a Sendable value with `callAsFunction`. They own no parameters or
// buffers, so they are not `Layer`s (which are reference types with state).
// Activations are NHWC throughout; see Conv2d.swift and BatchNorm2d.swift for the stateful layers.
import TensorCore

/// A stateless tensor → tensor layer (activations, pooling, upsampling, identity).
public protocol StatelessLayer: Sendable {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// `nn.Identity`.
public struct Identity: StatelessLayer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x }
}

/// `nn.SiLU`: x·σ(x) (YOLOv5's default activation).
public struct SiLU: StatelessLayer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.activation(.silu) }
}

/// `nn.Sigmoid`: 1 / (1 + e^−x).
public struct Sigmoid: StatelessLayer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.activation(.sigmoid) }
}

/// `nn.ReLU`: max(x, 0).
public struct ReLU: StatelessLayer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.activation(.relu) }
}

/// `nn.LeakyReLU(negative_slope)`: x for x > 0, slope·x otherwise (torch default 0.01;
/// YOLOv5's older configs use 0.1).
public struct LeakyReLU: StatelessLayer {
    public var slope: Float
    public init(_ slope: Float = 0.01) { self.slope = slope }
    public init(slope: Float) { self.slope = slope }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.activation(.leakyRelu(slope: slope)) }
}

/// `nn.Hardswish`: x·relu6(x + 3)/6.
public struct Hardswish: StatelessLayer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.activation(.hardswish) }
}

/// `nn.MaxPool2d(kernel_size, stride, padding)` over NHWC: floor mode, padding filled with −∞,
/// dilation 1. The stride defaults to the kernel size, as in torch.
public struct MaxPool2d: StatelessLayer {
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernel > 0 && (stride ?? kernel) > 0 && padding >= 0 && 2 * padding <= kernel,
                     "MaxPool2d: bad kernel \(kernel), stride \(String(describing: stride)), padding \(padding)")
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
    }
}

/// `nn.Upsample(scale_factor: scale, mode: "nearest")` over NHWC: each pixel repeated
/// scale × scale times.
public struct Upsample: StatelessLayer {
    public var scale: Int
    public init(scale: Int) {
        precondition(scale >= 1, "Upsample: scale \(scale)")
        self.scale = scale
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "Upsample wants NHWC input, got \(x.shape)")
        return scale == 1 ? x : x.upsampledNearest(scale: scale)
    }
}

/// YOLOv5's `Concat(dimension=1)`: concatenation along the channel axis. In NCHW that is
/// dimension 1; in our NHWC layout it is the last axis, the default here.
public struct Concat: Sendable {
    /// The axis in NHWC (negative counts from the end). −1 = channels.
    public var axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func callAsFunction(_ xs: [Tensor]) -> Tensor { Tensor.concat(xs, axis: axis) }
}
