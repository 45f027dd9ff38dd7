// The few numpy routines YOLOv5's AP code leans on, reproduced with numpy 2.x's semantics and,
// where it is cheap, its exact rounding: linspace, interp, trapz, pairwise sums, the box filter.

/// `np.linspace(start, stop, num)`: `i * ((stop - start) / (num - 1)) + start`, last = stop.
func linspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
    guard num > 1 else { return num == 1 ? [start] : [] }
    let step = (stop - start) / Double(num - 1)
    var y = (0..<num).map { Double($0) * step + start }
    y[num - 1] = stop
    return y
}

/// `np.interp(x, xp, fp, left, right)` for non-decreasing `xp` (numpy's `arr_interp`).
/// Uses the last `j` with `xp[j] <= x`, returns `fp[j]` on an exact hit (so duplicated `xp`
/// take the last value), `left`/`right` (default `fp.first`/`fp.last`) outside the range.
func interp(_ x: [Double], _ xp: [Double], _ fp: [Double], left: Double? = nil, right: Double? = nil) -> [Double] {
    precondition(xp.count == fp.count && !xp.isEmpty, "interp needs matching, non-empty xp and fp")
    let lval = left ?? fp[0], rval = right ?? fp[fp.count - 1], n = xp.count
    return x.map { v in
        if v.isNaN { return v }
        if n == 1 { return v < xp[0] ? lval : (v > xp[0] ? rval : fp[0]) }
        if v > xp[n - 1] { return rval }
        if v < xp[0] { return lval }
        var lo = 0, hi = n  // bisect for the first index with xp > v
        while lo < hi {
            let mid = lo + (hi - lo) >> 1
            if v >= xp[mid] { lo = mid + 1 } else { hi = mid }
        }
        let j = lo - 1
        if j == n - 1 || xp[j] == v { return fp[j] }
        let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
        var y = slope * (v - xp[j]) + fp[j]
        if y.isNaN {  // numpy retries from the right end, then falls back to a flat segment
            y = slope * (v - xp[j + 1]) + fp[j + 1]
            if y.isNaN && fp[j] == fp[j + 1] { y = fp[j] }
        }
        return y
    }
}

/// `np.trapz(y, x)`: `sum(diff(x) * (y[1:] + y[:-1]) / 2)` with numpy's pairwise summation.
func trapz(_ y: [Double], _ x: [Double]) -> Double {
    precondition(x.count == y.count)
    guard y.count > 1 else { return 0 }
    let terms = (0..<(y.count - 1)).map { (i: Int) -> Double in
        let dx: Double = x[i + 1] - x[i], sum: Double = y[i + 1] + y[i]
        return dx * sum / 2.0
    }
    return pairwiseSum(terms[...])
}

/// numpy's `pairwise_sum` for float64 (`np.add.reduce` of a contiguous 1-D array): plain loop
/// under 8 elements, 8 interleaved accumulators up to 128, halves (multiple of 8) beyond.
func pairwiseSum(_ a: ArraySlice<Double>) -> Double {
    let n = a.count, s = a.startIndex
    if n < 8 { return a.reduce(0, +) }
    if n <= 128 {
        var r = Array(a[s..<(s + 8)])
        var i = 8
        while i < n - n % 8 {
            for k in 0..<8 { r[k] += a[s + i + k] }
            i += 8
        }
        var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n { res += a[s + i]; i += 1 }
        return res
    }
    var n2 = n / 2
    n2 -= n2 % 8
    return pairwiseSum(a[s..<(s + n2)]) + pairwiseSum(a[(s + n2)...])
}

/// `np.mean` of a 1-D float64 array: pairwise sum over the count.
func mean(_ a: [Double]) -> Double { pairwiseSum(a[...]) / Double(a.count) }

/// YOLOv5's `smooth(y, f)`: box filter of `nf = round(len·f·2) // 2 + 1` taps (odd), the input
/// padded with `nf // 2` copies of its first and last values, `np.convolve(…, mode='valid')`.
/// numpy's dot may run through BLAS, whose summation order differs in the last bits; the sum here
/// is sequential.
public func smooth(_ y: [Double], fraction f: Double = 0.05) -> [Double] {
    guard let first = y.first, let last = y.last else { return [] }
    let nf = Int((Double(y.count) * f * 2).rounded(.toNearestOrEven)) / 2 + 1
    let half = nf / 2
    let padded = [Double](repeating: first, count: half) + y + [Double](repeating: last, count: half)
    let w = 1.0 / Double(nf)
    return (0..<y.count).map { k in
        var acc = 0.0
        for j in 0..<nf { acc += padded[k + j] * w }
        return acc
    }
}

/// Indices that sort `values` in descending order; ties keep their original order.
/// (numpy's `argsort(-conf)` orders ties arbitrarily; a stable order is the defined choice.)
func descendingOrder(_ values: [Float]) -> [Int] {
    values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
}
