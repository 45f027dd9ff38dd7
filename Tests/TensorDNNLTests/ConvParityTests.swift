// DNNLBackend convolutions against ReferenceBackend over a sweep of shapes: stride 1 and 2,
// kernel 1/3/5/6, padding, groups 1, 2 and depthwise, odd sizes, batch 1 and 3, with and
// without bias — forward, backward-data and backward-weights.
import TensorCore
import TensorDNNL
import TestSupport
import XCTest

final class ConvParityTests: XCTestCase {
    let fast = DNNLBackend()
    let oracle = ReferenceBackend()

    struct Case {
        var batch: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, stride: Int, pad: Int, groups: Int, bias: Bool
    }

    static let cases: [Case] = {
        var cs: [Case] = []
        for (k, pad) in [(1, 0), (3, 1), (5, 2), (6, 2), (3, 0)] {
            for stride in [1, 2] {
                for (cin, cout, groups) in [(3, 8, 1), (8, 4, 2), (6, 6, 6)] {
                    for batch in [1, 3] {
                        let odd = (k + stride + batch) % 2 == 0
                        cs.append(Case(batch: batch, h: odd ? 9 : 8, w: odd ? 7 : 10, cin: cin, cout: cout, k: k,
                                       stride: stride, pad: pad, groups: groups, bias: (k + cin) % 2 == 0))
                    }
                }
            }
        }
        return cs
    }()

    func testSweepMatchesReference() {
        XCTAssertEqual(Self.cases.count, 60)
        for (n, c) in Self.cases.enumerated() {
            let p = Conv2DParams(batch: c.batch, inHeight: c.h, inWidth: c.w, inChannels: c.cin, outChannels: c.cout,
                                 kernel: (c.k, c.k), stride: (c.stride, c.stride), padding: (c.pad, c.pad),
                                 groups: c.groups)
            let x = Tensor.random(p.inputShape, seed: UInt64(n))
            let w = Tensor.random(p.weightShape, seed: UInt64(1000 + n))
            let b = c.bias ? Tensor.random([c.cout], seed: UInt64(2000 + n)) : nil
            let gy = Tensor.random(p.outputShape, seed: UInt64(3000 + n))
            let label = "case \(n): \(c)"
            assertClose(fast.conv2d(input: x, weight: w, bias: b, params: p),
                        oracle.conv2d(input: x, weight: w, bias: b, params: p), rtol: 1e-4, atol: 1e-4, label)
            assertClose(fast.conv2dBackwardData(gradOutput: gy, weight: w, params: p),
                        oracle.conv2dBackwardData(gradOutput: gy, weight: w, params: p), rtol: 1e-4, atol: 1e-4, label)
            let f = fast.conv2dBackwardWeights(input: x, gradOutput: gy, params: p, withBias: c.bias)
            let r = oracle.conv2dBackwardWeights(input: x, gradOutput: gy, params: p, withBias: c.bias)
            assertClose(f.weight, r.weight, rtol: 1e-4, atol: 1e-4, label)
            if c.bias { assertClose(f.bias!, r.bias!, rtol: 1e-4, atol: 1e-4, label) }
            XCTAssertEqual(f.bias == nil, !c.bias, label)
        }
    }

    /// A weight updated in place must not be served from the reorder cache.
    func testWeightReorderCacheFollowsMutation() {
        let p = Conv2DParams(batch: 2, inHeight: 8, inWidth: 8, inChannels: 16, outChannels: 32, kernel: (3, 3),
                             padding: (1, 1))
        let x = Tensor.random(p.inputShape, seed: 1)
        var w = Tensor.random(p.weightShape, seed: 2)
        _ = fast.conv2d(input: x, weight: w, bias: nil, params: p)
        w.withUnsafeMutableBufferPointer { buf in for i in 0..<buf.count { buf[i] *= -2 } }
        assertClose(fast.conv2d(input: x, weight: w, bias: nil, params: p),
                    oracle.conv2d(input: x, weight: w, bias: nil, params: p), rtol: 1e-4, atol: 1e-4)
    }
}

final class FusedConvTests: XCTestCase {
    /// The fused inference convolution equals convolution then activation on the reference.
    func testConvInferenceWithPostOpMatchesReference() {
        let fast = DNNLBackend(), oracle = ReferenceBackend()
        for (i, act) in [nil, Activation.silu, .leakyRelu(slope: 0.1), .sigmoid].enumerated() {
            for bias in [false, true] {
                let p = Conv2DParams(batch: 2, inHeight: 9, inWidth: 7, inChannels: 8, outChannels: 16, kernel: (3, 3),
                                     stride: (2, 2), padding: (1, 1))
                let x = Tensor.random(p.inputShape, seed: UInt64(i)), w = Tensor.random(p.weightShape, seed: 99)
                let b = bias ? Tensor.random([16], seed: 7) : nil
                let y = oracle.conv2d(input: x, weight: w, bias: b, params: p)
                let expected = act.map { oracle.activation($0, y) } ?? y
                assertClose(fast.conv2dInference(input: x, weight: w, bias: b, params: p, activation: act), expected,
                            rtol: 1e-4, atol: 1e-5, "\(String(describing: act)) bias \(bias)")
                assertClose(oracle.conv2dInference(input: x, weight: w, bias: b, params: p, activation: act), expected)
            }
        }
    }
}
