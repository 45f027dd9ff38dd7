// `resize`: OpenCV's cv2.resize for 8-bit RGB with INTER_LINEAR and INTER_AREA, reimplemented so
// YOLOv5's load_image / letterbox produce the same pixels (within ±1). Not a general resampler.
//
// INTER_LINEAR follows OpenCV's fixed-point path (imgproc/resize.cpp, resizeGeneric_): per output
// column fx = (dx + 0.5)·scale − 0.5, clamped to the edge, weights rounded to 11 bits
// (INTER_RESIZE_COEF_BITS); a horizontal pass into Int32 rows, then a vertical pass
// ((b0·(S0 >> 4)) >> 16) + ((b1·(S1 >> 4)) >> 16) + 2) >> 2. An exact 2x shrink goes to the area
// path, as OpenCV does. INTER_AREA when shrinking is a box average (resizeAreaFast_) for integer
// factors and OpenCV's fractional-cell weights (computeResizeAreaTab, float accumulation) otherwise;
// INTER_AREA when enlarging uses OpenCV's "area mode" linear coefficients.

/// The interpolation methods YOLOv5 uses (cv2.INTER_LINEAR, cv2.INTER_AREA).
public enum Interpolation: Sendable {
    case linear
    case area
}

/// Resizes `image` to `width` x `height` as cv2.resize(image, (width, height), interpolation:) does.
public func resize(_ image: Image, width: Int, height: Int, interpolation: Interpolation = .linear) -> Image {
    precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
    if width == image.width && height == image.height { return image }
    let scales = ResizeScales(sourceWidth: image.width, sourceHeight: image.height, width: width, height: height)
    let (scaleX, scaleY) = (scales.x, scales.y)
    var method = interpolation
    if method == .linear && scales.isExactHalf { method = .area }
    if method == .area && scaleX >= 1 && scaleY >= 1 {
        if scales.isInteger {
            return resizeAreaFast(image, width: width, height: height, sx: scales.integerX, sy: scales.integerY)
        }
        return resizeArea(image, width: width, height: height, scaleX: scaleX, scaleY: scaleY)
    }
    return resizeLinear(image, width: width, height: height, scaleX: scaleX, scaleY: scaleY, areaMode: method == .area)
}

/// OpenCV's scales for a resize (inv_scale = dsize / ssize, scale = 1 / inv_scale, both in double)
/// and whether both are integers (its resizeAreaFast_ case).
private struct ResizeScales {
    let x: Double, y: Double
    let integerX: Int, integerY: Int

    init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        x = 1 / (Double(width) / Double(sourceWidth))
        y = 1 / (Double(height) / Double(sourceHeight))
        integerX = Int(x.rounded(.toNearestOrEven))
        integerY = Int(y.rounded(.toNearestOrEven))
    }

    var isInteger: Bool { abs(x - Double(integerX)) < Double.ulpOfOne && abs(y - Double(integerY)) < Double.ulpOfOne }
    /// An exact 2x shrink, which OpenCV averages as INTER_AREA does even when asked for INTER_LINEAR.
    var isExactHalf: Bool { isInteger && integerX == 2 && integerY == 2 }
}

/// The exact 2x shrink (load_image's 640 → 320 for most COCO images): (a + b + c + d + 2) >> 2
/// per channel over each 2x2 block, as OpenCV's resizeAreaFast_ rounds it; rows as byte triples
/// summed in UInt16.
private func resizeHalf(_ image: Image, width: Int, height: Int) -> Image {
    let sw = image.width, rowBytes = width * 3
    let pixels = [UInt8](unsafeUninitializedCapacity: rowBytes * height) { out, count in
        image.pixels.withUnsafeBufferPointer { src in
            for dy in 0..<height {
                let r0 = src.baseAddress! + 2 * dy * sw * 3, r1 = r0 + sw * 3
                let d = out.baseAddress! + dy * rowBytes
                for dx in 0..<width {
                    let a = r0 + 6 * dx, b = r1 + 6 * dx, o = d + 3 * dx
                    o[0] = UInt8(truncatingIfNeeded: (UInt16(a[0]) &+ UInt16(a[3]) &+ UInt16(b[0]) &+ UInt16(b[3]) &+ 2) >> 2)
                    o[1] = UInt8(truncatingIfNeeded: (UInt16(a[1]) &+ UInt16(a[4]) &+ UInt16(b[1]) &+ UInt16(b[4]) &+ 2) >> 2)
                    o[2] = UInt8(truncatingIfNeeded: (UInt16(a[2]) &+ UInt16(a[5]) &+ UInt16(b[2]) &+ UInt16(b[5]) &+ 2) >> 2)
                }
            }
        }
        count = rowBytes * height
    }
    return Image(width: width, height: height, pixels: pixels)
}

