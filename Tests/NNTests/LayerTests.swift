// Conv2d, BatchNorm2d and the stateless layers: agreement with the functional ops, PyTorch
// state-dict names and shapes, PyTorch's default initialisation in distribution, and torch
// reference values from Fixtures/layers.json (Tools/fixtures/make_layer_fixtures.py; its
// activations are NHWC, permuted from torch's NCHW; parameters are in torch's layout).
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

struct LayerFixture: Decodable {
    struct T: Decodable {
        let shape: [Int]
        let data: [Float]
        var tensor: Tensor { Tensor(shape: shape, scalars: data) }
    }
    struct BNStep: Decodable {
        let training: Bool
        let input, output, grad_output, grad_input, grad_weight, grad_bias: T
        let running_mean, running_var: T
        let num_batches_tracked: Int
    }
    struct BNCase: Decodable {
        let channels: Int
        let eps: Double
        let momentum: Double
        let weight, bias: T
        let steps: [BNStep]
    }
    struct ConvCase: Decodable {
        let in_channels, out_channels, kernel, stride, padding, groups: Int
        let weight: T
        let bias: T?
        let input, output: T
    }
    let torch: String
    let batchnorm: BNCase
    let conv: [ConvCase]

    static func load() throws -> LayerFixture {
        guard let url = Bundle.module.url(forResource: "layers", withExtension: "json", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/layers.json (missing from the test bundle)"])
        }
        return try JSONDecoder().decode(LayerFixture.self, from: Data(contentsOf: url))
    }
}

final class LayerTests: ReferenceBackendTestCase {

    // MARK: Conv2d

    func testConvEqualsFunctionalConv() {
        var g = SeededGenerator(seed: 1)
        let configs: [(cin: Int, cout: Int, k: Int, s: Int, p: Int, groups: Int, bias: Bool)] = [
            (3, 8, 3, 1, 1, 1, true), (4, 6, 3, 2, 1, 2, false), (8, 4, 1, 1, 0, 1, false), (4, 4, 5, 2, 2, 4, true),
        ]
        for (i, c) in configs.enumerated() {
            let conv = Conv2d("m.\(i)", inChannels: c.cin, outChannels: c.cout, kernel: c.k, stride: c.s,
                              padding: c.p, groups: c.groups, bias: c.bias, using: &g)
            let x = Tensor.random([2, 9, 7, c.cin], seed: UInt64(10 + i))
            let expected = x.conv2d(weight: conv.weight.value, bias: conv.bias?.value, stride: (c.s, c.s),
                                    padding: (c.p, c.p), groups: c.groups)
            let y = conv(x)
            XCTAssertEqual(y.shape, expected.shape, "config \(i)")
            XCTAssertEqual(y.scalars, expected.scalars, "config \(i)")
            XCTAssertEqual(conv.weight.value.shape, [c.cout, c.cin / c.groups, c.k, c.k])
        }
    }

    func testConvMatchesTorch() throws {
        let fixture = try LayerFixture.load()
        XCTAssertEqual(fixture.conv.count, 3)
        for (i, c) in fixture.conv.enumerated() {
            let conv = Conv2d("conv", weight: c.weight.tensor, bias: c.bias?.tensor, stride: c.stride,
                              padding: c.padding, groups: c.groups)
            XCTAssertEqual(conv.inChannels, c.in_channels)
            XCTAssertEqual(conv.outChannels, c.out_channels)
            XCTAssertEqual(conv.kernel, c.kernel)
            assertClose(conv(c.input.tensor), c.output.tensor, rtol: 1e-5, atol: 1e-5, "conv case \(i)")
        }
    }

    func testConvStateDictNamesAndShapes() {
        var g = SeededGenerator(seed: 2)
        let plain = Conv2d("model.0.conv", inChannels: 3, outChannels: 16, kernel: 6, stride: 2, padding: 2,
                           bias: false, using: &g)
        XCTAssertEqual(plain.parameters.map(\.name), ["model.0.conv.weight"])
        XCTAssertEqual(plain.buffers.count, 0)
        XCTAssertEqual(plain.stateDict.mapValues(\.shape), ["model.0.conv.weight": [16, 3, 6, 6]])

        let withBias = Conv2d("model.24.m.0", inChannels: 128, outChannels: 255, kernel: 1, using: &g)
        XCTAssertEqual(withBias.parameters.map(\.name), ["model.24.m.0.weight", "model.24.m.0.bias"])
        XCTAssertEqual(withBias.parameters.map(\.value.shape), [[255, 128, 1, 1], [255]])

        let grouped = Conv2d("dw", inChannels: 8, outChannels: 16, kernel: 3, groups: 4, bias: false, using: &g)
        XCTAssertEqual(grouped.weight.value.shape, [16, 2, 3, 3])

        let bare = Conv2d("", inChannels: 1, outChannels: 1, kernel: 1, using: &g)
        XCTAssertEqual(bare.parameters.map(\.name), ["weight", "bias"])
    }

