// nn.Conv2d over NHWC activations with an OIHW weight (PyTorch's layout), named by its
// state-dict prefix: `Conv2d("model.0.conv", …)` owns "model.0.conv.weight" and, with a bias,
// "model.0.conv.bias".
import TensorCore

/// `prefix.leaf`, or `leaf` alone for an empty prefix (a bare module's state dict).
func qualifiedName(_ prefix: String, _ leaf: String) -> String {
    prefix.isEmpty ? leaf : prefix + "." + leaf
}

/// A 2-D convolution layer (`torch.nn.Conv2d`, square kernel, dilation 1, zero padding).
public final class Conv2d: Layer, @unchecked Sendable {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let groups: Int
    /// (outChannels, inChannels / groups, kernel, kernel)
    public let weight: Parameter
    /// (outChannels), when the layer has a bias.
    public let bias: Parameter?

    /// A layer with PyTorch's default initialisation (`Initializers.convWeight` / `convBias`):
    /// the weight is drawn first, then the bias, both from `generator`.
    public init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0, groups: Int = 1, bias: Bool = true,
                using generator: inout some RandomNumberGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0 && groups > 0,
                     "Conv2d \(name): bad configuration")
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d \(name): channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        let shape = [outChannels, inChannels / groups, kernel, kernel]
        let w = Initializers.convWeight(shape, using: &generator)
        let b = bias ? Initializers.convBias(count: outChannels, fanIn: Initializers.fanIn(convWeightShape: shape),
                                             using: &generator) : nil
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.weight = Parameter(qualifiedName(name, "weight"), w)
        self.bias = b.map { Parameter(qualifiedName(name, "bias"), $0) }
    }

    /// A layer with given values: `weight` OIHW (O, I/groups, k, k), `bias` (O) or nil.
    public init(_ name: String, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0,
                groups: Int = 1) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3],
                     "Conv2d \(name): weight \(weight.shape) is not OIHW with a square kernel")
        precondition(weight.shape[0] % groups == 0, "Conv2d \(name): \(weight.shape[0]) outputs, groups \(groups)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Conv2d \(name): bias \(bias.shape)") }
        self.name = name
        self.inChannels = weight.shape[1] * groups
        self.outChannels = weight.shape[0]
        self.kernel = weight.shape[2]
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.weight = Parameter(qualifiedName(name, "weight"), weight)
        self.bias = bias.map { Parameter(qualifiedName(name, "bias"), $0) }
    }

    /// weight, then bias (torch's registration order).
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// NHWC (N, H, W, inChannels) → (N, H', W', outChannels).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[3] == inChannels,
                     "Conv2d \(name): input \(x.shape) is not NHWC with \(inChannels) channels")
        return x.conv2d(weight: weight.tensor, bias: bias?.tensor, stride: (stride, stride),
                        padding: (padding, padding), groups: groups)
    }
}
