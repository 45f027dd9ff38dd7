// The Swift-implemented part of `DNNLBackend`'s kernel list: element-wise, reductions,
// layout and indexing (SIMDKernels), and matmul on OpenBLAS.
import CBLAS
import TensorCore

extension DNNLBackend {
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor { simd.binary(op, a, b) }
    public func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor { simd.unary(op, x) }
    public func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor { simd.select(cond, a, b) }
    public func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) -> Tensor { simd.reduce(op, x, axes: axes) }
    public func concat(_ xs: [Tensor], axis: Int) -> Tensor { simd.concat(xs, axis: axis) }
    public func slice(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor { simd.slice(x, axis: axis, range: range) }
    public func permute(_ x: Tensor, dims: [Int]) -> Tensor { simd.permute(x, dims: dims) }
    public func gatherRows(_ x: Tensor, indices: [Int]) -> Tensor { simd.gatherRows(x, indices: indices) }
    public func scatterAddRows(_ source: Tensor, indices: [Int], rows: Int) -> Tensor {
        simd.scatterAddRows(source, indices: indices, rows: rows)
    }

    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matmul inner dimensions \(k) and \(k2) differ")
        let y = Tensor(uninitializedShape: [m, n])
        guard m > 0, n > 0 else { return y }
        if k == 0 { y.storage.pointer.update(repeating: 0, count: m * n); return y }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a.storage.pointer, Int32(a.shape[1]),
                    b.storage.pointer, Int32(b.shape[1]), 0, y.storage.pointer, Int32(n))
        withExtendedLifetime((a, b)) {}
        return y
    }
}