    // MARK: Initialisation

    /// Weight (256, 128, 3, 3): fan_in = 128·9 = 1152, b = 1/√1152 ≈ 0.02946, n = 294 912 draws
    /// of U(−b, b), which has mean 0, variance b²/3, E[w⁴] = b⁴/5.
    ///  * mean: standard error √(b²/3 / n) = b/√(3n) ≈ 0.00106·b; allowed 5 SE.
    ///  * variance: the sample mean of w² has standard error √(Var(w²)/n), Var(w²) = b⁴/5 − b⁴/9
    ///    = 4b⁴/45, i.e. ≈ 0.298·b²/√n ≈ 0.00055·b² (0.16 % of b²/3); allowed 5 SE.
    /// Bias (256) from U(−b, b) with the same b: mean SE b/√768 ≈ 0.036·b, variance SE
    /// 0.298·b²/16 ≈ 0.0186·b² (5.6 % of b²/3); allowed 5 SE each.
    /// The generator is seeded, so the test is deterministic; 5 SE would be exceeded by chance
    /// with probability ≈ 6e-7 per statistic under the normal approximation.
    func testConvInitStatistics() {
        var g = SeededGenerator(seed: 20240611)
        let conv = Conv2d("big", inChannels: 128, outChannels: 256, kernel: 3, using: &g)
        let fanIn = 128 * 9
        XCTAssertEqual(Initializers.fanIn(convWeightShape: conv.weight.value.shape), fanIn)
        let b = 1 / Double(fanIn).squareRoot()
        // kaiming_uniform_(a = √5): gain·√(3/fan_in) with gain = √(2/(1+5)) is exactly 1/√fan_in.
        XCTAssertEqual(Double(Initializers.kaimingUniformBound(fanIn: fanIn, a: 5.0.squareRoot())), b, accuracy: 1e-9)

        func check(_ values: [Float], _ what: String) {
            let n = Double(values.count)
            XCTAssertTrue(values.allSatisfy { abs(Double($0)) <= b }, "\(what) outside ±1/√fan_in")
            let mean = values.reduce(0.0) { $0 + Double($1) } / n
            let meanSquare = values.reduce(0.0) { $0 + Double($1) * Double($1) } / n
            let variance = meanSquare - mean * mean
            let meanSE = b / (3 * n).squareRoot()
            let varSE = (4.0 / 45).squareRoot() * b * b / n.squareRoot()
            XCTAssertLessThan(abs(mean), 5 * meanSE, "\(what) mean \(mean)")
            XCTAssertLessThan(abs(variance - b * b / 3), 5 * varSE, "\(what) variance \(variance) vs \(b * b / 3)")
            // The draws should also reach close to the bound (max |w| of n uniforms ≈ b·(1 − 1/n)).
            let peak = values.map { abs(Double($0)) }.max()!
            XCTAssertGreaterThan(peak, b * (1 - 20 / n), "\(what) max |w| \(peak) vs bound \(b)")
        }
        check(conv.weight.value.scalars, "weight")
        check(conv.bias!.value.scalars, "bias")

        // Grouped: fan_in uses in_channels / groups.
        let grouped = Conv2d("g", inChannels: 64, outChannels: 64, kernel: 3, groups: 32, using: &g)
        let gb = Float(1 / (2.0 * 9).squareRoot())
        XCTAssertTrue(grouped.weight.value.scalars.allSatisfy { abs($0) <= gb })
        XCTAssertGreaterThan(grouped.weight.value.scalars.map(abs).max()!, 0.95 * gb)
        XCTAssertTrue(grouped.bias!.value.scalars.allSatisfy { abs($0) <= gb })
    }

