// Central finite-difference checks of the layout ops, reductions, gather/scatter and matmul.
import TensorCore
import TestSupport
import XCTest

final class ShapeGradientTests: XCTestCase {
    let x = Tensor.random([2, 3, 4], seed: 101)

    func testReshaped() {
        checkGradients([x]) { $0[0].reshaped([4, -1]) }
        checkGradients([x]) { $0[0].reshaped([24]) }
    }

    func testPermuted() {
        let x4 = Tensor.random([2, 3, 2, 4], seed: 102)
        checkGradients([x4]) { $0[0].permuted([0, 3, 1, 2]) }   // NHWC -> NCHW
        checkGradients([x4]) { $0[0].permuted([0, 2, 3, 1]) }   // NCHW -> NHWC
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
    }

    func testSliced() {
        checkGradients([x]) { $0[0].sliced(axis: 1, 1..<2) }     // middle of a middle axis
        checkGradients([x]) { $0[0].sliced(axis: -1, 0..<3) }    // start of the last axis
        checkGradients([x]) { $0[0].sliced(axis: 0, 1..<2) }     // end of the first axis
        checkGradients([x]) { $0[0].sliced(axis: 2, 0..<4) }     // everything
    }

    func testConcatLastAxis() {
        let parts = [Tensor.random([2, 3, 2], seed: 103), Tensor.random([2, 3, 4], seed: 104),
                     Tensor.random([2, 3, 1], seed: 105)]
        checkGradients(parts) { Tensor.concat($0) }
    }

    func testConcatMiddleAxis() {
        let parts = [Tensor.random([2, 1, 3], seed: 106), Tensor.random([2, 4, 3], seed: 107)]
        checkGradients(parts) { Tensor.concat($0, axis: 1) }
        checkGradients(parts.map { $0.permuted([1, 0, 2]) }) { Tensor.concat($0, axis: 0) }
    }

    func testConcatSameInputTwice() {
        checkGradients([x]) { Tensor.concat([$0[0], $0[0].exp()], axis: 1) }
    }

    func testSplit() {
        checkGradients([x]) { xs in
            let p = xs[0].split([1, 2, 1], axis: -1)
            // Each piece weighted differently; the middle one is squared.
            return weightedSum(p[0], seed: 1) + weightedSum(p[1] * p[1], seed: 2) + weightedSum(p[2], seed: 3)
        }
        checkGradients([x]) { xs in
            let p = xs[0].split([2, 1], axis: 1)
            return Tensor.concat([p[1], p[0]], axis: 1)      // swapped
        }
    }

    func testSplitUnusedPieceGetsZero() {
        checkGradients([x]) { $0[0].split([3, 1], axis: 2)[0] }
    }

    func testSum() {
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].sum(axes: [1]) }
        checkGradients([x]) { $0[0].sum(axes: [0, 2]) }
        checkGradients([x]) { $0[0].sum(axes: [0, 2], keepDims: true) }
        checkGradients([x]) { $0[0].sum(axes: [-1], keepDims: true) }
    }

    func testMean() {
        checkGradients([x]) { $0[0].mean() }
        checkGradients([x]) { $0[0].mean(axes: [1]) }
        checkGradients([x]) { $0[0].mean(axes: [0, 2], keepDims: true) }
        checkGradients([x]) { $0[0].mean(axes: [-1]) }
    }

    func testMax() {
        let d = distinct([2, 3, 4], seed: 108)
        checkGradients([d]) { $0[0].max() }
        checkGradients([d]) { $0[0].max(axes: [1]) }
        checkGradients([d]) { $0[0].max(axes: [0, 2]) }
        checkGradients([d]) { $0[0].max(axes: [0, 2], keepDims: true) }
        checkGradients([d]) { $0[0].max(axes: [-1], keepDims: true) }
    }

    func testGatherRowsRepeatedIndices() {
        let m = Tensor.random([4, 3], seed: 109)
        checkGradients([m]) { $0[0].gatherRows([2, 0, 2, 3, 2]) }
        checkGradients([Tensor.random([5], seed: 110)]) { $0[0].gatherRows([4, 4, 1]) }
        checkGradients([Tensor.random([3, 2, 2], seed: 111)]) { $0[0].gatherRows([1, 1, 0]) }
    }

    func testScatterAddRowsRepeatedIndices() {
        let s = Tensor.random([5, 3], seed: 112)
        checkGradients([s]) { $0[0].scatterAddRows([1, 0, 1, 3, 1], rows: 4) }
        checkGradients([Tensor.random([3], seed: 113)]) { $0[0].scatterAddRows([2, 2, 0], rows: 3) }
    }

    func testMatmulAllTransposes() {
        let (m, k, n) = (3, 4, 5)
        let a = Tensor.random([m, k], seed: 114), aT = Tensor.random([k, m], seed: 115)
        let b = Tensor.random([k, n], seed: 116), bT = Tensor.random([n, k], seed: 117)
        checkGradients([a, b]) { $0[0].matmul($0[1]) }
        checkGradients([aT, b]) { $0[0].matmul($0[1], transposeA: true) }
        checkGradients([a, bT]) { $0[0].matmul($0[1], transposeB: true) }
        checkGradients([aT, bT]) { $0[0].matmul($0[1], transposeA: true, transposeB: true) }
    }

    func testMatmulSameOperandTwice() {
        let a = Tensor.random([3, 3], seed: 118)
        checkGradients([a]) { $0[0].matmul($0[0]) }
        checkGradients([a]) { $0[0].matmul($0[0], transposeB: true) }
    }
}
