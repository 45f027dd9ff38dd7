// Differentiable layout ops (reshape, permute, slice, concat, split), reductions,
// gather/scatter and matmul.

extension Tensor {
    /// Same elements, new shape (one dimension may be -1).
    public func reshaped(_ shape: [Int]) -> Tensor {
        let y = reshapedStorage(shape)
        let inShape = self.shape
        return Tensor.record(y, inputs: [self]) { g in [g.reshapedStorage(inShape)] }
    }

    /// Axes reordered: result dimension i is input dimension `dims[i]`.
    public func permuted(_ dims: [Int]) -> Tensor {
        precondition(dims.sorted() == Array(0..<rank), "bad permutation \(dims) for rank \(rank)")
        let y = backend.permute(self, dims: dims)
        var inverse = [Int](repeating: 0, count: dims.count)
        for (i, d) in dims.enumerated() { inverse[d] = i }
        return Tensor.record(y, inputs: [self]) { g in [Engine.backend.permute(g, dims: inverse)] }
    }

    /// The elements with index in `range` along `axis`.
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = axis < 0 ? axis + rank : axis
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a], "slice \(range) out of \(shape)")
        let y = backend.slice(self, axis: a, range: range)
        let inShape = shape
        return Tensor.record(y, inputs: [self]) { g in
            // Pad the gradient with zeros back to the input's extent along `a`.
            var parts: [Tensor] = []
            if range.lowerBound > 0 {
                var s = inShape; s[a] = range.lowerBound; parts.append(Tensor(zeros: s))
            }
            parts.append(g)
            if range.upperBound < inShape[a] {
                var s = inShape; s[a] = inShape[a] - range.upperBound; parts.append(Tensor(zeros: s))
            }
            return [parts.count == 1 ? g : Engine.backend.concat(parts, axis: a)]
        }
    }

    /// Joins tensors along `axis` (default: the last, the channel axis of NHWC).
    public static func concat(_ xs: [Tensor], axis: Int = -1) -> Tensor {
        precondition(!xs.isEmpty, "concat of no tensors")
        let a = axis < 0 ? axis + xs[0].rank : axis
        let y = Engine.backend.concat(xs, axis: a)
        let sizes = xs.map { $0.shape[a] }
        return record(y, inputs: xs) { g in
            var start = 0
            return sizes.map { n in
                defer { start += n }
                return Engine.backend.slice(g, axis: a, range: start..<(start + n))
            }
        }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(_ sizes: [Int], axis: Int = -1) -> [Tensor] {
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return sliced(axis: axis, start..<(start + n))
        }
    }

    /// Sum over `axes` (all when empty).
    public func sum(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes)
        let kept = backend.reduce(.sum, self, axes: ax)
        let y = keepDims ? kept : kept.reshapedStorage(droppingAxes(ax))
        let inShape = shape, keptShape = kept.shape
        return Tensor.record(y, inputs: [self]) { g in
            [Engine.backend.binary(.add, g.reshapedStorage(keptShape), Tensor(zeros: inShape))]
        }
    }

    /// Mean over `axes` (all when empty).
    public func mean(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes)
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims) * (1 / Float(n))
    }

    /// Maximum over `axes` (all when empty); the gradient is shared evenly between ties.
    public func max(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes)
        let kept = backend.reduce(.max, self, axes: ax)
        let y = keepDims ? kept : kept.reshapedStorage(droppingAxes(ax))
        let x = self, keptShape = kept.shape
        return Tensor.record(y, inputs: [x]) { g in
            let mask = Engine.backend.binary(.equal, x, kept)
            let ties = Engine.backend.reduce(.sum, mask, axes: ax)
            let share = Engine.backend.binary(.div, g.reshapedStorage(keptShape), ties)
            return [Engine.backend.binary(.mul, mask, share)]
        }
    }

    /// Rows of this tensor viewed as (R, …): result (indices.count, …).
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let rows = shape[0]
        precondition(indices.allSatisfy { $0 >= 0 && $0 < rows }, "gather index out of 0..<\(rows)")
        let y = backend.gatherRows(self, indices: indices)
        return Tensor.record(y, inputs: [self]) { g in
            [Engine.backend.scatterAddRows(g, indices: indices, rows: rows)]
        }
    }

    /// A zero (rows, …) tensor with row i of this tensor added into row `indices[i]`.
    public func scatterAddRows(_ indices: [Int], rows: Int) -> Tensor {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < rows }, "scatter index out of 0..<\(rows)")
        let y = backend.scatterAddRows(self, indices: indices, rows: rows)
        return Tensor.record(y, inputs: [self]) { g in [Engine.backend.gatherRows(g, indices: indices)] }
    }

    /// Matrix product of 2-D tensors.
    public func matmul(_ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let a = self
        let y = backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        return Tensor.record(y, inputs: [a, b]) { g in
            // C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back when A was), dB likewise.
            let be = Engine.backend
            let ga = transposeA ? be.matmul(b, g, transposeA: transposeB, transposeB: true)
                                : be.matmul(g, b, transposeA: false, transposeB: !transposeB)
            let gb = transposeB ? be.matmul(g, a, transposeA: true, transposeB: transposeA)
                                : be.matmul(a, g, transposeA: !transposeA, transposeB: false)
            return [ga, gb]
        }
    }

    private func normalizedAxes(_ axes: [Int]) -> [Int] {
        axes.isEmpty ? Array(0..<rank) : axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
    }

    private func droppingAxes(_ axes: [Int]) -> [Int] {
        shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }
}
