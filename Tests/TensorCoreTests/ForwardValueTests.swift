// Forward values worked out by hand (the arithmetic is in the comments), plus the gradient
// conventions at kinks and ties that finite differences cannot check.
import TensorCore
import TestSupport
import XCTest

final class ForwardValueTests: XCTestCase {
    func testConv2dValid2x2() {
        // x (1,3,3,1) = 1…9 row-major; w (1,1,2,2) = [1 2; 3 4]; bias 0.5.
        // y00 = 1·1 + 2·2 + 3·4 + 4·5 = 37, y01 = 1·2 + 2·3 + 3·5 + 4·6 = 47,
        // y10 = 1·4 + 2·5 + 3·7 + 4·8 = 67, y11 = 1·5 + 2·6 + 3·8 + 4·9 = 77; plus 0.5 each.
        let x = T([1, 3, 3, 1], (1...9).map(Float.init))
        let w = T([1, 1, 2, 2], [1, 2, 3, 4])
        assertClose(x.conv2d(weight: w, bias: T([1], [0.5])), T([1, 2, 2, 1], [37.5, 47.5, 67.5, 77.5]))
    }

    func testConv2dStride2Pad1() {
        // x (1,3,3,1) = 1…9, 3×3 ones kernel, stride 2, padding 1 → 2×2 windows over the
        // padded 5×5: y00 = 1+2+4+5 = 12, y01 = 2+3+5+6 = 16, y10 = 4+5+7+8 = 24, y11 = 5+6+8+9 = 28.
        let x = T([1, 3, 3, 1], (1...9).map(Float.init))
        let w = Tensor(repeating: 1, shape: [1, 1, 3, 3])
        assertClose(x.conv2d(weight: w, stride: (2, 2), padding: (1, 1)), T([1, 2, 2, 1], [12, 16, 24, 28]))
    }

    func testConv2dChannelsLast() {
        // x (1,1,2,2): pixel 0 has channels (1, 2), pixel 1 has (3, 4).
        // w (2,2,1,1) = [[1, 1], [1, −1]]: out0 = c0 + c1, out1 = c0 − c1.
        // pixel 0 → (3, −1); pixel 1 → (7, −1).
        let x = T([1, 1, 2, 2], [1, 2, 3, 4])
        let w = T([2, 2, 1, 1], [1, 1, 1, -1])
        assertClose(x.conv2d(weight: w), T([1, 1, 2, 2], [3, -1, 7, -1]))
    }

    func testConv2dGroups() {
        // groups 2, x (1,1,1,4) = (1, 2, 3, 4), w (2,2,1,1) = [[1, 10], [100, 1000]]:
        // out0 sees channels 0,1: 1·1 + 2·10 = 21; out1 sees channels 2,3: 3·100 + 4·1000 = 4300.
        let x = T([1, 1, 1, 4], [1, 2, 3, 4])
        let w = T([2, 2, 1, 1], [1, 10, 100, 1000])
        assertClose(x.conv2d(weight: w, groups: 2), T([1, 1, 1, 2], [21, 4300]))
    }

    func testBatchNormTraining() {
        // One channel, x = 1, 2, 3, 4: mean 2.5, biased variance (2.25+0.25+0.25+2.25)/4 = 1.25.
        // eps 0.75 → √(1.25 + 0.75) = √2; scale 2, shift 1: y = 1 + 2(x − 2.5)/√2 = 1 + √2(x − 2.5).
        let x = T([4, 1], [1, 2, 3, 4])
        let r = x.batchNormTraining(scale: T([1], [2]), shift: T([1], [1]), epsilon: 0.75)
        let s2 = Float(2).squareRoot()
        assertClose(r.output, T([4, 1], [1 - 1.5 * s2, 1 - 0.5 * s2, 1 + 0.5 * s2, 1 + 1.5 * s2]))
        assertClose(r.mean, T([1], [2.5]))
        assertClose(r.variance, T([1], [1.25]))
    }

    func testBatchNormTrainingPerChannel() {
        // Two channels over (N=2, H=1, W=1): channel 0 = (0, 2) mean 1 var 1; channel 1 = (5, 5)
        // mean 5 var 0. eps 0 for channel 0 gives ±1; channel 1 is 0/√eps·γ + β = β.
        let x = T([2, 1, 1, 2], [0, 5, 2, 5])
        let r = x.batchNormTraining(scale: T([2], [1, 1]), shift: T([2], [0, 3]), epsilon: 1e-5)
        assertClose(r.mean, T([2], [1, 5]))
        assertClose(r.variance, T([2], [1, 0]))
        assertClose(r.output, T([2, 1, 1, 2], [-1, 3, 1, 3]), rtol: 1e-4, atol: 1e-4)
    }

