// Plain Swift loops for every kernel: the oracle the fast backends are tested against.
// Written for clarity, not speed; nothing here is tuned.
import RealModule

public final class ReferenceBackend: Backend {
    public init() {}
    public var name: String { "reference" }

    // MARK: convolution (NHWC input, OIHW weight)

    public func conv2d(input: Tensor, weight: Tensor, bias: Tensor?, params p: Conv2DParams) -> Tensor {
        precondition(input.shape == p.inputShape && weight.shape == p.weightShape)
        var out = Tensor(zeros: p.outputShape)
        let x = input.scalars, w = weight.scalars, b = bias?.scalars
        let cig = p.inChannels / p.groups, cog = p.outChannels / p.groups
        out.withUnsafeMutableBufferPointer { y in
            for n in 0..<p.batch { for oh in 0..<p.outHeight { for ow in 0..<p.outWidth {
                for oc in 0..<p.outChannels {
                    let g = oc / cog
                    var acc: Float = b?[oc] ?? 0
                    for kh in 0..<p.kernelHeight { for kw in 0..<p.kernelWidth {
                        let ih = oh * p.strideH - p.padH + kh, iw = ow * p.strideW - p.padW + kw
                        guard ih >= 0, ih < p.inHeight, iw >= 0, iw < p.inWidth else { continue }
                        for ci in 0..<cig {
                            let xv = x[((n * p.inHeight + ih) * p.inWidth + iw) * p.inChannels + g * cig + ci]
                            acc += xv * w[((oc * cig + ci) * p.kernelHeight + kh) * p.kernelWidth + kw]
                        }
                    } }
                    y[((n * p.outHeight + oh) * p.outWidth + ow) * p.outChannels + oc] = acc
                }
            } } }
        }
        return out
    }

    public func conv2dBackwardData(gradOutput: Tensor, weight: Tensor, params p: Conv2DParams) -> Tensor {
        var gx = Tensor(zeros: p.inputShape)
        let gy = gradOutput.scalars, w = weight.scalars
        let cig = p.inChannels / p.groups, cog = p.outChannels / p.groups
        gx.withUnsafeMutableBufferPointer { gxp in
            for n in 0..<p.batch { for oh in 0..<p.outHeight { for ow in 0..<p.outWidth {
                for oc in 0..<p.outChannels {
                    let g = oc / cog
                    let go = gy[((n * p.outHeight + oh) * p.outWidth + ow) * p.outChannels + oc]
                    for kh in 0..<p.kernelHeight { for kw in 0..<p.kernelWidth {
                        let ih = oh * p.strideH - p.padH + kh, iw = ow * p.strideW - p.padW + kw
                        guard ih >= 0, ih < p.inHeight, iw >= 0, iw < p.inWidth else { continue }
                        for ci in 0..<cig {
                            gxp[((n * p.inHeight + ih) * p.inWidth + iw) * p.inChannels + g * cig + ci] +=
                                go * w[((oc * cig + ci) * p.kernelHeight + kh) * p.kernelWidth + kw]
                        }
                    } }
                }
            } } }
        }
        return gx
    }

    public func conv2dBackwardWeights(input: Tensor, gradOutput: Tensor, params p: Conv2DParams,
                                      withBias: Bool) -> (weight: Tensor, bias: Tensor?) {
        var gw = Tensor(zeros: p.weightShape)
        var gb = Tensor(zeros: [p.outChannels])
        let x = input.scalars, gy = gradOutput.scalars
        let cig = p.inChannels / p.groups, cog = p.outChannels / p.groups
        gw.withUnsafeMutableBufferPointer { gwp in
            gb.withUnsafeMutableBufferPointer { gbp in
                for n in 0..<p.batch { for oh in 0..<p.outHeight { for ow in 0..<p.outWidth {
                    for oc in 0..<p.outChannels {
                        let g = oc / cog
                        let go = gy[((n * p.outHeight + oh) * p.outWidth + ow) * p.outChannels + oc]
                        gbp[oc] += go
                        for kh in 0..<p.kernelHeight { for kw in 0..<p.kernelWidth {
                            let ih = oh * p.strideH - p.padH + kh, iw = ow * p.strideW - p.padW + kw
                            guard ih >= 0, ih < p.inHeight, iw >= 0, iw < p.inWidth else { continue }
                            for ci in 0..<cig {
                                gwp[((oc * cig + ci) * p.kernelHeight + kh) * p.kernelWidth + kw] +=
                                    go * x[((n * p.inHeight + ih) * p.inWidth + iw) * p.inChannels + g * cig + ci]
                            }
                        } }
                    }
                } } }
            }
        }
        return (gw, withBias ? gb : nil)
    }