/// Fixed-point interpolation coefficients for one axis: source index and 11-bit weights.
struct LinearAxis {
    var index: [Int32]  // first source index (clamped)
    var w0: [Int16], w1: [Int16]

    static let coefficientScale: Float = 2048  // 1 << INTER_RESIZE_COEF_BITS

    /// `clampCoordinate`: OpenCV clamps (sx, fx) for columns; for rows it keeps fy and clamps the
    /// row indices instead (see resizeLinear).
    init(destination: Int, source: Int, scale: Double, areaMode: Bool, clampCoordinate: Bool) {
        index = []; w0 = []; w1 = []
        index.reserveCapacity(destination)
        let inverse = 1 / scale
        for d in 0..<destination {
            var s: Int, f: Float
            if areaMode {
                s = Int((Double(d) * scale).rounded(.down))
                let t = Float(Double(d + 1) - Double(s + 1) * inverse)
                f = t <= 0 ? 0 : t - t.rounded(.down)
            } else {
                let t = Float((Double(d) + 0.5) * scale - 0.5)
                s = Int(t.rounded(.down))
                f = t - Float(s)
            }
            if clampCoordinate {
                if s < 0 { s = 0; f = 0 }
                if s >= source - 1 { s = source - 1; f = 0 }
            }
            index.append(Int32(s))
            w0.append(Int16(((1 - f) * LinearAxis.coefficientScale).rounded(.toNearestOrEven)))
            w1.append(Int16((f * LinearAxis.coefficientScale).rounded(.toNearestOrEven)))
        }
    }
}

private func resizeLinear(_ image: Image, width: Int, height: Int, scaleX: Double, scaleY: Double,
                          areaMode: Bool) -> Image {
    resizeLinear(part: image, origin: (0, 0), sourceWidth: image.width, sourceHeight: image.height, width: width,
                 height: height, columns: 0..<width, rows: 0..<height, scaleX: scaleX, scaleY: scaleY, areaMode: areaMode)
}

/// The scales `resize` computes, when it resizes to `width` x `height` by the linear path.
private func linearScales(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) -> (x: Double, y: Double)? {
    let scales = ResizeScales(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height)
    return scales.isExactHalf ? nil : (scales.x, scales.y)
}

/// The source columns and rows that output `columns` x `rows` of `resize(_:width:height:)`
/// (INTER_LINEAR) of a `sourceWidth` x `sourceHeight` image read; nil when that resize does not
/// go the linear way or the output part is empty. With `resizeLinearPart`, a mosaic tile that
/// load_image resizes is decoded and resized only where the mosaic shows it.
public func linearResizeSource(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, columns: Range<Int>,
                               rows: Range<Int>) -> (columns: Range<Int>, rows: Range<Int>)? {
    guard !columns.isEmpty, !rows.isEmpty, columns.upperBound <= width, rows.upperBound <= height,
          width != sourceWidth || height != sourceHeight,
          let scales = linearScales(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height)
    else { return nil }
    let xs = LinearAxis(destination: width, source: sourceWidth, scale: scales.x, areaMode: false, clampCoordinate: true)
    let ys = LinearAxis(destination: height, source: sourceHeight, scale: scales.y, areaMode: false, clampCoordinate: false)
    // Taps are s and s + 1 with s non-decreasing in the output index, clamped to the image.
    let clampY = { (v: Int) in min(max(v, 0), sourceHeight - 1) }
    let x0 = Int(xs.index[columns.lowerBound]), x1 = min(Int(xs.index[columns.upperBound - 1]) + 1, sourceWidth - 1)
    let y0 = clampY(Int(ys.index[rows.lowerBound])), y1 = clampY(Int(ys.index[rows.upperBound - 1]) + 1)
    return (x0..<(x1 + 1), y0..<(y1 + 1))
}