    func testSeededInitIsReproducible() {
        func make(_ seed: UInt64) -> Conv2d {
            var g = SeededGenerator(seed: seed)
            return Conv2d("c", inChannels: 8, outChannels: 16, kernel: 3, using: &g)
        }
        let a = make(7), b = make(7), c = make(8)
        XCTAssertEqual(a.weight.value.scalars, b.weight.value.scalars)
        XCTAssertEqual(a.bias!.value.scalars, b.bias!.value.scalars)
        XCTAssertNotEqual(a.weight.value.scalars, c.weight.value.scalars)
        XCTAssertNotEqual(a.bias!.value.scalars, c.bias!.value.scalars)
        // Successive layers from one generator differ.
        var g = SeededGenerator(seed: 7)
        let first = Conv2d("c", inChannels: 8, outChannels: 16, kernel: 3, using: &g)
        let second = Conv2d("c", inChannels: 8, outChannels: 16, kernel: 3, using: &g)
        XCTAssertEqual(first.weight.value.scalars, a.weight.value.scalars)
        XCTAssertNotEqual(first.weight.value.scalars, second.weight.value.scalars)
    }

    // MARK: BatchNorm2d

    func testBatchNormStateDictNamesAndInitialValues() {
        let bn = BatchNorm2d("model.0.bn", channels: 16, eps: 1e-3, momentum: 0.03)
        XCTAssertEqual(bn.parameters.map(\.name), ["model.0.bn.weight", "model.0.bn.bias"])
        XCTAssertEqual(bn.buffers.map(\.name),
                       ["model.0.bn.running_mean", "model.0.bn.running_var", "model.0.bn.num_batches_tracked"])
        let shapes = bn.stateDict.mapValues(\.shape)
        XCTAssertEqual(shapes, ["model.0.bn.weight": [16], "model.0.bn.bias": [16], "model.0.bn.running_mean": [16],
                                "model.0.bn.running_var": [16], "model.0.bn.num_batches_tracked": []])
        XCTAssertEqual(bn.weight.value.scalars, [Float](repeating: 1, count: 16))
        XCTAssertEqual(bn.bias.value.scalars, [Float](repeating: 0, count: 16))
        XCTAssertEqual(bn.runningMean.value.scalars, [Float](repeating: 0, count: 16))
        XCTAssertEqual(bn.runningVar.value.scalars, [Float](repeating: 1, count: 16))
        XCTAssertEqual(bn.numBatchesTracked.value.scalar, 0)
        let defaults = BatchNorm2d("bn", channels: 2)
        XCTAssertEqual(defaults.eps, 1e-5)
        XCTAssertEqual(defaults.momentum, 0.1)
    }

    /// Two training steps, then eval, against torch: outputs, gradients of input, weight and
    /// bias for a given upstream gradient, running statistics and the batch count.
    func testBatchNormMatchesTorch() throws {
        let c = try LayerFixture.load().batchnorm
        XCTAssertEqual(c.steps.map(\.training), [true, true, false])
        let bn = BatchNorm2d("bn", channels: c.channels, eps: Float(c.eps), momentum: c.momentum)
        XCTAssertEqual(bn.eps, 1e-3)
        XCTAssertEqual(bn.momentum, 0.03)
        bn.weight.value = c.weight.tensor
        bn.bias.value = c.bias.tensor
        for (s, step) in c.steps.enumerated() {
            let xid = TensorID()
            let (y, grads) = pullback(seed: step.grad_output.tensor) { tape in
                let out = bn(tape.watch(step.input.tensor, as: xid), training: step.training)
                // The running statistics are updated off the tape.
                XCTAssertFalse(bn.runningMean.value.requiresGradient)
                XCTAssertFalse(bn.runningVar.value.requiresGradient)
                XCTAssertFalse(bn.numBatchesTracked.value.requiresGradient)
                return out
            }
            let at = "step \(s) (\(step.training ? "train" : "eval"))"
            assertClose(y, step.output.tensor, rtol: 1e-5, atol: 1e-5, "\(at) output")
            assertClose(grads[xid]!, step.grad_input.tensor, rtol: 1e-4, atol: 1e-5, "\(at) grad input")
            assertClose(grads[bn.weight]!, step.grad_weight.tensor, rtol: 1e-4, atol: 1e-5, "\(at) grad weight")
            assertClose(grads[bn.bias]!, step.grad_bias.tensor, rtol: 1e-4, atol: 1e-5, "\(at) grad bias")
            assertClose(bn.runningMean.value, step.running_mean.tensor, rtol: 1e-6, atol: 1e-7, "\(at) running_mean")
            assertClose(bn.runningVar.value, step.running_var.tensor, rtol: 1e-6, atol: 1e-7, "\(at) running_var")
            XCTAssertEqual(bn.numBatchesTracked.value.scalar, Float(step.num_batches_tracked), at)
        }
    }