    func testBatchNormInference() {
        // (3 − 1)/√(3 + 1)·3 + 0.5 = 2/2·3 + 0.5 = 3.5
        let y = T([1, 1], [3]).batchNormInference(scale: T([1], [3]), shift: T([1], [0.5]),
                                                  mean: T([1], [1]), variance: T([1], [3]), epsilon: 1)
        assertClose(y, T([1, 1], [3.5]))
    }

    func testMaxPool() {
        // 4×4 = 1…16, 2×2 stride 2: the bottom-right of each block: 6, 8, 14, 16.
        let x = T([1, 4, 4, 1], (1...16).map(Float.init))
        assertClose(x.maxPool2d(kernel: 2, stride: 2), T([1, 2, 2, 1], [6, 8, 14, 16]))
        // 3×3 = 1…9, kernel 3 stride 1 padding 1 (−inf padding): each output is the max of its
        // neighbourhood: [5 6 6; 8 9 9; 8 9 9].
        let y = T([1, 3, 3, 1], (1...9).map(Float.init))
        assertClose(y.maxPool2d(kernel: 3, stride: 1, padding: 1), T([1, 3, 3, 1], [5, 6, 6, 8, 9, 9, 8, 9, 9]))
        // All-negative input: padding must not win (−inf, not 0). Max of −1…−9 windows.
        let neg = T([1, 3, 3, 1], (1...9).map { -Float($0) })
        assertClose(neg.maxPool2d(kernel: 3, stride: 1, padding: 1),
                    T([1, 3, 3, 1], [-1, -1, -2, -1, -1, -2, -4, -4, -5]))
    }