    // MARK: batch norm over all axes but the last

    public func batchNormTraining(input: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let c = input.shape.last!, m = input.count / c
        let x = input.scalars
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        for i in 0..<m { for j in 0..<c { mean[j] += Double(x[i * c + j]) } }
        for j in 0..<c { mean[j] /= Double(m) }
        for i in 0..<m { for j in 0..<c { let d = Double(x[i * c + j]) - mean[j]; variance[j] += d * d } }
        for j in 0..<c { variance[j] /= Double(m) }
        let meanT = Tensor(shape: [c], scalars: mean.map { Float($0) })
        let varT = Tensor(shape: [c], scalars: variance.map { Float($0) })
        let y = batchNormInference(input: input, scale: scale, shift: shift, mean: meanT,
                                   variance: varT, epsilon: epsilon)
        return (y, meanT, varT)
    }

    public func batchNormInference(input: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                   variance: Tensor, epsilon: Float) -> Tensor {
        let c = input.shape.last!
        let x = input.scalars, g = scale.scalars, b = shift.scalars, mu = mean.scalars, v = variance.scalars
        var out = Tensor(uninitializedShape: input.shape)
        out.withUnsafeMutableBufferPointer { y in
            for i in 0..<input.count {
                let j = i % c
                y[i] = (x[i] - mu[j]) / (v[j] + epsilon).squareRoot() * g[j] + b[j]
            }
        }
        return out
    }

    public func batchNormBackward(input: Tensor, gradOutput: Tensor, scale: Tensor, mean: Tensor,
                                  variance: Tensor, epsilon: Float)
        -> (input: Tensor, scale: Tensor, shift: Tensor) {
        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy
        let c = input.shape.last!, m = input.count / c
        let x = input.scalars, dy = gradOutput.scalars, g = scale.scalars
        let mu = mean.scalars, v = variance.scalars
        var sumDy = [Double](repeating: 0, count: c), sumDyXhat = [Double](repeating: 0, count: c)
        for i in 0..<m { for j in 0..<c {
            let xhat = Double(x[i * c + j] - mu[j]) / Double(v[j] + epsilon).squareRoot()
            sumDy[j] += Double(dy[i * c + j]); sumDyXhat[j] += Double(dy[i * c + j]) * xhat
        } }
        var dx = Tensor(uninitializedShape: input.shape)
        dx.withUnsafeMutableBufferPointer { out in
            for i in 0..<m { for j in 0..<c {
                let inv = 1 / Double(v[j] + epsilon).squareRoot()
                let xhat = Double(x[i * c + j] - mu[j]) * inv
                let d = Double(dy[i * c + j]) - sumDy[j] / Double(m) - xhat * sumDyXhat[j] / Double(m)
                out[i * c + j] = Float(Double(g[j]) * inv * d)
            } }
        }
        return (dx, Tensor(shape: [c], scalars: sumDyXhat.map { Float($0) }),
                Tensor(shape: [c], scalars: sumDy.map { Float($0) }))
    }

    // MARK: activations

    public func activation(_ kind: Activation, _ x: Tensor) -> Tensor {
        map(x) { Activations.forward(kind, $0) }
    }

