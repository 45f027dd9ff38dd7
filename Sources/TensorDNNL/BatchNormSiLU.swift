// Batch norm with the batch's statistics fused with SiLU (YOLOv5's Conv block in training),
// forward and backward, over NHWC rows (M = N·H·W rows of C channels): SIMD over 16 channels
// at a time, rows split over the cores.
//
// Unfused, oneDNN's batch norm reads its input twice and writes once, the SiLU reads and writes
// again, and the backward adds a SiLU pass before batch norm's two. Fused, the forward reads
// the input once for the statistics (each block of rows is read a second time from cache) and
// once for the output; the backward recomputes the pre-activation from the input instead of
// keeping it, so a Conv block keeps one activation-sized tensor for its backward instead of two.
//
// Statistics: each block of rows gives a Float mean and a sum of squared deviations from it
// (the block stays in cache for the second pass); blocks merge in Double with Chan, Golub and
// LeVeque's pairwise update, so no E[x²] − E[x]² cancellation.
import Glibc
import TensorCore

extension DNNLBackend {
    public func batchNormSiLUTraining(input: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let c = input.shape.last!, m = input.count / c
        precondition(m > 0 && c > 0, "batch norm over an empty tensor \(input.shape)")
        let (sumMean, m2) = BNSiLU.statistics(input.storage.pointer, rows: m, channels: c)
        let mean = Tensor(shape: [c], scalars: sumMean.map { Float($0) })
        let variance = Tensor(shape: [c], scalars: m2.map { Float($0 / Double(m)) })
        // z = x·a + b with a = γ/√(v + ε), b = β − μ·a
        let gamma = scale.scalars, beta = shift.scalars
        var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
        for j in 0..<c {
            let inv = 1 / (m2[j] / Double(m) + Double(epsilon)).squareRoot()
            a[j] = Float(Double(gamma[j]) * inv)
            b[j] = Float(Double(beta[j]) - sumMean[j] * Double(gamma[j]) * inv)
        }
        let y = Tensor(uninitializedShape: input.shape)
        let px = input.storage.pointer, py = y.storage.pointer
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            let pa = pa.baseAddress!, pb = pb.baseAddress!
            parallelFor(m, grain: max(1, (1 << 16) / c)) { rows in
                for row in rows { BNSiLU.forwardRow(px + row * c, py + row * c, pa, pb, c) }
            }
        } }
        withExtendedLifetime(input) {}
        return (y, mean, variance)
    }

    public func batchNormSiLUBackward(input: Tensor, gradOutput: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                      variance: Tensor, epsilon: Float)
        -> (input: Tensor, scale: Tensor, shift: Tensor) {
        let c = input.shape.last!, m = input.count / c
        precondition(gradOutput.shape == input.shape, "batch norm gradient \(gradOutput.shape) != \(input.shape)")
        let gamma = scale.scalars, beta = shift.scalars, mu = mean.scalars, v = variance.scalars
        let ch = BNSiLU.Channels(c)
        defer { ch.deallocate() }
        for j in 0..<c {
            let inv = Float(1 / (Double(v[j]) + Double(epsilon)).squareRoot())
            ch.mean[j] = mu[j]; ch.inverseStd[j] = inv; ch.gamma[j] = gamma[j]; ch.beta[j] = beta[j]
            ch.k1[j] = gamma[j] * inv
        }
        // Pass 1 writes dz (the gradient at the pre-activation) into the result and sums Σ dz and
        // Σ dz·x̂ per channel; pass 2 turns dz into dx in place. Keeping dz costs a write and a
        // read, recomputing it a second exponential per value, which measured slower.
        let gx = Tensor(uninitializedShape: input.shape)
        let px = input.storage.pointer, pg = gradOutput.storage.pointer, pd = gx.storage.pointer
        let (sumDz, sumDzXhat) = BNSiLU.gradientSums(px, pg, pd, rows: m, ch)
        // dx = γ/σ · (dz − Σdz/M − x̂·Σ(dz·x̂)/M)
        for j in 0..<c { ch.k2[j] = Float(sumDz[j] / Double(m)); ch.k3[j] = Float(sumDzXhat[j] / Double(m)) }
        parallelFor(m, grain: max(1, (1 << 16) / c)) { rows in
            for row in rows { BNSiLU.inputGradientRow(px + row * c, pd + row * c, ch) }
        }
        withExtendedLifetime((input, gradOutput)) {}
        return (gx, Tensor(shape: [c], scalars: sumDzXhat.map { Float($0) }),
                Tensor(shape: [c], scalars: sumDz.map { Float($0) }))
    }
}

/// The fused kernels' loops.
enum BNSiLU {
    /// Per-channel constants of the backward, rows of one buffer: μ, 1/σ, γ, β, and the
    /// input-gradient factors k1 = γ/σ, k2 = Σdz/M, k3 = Σ(dz·x̂)/M (k2, k3 set after pass 1).
    struct Channels {
        let c: Int
        let mean, inverseStd, gamma, beta, k1, k2, k3: UnsafeMutablePointer<Float>

