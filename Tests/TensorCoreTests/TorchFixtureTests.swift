// ReferenceBackend (through the differentiable ops) against PyTorch: outputs and gradients
// for a given upstream gradient, read from Fixtures/torch_ops.json, which
// Tools/fixtures/make_tensorcore_fixtures.py writes. Activations in the file are already NHWC.
import Foundation
import TensorCore
import TestSupport
import XCTest

private struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Float]
    var tensor: Tensor { Tensor(shape: shape, scalars: data) }
}

private struct FixtureCase: Decodable {
    let op: String
    let kind: String?
    let params: [String: Double]
    let tensors: [String: FixtureTensor]
    subscript(_ name: String) -> Tensor { tensors[name]!.tensor }
    func int(_ name: String) -> Int { Int(params[name]!) }
}

private struct FixtureFile: Decodable {
    let torch: String
    let cases: [String: FixtureCase]
}

private let fixtures: FixtureFile? = {
    guard let url = Bundle.module.url(forResource: "torch_ops", withExtension: "json", subdirectory: "Fixtures"),
          let data = try? Data(contentsOf: url) else { return nil }
    return try? JSONDecoder().decode(FixtureFile.self, from: data)
}()

final class TorchFixtureTests: ReferenceBackendTestCase {
    let rtol: Float = 1e-4, atol: Float = 1e-5


    private func cases(_ op: String, atLeast n: Int, file: StaticString = #filePath,
                       line: UInt = #line) -> [(String, FixtureCase)] {
        guard let f = fixtures else {
            XCTFail("Fixtures/torch_ops.json missing or unreadable", file: file, line: line)
            return []
        }
        let found = f.cases.filter { $0.value.op == op }.sorted { $0.key < $1.key }
        XCTAssertGreaterThanOrEqual(found.count, n, "fixture cases for \(op)", file: file, line: line)
        return found.map { ($0.key, $0.value) }
    }

    func testConv2d() {
        for (name, c) in cases("conv2d", atLeast: 7) {
            let hasBias = c.int("bias") != 0
            let (ix, iw, ib) = (TensorID(), TensorID(), TensorID())
            let s = c.int("stride"), p = c.int("padding")
            let (y, g) = pullback(seed: c["gy"]) { tape in
                tape.watch(c["x"], as: ix).conv2d(
                    weight: tape.watch(c["weight"], as: iw),
                    bias: hasBias ? tape.watch(c["bias"], as: ib) : nil,
                    stride: (s, s), padding: (p, p), groups: c.int("groups"))
            }
            assertClose(y, c["y"], rtol: rtol, atol: atol, "\(name) y")
            assertClose(g[ix]!, c["gx"], rtol: rtol, atol: atol, "\(name) gx")
            assertClose(g[iw]!, c["gweight"], rtol: rtol, atol: atol, "\(name) gweight")
            if hasBias { assertClose(g[ib]!, c["gbias"], rtol: rtol, atol: atol, "\(name) gbias") }
        }
    }

    func testBatchNormTraining() {
        for (name, c) in cases("batch_norm_training", atLeast: 2) {
            let eps = Float(c.params["eps"]!), momentum = Float(c.params["momentum"]!)
            let (ix, iw, ib) = (TensorID(), TensorID(), TensorID())
            var stats: (mean: Tensor, variance: Tensor)?
            let (y, g) = pullback(seed: c["gy"]) { tape in
                let r = tape.watch(c["x"], as: ix).batchNormTraining(
                    scale: tape.watch(c["weight"], as: iw), shift: tape.watch(c["bias"], as: ib), epsilon: eps)
                stats = (r.mean, r.variance)
                return r.output
            }
            assertClose(y, c["y"], rtol: rtol, atol: atol, "\(name) y")
            assertClose(g[ix]!, c["gx"], rtol: rtol, atol: atol, "\(name) gx")
            assertClose(g[iw]!, c["gweight"], rtol: rtol, atol: atol, "\(name) gweight")
            assertClose(g[ib]!, c["gbias"], rtol: rtol, atol: atol, "\(name) gbias")
            // Running statistics as torch updates them: the mean and the UNBIASED variance
            // (the kernel returns the biased one, so scale by m/(m−1)).
            let xs = c["x"]
            let m = Float(xs.count / xs.shape.last!)
            let runningMean = c["running_mean0"] * (1 - momentum) + stats!.mean * momentum
            let runningVar = c["running_var0"] * (1 - momentum) + stats!.variance * (m / (m - 1)) * momentum
            assertClose(runningMean, c["running_mean"], rtol: rtol, atol: atol, "\(name) running_mean")
            assertClose(runningVar, c["running_var"], rtol: rtol, atol: atol, "\(name) running_var")
            // And the inference path with the batch statistics reproduces the training output.
            let yi = xs.batchNormInference(scale: c["weight"], shift: c["bias"], mean: stats!.mean,
                                           variance: stats!.variance, epsilon: eps)
            assertClose(yi, c["y"], rtol: rtol, atol: atol, "\(name) inference with batch stats")
        }
    }

    func testMaxPool2d() {
        for (name, c) in cases("max_pool2d", atLeast: 3) {
            let ix = TensorID()
            let (y, g) = pullback(seed: c["gy"]) { tape in
                tape.watch(c["x"], as: ix).maxPool2d(kernel: c.int("kernel"), stride: c.int("stride"),
                                                     padding: c.int("padding"))
            }
            assertClose(y, c["y"], rtol: rtol, atol: atol, "\(name) y")
            assertClose(g[ix]!, c["gx"], rtol: rtol, atol: atol, "\(name) gx")
        }
    }

    func testUpsampleNearest() {
        for (name, c) in cases("upsample_nearest", atLeast: 1) {
            let ix = TensorID()
            let (y, g) = pullback(seed: c["gy"]) { tape in
                tape.watch(c["x"], as: ix).upsampledNearest(scale: c.int("scale"))
            }
            assertClose(y, c["y"], rtol: rtol, atol: atol, "\(name) y")
            assertClose(g[ix]!, c["gx"], rtol: rtol, atol: atol, "\(name) gx")
        }
    }

    func testActivations() {
        let found = cases("activation", atLeast: 5)
        for (name, c) in found {
            let kind: Activation
            switch c.kind {
            case "silu": kind = .silu
            case "sigmoid": kind = .sigmoid
            case "relu": kind = .relu
            case "hardswish": kind = .hardswish
            case "leakyRelu": kind = .leakyRelu(slope: Float(c.params["slope"]!))
            default: XCTFail("unknown activation \(c.kind ?? "nil")"); continue
            }
            let ix = TensorID()
            let (y, g) = pullback(seed: c["gy"]) { tape in tape.watch(c["x"], as: ix).activation(kind) }
            assertClose(y, c["y"], rtol: rtol, atol: atol, "\(name) y")
            assertClose(g[ix]!, c["gx"], rtol: rtol, atol: atol, "\(name) gx")
        }
        XCTAssertEqual(Set(found.map { $0.1.kind ?? "" }),
                       ["silu", "sigmoid", "relu", "hardswish", "leakyRelu"])
    }
}