    public func activationBackward(_ kind: Activation, input: Tensor, gradOutput: Tensor) -> Tensor {
        let x = input.scalars, gy = gradOutput.scalars
        var out = Tensor(uninitializedShape: input.shape)
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<x.count { o[i] = gy[i] * Activations.derivative(kind, x[i]) }
        }
        return out
    }

    // MARK: pooling and resampling

    public func maxPool2d(input: Tensor, params p: Pool2DParams) -> Tensor {
        let x = input.scalars
        var out = Tensor(uninitializedShape: p.outputShape)
        out.withUnsafeMutableBufferPointer { y in
            for n in 0..<p.batch { for oh in 0..<p.outHeight { for ow in 0..<p.outWidth { for c in 0..<p.channels {
                y[((n * p.outHeight + oh) * p.outWidth + ow) * p.channels + c] =
                    x[argmaxIndex(x, p, n, oh, ow, c)]
            } } } }
        }
        return out
    }

    public func maxPool2dBackward(input: Tensor, gradOutput: Tensor, params p: Pool2DParams) -> Tensor {
        let x = input.scalars, gy = gradOutput.scalars
        var gx = Tensor(zeros: input.shape)
        gx.withUnsafeMutableBufferPointer { g in
            for n in 0..<p.batch { for oh in 0..<p.outHeight { for ow in 0..<p.outWidth { for c in 0..<p.channels {
                g[argmaxIndex(x, p, n, oh, ow, c)] += gy[((n * p.outHeight + oh) * p.outWidth + ow) * p.channels + c]
            } } } }
        }
        return gx
    }

    /// Flat index of the first maximum in a window (PyTorch's tie rule).
    private func argmaxIndex(_ x: [Float], _ p: Pool2DParams, _ n: Int, _ oh: Int, _ ow: Int, _ c: Int) -> Int {
        var best = -Float.infinity, bestIndex = -1
        for kh in 0..<p.kernel { for kw in 0..<p.kernel {
            let ih = oh * p.stride - p.padding + kh, iw = ow * p.stride - p.padding + kw
            guard ih >= 0, ih < p.inHeight, iw >= 0, iw < p.inWidth else { continue }
            let idx = ((n * p.inHeight + ih) * p.inWidth + iw) * p.channels + c
            if x[idx] > best || bestIndex < 0 { best = x[idx]; bestIndex = idx }
        } }
        return bestIndex
    }

    public func upsampleNearest(input: Tensor, scale s: Int) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let x = input.scalars
        var out = Tensor(uninitializedShape: [n, h * s, w * s, c])
        out.withUnsafeMutableBufferPointer { y in
            for b in 0..<n { for i in 0..<(h * s) { for j in 0..<(w * s) { for k in 0..<c {
                y[((b * h * s + i) * w * s + j) * c + k] = x[((b * h + i / s) * w + j / s) * c + k]
            } } } }
        }
        return out
    }

    public func upsampleNearestBackward(gradOutput: Tensor, scale s: Int) -> Tensor {
        let (n, hs, ws, c) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2], gradOutput.shape[3])
        let gy = gradOutput.scalars
        var gx = Tensor(zeros: [n, hs / s, ws / s, c])
        gx.withUnsafeMutableBufferPointer { g in
            for b in 0..<n { for i in 0..<hs { for j in 0..<ws { for k in 0..<c {
                g[((b * (hs / s) + i / s) * (ws / s) + j / s) * c + k] += gy[((b * hs + i) * ws + j) * c + k]
            } } } }
        }
        return gx
    }

    // MARK: layout

    public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        var shape = xs[0].shape
        shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let outer = xs[0].shape[..<axis].reduce(1, *)
        let inner = xs[0].shape[(axis + 1)...].reduce(1, *)
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { y in
            var offset = 0
            let rowOut = shape[axis] * inner
            for x in xs {
                let row = x.shape[axis] * inner
                let v = x.scalars
                for o in 0..<outer { for i in 0..<row { y[o * rowOut + offset + i] = v[o * row + i] } }
                offset += row
            }
        }
        return out
    }

    public func slice(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor {
        var shape = x.shape
        shape[axis] = range.count
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        let v = x.scalars
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { y in
            for o in 0..<outer { for (k, a) in range.enumerated() { for i in 0..<inner {
                y[(o * range.count + k) * inner + i] = v[(o * x.shape[axis] + a) * inner + i]
            } } }
        }
        return out
    }

    public func permute(_ x: Tensor, dims: [Int]) -> Tensor {
        let shape = dims.map { x.shape[$0] }
        let inStrides = x.strides, v = x.scalars
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { y in
            var index = [Int](repeating: 0, count: shape.count)
            for flat in 0..<y.count {
                var src = 0
                for d in 0..<shape.count { src += index[d] * inStrides[dims[d]] }
                y[flat] = v[src]
                var d = shape.count - 1
                while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
            }
        }
        return out
    }

    // MARK: element-wise

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("cannot broadcast \(a.shape) with \(b.shape)")
        }
        let ia = broadcastIndexer(a.shape, to: shape), ib = broadcastIndexer(b.shape, to: shape)
        let av = a.scalars, bv = b.scalars
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count { y[i] = Elementwise.binary(op, av[ia(i)], bv[ib(i)]) }
        }
        return out
    }

    public func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor { map(x) { Elementwise.unary(op, $0) } }

    public func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(broadcastShape(cond.shape, a.shape)!, b.shape)!
        let ic = broadcastIndexer(cond.shape, to: shape), ia = broadcastIndexer(a.shape, to: shape)
        let ib = broadcastIndexer(b.shape, to: shape)
        let cv = cond.scalars, av = a.scalars, bv = b.scalars
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count { y[i] = cv[ic(i)] != 0 ? av[ia(i)] : bv[ib(i)] }
        }
        return out
    }

    public func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) -> Tensor {
        var shape = x.shape
        for a in axes { shape[a] = 1 }
        let index = broadcastIndexer(shape, to: x.shape)
        var acc = [Double](repeating: op == .sum ? 0 : -.infinity, count: Tensor.elementCount(shape))
        let v = x.scalars
        for i in 0..<v.count {
            let j = index(i)
            switch op {
            case .sum: acc[j] += Double(v[i])
            case .max: acc[j] = Swift.max(acc[j], Double(v[i]))
            }
        }
        return Tensor(shape: shape, scalars: acc.map { Float($0) })
    }

    // MARK: linear algebra and indexing

    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matmul inner dimensions \(k) and \(k2) differ")
        let av = a.scalars, bv = b.scalars
        var out = Tensor(uninitializedShape: [m, n])
        out.withUnsafeMutableBufferPointer { y in
            for i in 0..<m { for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    let x = transposeA ? av[p * m + i] : av[i * k + p]
                    let w = transposeB ? bv[j * k + p] : bv[p * n + j]
                    s += x * w
                }
                y[i * n + j] = s
            } }
        }
        return out
    }

    public func gatherRows(_ x: Tensor, indices: [Int]) -> Tensor {
        let c = x.rank == 1 ? 1 : x.count / x.shape[0]
        let v = x.scalars
        var out = Tensor(uninitializedShape: [indices.count] + Array(x.shape.dropFirst()))
        out.withUnsafeMutableBufferPointer { y in
            for (r, i) in indices.enumerated() { for j in 0..<c { y[r * c + j] = v[i * c + j] } }
        }
        return out
    }

    public func scatterAddRows(_ source: Tensor, indices: [Int], rows: Int) -> Tensor {
        let c = source.rank == 1 ? 1 : source.count / source.shape[0]
        let v = source.scalars
        var out = Tensor(zeros: [rows] + Array(source.shape.dropFirst()))
        out.withUnsafeMutableBufferPointer { y in
            for (r, i) in indices.enumerated() { for j in 0..<c { y[i * c + j] += v[r * c + j] } }
        }
        return out
    }

    // MARK: helpers

    private func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        var out = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { y in for i in 0..<src.count { y[i] = f(src[i]) } }
        }
        return out
    }
}