    func testUpsampleNearest() {
        // [1 2; 3 4] ×2 → rows [1 1 2 2], [1 1 2 2], [3 3 4 4], [3 3 4 4].
        let x = T([1, 2, 2, 1], [1, 2, 3, 4])
        assertClose(x.upsampledNearest(scale: 2),
                    T([1, 4, 4, 1], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]))
    }

    func testActivations() {
        // silu(0) = 0, silu(2) = 2/(1+e^−2) = 1.7615942; sigmoid(0) = 0.5;
        // hardswish(1) = 1·4/6, hardswish(−4) = 0, hardswish(4) = 4; leaky(−2, 0.1) = −0.2.
        assertClose(T([2], [0, 2]).silu(), T([2], [0, 1.7615942]))
        assertClose(T([1], [0]).sigmoid(), T([1], [0.5]))
        assertClose(T([3], [1, -4, 4]).activation(.hardswish), T([3], [4.0 / 6, 0, 4]))
        assertClose(T([2], [-2, 3]).activation(.leakyRelu(slope: 0.1)), T([2], [-0.2, 3]))
        assertClose(T([2], [-1, 1.5]).relu(), T([2], [0, 1.5]))
    }

    func testPowValues() {
        // (−2)² = 4, (−2)³ = −8, 4^0.5 = 2, 0^0 = 1 (torch and C powf), 3^−1 = 1/3.
        assertClose(T([1], [-2]).pow(2), T([1], [4]))
        assertClose(T([1], [-2]).pow(3), T([1], [-8]))
        assertClose(T([1], [4]).pow(0.5), T([1], [2]))
        assertClose(T([2], [0, -5]).pow(0), T([2], [1, 1]))
        assertClose(T([1], [3]).pow(-1), T([1], [1.0 / 3]))
        // Tensor exponent: 2³ = 8, (−3)² = 9.
        assertClose(T([2], [2, -3]).pow(T([2], [3, 2])), T([2], [8, 9]))
    }

    func testPowGradientAtZeroBase() {
        // d/dx x¹ = 1 everywhere, including x = 0 (x⁰ = 1, not NaN).
        let x = T([2], [0, 2])
        let id = TensorID()
        let g = valueWithGradients { tape in tape.watch(x, as: id).pow(1).sum() }.gradients[id]!
        assertClose(g, T([2], [1, 1]))
    }

    func testElementwiseAndBroadcast() {
        // [2,1] + [3]: [[1+10, 1+20, 1+30], [2+10, 2+20, 2+30]]
        assertClose(T([2, 1], [1, 2]) + T([3], [10, 20, 30]), T([2, 3], [11, 21, 31, 12, 22, 32]))
        // 1.5 − x, 2 / x, x / 4
        assertClose(1.5 - T([2], [1, 2]), T([2], [0.5, -0.5]))
        assertClose(2 / T([2], [4, -1]), T([2], [0.5, -2]))
        assertClose(T([2], [4, -1]) / 4, T([2], [1, -0.25]))
        assertClose(T([3], [-2, 0.5, 3]).clamped(min: -1, max: 1), T([3], [-1, 0.5, 1]))
        assertClose(T([2], [1, 5]).minimum(T([2], [3, 2])), T([2], [1, 2]))
        assertClose(T([2], [1, 5]).maximum(T([2], [3, 2])), T([2], [3, 5]))
        assertClose(Tensor.select(T([2], [1, 0]), T([2], [7, 8]), T([1], [9])), T([2], [7, 9]))
    }

    func testReductionsAndLayout() {
        let m = T([2, 3], [1, 2, 3, 4, 5, 6])
        assertClose(m.sum(axes: [0]), T([3], [5, 7, 9]))
        assertClose(m.sum(axes: [1], keepDims: true), T([2, 1], [6, 15]))
        assertClose(m.mean(), T([], [3.5]))
        assertClose(m.max(axes: [1]), T([2], [3, 6]))
        assertClose(m.permuted([1, 0]), T([3, 2], [1, 4, 2, 5, 3, 6]))
        assertClose(m.sliced(axis: 1, 1..<3), T([2, 2], [2, 3, 5, 6]))
        assertClose(Tensor.concat([m, T([2, 1], [7, 8])]), T([2, 4], [1, 2, 3, 7, 4, 5, 6, 8]))
        assertClose(Tensor.concat([m, T([1, 3], [7, 8, 9])], axis: 0), T([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]))
        // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]; AᵀB = [[1,3],[2,4]]·B = [[26,30],[38,44]].
        let a = T([2, 2], [1, 2, 3, 4]), b = T([2, 2], [5, 6, 7, 8])
        assertClose(a.matmul(b), T([2, 2], [19, 22, 43, 50]))
        assertClose(a.matmul(b, transposeA: true), T([2, 2], [26, 30, 38, 44]))
        // ABᵀ = [[1·5+2·6, 1·7+2·8], [3·5+4·6, 3·7+4·8]] = [[17,23],[39,53]]
        assertClose(a.matmul(b, transposeB: true), T([2, 2], [17, 23, 39, 53]))
        // Rows 2, 0, 2 of [[1,2],[3,4],[5,6]]; scattered back: row 0 = [1,2], row 2 = 2·[5,6].
        let r = T([3, 2], [1, 2, 3, 4, 5, 6])
        let gathered = r.gatherRows([2, 0, 2])
        assertClose(gathered, T([3, 2], [5, 6, 1, 2, 5, 6]))
        assertClose(gathered.scatterAddRows([2, 0, 2], rows: 3), T([3, 2], [1, 2, 0, 0, 10, 12]))
    }

    // MARK: gradient conventions where finite differences cannot decide

    private func grad(_ x: Tensor, _ f: (Tensor) -> Tensor) -> Tensor {
        let id = TensorID()
        return valueWithGradients { tape in f(tape.watch(x, as: id)) }.gradients[id]!
    }

    func testGradientConventionsAtKinksAndTies() {
        // max ties share evenly: max(1, 3, 3) → [0, ½, ½].
        assertClose(grad(T([3], [1, 3, 3])) { $0.max() }, T([3], [0, 0.5, 0.5]))
        // maximum/minimum ties split ½/½.
        let b = T([2], [2, 0])
        assertClose(grad(T([2], [2, 1])) { $0.maximum(b).sum() }, T([2], [0.5, 1]))
        assertClose(grad(T([2], [2, 1])) { $0.minimum(b).sum() }, T([2], [0.5, 0]))
        // clamp: gradient 1 on the bounds (torch), 0 outside.
        assertClose(grad(T([4], [0, 1, 1.5, -0.1])) { $0.clamped(min: 0, max: 1).sum() }, T([4], [1, 1, 0, 0]))
        // abs'(0) = 0, relu'(0) = 0 (torch).
        assertClose(grad(T([3], [-2, 0, 2])) { $0.abs().sum() }, T([3], [-1, 0, 1]))
        assertClose(grad(T([3], [-2, 0, 2])) { $0.relu().sum() }, T([3], [0, 0, 1]))
        // hardswish' = x/3 + ½ on [−3, 3] (torch), 0 below, 1 above: at −3: −½, at 3: 1.5.
        assertClose(grad(T([4], [-4, -3, 3, 4])) { $0.activation(.hardswish).sum() }, T([4], [0, -0.5, 1.5, 1]))
        // Max-pool ties go to the first maximum in the window (torch), not shared.
        assertClose(grad(T([1, 2, 2, 1], [1, 1, 1, 1])) { $0.maxPool2d(kernel: 2, stride: 2).sum() },
                    T([1, 2, 2, 1], [1, 0, 0, 0]))
    }
}
