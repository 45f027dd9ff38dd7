// DNNLBackend's non-convolution kernels against ReferenceBackend.
import TensorCore
import TensorDNNL
import TestSupport
import XCTest

final class KernelParityTests: XCTestCase {
    let fast = DNNLBackend()
    let oracle = ReferenceBackend()

    func testBatchNormTrainingInferenceBackward() {
        for shape in [[3, 5, 7, 6], [2, 4, 4, 16], [10, 3], [1, 1, 1, 4]] {
            let c = shape.last!
            let x = Tensor.random(shape, seed: 1, lo: -2, hi: 3)
            let g = Tensor.random([c], seed: 2, lo: 0.5, hi: 1.5), b = Tensor.random([c], seed: 3)
            let gy = Tensor.random(shape, seed: 4)
            let f = fast.batchNormTraining(input: x, scale: g, shift: b, epsilon: 1e-3)
            let r = oracle.batchNormTraining(input: x, scale: g, shift: b, epsilon: 1e-3)
            assertClose(f.output, r.output, rtol: 1e-4, atol: 1e-4, "\(shape)")
            assertClose(f.mean, r.mean, rtol: 1e-5, atol: 1e-5, "\(shape)")
            assertClose(f.variance, r.variance, rtol: 1e-4, atol: 1e-5, "\(shape)")
            let fb = fast.batchNormBackward(input: x, gradOutput: gy, scale: g, mean: r.mean, variance: r.variance,
                                            epsilon: 1e-3)
            let rb = oracle.batchNormBackward(input: x, gradOutput: gy, scale: g, mean: r.mean, variance: r.variance,
                                              epsilon: 1e-3)
            assertClose(fb.input, rb.input, rtol: 1e-3, atol: 1e-4, "\(shape)")
            assertClose(fb.scale, rb.scale, rtol: 1e-4, atol: 1e-4, "\(shape)")
            assertClose(fb.shift, rb.shift, rtol: 1e-4, atol: 1e-4, "\(shape)")
            let mean = Tensor.random([c], seed: 5), variance = Tensor.random([c], seed: 6, lo: 0.1, hi: 2)
            assertClose(fast.batchNormInference(input: x, scale: g, shift: b, mean: mean, variance: variance, epsilon: 1e-3),
                        oracle.batchNormInference(input: x, scale: g, shift: b, mean: mean, variance: variance, epsilon: 1e-3),
                        rtol: 1e-4, atol: 1e-5, "\(shape)")
        }
    }

    func testBatchNormSiLUFusedMatchesUnfused() {
        // Channel counts below, at and past the 16-lane blocks (scalar tails); rows past one
        // statistics block and one core's share; large offsets test the variance's cancellation.
        for (shape, offset) in [([3, 5, 7, 6], Float(0)), ([2, 4, 4, 16], 0), ([4, 20, 20, 40], 0),
                                ([16, 40, 40, 32], 0), ([10, 3], 0), ([2, 30, 30, 16], 100)] {
            let c = shape.last!
            let x = Tensor.random(shape, seed: 21, lo: -4 + offset, hi: 3 + offset)
            let g = Tensor.random([c], seed: 22, lo: 0.5, hi: 1.5), b = Tensor.random([c], seed: 23)
            let gy = Tensor.random(shape, seed: 24)
            let f = fast.batchNormSiLUTraining(input: x, scale: g, shift: b, epsilon: 1e-3)
            let r = oracle.batchNormSiLUTraining(input: x, scale: g, shift: b, epsilon: 1e-3)
            assertClose(f.output, r.output, rtol: 1e-4, atol: 1e-5, "\(shape)")
            assertClose(f.mean, r.mean, rtol: 1e-6, atol: 1e-6, "\(shape)")
            assertClose(f.variance, r.variance, rtol: 1e-5, atol: 1e-6, "\(shape)")
            let fb = fast.batchNormSiLUBackward(input: x, gradOutput: gy, scale: g, shift: b, mean: r.mean,
                                                variance: r.variance, epsilon: 1e-3)
            let rb = oracle.batchNormSiLUBackward(input: x, gradOutput: gy, scale: g, shift: b, mean: r.mean,
                                                  variance: r.variance, epsilon: 1e-3)
            assertClose(fb.input, rb.input, rtol: 1e-3, atol: 1e-4, "\(shape)")
            assertClose(fb.scale, rb.scale, rtol: 1e-4, atol: 1e-3, "\(shape)")
            assertClose(fb.shift, rb.shift, rtol: 1e-4, atol: 1e-3, "\(shape)")
        }
    }