/// Output `columns` x `rows` of `resize(_:width:height:)` (INTER_LINEAR) of a `sourceWidth` x
/// `sourceHeight` image of which `part`, at `origin`, holds at least what `linearResizeSource`
/// names: the same pixels as that part of the whole resize.
public func resizeLinearPart(_ part: Image, origin: (x: Int, y: Int), sourceWidth: Int, sourceHeight: Int, width: Int,
                             height: Int, columns: Range<Int>, rows: Range<Int>) -> Image {
    guard let needed = linearResizeSource(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width,
                                          height: height, columns: columns, rows: rows),
          let scales = linearScales(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height)
    else { preconditionFailure("resizeLinearPart: \(columns) x \(rows) of \(width)x\(height) is no linear resize") }
    precondition(origin.x <= needed.columns.lowerBound && origin.y <= needed.rows.lowerBound
                 && origin.x + part.width >= needed.columns.upperBound && origin.y + part.height >= needed.rows.upperBound,
                 "resizeLinearPart: the source part does not cover \(needed)")
    return resizeLinear(part: part, origin: origin, sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width,
                        height: height, columns: columns, rows: rows, scaleX: scales.x, scaleY: scales.y, areaMode: false)
}

/// The linear resize of `sourceWidth` x `sourceHeight` to `width` x `height`, output `columns` x
/// `rows` only, reading the source from `part` (which starts at `origin` of the source).
private func resizeLinear(part image: Image, origin: (x: Int, y: Int), sourceWidth sw: Int, sourceHeight sh: Int,
                          width: Int, height: Int, columns: Range<Int>, rows: Range<Int>, scaleX: Double,
                          scaleY: Double, areaMode: Bool) -> Image {
    let xs = LinearAxis(destination: width, source: sw, scale: scaleX, areaMode: areaMode, clampCoordinate: true)
    let ys = LinearAxis(destination: height, source: sh, scale: scaleY, areaMode: areaMode, clampCoordinate: false)
    let outWidth = columns.count, rowCount = outWidth * 3, partWidth = image.width
    // Per output column: the byte offsets (in the part) of the two source pixels and their weights
    // (the right tap clamped to the last pixel), so the horizontal pass reads no arrays.
    let left = UnsafeMutablePointer<Int>.allocate(capacity: outWidth), right = UnsafeMutablePointer<Int>.allocate(capacity: outWidth)
    let a0s = UnsafeMutablePointer<Int32>.allocate(capacity: outWidth), a1s = UnsafeMutablePointer<Int32>.allocate(capacity: outWidth)
    // Two horizontally resized source rows (Int32, value·2048), reused while the rows are unchanged.
    let rowBuffer = UnsafeMutablePointer<Int32>.allocate(capacity: rowCount * 2)
    defer { left.deallocate(); right.deallocate(); a0s.deallocate(); a1s.deallocate(); rowBuffer.deallocate() }
    for (k, dx) in columns.enumerated() {
        let sx = Int(xs.index[dx])
        left[k] = (sx - origin.x) * 3
        right[k] = (min(sx + 1, sw - 1) - origin.x) * 3
        a0s[k] = Int32(xs.w0[dx])
        a1s[k] = Int32(xs.w1[dx])
    }
    var slots = (rowBuffer, rowBuffer + rowCount)
    var rowIndex = (-1, -1)
    let width = outWidth
    let pixels = [UInt8](unsafeUninitializedCapacity: width * rows.count * 3) { out, count in
        image.pixels.withUnsafeBufferPointer { src in
            func horizontal(_ sy: Int, into r: UnsafeMutablePointer<Int32>) {
                let s = src.baseAddress! + (sy - origin.y) * partWidth * 3
                for dx in 0..<width {
                    let p0 = s + left[dx], p1 = s + right[dx], a0 = a0s[dx], a1 = a1s[dx], o = r + dx * 3
                    o[0] = Int32(p0[0]) &* a0 &+ Int32(p1[0]) &* a1
                    o[1] = Int32(p0[1]) &* a0 &+ Int32(p1[1]) &* a1
                    o[2] = Int32(p0[2]) &* a0 &+ Int32(p1[2]) &* a1
                }
            }
            for (k, dy) in rows.enumerated() {
                let sy = Int(ys.index[dy])
                let r0 = min(max(sy, 0), sh - 1), r1 = min(max(sy + 1, 0), sh - 1)
                if rowIndex.0 != r0 {
                    if rowIndex.1 == r0 {
                        // Slide: the old second row becomes the first.
                        slots = (slots.1, slots.0)
                    } else {
                        horizontal(r0, into: slots.0)
                    }
                    rowIndex.0 = r0
                    rowIndex.1 = -1
                }
                if rowIndex.1 != r1 { horizontal(r1, into: slots.1); rowIndex.1 = r1 }
                let b0 = Int32(ys.w0[dy]), b1 = Int32(ys.w1[dy])
                let d = out.baseAddress! + k * rowCount
                let s0 = slots.0, s1 = slots.1
                for i in 0..<rowCount {
                    let v = ((b0 &* (s0[i] >> 4)) >> 16) &+ ((b1 &* (s1[i] >> 4)) >> 16) &+ 2
                    d[i] = UInt8(clamping: v >> 2)
                }
            }
        }
        count = width * rows.count * 3
    }
    return Image(width: width, height: rows.count, pixels: pixels)
}