    /// The update rule itself, independent of torch: one step from the initial state.
    func testBatchNormRunningStatisticsFormula() {
        let bn = BatchNorm2d("bn", channels: 2, eps: 1e-3, momentum: 0.03)
        // N·H·W = 4 values per channel: channel 0 = 1, 2, 3, 4; channel 1 = 0, 0, 2, 2.
        let x = Tensor(shape: [1, 2, 2, 2], scalars: [1, 0, 2, 0, 3, 2, 4, 2])
        let y = bn(x, training: true)
        // mean (2.5, 1); biased var (1.25, 1); unbiased ×4/3 → (5/3, 4/3).
        assertClose(bn.runningMean.value.scalars, [0.03 * 2.5, 0.03 * 1], rtol: 1e-6)
        assertClose(bn.runningVar.value.scalars, [0.97 + 0.03 * 5 / 3, 0.97 + 0.03 * 4 / 3], rtol: 1e-6)
        XCTAssertEqual(bn.numBatchesTracked.value.scalar, 1)
        // Output uses the batch statistics (biased variance).
        let expected0 = [1, 2, 3, 4].map { (Float($0) - 2.5) / (1.25 + 1e-3 as Float).squareRoot() }
        assertClose(stride(from: 0, to: 8, by: 2).map { y.scalars[$0] }, expected0, rtol: 1e-5)
        // Eval uses the running statistics and changes nothing.
        let before = bn.stateDict
        let z = bn(x, training: false)
        XCTAssertEqual(bn.stateDict.mapValues(\.scalars), before.mapValues(\.scalars))
        let rm = bn.runningMean.value.scalars[0], rv = bn.runningVar.value.scalars[0]
        assertClose([z.scalars[0]], [(1 - rm) / (rv + 1e-3).squareRoot()], rtol: 1e-5)
    }

    // MARK: Gradients through the layers

    /// conv → BN (training) → SiLU → weighted sum: the tape's gradients for the parameters
    /// (as `Parameter`s, through `valueWithGradients`) equal those for the same values watched
    /// as plain inputs, and those agree with central finite differences (TestSupport's checker).
    func testGradientsFlowToConvAndBatchNormParameters() {
        var g = SeededGenerator(seed: 3)
        let conv = Conv2d("m.0.conv", inChannels: 2, outChannels: 3, kernel: 3, padding: 1, bias: true, using: &g)
        let bn = BatchNorm2d("m.0.bn", channels: 3, eps: 1e-3, momentum: 0.03)
        bn.weight.value = Tensor(shape: [3], scalars: [0.8, 1.2, 1.0])
        bn.bias.value = Tensor(shape: [3], scalars: [0.1, -0.2, 0.3])
        let act = SiLU()
        let x = Tensor.random([2, 4, 4, 2], seed: 4)
        let mix = Tensor.random([2, 4, 4, 3], seed: 5)
        let parameters = [conv.weight, conv.bias!, bn.weight, bn.bias]
        func loss(_ input: Tensor) -> Tensor { (act(bn(conv(input), training: true)) * mix).sum() }

        // 1. Through the parameters.
        let xid = TensorID()
        let (value, grads) = valueWithGradients { tape in loss(tape.watch(x, as: xid)) }
        for p in parameters {
            XCTAssertNotNil(grads[p], "no gradient for \(p.name)")
            XCTAssertEqual(grads[p]?.shape, p.value.shape, p.name)
        }

        // 2. The same values watched as inputs: parameters frozen, so `Parameter.tensor`
        //    returns the value as given (carrying the checker's tape link).
        let initial = parameters.map(\.value)
        for p in parameters { p.requiresGradient = false }
        defer { for (p, v) in zip(parameters, initial) { p.requiresGradient = true; p.value = v } }
        func lossOf(_ inputs: [Tensor]) -> Tensor {
            for (p, v) in zip(parameters, inputs.dropFirst()) { p.value = v }
            return loss(inputs[0])
        }
        let ids = (0...parameters.count).map { _ in TensorID() }
        let (value2, grads2) = valueWithGradients { tape in
            lossOf(zip([x] + initial, ids).map { tape.watch($0, as: $1) })
        }
        XCTAssertEqual(value.scalar, value2.scalar)
        assertClose(grads[xid]!, grads2[ids[0]]!, rtol: 1e-6, atol: 1e-7, "input")
        for (k, p) in parameters.enumerated() {
            assertClose(grads[p]!, grads2[ids[k + 1]]!, rtol: 1e-6, atol: 1e-7, p.name)
        }

        // 3. Finite differences.
        assertGradientsMatchFiniteDifferences([x] + initial, step: 1e-2, rtol: 2e-2, atol: 2e-3) { lossOf($0) }
        XCTAssertGreaterThan(bn.numBatchesTracked.value.scalar, 2)
    }