    func testBatchNormSiLUFusedOverTheExponentialsRange() {
        // γ = 60 spreads the normalised values over about ±100: past both clamps of the SIMD
        // exponential (−87.3, 88.3), where SiLU is the identity or zero.
        let c = 16, m = 512
        let x = Tensor(shape: [m, c], scalars: (0..<(m * c)).map { Float($0 / c) / Float(m) - 0.5 })
        let g = Tensor(repeating: 60, shape: [c]), b = Tensor.random([c], seed: 25)
        let gy = Tensor.random([m, c], seed: 26)
        let f = fast.batchNormSiLUTraining(input: x, scale: g, shift: b, epsilon: 1e-3)
        let r = oracle.batchNormSiLUTraining(input: x, scale: g, shift: b, epsilon: 1e-3)
        XCTAssertGreaterThan(r.output.scalars.max()!, 90)
        assertClose(f.output, r.output, rtol: 1e-5, atol: 1e-5)
        let fb = fast.batchNormSiLUBackward(input: x, gradOutput: gy, scale: g, shift: b, mean: r.mean,
                                            variance: r.variance, epsilon: 1e-3)
        let rb = oracle.batchNormSiLUBackward(input: x, gradOutput: gy, scale: g, shift: b, mean: r.mean,
                                              variance: r.variance, epsilon: 1e-3)
        assertClose(fb.input, rb.input, rtol: 1e-3, atol: 1e-3)
    }

    func testActivations() {
        let x = Tensor.random([2, 5, 3, 7], seed: 7, lo: -5, hi: 5)
        let gy = Tensor.random(x.shape, seed: 8)
        for kind in [Activation.silu, .sigmoid, .relu, .leakyRelu(slope: 0.1), .hardswish] {
            assertClose(fast.activation(kind, x), oracle.activation(kind, x), rtol: 1e-5, atol: 1e-6, "\(kind)")
            assertClose(fast.activationBackward(kind, input: x, gradOutput: gy),
                        oracle.activationBackward(kind, input: x, gradOutput: gy), rtol: 1e-4, atol: 1e-5, "\(kind)")
        }
    }

    func testMaxPoolAndUpsample() {
        for (k, s, pad) in [(5, 1, 2), (9, 1, 4), (13, 1, 6), (2, 2, 0), (3, 2, 1)] {
            for (h, w) in [(8, 8), (7, 9)] {
                let p = Pool2DParams(batch: 2, inHeight: h, inWidth: w, channels: 3, kernel: k, stride: s, padding: pad)
                let x = Tensor.random([2, h, w, 3], seed: UInt64(k * 10 + h))
                let gy = Tensor.random(p.outputShape, seed: 9)
                assertClose(fast.maxPool2d(input: x, params: p), oracle.maxPool2d(input: x, params: p), "\(k) \(s) \(h)")
                assertClose(fast.maxPool2dBackward(input: x, gradOutput: gy, params: p),
                            oracle.maxPool2dBackward(input: x, gradOutput: gy, params: p), rtol: 1e-5, atol: 1e-6,
                            "\(k) \(s) \(h)")
            }
        }
        let x = Tensor.random([2, 3, 5, 4], seed: 10)
        assertClose(fast.upsampleNearest(input: x, scale: 2), oracle.upsampleNearest(input: x, scale: 2))
        let gy = Tensor.random([2, 6, 10, 4], seed: 11)
        assertClose(fast.upsampleNearestBackward(gradOutput: gy, scale: 2),
                    oracle.upsampleNearestBackward(gradOutput: gy, scale: 2), rtol: 1e-5, atol: 1e-6)
    }

    func testElementwiseBroadcasting() {
        let big = Tensor.random([2, 3, 4, 37], seed: 12, lo: 0.5, hi: 2)
        let pairs: [(Tensor, Tensor)] = [
            (big, Tensor.random(big.shape, seed: 13, lo: 0.5, hi: 2)),
            (big, Tensor.random([37], seed: 14, lo: 0.5, hi: 2)),
            (Tensor.random([37], seed: 15, lo: 0.5, hi: 2), big),
            (big, Tensor(1.5)), (Tensor(0.75), big),
            (big, Tensor.random([2, 1, 4, 1], seed: 16, lo: 0.5, hi: 2)),
            (Tensor.random([3, 1], seed: 17), Tensor.random([1, 5], seed: 18)),
        ]
        let ops: [BinaryOp] = [.add, .sub, .mul, .div, .pow, .minimum, .maximum, .equal, .less, .lessEqual, .greater,
                               .greaterEqual]
        for (i, (a, b)) in pairs.enumerated() {
            for op in ops {
                assertClose(fast.binary(op, a, b), oracle.binary(op, a, b), rtol: 1e-6, atol: 1e-6, "pair \(i) \(op)")
            }
        }
        let x = Tensor.random([1000], seed: 19, lo: 0.1, hi: 3)
        for op in [UnaryOp.neg, .exp, .log, .sqrt, .atan, .abs, .clamp(min: 0.5, max: 2), .insideMask(min: 0.5, max: 2),
                   .affine(scale: 2, bias: -1), .powScalar(1.5)] {
            assertClose(fast.unary(op, x), oracle.unary(op, x), rtol: 1e-6, atol: 1e-6, "\(op)")
        }
        let cond = Tensor.random([4, 5], seed: 20).greater(0)
        assertClose(fast.select(cond, Tensor.random([4, 5], seed: 21), Tensor(7)),
                    oracle.select(cond, Tensor.random([4, 5], seed: 21), Tensor(7)))
    }

