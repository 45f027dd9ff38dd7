// Central finite-difference checks of the network ops: conv2d (strides, kernels, padding,
// groups, bias, odd sizes, batches), batch norm (training and inference), max-pool and
// nearest upsampling.
import TensorCore
import TestSupport
import XCTest

final class NNOpGradientTests: XCTestCase {
    // MARK: conv2d

    /// Checks gradients of input, weight and (when present) bias of one convolution.
    private func checkConv(batch: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, stride: Int = 1,
                           pad: Int = 0, groups: Int = 1, bias: Bool, seed: UInt64,
                           file: StaticString = #filePath, line: UInt = #line) {
        let x = Tensor.random([batch, h, w, cin], seed: seed)
        let weight = Tensor.random([cout, cin / groups, k, k], seed: seed + 1, lo: -0.5, hi: 0.5)
        var inputs = [x, weight]
        if bias { inputs.append(Tensor.random([cout], seed: seed + 2)) }
        let expected = [batch, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1, cout]
        let y = x.conv2d(weight: weight, bias: bias ? inputs[2] : nil, stride: (stride, stride),
                         padding: (pad, pad), groups: groups)
        XCTAssertEqual(y.shape, expected, file: file, line: line)
        checkGradients(inputs, file: file, line: line) { xs in
            xs[0].conv2d(weight: xs[1], bias: bias ? xs[2] : nil, stride: (stride, stride),
                         padding: (pad, pad), groups: groups)
        }
    }

    func testConvK3Stride1Pad1Bias() {
        checkConv(batch: 1, h: 5, w: 5, cin: 2, cout: 3, k: 3, pad: 1, bias: true, seed: 200)
    }

    func testConvK1Batch3NoBias() {
        checkConv(batch: 3, h: 3, w: 4, cin: 3, cout: 2, k: 1, bias: false, seed: 210)
    }

    func testConvK3Stride2OddSize() {
        checkConv(batch: 1, h: 7, w: 5, cin: 2, cout: 3, k: 3, stride: 2, pad: 1, bias: true, seed: 220)
    }

    func testConvK3Stride2NoPadEvenSize() {
        checkConv(batch: 1, h: 6, w: 6, cin: 2, cout: 2, k: 3, stride: 2, bias: false, seed: 225)
    }

    func testConvK5Pad2() {
        checkConv(batch: 1, h: 5, w: 6, cin: 2, cout: 2, k: 5, pad: 2, bias: true, seed: 230)
    }

    func testConvK6Stride2Pad2() {   // the YOLOv5 stem
        checkConv(batch: 1, h: 8, w: 7, cin: 3, cout: 2, k: 6, stride: 2, pad: 2, bias: false, seed: 240)
        checkConv(batch: 2, h: 6, w: 6, cin: 1, cout: 2, k: 6, stride: 2, pad: 2, bias: true, seed: 245)
    }

    func testConvGroups2Batch3() {
        checkConv(batch: 3, h: 3, w: 3, cin: 4, cout: 4, k: 3, pad: 1, groups: 2, bias: true, seed: 250)
        checkConv(batch: 1, h: 4, w: 3, cin: 4, cout: 6, k: 1, groups: 2, bias: false, seed: 255)
    }

    func testConvDepthwise() {
        checkConv(batch: 1, h: 5, w: 6, cin: 3, cout: 3, k: 3, stride: 2, pad: 1, groups: 3, bias: false,
                  seed: 260)
        checkConv(batch: 2, h: 4, w: 4, cin: 2, cout: 4, k: 3, pad: 1, groups: 2, bias: true, seed: 265)
    }

    func testConvOnlyWeightsWhenInputNotRecorded() {
        // The image is not watched: only weight and bias get gradients.
        let x = Tensor.random([1, 4, 4, 2], seed: 270)
        checkGradients([Tensor.random([3, 2, 3, 3], seed: 271), Tensor.random([3], seed: 272)]) { ws in
            x.conv2d(weight: ws[0], bias: ws[1], padding: (1, 1))
        }
    }

    // MARK: batch norm

    func testBatchNormTraining() {
        let x = Tensor.random([2, 3, 3, 4], seed: 300) * 1.5 + 0.3
        let scale = Tensor.random([4], seed: 301, lo: 0.5, hi: 1.5)
        let shift = Tensor.random([4], seed: 302)
        checkGradients([x, scale, shift]) { xs in
            xs[0].batchNormTraining(scale: xs[1], shift: xs[2], epsilon: 1e-3).output
        }
    }

