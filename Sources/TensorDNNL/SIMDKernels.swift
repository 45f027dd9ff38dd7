// Element-wise, reduction and layout kernels in Swift: SIMD over unsafe buffers, large
// tensors split over the cores. Shapes outside the fast paths fall back to the reference
// loops (correct, slow, and rare in YOLOv5's graphs).
import CDNNL
import Glibc
import RealModule
import TensorCore

/// Splits `0..<count` into chunks over the cores when the work is large enough.
@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
    let chunks = min(ProcessInfoCores.count, max(1, count / grain))
    if chunks <= 1 { body(0..<count); return }
    let per = (count + chunks - 1) / chunks
    teamPerform(chunks) { i in
        let lo = i * per
        body(lo..<min(count, lo + per))
    }
}

/// Runs `body(0)…body(n − 1)` in parallel on OpenMP's thread team, the one oneDNN's
/// primitives use: right after a primitive its workers spin waiting for more work, and a
/// second pool (GCD) running a Swift kernel then would share the cores with them (measured:
/// a fused batch-norm kernel on GCD ran at about half speed after each convolution).
func teamPerform(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { if n == 1 { body(0) }; return }
    withoutActuallyEscaping(body) { body in
        var job = TeamJob(body: body, count: n)
        withUnsafeMutablePointer(to: &job) { p in
            GOMP_parallel({ raw in
                let job = raw!.assumingMemoryBound(to: TeamJob.self).pointee
                // A nested or limited team may have fewer threads than items: stride over them.
                let threads = Int(omp_get_num_threads())
                var i = Int(omp_get_thread_num())
                while i < job.count { job.body(i); i += threads }
            }, p, UInt32(n), 0)
        }
    }
}

/// What `teamPerform` hands to the team (read-only while it runs).
private struct TeamJob {
    let body: (Int) -> Void
    let count: Int
}

enum ProcessInfoCores {
    static let count: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// A pthread mutex (the backend's caches may be reached from several threads).
final class PThreadMutex: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    deinit { pthread_mutex_destroy(m); m.deallocate() }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

typealias V = SIMD16<Float>

final class SIMDKernels: @unchecked Sendable {
    let reference = ReferenceBackend()