    func testReductionsAndLayout() {
        let x = Tensor.random([3, 4, 5, 6], seed: 22)
        for axes in [[0], [0, 1, 2], [3], [2, 3], [1], [0, 1, 2, 3], [1, 3]] {
            for op in [ReduceOp.sum, .max] {
                assertClose(fast.reduce(op, x, axes: axes), oracle.reduce(op, x, axes: axes), rtol: 1e-5, atol: 1e-5,
                            "\(op) \(axes)")
            }
        }
        let y = Tensor.random([3, 4, 2, 6], seed: 23)
        for axis in 0..<4 {
            assertClose(fast.slice(x, axis: axis, range: 1..<3), oracle.slice(x, axis: axis, range: 1..<3), "\(axis)")
        }
        assertClose(fast.concat([x, y, x], axis: 2), oracle.concat([x, y, x], axis: 2))
        assertClose(fast.concat([y, y], axis: 0), oracle.concat([y, y], axis: 0))
        assertClose(fast.concat([x, x], axis: 3), oracle.concat([x, x], axis: 3))
        for dims in [[0, 3, 1, 2], [0, 2, 3, 1], [3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 3, 2]] {
            assertClose(fast.permute(x, dims: dims), oracle.permute(x, dims: dims), "\(dims)")
        }
        let rows = Tensor.random([5, 3], seed: 24)
        assertClose(fast.gatherRows(rows, indices: [4, 0, 4, 2]), oracle.gatherRows(rows, indices: [4, 0, 4, 2]))
        assertClose(fast.scatterAddRows(rows, indices: [1, 1, 0, 6, 1], rows: 7),
                    oracle.scatterAddRows(rows, indices: [1, 1, 0, 6, 1], rows: 7))
    }

    func testMatmulAllTransposes() {
        let a = Tensor.random([7, 5], seed: 25), b = Tensor.random([5, 9], seed: 26)
        let at = oracle.permute(a, dims: [1, 0]), bt = oracle.permute(b, dims: [1, 0])
        let expected = oracle.matmul(a, b, transposeA: false, transposeB: false)
        assertClose(fast.matmul(a, b, transposeA: false, transposeB: false), expected, rtol: 1e-5, atol: 1e-5)
        assertClose(fast.matmul(at, b, transposeA: true, transposeB: false), expected, rtol: 1e-5, atol: 1e-5)
        assertClose(fast.matmul(a, bt, transposeA: false, transposeB: true), expected, rtol: 1e-5, atol: 1e-5)
        assertClose(fast.matmul(at, bt, transposeA: true, transposeB: true), expected, rtol: 1e-5, atol: 1e-5)
    }
}

/// Tensors large enough that the SIMD kernels split their work over threads.
final class ParallelKernelParityTests: XCTestCase {
    func testLargeElementwiseReduceAndLayout() {
        let fast = DNNLBackend(), oracle = ReferenceBackend()
        let a = Tensor.random([4, 40, 40, 48], seed: 30, lo: 0.5, hi: 2)   // 307 200 elements
        let b = Tensor.random([4, 40, 40, 48], seed: 31, lo: 0.5, hi: 2)
        let c = Tensor.random([48], seed: 32, lo: 0.5, hi: 2)
        for op in [BinaryOp.add, .sub, .mul, .div] {
            assertClose(fast.binary(op, a, b), oracle.binary(op, a, b), rtol: 1e-6, atol: 1e-6, "\(op)")
            assertClose(fast.binary(op, a, c), oracle.binary(op, a, c), rtol: 1e-6, atol: 1e-6, "\(op) channel")
            assertClose(fast.binary(op, c, a), oracle.binary(op, c, a), rtol: 1e-6, atol: 1e-6, "channel \(op)")
        }
        for op in [UnaryOp.affine(scale: 3, bias: 1), .neg, .clamp(min: 0.7, max: 1.5), .exp] {
            assertClose(fast.unary(op, a), oracle.unary(op, a), rtol: 1e-6, atol: 1e-6, "\(op)")
        }
        assertClose(fast.reduce(.sum, a, axes: [0, 1, 2]), oracle.reduce(.sum, a, axes: [0, 1, 2]), rtol: 1e-4, atol: 1e-3)
        assertClose(fast.reduce(.sum, a, axes: [3]), oracle.reduce(.sum, a, axes: [3]), rtol: 1e-5, atol: 1e-4)
        assertClose(fast.concat([a, b], axis: 3), oracle.concat([a, b], axis: 3))
        assertClose(fast.slice(a, axis: 3, range: 8..<40), oracle.slice(a, axis: 3, range: 8..<40))
        let cond = Tensor.random(a.shape, seed: 33).greater(0)
        assertClose(fast.select(cond, a, b), oracle.select(cond, a, b))
        assertClose(fast.select(cond, a, Tensor(0)), oracle.select(cond, a, Tensor(0)))
    }
}