        init(_ c: Int) {
            self.c = c
            let base = UnsafeMutablePointer<Float>.allocate(capacity: 7 * c)
            base.initialize(repeating: 0, count: 7 * c)
            (mean, inverseStd, gamma, beta) = (base, base + c, base + 2 * c, base + 3 * c)
            (k1, k2, k3) = (base + 4 * c, base + 5 * c, base + 6 * c)
        }

        func deallocate() { mean.deallocate() }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// a·b + c: one fused instruction where the build targets FMA3, else a multiply and an add.
    @inline(__always) static func madd(_ a: V, _ b: V, _ c: V) -> V {
        #if FMA3
        c.addingProduct(a, b)
        #else
        a * b + c
        #endif
    }

    /// eˣ for 16 lanes: x = n·ln2 + r with |r| ≤ ln2/2, Cephes' expf polynomial for eʳ and 2ⁿ
    /// built in the exponent bits; inputs are clamped to [−87.3, 88.3] (no overflow or denormal).
    /// Relative error about 2 ulp.
    @inline(__always) static func exp(_ x: V) -> V {
        var x = x.replacing(with: -87.3, where: x .< -87.3)
        x.replace(with: 88.3, where: x .> 88.3)
        // Round x·log₂e to the nearest integer by adding 1.5·2²³: the sum's low mantissa bits are n.
        let magic = V(repeating: 12_582_912)
        let t = madd(x, V(repeating: 1.442_695_04), magic)
        let n = t - magic
        let r = madd(n, V(repeating: 2.121_944_4e-4), madd(n, V(repeating: -0.693_359_375), x))
        var p = madd(V(repeating: 1.987_569_15e-4), r, V(repeating: 1.398_199_95e-3))
        p = madd(p, r, V(repeating: 8.333_451_9e-3))
        p = madd(p, r, V(repeating: 4.166_579_6e-2))
        p = madd(p, r, V(repeating: 0.166_666_65))
        p = madd(p, r, V(repeating: 0.5))
        p = madd(p, r * r, r) + 1
        let bits = (unsafeBitCast(t, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: V.self)
    }

    @inline(__always) static func sigmoid(_ z: V) -> V { 1 / (1 + exp(-z)) }

    @inline(__always) static func sigmoid(_ z: Float) -> Float { 1 / (1 + Glibc.expf(-z)) }

    /// y = silu(x·a + b) for one row.
    @inline(__always)
    static func forwardRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>,
                           _ b: UnsafePointer<Float>, _ c: Int) {
        var j = 0
        while j + 16 <= c {
            let z = madd(load(x + j), load(a + j), load(b + j))
            store(z / (1 + exp(-z)), y + j)
            j += 16
        }
        while j < c { let z = x[j] * a[j] + b[j]; y[j] = z * sigmoid(z); j += 1 }
    }

    /// Rows per cached block of the two-pass statistics (about 32 KB).
    static func blockRows(_ c: Int) -> Int { max(16, 8192 / c) }

    /// Contiguous row ranges, one per core when the tensor is large enough.
    static func parts(rows m: Int, channels c: Int) -> [Range<Int>] {
        let n = min(ProcessInfoCores.count, max(1, m * c / (1 << 16)))
        let per = (m + n - 1) / n
        return (0..<n).map { $0 * per..<min(m, $0 * per + per) }.filter { !$0.isEmpty }
    }

    /// Runs `body` on each range on the cores; returns the per-range results in range order.
    static func map<R>(_ ranges: [Range<Int>], _ body: (Range<Int>) -> R) -> [R] {
        if ranges.count == 1 { return [body(ranges[0])] }
        let results = UnsafeMutablePointer<R>.allocate(capacity: ranges.count)
        defer { results.deinitialize(count: ranges.count); results.deallocate() }
        teamPerform(ranges.count) { i in (results + i).initialize(to: body(ranges[i])) }
        return Array(UnsafeBufferPointer(start: results, count: ranges.count))
    }

    /// Per-channel mean and sum of squared deviations (M2) over `rows` rows of `channels`.
    static func statistics(_ x: UnsafePointer<Float>, rows m: Int, channels c: Int) -> (mean: [Double], m2: [Double]) {
        let ranges = parts(rows: m, channels: c)
        let partial = map(ranges) { range in statistics(x, range, c) }
        // Merge the parts in order (Chan et al.).
        var mean = partial[0].mean, m2 = partial[0].m2, n = Double(ranges[0].count)
        for (k, part) in partial.enumerated().dropFirst() {
            let nb = Double(ranges[k].count), nab = n + nb
            for j in 0..<c {
                let delta = part.mean[j] - mean[j]
                mean[j] += delta * nb / nab
                m2[j] += part.m2[j] + delta * delta * n * nb / nab
            }
            n = nab
        }
        return (mean, m2)
    }