    /// y[i] = f(a[i], b[i]) for a same-shape pair, SIMD with a scalar tail.
    @inline(__always)
    func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
             _ n: Int, _ v: (V, V) -> V, _ s: (Float, Float) -> Float) {
        parallelFor(n) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let x = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
                let w = UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: v(x, w), as: V.self)
                i += 16
            }
            while i < r.upperBound { y[i] = s(a[i], b[i]); i += 1 }
        }
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        let (vf, sf): ((V, V) -> V, (Float, Float) -> Float)
        switch op {
        case .add: (vf, sf) = ({ $0 + $1 }, { $0 + $1 })
        case .sub: (vf, sf) = ({ $0 - $1 }, { $0 - $1 })
        case .mul: (vf, sf) = ({ $0 * $1 }, { $0 * $1 })
        case .div: (vf, sf) = ({ $0 / $1 }, { $0 / $1 })
        default: return reference.binary(op, a, b)
        }
        let pa = a.storage.pointer, pb = b.storage.pointer
        if a.shape == b.shape {
            let y = Tensor(uninitializedShape: a.shape)
            zip(pa, pb, y.storage.pointer, a.count, vf, sf)
            return y
        }
        // One side broadcast along leading axes (a scalar, or a per-channel vector in NHWC).
        if let big = [a, b].first(where: { $0.count >= a.count && $0.count >= b.count }),
           let small = [a, b].first(where: { $0.storage !== big.storage || a.count == b.count }),
           small.count > 0, big.count % small.count == 0,
           broadcastShape(a.shape, b.shape) == big.shape,
           Array(big.shape.suffix(small.rank)) == small.shape.map({ $0 }) || small.count == 1 {
            let period = small.count, bigIsA = big.storage === a.storage && big.shape == a.shape
            let y = Tensor(uninitializedShape: big.shape)
            let py = y.storage.pointer, pbig = big.storage.pointer, psmall = small.storage.pointer
            let rows = big.count / period
            parallelFor(rows, grain: max(1, (1 << 16) / max(period, 1))) { r in
                for row in r {
                    let o = row * period
                    if bigIsA { self.zipSerial(pbig + o, psmall, py + o, period, vf, sf) }
                    else { self.zipSerial(psmall, pbig + o, py + o, period, vf, sf) }
                }
            }
            return y
        }
        return reference.binary(op, a, b)
    }

    @inline(__always)
    func zipSerial(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                   _ n: Int, _ v: (V, V) -> V, _ s: (Float, Float) -> Float) {
        if n == 1 {
            // A scalar broadcast against one element at a time is never taken: rows of 1 are
            // only produced when both sides have one element per row.
            y[0] = s(a[0], b[0]); return
        }
        var i = 0
        while i + 16 <= n {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            let w = UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v(x, w), as: V.self)
            i += 16
        }
        while i < n { y[i] = s(a[i], b[i]); i += 1 }
    }

    func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let y = Tensor(uninitializedShape: x.shape)
        let px = x.storage.pointer, py = y.storage.pointer
        parallelFor(x.count) { r in
            switch op {
            case let .affine(s, b):
                self.mapSIMD(px, py, r, { $0 * s + b }, { $0 * s + b })
            case .neg:
                self.mapSIMD(px, py, r, { -$0 }, { -$0 })
            case let .clamp(lo, hi):
                self.mapSIMD(px, py, r, { $0.replacing(with: lo, where: $0 .< lo).replacing(with: hi, where: $0 .> hi) },
                             { $0.isNaN ? $0 : Swift.min(Swift.max($0, lo), hi) })
            default:
                for i in r { py[i] = Elementwise.unary(op, px[i]) }
            }
        }
        return y
    }

    @inline(__always)
    func mapSIMD(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ r: Range<Int>,
                 _ v: (V) -> V, _ s: (Float) -> Float) {
        var i = r.lowerBound
        while i + 16 <= r.upperBound {
            UnsafeMutableRawPointer(y + i).storeBytes(of: v(UnsafeRawPointer(x + i).loadUnaligned(as: V.self)),
                                                      as: V.self)
            i += 16
        }
        while i < r.upperBound { y[i] = s(x[i]); i += 1 }
    }

    /// Sums over leading axes (to a per-channel vector) or trailing axes (per row); other
    /// patterns fall back to the reference.
    func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) -> Tensor {
        let sorted = axes.sorted()
        var outShape = x.shape
        for a in sorted { outShape[a] = 1 }
        let k = sorted.count
        guard op == .sum, k > 0 else { return reference.reduce(op, x, axes: axes) }
        let px = x.storage.pointer
        if sorted == Array(0..<k) {
            // (rows, inner) → (inner): accumulate rows, split over the cores by column blocks.
            let inner = x.shape[k...].reduce(1, *), rows = x.count / max(inner, 1)
            let y = Tensor(zeros: outShape)
            let py = y.storage.pointer
            for row in 0..<rows {
                let src = px + row * inner
                var i = 0
                while i + 16 <= inner {
                    let acc = UnsafeRawPointer(py + i).loadUnaligned(as: V.self)
                        + UnsafeRawPointer(src + i).loadUnaligned(as: V.self)
                    UnsafeMutableRawPointer(py + i).storeBytes(of: acc, as: V.self)
                    i += 16
                }
                while i < inner { py[i] += src[i]; i += 1 }
            }
            return y
        }
        if sorted == Array((x.rank - k)..<x.rank) {
            let inner = x.shape[(x.rank - k)...].reduce(1, *), rows = x.count / max(inner, 1)
            let y = Tensor(uninitializedShape: outShape)
            let py = y.storage.pointer
            parallelFor(rows, grain: max(1, (1 << 16) / max(inner, 1))) { r in
                for row in r { py[row] = self.sumSerial(px + row * inner, inner) }
            }
            return y
        }
        return reference.reduce(op, x, axes: axes)
    }

    @inline(__always)
    func sumSerial(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0), i = 0
        while i + 16 <= n { acc += UnsafeRawPointer(p + i).loadUnaligned(as: V.self); i += 16 }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Block copies for concat: each input contributes a run of `shape[axis]·inner` per outer index.
    func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        var shape = xs[0].shape
        shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let y = Tensor(uninitializedShape: shape)
        let rowOut = shape[axis] * inner
        var offset = 0
        for x in xs {
            let row = x.shape[axis] * inner
            let src = x.storage.pointer, dst = y.storage.pointer + offset
            parallelFor(outer, grain: max(1, (1 << 16) / max(row, 1))) { r in
                for o in r { (dst + o * rowOut).update(from: src + o * row, count: row) }
            }
            offset += row
        }
        return y
    }

    func slice(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor {
        var shape = x.shape
        shape[axis] = range.count
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        let y = Tensor(uninitializedShape: shape)
        let row = range.count * inner, rowIn = x.shape[axis] * inner
        let src = x.storage.pointer + range.lowerBound * inner, dst = y.storage.pointer
        parallelFor(outer, grain: max(1, (1 << 16) / max(row, 1))) { r in
            for o in r { (dst + o * row).update(from: src + o * rowIn, count: row) }
        }
        return y
    }

    /// Generic permute: walks the output in order with an odometer over input strides.
    func permute(_ x: Tensor, dims: [Int]) -> Tensor {
        let shape = dims.map { x.shape[$0] }
        let inStrides = x.strides
        let strides = dims.map { inStrides[$0] }
        let y = Tensor(uninitializedShape: shape)
        let px = x.storage.pointer, py = y.storage.pointer
        let n = shape.count
        guard n > 0, y.count > 0 else { if y.count > 0 { py[0] = px[0] }; return y }
        let last = shape[n - 1], lastStride = strides[n - 1]
        let rows = y.count / last
        var index = [Int](repeating: 0, count: n)
        var src = 0
        for row in 0..<rows {
            let out = py + row * last
            if lastStride == 1 { out.update(from: px + src, count: last) }
            else { for j in 0..<last { out[j] = px[src + j * lastStride] } }
            var d = n - 2
            while d >= 0 {
                index[d] += 1; src += strides[d]
                if index[d] < shape[d] { break }
                src -= strides[d] * shape[d]; index[d] = 0; d -= 1
            }
        }
        return y
    }

    /// `cond != 0 ? a : b` for same-shape operands or scalar branches; else the reference.
    func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = cond.shape
        guard (a.shape == shape || a.count == 1), (b.shape == shape || b.count == 1) else {
            return reference.select(cond, a, b)
        }
        let y = Tensor(uninitializedShape: shape)
        let pc = cond.storage.pointer, pa = a.storage.pointer, pb = b.storage.pointer, py = y.storage.pointer
        let sa = a.count == 1 ? 0 : 1, sb = b.count == 1 ? 0 : 1
        parallelFor(cond.count) { r in
            for i in r { py[i] = pc[i] != 0 ? pa[i * sa] : pb[i * sb] }
        }
        return y
    }

    func gatherRows(_ x: Tensor, indices: [Int]) -> Tensor {
        let c = x.rank <= 1 ? 1 : x.count / x.shape[0]
        let y = Tensor(uninitializedShape: [indices.count] + Array(x.shape.dropFirst()))
        let px = x.storage.pointer, py = y.storage.pointer
        for (r, i) in indices.enumerated() { (py + r * c).update(from: px + i * c, count: c) }
        return y
    }

    func scatterAddRows(_ source: Tensor, indices: [Int], rows: Int) -> Tensor {
        let c = source.rank <= 1 ? 1 : source.count / source.shape[0]
        let y = Tensor(zeros: [rows] + Array(source.shape.dropFirst()))
        let ps = source.storage.pointer, py = y.storage.pointer
        for (r, i) in indices.enumerated() {
            let d = py + i * c, s = ps + r * c
            for j in 0..<c { d[j] += s[j] }
        }
        return y
    }
}