    /// Frozen parameters get no gradient; eval-mode BN still passes gradients to the input.
    func testFrozenParametersAndEvalGradients() {
        var g = SeededGenerator(seed: 6)
        let conv = Conv2d("c", inChannels: 2, outChannels: 2, kernel: 1, bias: false, using: &g)
        let bn = BatchNorm2d("bn", channels: 2)
        conv.weight.requiresGradient = false
        let x = Tensor.random([1, 3, 3, 2], seed: 7)
        let xid = TensorID()
        let (_, grads) = valueWithGradients { tape in bn(conv(tape.watch(x, as: xid)), training: false).sum() }
        XCTAssertNil(grads[conv.weight])
        XCTAssertNotNil(grads[xid])
        XCTAssertEqual(grads[bn.bias]?.scalars, [9, 9])
        XCTAssertEqual(bn.numBatchesTracked.value.scalar, 0)
    }

    // MARK: Stateless layers

    func testActivationLayers() {
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [-4, -2.5, -0.5, 0.25, 1, 2.5, 3.5, -1])
        let v = x.scalars
        func sig(_ t: Float) -> Float { 1 / (1 + Foundation.exp(-t)) }
        assertClose(SiLU()(x).scalars, v.map { $0 * sig($0) })
        assertClose(Sigmoid()(x).scalars, v.map(sig))
        assertClose(ReLU()(x).scalars, v.map { max($0, 0) })
        assertClose(LeakyReLU(0.1)(x).scalars, v.map { $0 > 0 ? $0 : 0.1 * $0 })
        assertClose(LeakyReLU()(x).scalars, v.map { $0 > 0 ? $0 : 0.01 * $0 })
        assertClose(Hardswish()(x).scalars, v.map { $0 * min(max($0 + 3, 0), 6) / 6 })
        XCTAssertEqual(Identity()(x).scalars, v)
        let layers: [any StatelessLayer] = [SiLU(), Sigmoid(), ReLU(), LeakyReLU(slope: 0.2), Hardswish(), Identity()]
        for l in layers { XCTAssertEqual(l(x).shape, x.shape) }
    }

    func testPoolUpsampleConcat() {
        let x = Tensor.random([2, 6, 5, 3], seed: 8)
        // SPPF's pool: kernel 5, stride 1, padding 2 keeps the size.
        let sppf = MaxPool2d(kernel: 5, stride: 1, padding: 2)
        XCTAssertEqual(sppf(x).shape, [2, 6, 5, 3])
        XCTAssertEqual(sppf(x).scalars, x.maxPool2d(kernel: 5, stride: 1, padding: 2).scalars)
        // Default stride = kernel (torch).
        let pool = MaxPool2d(kernel: 2)
        XCTAssertEqual(pool.stride, 2)
        XCTAssertEqual(pool(x).shape, [2, 3, 2, 3])

        let up = Upsample(scale: 2)(x)
        XCTAssertEqual(up.shape, [2, 12, 10, 3])
        // Nearest: output (h, w) takes input (h/2, w/2).
        for (h, w, c) in [(0, 0, 0), (3, 7, 1), (11, 9, 2)] {
            XCTAssertEqual(up.scalars[((1 * 12 + h) * 10 + w) * 3 + c], x.scalars[((1 * 6 + h / 2) * 5 + w / 2) * 3 + c])
        }

        let a = Tensor.random([2, 6, 5, 4], seed: 9)
        let cat = Concat()([x, a])
        XCTAssertEqual(cat.shape, [2, 6, 5, 7])
        XCTAssertEqual(cat.scalars[0..<3].map { $0 }, x.scalars[0..<3].map { $0 })
        XCTAssertEqual(cat.scalars[3..<7].map { $0 }, a.scalars[0..<4].map { $0 })
        XCTAssertEqual(Concat(axis: 3)([x, a]).scalars, cat.scalars)
    }
}