    private static func statistics(_ x: UnsafePointer<Float>, _ range: Range<Int>, _ c: Int)
        -> (mean: [Double], m2: [Double]) {
        var mean = [Double](repeating: 0, count: c), m2 = [Double](repeating: 0, count: c)
        let blockMean = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
        defer { blockMean.deallocate() }
        let blockM2 = blockMean + c
        let block = blockRows(c)
        var n = 0.0, r = range.lowerBound
        while r < range.upperBound {
            let rows = r..<min(range.upperBound, r + block)
            blockMean.initialize(repeating: 0, count: 2 * c)
            for row in rows {
                let p = x + row * c
                var j = 0
                while j + 16 <= c { store(load(blockMean + j) + load(p + j), blockMean + j); j += 16 }
                while j < c { blockMean[j] += p[j]; j += 1 }
            }
            let nb = Float(rows.count)
            for j in 0..<c { blockMean[j] /= nb }
            for row in rows {
                let p = x + row * c
                var j = 0
                while j + 16 <= c {
                    let d = load(p + j) - load(blockMean + j)
                    store(load(blockM2 + j) + d * d, blockM2 + j)
                    j += 16
                }
                while j < c { let d = p[j] - blockMean[j]; blockM2[j] += d * d; j += 1 }
            }
            let na = n, nbD = Double(rows.count), nab = na + nbD
            for j in 0..<c {
                let delta = Double(blockMean[j]) - mean[j]
                mean[j] += delta * nbD / nab
                m2[j] += Double(blockM2[j]) + delta * delta * na * nbD / nab
            }
            n = nab
            r = rows.upperBound
        }
        return (mean, m2)
    }

    /// dz = g·σ(z)·(1 + z·(1 − σ(z))) at z = x̂·γ + β, x̂ = (x − μ)/σ; returns (dz, x̂).
    @inline(__always)
    static func preActivationGradient(_ x: V, _ g: V, _ ch: Channels, _ j: Int) -> (V, V) {
        let xhat = (x - load(ch.mean + j)) * load(ch.inverseStd + j)
        let z = madd(xhat, load(ch.gamma + j), load(ch.beta + j))
        let s = sigmoid(z)
        return (g * s * madd(z, 1 - s, V(repeating: 1)), xhat)
    }

    @inline(__always)
    static func preActivationGradient(_ x: Float, _ g: Float, _ ch: Channels, _ j: Int) -> (Float, Float) {
        let xhat = (x - ch.mean[j]) * ch.inverseStd[j]
        let z = xhat * ch.gamma[j] + ch.beta[j]
        let s = sigmoid(z)
        return (g * s * (1 + z * (1 - s)), xhat)
    }

    /// Writes dz to `dz` and returns Σ dz and Σ dz·x̂ per channel (Float within a block of rows,
    /// Double across blocks and cores).
    static func gradientSums(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dz: UnsafeMutablePointer<Float>,
                             rows m: Int, _ ch: Channels) -> (sumDz: [Double], sumDzXhat: [Double]) {
        let c = ch.c
        let partial = map(parts(rows: m, channels: c)) { range -> ([Double], [Double]) in
            var s1 = [Double](repeating: 0, count: c), s2 = [Double](repeating: 0, count: c)
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
            defer { acc.deallocate() }
            let acc2 = acc + c
            let block = blockRows(c)
            var r = range.lowerBound
            while r < range.upperBound {
                let rows = r..<min(range.upperBound, r + block)
                acc.initialize(repeating: 0, count: 2 * c)
                for row in rows {
                    let px = x + row * c, pg = g + row * c, pd = dz + row * c
                    var j = 0
                    while j + 16 <= c {
                        let (d, xhat) = preActivationGradient(load(px + j), load(pg + j), ch, j)
                        store(d, pd + j)
                        store(load(acc + j) + d, acc + j)
                        store(madd(d, xhat, load(acc2 + j)), acc2 + j)
                        j += 16
                    }
                    while j < c {
                        let (d, xhat) = preActivationGradient(px[j], pg[j], ch, j)
                        pd[j] = d
                        acc[j] += d; acc2[j] += d * xhat
                        j += 1
                    }
                }
                for j in 0..<c { s1[j] += Double(acc[j]); s2[j] += Double(acc2[j]) }
                r = rows.upperBound
            }
            return (s1, s2)
        }
        var s1 = partial[0].0, s2 = partial[0].1
        for part in partial.dropFirst() {
            for j in 0..<c { s1[j] += part.0[j]; s2[j] += part.1[j] }
        }
        return (s1, s2)
    }

    /// dx = γ/σ · (dz − Σdz/M − x̂·Σ(dz·x̂)/M) for one row, `d` holding dz on entry and dx on
    /// return (k1 = γ/σ, k2 = Σdz/M, k3 = Σ(dz·x̂)/M).
    @inline(__always)
    static func inputGradientRow(_ x: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ ch: Channels) {
        let c = ch.c
        var j = 0
        while j + 16 <= c {
            let xhat = (load(x + j) - load(ch.mean + j)) * load(ch.inverseStd + j)
            store(load(ch.k1 + j) * (load(d + j) - load(ch.k2 + j) - xhat * load(ch.k3 + j)), d + j)
            j += 16
        }
        while j < c {
            let xhat = (x[j] - ch.mean[j]) * ch.inverseStd[j]
            d[j] = ch.k1[j] * (d[j] - ch.k2[j] - xhat * ch.k3[j])
            j += 1
        }
    }
}