    func testBatchNormTrainingBatch1() {
        let x = Tensor.random([1, 3, 2, 3], seed: 303)
        checkGradients([x, Tensor.random([3], seed: 304, lo: 0.5, hi: 1.5), Tensor.random([3], seed: 305)]) { xs in
            xs[0].batchNormTraining(scale: xs[1], shift: xs[2], epsilon: 1e-3).output
        }
    }

    func testBatchNormTrainingThenNonlinear() {
        // A non-linear consumer makes the upstream gradient depend on the output itself.
        let x = Tensor.random([2, 2, 3, 3], seed: 306)
        checkGradients([x, Tensor.random([3], seed: 307, lo: 0.5, hi: 1.5), Tensor.random([3], seed: 308)]) { xs in
            xs[0].batchNormTraining(scale: xs[1], shift: xs[2], epsilon: 1e-3).output.silu()
        }
    }

    func testBatchNormSiLUTraining() {
        let x = Tensor.random([2, 3, 3, 5], seed: 315)
        checkGradients([x, Tensor.random([5], seed: 316, lo: 0.5, hi: 1.5), Tensor.random([5], seed: 317)]) { xs in
            xs[0].batchNormSiLUTraining(scale: xs[1], shift: xs[2], epsilon: 1e-3).output
        }
    }

    func testBatchNormInference() {
        let x = Tensor.random([2, 3, 3, 4], seed: 310)
        let mean = Tensor.random([4], seed: 311)
        let variance = Tensor.random([4], seed: 312, lo: 0.2, hi: 2)
        checkGradients([x, Tensor.random([4], seed: 313, lo: 0.5, hi: 1.5), Tensor.random([4], seed: 314)]) { xs in
            xs[0].batchNormInference(scale: xs[1], shift: xs[2], mean: mean, variance: variance, epsilon: 1e-3)
        }
    }

    // MARK: max-pool and upsampling

    func testMaxPoolSPPFKernels() {
        let x = distinct([1, 5, 6, 2], seed: 320)
        for k in [5, 9, 13] {
            let y = x.maxPool2d(kernel: k, stride: 1, padding: k / 2)
            XCTAssertEqual(y.shape, x.shape, "k\(k)")
            checkGradients([x]) { $0[0].maxPool2d(kernel: k, stride: 1, padding: k / 2) }
        }
    }

    func testMaxPool2x2Stride2() {
        checkGradients([distinct([2, 4, 6, 3], seed: 321)]) { $0[0].maxPool2d(kernel: 2, stride: 2) }
        // Odd size: floor mode drops the last row / column.
        let odd = distinct([1, 5, 5, 2], seed: 322)
        XCTAssertEqual(odd.maxPool2d(kernel: 2, stride: 2).shape, [1, 2, 2, 2])
        checkGradients([odd]) { $0[0].maxPool2d(kernel: 2, stride: 2) }
    }

    func testMaxPoolChainedLikeSPPF() {
        checkGradients([distinct([1, 4, 4, 2], seed: 323)]) { xs in
            let y1 = xs[0].maxPool2d(kernel: 5, stride: 1, padding: 2)
            let y2 = y1.maxPool2d(kernel: 5, stride: 1, padding: 2)
            return Tensor.concat([xs[0], y1, y2])
        }
    }

    func testUpsampledNearest() {
        let x = Tensor.random([2, 2, 3, 2], seed: 330)
        XCTAssertEqual(x.upsampledNearest(scale: 2).shape, [2, 4, 6, 2])
        checkGradients([x]) { $0[0].upsampledNearest(scale: 2) }
        checkGradients([x]) { $0[0].upsampledNearest(scale: 3) }
    }

    // MARK: a small block end to end

    func testConvBnSiluBlock() {
        let x = Tensor.random([2, 4, 4, 2], seed: 340)
        let w = Tensor.random([3, 2, 3, 3], seed: 341, lo: -0.5, hi: 0.5)
        let g = Tensor.random([3], seed: 342, lo: 0.5, hi: 1.5)
        let b = Tensor.random([3], seed: 343)
        checkGradients([x, w, g, b]) { xs in
            let y = xs[0].conv2d(weight: xs[1], padding: (1, 1))
                .batchNormTraining(scale: xs[2], shift: xs[3], epsilon: 1e-3).output.silu()
            return Tensor.concat([y, y.upsampledNearest(scale: 2).maxPool2d(kernel: 2, stride: 2)])
        }
    }
}
