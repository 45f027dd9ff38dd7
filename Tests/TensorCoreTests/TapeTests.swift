// The tape's bookkeeping: accumulation, detaching, unwatched inputs, repeated watches,
// nested recordings, pullbacks with an explicit seed.
import TensorCore
import TestSupport
import XCTest

final class TapeTests: XCTestCase {
    let x = T([3], [1, -2, 0.5])

    func testValueUsedTwiceAccumulates() {
        // y = Σ (x·x + x) → dy/dx = 2x + 1 = [3, −3, 2]
        let id = TensorID()
        let (value, g) = valueWithGradients { tape in
            let v = tape.watch(x, as: id)
            return (v * v + v).sum()
        }
        assertClose(value, Tensor(1 + 1 + 4 - 2 + 0.25 + 0.5))
        assertClose(g[id]!, T([3], [3, -3, 2]))
    }

    func testValueUsedAlongManyPaths() {
        // y = Σ (e^x + x·3 − x) → e^x + 2
        let id = TensorID()
        let g = valueWithGradients { tape in
            let v = tape.watch(x, as: id)
            let u = v * 3
            return (v.exp() + u - v).sum()
        }.gradients
        assertClose(g[id]!, T([3], x.scalars.map { Float.exp($0) + 2 }), rtol: 1e-5, atol: 1e-5)
    }

    func testDetachedCutsTheGraph() {
        // y = Σ x · stop(x) → dy/dx = x (not 2x)
        let id = TensorID()
        let g = valueWithGradients { tape in
            let v = tape.watch(x, as: id)
            return (v * v.detached).sum()
        }.gradients
        assertClose(g[id]!, x)
        // A fully detached result has no gradient path at all.
        let id2 = TensorID()
        let g2 = valueWithGradients { tape in
            let v = tape.watch(x, as: id2)
            return (v.exp().detached * 2).sum() + tape.watch(Tensor(1), as: TensorID())
        }.gradients
        XCTAssertNil(g2[id2])
    }

    func testUnwatchedInputsGetNoGradient() {
        let a = TensorID(), unused = TensorID()
        let b = T([3], [4, 5, 6])
        let g = valueWithGradients { tape in
            let va = tape.watch(x, as: a)
            _ = tape.watch(b, as: unused)          // watched but not used in the output
            XCTAssertFalse(b.requiresGradient)     // the plain value is not on the tape
            XCTAssertTrue(va.requiresGradient)
            return (va * b).sum()
        }.gradients
        assertClose(g[a]!, b)
        XCTAssertNil(g[unused])
        XCTAssertEqual(g.ids.count, 1)
    }

    func testNoTapeNoRecording() {
        let y = x * x
        XCTAssertFalse(y.requiresGradient)
        XCTAssertNil(currentTape)
    }

    func testWatchingSameIDTwiceIsOneLeaf() {
        // Both watches are the same leaf: d/dx Σ x·x = 2x.
        let id = TensorID()
        let g = valueWithGradients { tape in
            (tape.watch(x, as: id) * tape.watch(x, as: id)).sum()
        }.gradients
        assertClose(g[id]!, x * 2)
        XCTAssertEqual(g.ids.count, 1)
    }

    func testBroadcastGradientHasInputShape() {
        let ia = TensorID(), ib = TensorID()
        let a = Tensor.random([2, 3], seed: 1), b = Tensor.random([3], seed: 2)
        let g = valueWithGradients { tape in (tape.watch(a, as: ia) * tape.watch(b, as: ib)).sum() }.gradients
        XCTAssertEqual(g[ia]!.shape, [2, 3])
        XCTAssertEqual(g[ib]!.shape, [3])
        assertClose(g[ib]!, a.sum(axes: [0]), rtol: 1e-5, atol: 1e-6)
    }

    func testReturnedValueIsDetached() {
        let id = TensorID()
        let (value, _) = valueWithGradients { tape in tape.watch(x, as: id).sum() }
        XCTAssertFalse(value.requiresGradient)
        assertClose(value, Tensor(-0.5))
    }

    func testOutputIsTheLeafItself() {
        let id = TensorID()
        let g = valueWithGradients { tape in tape.watch(Tensor(2), as: id) }.gradients
        assertClose(g[id]!, Tensor(1))
    }

    func testNestedRecording() {
        // The outer recording keeps working around an inner, independent one, whose result
        // enters the outer computation as a constant.
        let outerID = TensorID(), innerID = TensorID()
        let (value, g) = valueWithGradients { outer in
            let v = outer.watch(x, as: outerID)
            let a = v * v                                   // recorded on the outer tape
            let inner = valueWithGradients { tape in
                (tape.watch(x, as: innerID).pow(3)).sum()   // d/dx Σx³ = 3x²
            }
            XCTAssertNotNil(inner.gradients[innerID])
            assertClose(inner.gradients[innerID]!, T([3], x.scalars.map { 3 * $0 * $0 }))
            XCTAssertTrue(currentTape === outer)           // restored after the inner recording
            return (a * inner.gradients[innerID]!).sum()
        }
        // d/dx Σ x²·c = 2x·c with c = 3x²: 6x³
        assertClose(g[outerID]!, T([3], x.scalars.map { 6 * $0 * $0 * $0 }))
        XCTAssertNil(g[innerID])
        assertClose(value, Tensor(x.scalars.map { 3 * $0 * $0 * $0 * $0 }.reduce(0, +)))
    }

    func testGradientOfAGradientInputIsAConstant() {
        // Gradients computed by one recording, used in a second, carry no tape.
        let id = TensorID()
        let g1 = valueWithGradients { tape in (tape.watch(x, as: id) * 2).sum() }.gradients[id]!
        XCTAssertFalse(g1.requiresGradient)
        let id2 = TensorID()
        let g2 = valueWithGradients { tape in (tape.watch(x, as: id2) * g1).sum() }.gradients[id2]!
        assertClose(g2, T([3], [2, 2, 2]))
    }

    func testPullbackWithSeed() {
        // y = x², seed s → s·2x
        let id = TensorID()
        let seed = T([3], [1, 2, 3])
        let (value, g) = pullback(seed: seed) { tape in
            let v = tape.watch(x, as: id)
            return v * v
        }
        assertClose(value, T([3], [1, 4, 0.25]))
        assertClose(g[id]!, T([3], [2, -8, 3]))
    }

    func testMultipleLeavesThroughSharedIntermediate() {
        // h = a·b; y = Σ (h + h·a) → dy/da = b + 2ab, dy/db = a + a²
        let ia = TensorID(), ib = TensorID()
        let a = T([2], [1, 2]), b = T([2], [3, -1])
        let g = valueWithGradients { tape in
            let va = tape.watch(a, as: ia), vb = tape.watch(b, as: ib)
            let h = va * vb
            return (h + h * va).sum()
        }.gradients
        assertClose(g[ia]!, T([2], [3 + 6, -1 - 4]))
        assertClose(g[ib]!, T([2], [2, 6]))
    }

    func testMutatingACopyDropsItFromTheTape() {
        let id = TensorID()
        let g = valueWithGradients { tape in
            let v = tape.watch(x, as: id)
            var c = v
            c.withUnsafeMutableBufferPointer { $0[0] = 10 }
            XCTAssertFalse(c.requiresGradient)
            return (v + c).sum()
        }.gradients
        assertClose(g[id]!, T([3], [1, 1, 1]))
    }
}