/// Maps a flat index in `target` to the flat index of the broadcast source of shape `source`.
public func broadcastIndexer(_ source: [Int], to target: [Int]) -> (Int) -> Int {
    let pad = target.count - source.count
    let s = [Int](repeating: 1, count: pad) + source
    let srcStrides = Tensor.contiguousStrides(s)
    let tgtStrides = Tensor.contiguousStrides(target)
    return { flat in
        var rem = flat, idx = 0
        for d in 0..<target.count {
            let coord = rem / tgtStrides[d]
            rem -= coord * tgtStrides[d]
            if s[d] != 1 { idx += coord * srcStrides[d] }
        }
        return idx
    }
}

/// Scalar definitions of the element-wise ops, shared by every backend's slow paths.
public enum Elementwise {
    @inline(__always)
    public static func binary(_ op: BinaryOp, _ a: Float, _ b: Float) -> Float {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return power(a, b)
        case .minimum: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        case .maximum: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .equal: return a == b ? 1 : 0
        case .less: return a < b ? 1 : 0
        case .lessEqual: return a <= b ? 1 : 0
        case .greater: return a > b ? 1 : 0
        case .greaterEqual: return a >= b ? 1 : 0
        }
    }

    /// x^y as C `powf` and torch define it: x^0 = 1, and a negative base with an integral
    /// exponent is real ((−2)² = 4). RealModule's `Float.pow(x, y)` is NaN for both.
    @inline(__always)
    public static func power(_ x: Float, _ y: Float) -> Float {
        if y == 0 { return 1 }
        if x < 0, y == y.rounded(.towardZero), Swift.abs(y) < 0x1p24 { return Float.pow(x, Int(y)) }
        return Float.pow(x, y)
    }

    @inline(__always)
    public static func unary(_ op: UnaryOp, _ x: Float) -> Float {
        switch op {
        case .neg: return -x
        case .exp: return Float.exp(x)
        case .log: return Float.log(x)
        case .sqrt: return x.squareRoot()
        case .atan: return Float.atan(x)
        case .abs: return Swift.abs(x)
        case let .clamp(lo, hi): return x.isNaN ? x : Swift.min(Swift.max(x, lo), hi)
        case let .insideMask(lo, hi): return x >= lo && x <= hi ? 1 : 0
        case let .affine(s, b): return x * s + b
        case let .powScalar(e): return power(x, e)
        }
    }
}

/// Scalar definitions of the activations and their derivatives.
public enum Activations {
    @inline(__always)
    public static func forward(_ kind: Activation, _ x: Float) -> Float {
        switch kind {
        case .silu: return x / (1 + Float.exp(-x))
        case .sigmoid: return 1 / (1 + Float.exp(-x))
        case .relu: return Swift.max(x, 0)
        case let .leakyRelu(slope): return x > 0 ? x : slope * x
        case .hardswish: return x * Swift.min(Swift.max(x + 3, 0), 6) / 6
        }
    }

    /// d forward / dx, with PyTorch's choices at the kinks (relu'(0) = 0, hardswish'(±3) as torch).
    @inline(__always)
    public static func derivative(_ kind: Activation, _ x: Float) -> Float {
        switch kind {
        case .silu:
            let s = 1 / (1 + Float.exp(-x))
            return s * (1 + x * (1 - s))
        case .sigmoid:
            let s = 1 / (1 + Float.exp(-x))
            return s * (1 - s)
        case .relu: return x > 0 ? 1 : 0
        case let .leakyRelu(slope): return x > 0 ? 1 : slope
        case .hardswish:
            if x < -3 { return 0 }
            if x <= 3 { return x / 3 + 0.5 }
            return 1
        }
    }
}