/// Integer shrink factors: the mean of each sx x sy block (OpenCV resizeAreaFast_; the 2x2 case
/// rounds as (sum + 2) >> 2, the others as round-half-even of sum · (1/area) in float).
private func resizeAreaFast(_ image: Image, width: Int, height: Int, sx: Int, sy: Int) -> Image {
    if sx == 2 && sy == 2 { return resizeHalf(image, width: width, height: height) }
    let sw = image.width, area = sx * sy
    let inverse = 1 / Float(area)
    var out = [UInt8](repeating: 0, count: width * height * 3)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for dy in 0..<height {
                for dx in 0..<width {
                    for c in 0..<3 {
                        var sum = 0
                        for ky in 0..<sy {
                            let row = (dy * sy + ky) * sw
                            for kx in 0..<sx { sum += Int(src[(row + dx * sx + kx) * 3 + c]) }
                        }
                        let v = area == 4 ? (sum + 2) >> 2 : Int((Float(sum) * inverse).rounded(.toNearestOrEven))
                        dst[(dy * width + dx) * 3 + c] = UInt8(clamping: v)
                    }
                }
            }
        }
    }
    return Image(width: width, height: height, pixels: out)
}

/// One (destination, source, weight) entry of OpenCV's computeResizeAreaTab.
struct AreaTap {
    var destination: Int, source: Int, weight: Float
}

/// OpenCV computeResizeAreaTab: each destination cell [d·scale, (d+1)·scale) covers whole source
/// pixels with weight 1/cell and the partial ones at its ends with their covered fraction.
func areaTaps(source: Int, destination: Int, scale: Double) -> [AreaTap] {
    var taps: [AreaTap] = []
    for d in 0..<destination {
        let f1 = Double(d) * scale, f2 = f1 + scale
        let cell = min(scale, Double(source) - f1)
        var s2 = Int(f2.rounded(.down))
        s2 = min(s2, source - 1)
        let s1 = min(Int(f1.rounded(.up)), s2)
        if Double(s1) - f1 > 1e-3 { taps.append(AreaTap(destination: d, source: s1 - 1, weight: Float((Double(s1) - f1) / cell))) }
        for s in s1..<max(s1, s2) { taps.append(AreaTap(destination: d, source: s, weight: Float(1 / cell))) }
        if f2 - Double(s2) > 1e-3 {
            taps.append(AreaTap(destination: d, source: s2, weight: Float(min(min(f2 - Double(s2), 1), cell) / cell)))
        }
    }
    return taps
}

/// Non-integer shrink: OpenCV's ResizeArea_Invoker, row by row in float, rounded half to even.
private func resizeArea(_ image: Image, width: Int, height: Int, scaleX: Double, scaleY: Double) -> Image {
    let xtab = areaTaps(source: image.width, destination: width, scale: scaleX)
    let ytab = areaTaps(source: image.height, destination: height, scale: scaleY)
    let rowCount = width * 3, sw = image.width
    var out = [UInt8](repeating: 0, count: width * height * 3)
    var buf = [Float](repeating: 0, count: rowCount), sum = [Float](repeating: 0, count: rowCount)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            buf.withUnsafeMutableBufferPointer { buf in
                sum.withUnsafeMutableBufferPointer { sum in
                    var previous = ytab.first?.destination ?? 0
                    func flush(_ dy: Int) {
                        for i in 0..<rowCount { dst[dy * rowCount + i] = roundedByte(sum[i]) }
                    }
                    for tap in ytab {
                        let row = tap.source * sw * 3
                        for i in 0..<rowCount { buf[i] = 0 }
                        for x in xtab {
                            let s = row + x.source * 3, d = x.destination * 3
                            buf[d] += Float(src[s]) * x.weight
                            buf[d + 1] += Float(src[s + 1]) * x.weight
                            buf[d + 2] += Float(src[s + 2]) * x.weight
                        }
                        if tap.destination != previous {
                            flush(previous)
                            for i in 0..<rowCount { sum[i] = tap.weight * buf[i] }
                            previous = tap.destination
                        } else {
                            for i in 0..<rowCount { sum[i] += tap.weight * buf[i] }
                        }
                    }
                    flush(previous)
                }
            }
        }
    }
    return Image(width: width, height: height, pixels: out)
}
