// PyTorch's default parameter initialisation, reproduced in distribution (not bit for bit:
// the generator is our seeded xoshiro256**, not torch's Mersenne Twister).
//
// nn.Conv2d.reset_parameters() (torch/nn/modules/conv.py) does
//     init.kaiming_uniform_(self.weight, a=math.sqrt(5))
//     bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
//     init.uniform_(self.bias, -bound, bound)
// with fan_in = weight.size(1) · kh · kw = (in_channels / groups) · kh · kw.
//
// kaiming_uniform_(w, a) draws U(−b, b) with
//     gain = calculate_gain("leaky_relu", a) = sqrt(2 / (1 + a²))
//     std  = gain / sqrt(fan_in)
//     b    = sqrt(3) · std                      (a U(−b, b) variable has variance b²/3 = std²)
// so b = sqrt(2 / (1 + a²)) · sqrt(3 / fan_in). With a = sqrt(5): gain = sqrt(2/6) = 1/sqrt(3),
// hence b = (1/sqrt(3)) · sqrt(3 / fan_in) = 1 / sqrt(fan_in): the weight and the bias share
// the bound 1/sqrt(fan_in).
//
// nn.BatchNorm2d.reset_parameters(): weight = 1, bias = 0, running_mean = 0, running_var = 1,
// num_batches_tracked = 0.
import TensorCore

/// PyTorch's default initialisers.
public enum Initializers {
    /// fan_in of a conv weight in OIHW layout: I·kh·kw, where I is already in_channels / groups
    /// (torch's `_calculate_fan_in_and_fan_out`: size(1) · receptive field size).
    public static func fanIn(convWeightShape shape: [Int]) -> Int {
        precondition(shape.count >= 2, "fan_in needs a weight of rank ≥ 2, got \(shape)")
        return shape.dropFirst().reduce(1, *)
    }

    /// The bound b of `kaiming_uniform_(a:)`: gain·sqrt(3/fan_in), gain = sqrt(2/(1+a²)).
    public static func kaimingUniformBound(fanIn: Int, a: Double) -> Float {
        precondition(fanIn > 0, "kaiming_uniform_ of a weight with fan_in 0")
        let gain = (2 / (1 + a * a)).squareRoot()
        return Float(gain * (3 / Double(fanIn)).squareRoot())
    }

    /// `init.kaiming_uniform_(w, a)`: U(−b, b) with b = sqrt(2/(1+a²))·sqrt(3/fan_in),
    /// fan_in = shape[1]·shape[2]·… (shape in torch's layout).
    public static func kaimingUniform(_ shape: [Int], a: Double,
                                      using generator: inout some RandomNumberGenerator) -> Tensor {
        let b = kaimingUniformBound(fanIn: fanIn(convWeightShape: shape), a: a)
        return Tensor.uniform(shape, lo: -b, hi: b, using: &generator)
    }

    /// nn.Conv2d's default weight: kaiming_uniform_(a = √5), i.e. U(−1/√fan_in, 1/√fan_in).
    /// `shape` is OIHW with I = in_channels / groups.
    public static func convWeight(_ shape: [Int], using generator: inout some RandomNumberGenerator) -> Tensor {
        kaimingUniform(shape, a: 5.0.squareRoot(), using: &generator)
    }

    /// nn.Conv2d's default bias: U(−1/√fan_in, 1/√fan_in) (all zeros when fan_in is 0, as torch).
    public static func convBias(count: Int, fanIn: Int,
                                using generator: inout some RandomNumberGenerator) -> Tensor {
        guard fanIn > 0 else { return Tensor(zeros: [count]) }
        let b = Float(1 / Double(fanIn).squareRoot())
        return Tensor.uniform([count], lo: -b, hi: b, using: &generator)
    }

    /// nn.BatchNorm2d's default affine weight (γ): ones.
    public static func batchNormWeight(channels: Int) -> Tensor { Tensor(repeating: 1, shape: [channels]) }

    /// nn.BatchNorm2d's default affine bias (β): zeros.
    public static func batchNormBias(channels: Int) -> Tensor { Tensor(zeros: [channels]) }
}
