// ModelEMA against YOLOv5's ModelEMA semantics run with torch (Tests/NNTests/Fixtures/optim.json):
// a conv + BatchNorm + conv model whose parameters and running statistics change between updates.
import NN
import TensorCore
import TestSupport
import XCTest

final class EMATests: XCTestCase {
    /// Parameters and buffers named as in the fixture's state dict (running stats are buffers),
    /// plus an integer-like `num_batches_tracked` buffer, which torch does not average.
    private func makeModel(_ state: [String: NNFixture.Entry]) -> ([Parameter], [Buffer]) {
        var parameters: [Parameter] = [], buffers: [Buffer] = []
        for name in state.keys.sorted() {
            let t = state[name]!.tensor
            if name.contains("running_") {
                buffers.append(Buffer(name, t))
            } else {
                parameters.append(Parameter(name, t))
            }
        }
        buffers.append(Buffer("1.num_batches_tracked", Tensor(0)))
        return (parameters, buffers)
    }

    func testEMAMatchesTorch() throws {
        let fixture = try NNFixture.load()
        XCTAssertEqual(fixture.ema.count, 2)
        for c in fixture.ema {
            let (parameters, buffers) = makeModel(c.initial)
            let ema = ModelEMA(parameters: parameters, buffers: buffers, decay: c.decay, tau: c.tau,
                               updates: c.initial_updates)
            XCTAssertEqual(ema.updates, c.initial_updates)
            for (u, update) in c.updates.enumerated() {
                for p in parameters { p.value = update.model[p.name]!.tensor }
                for b in buffers {
                    if let e = update.model[b.name] { b.value = e.tensor } else { b.value = Tensor(Float(u + 1)) }
                }
                let d = ema.update(parameters: parameters, buffers: buffers)
                XCTAssertEqual(ema.updates, c.initial_updates + u + 1)
                assertCloseDouble(d, update.d, "d at update \(u)")
                for (name, expected) in update.expected {
                    guard let value = ema[name] else { XCTFail("EMA lacks \(name)"); continue }
                    assertClose(value, expected.tensor, rtol: 1e-5, atol: 1e-6,
                                "updates \(c.initial_updates) + \(u + 1): \(name)")
                }
                // Not averaged: keeps the value it had when the EMA was made.
                XCTAssertEqual(ema["1.num_batches_tracked"]?.scalar, 0)
            }
        }
    }

    func testDecayRamp() {
        let ema = ModelEMA(parameters: [], buffers: [])
        XCTAssertEqual(ema.decay(forUpdates: 0), 0)
        assertCloseDouble(ema.decay(forUpdates: 2000), 0.9999 * (1 - 1 / 2.718281828459045), rtol: 1e-12)
        XCTAssertLessThan(ema.decay(forUpdates: 100_000), 0.9999 + 1e-12)
    }

    func testStateDictLoadAndCopy() {
        let p = Parameter("w", Tensor(shape: [2], scalars: [1, 2]))
        let b = Buffer("bn.running_mean", Tensor(shape: [2], scalars: [0, 0]))
        let ema = ModelEMA(parameters: [p], buffers: [b], updates: 10)
        XCTAssertEqual(ema.names, ["w", "bn.running_mean"])
        XCTAssertEqual(Set(ema.stateDict.keys), ["w", "bn.running_mean"])
        // The EMA holds its own copies: changing the model does not change it.
        p.value.withUnsafeMutableBufferPointer { $0[0] = 100 }
        XCTAssertEqual(ema["w"]?.scalars, [1, 2])
        ema.load(["w": Tensor(shape: [2], scalars: [5, 6])])
        XCTAssertEqual(ema["w"]?.scalars, [5, 6])
        let q = Parameter("w", Tensor(zeros: [2]))
        let c = Buffer("bn.running_mean", Tensor(repeating: 9, shape: [2]))
        ema.copy(to: [q], buffers: [c])
        XCTAssertEqual(q.value.scalars, [5, 6])
        XCTAssertEqual(c.value.scalars, [0, 0])
    }
}
