// `ChartFrame`: the matplotlib-like scaffolding the plots share — a panel's data area, axis
// ranges, "nice" ticks with %g-style labels, axes, titles, series and legends drawn on a
// `Canvas`. It is not a general plotting library: linear axes only, no log scales.
import Foundation

/// A data area inside a canvas: pixel box (inclusive) and the data ranges it maps.
public struct ChartFrame: Sendable {
    public var left: Int, top: Int, right: Int, bottom: Int
    public var xRange: ClosedRange<Double>, yRange: ClosedRange<Double>

    /// Pixel column of data `x` (clamped to a few pixels beyond the frame).
    public func px(_ x: Double) -> Int {
        let span = xRange.upperBound - xRange.lowerBound
        let t = span > 0 ? (x - xRange.lowerBound) / span : 0.5
        return Int((Double(left) + t * Double(right - left)).rounded())
    }

    /// Pixel row of data `y` (y grows upwards).
    public func py(_ y: Double) -> Int {
        let span = yRange.upperBound - yRange.lowerBound
        let t = span > 0 ? (y - yRange.lowerBound) / span : 0.5
        return Int((Double(bottom) - t * Double(bottom - top)).rounded())
    }

    /// Lays a frame out inside the panel (x, y, w, h), leaving room for a title above, tick
    /// labels and an axis label below and to the left, at text scale `s`.
    public static func layout(panel: (x: Int, y: Int, w: Int, h: Int), xRange: ClosedRange<Double>,
                              yRange: ClosedRange<Double>, textScale s: Int, hasTitle: Bool = true,
                              hasXLabel: Bool = false, hasYLabel: Bool = false, yTickChars: Int? = nil,
                              rightMargin: Int? = nil) -> ChartFrame {
        let yTickChars = yTickChars
            ?? Ticks.nice(yRange.lowerBound, yRange.upperBound).map { Ticks.label($0).count }.max() ?? 1
        let line = BitmapFont.cellHeight * s
        let top = panel.y + (hasTitle ? line * 2 : line)
        let bottom = panel.y + panel.h - 1 - line * (hasXLabel ? 3 : 2)
        let left = panel.x + (yTickChars * BitmapFont.cellWidth + 4) * s + (hasYLabel ? line * 2 : 0)
        let right = panel.x + panel.w - 1 - (rightMargin ?? line)
        return ChartFrame(left: left, top: top, right: max(left + 1, right), bottom: max(top + 1, bottom),
                          xRange: xRange, yRange: yRange)
    }
}

/// Tick positions and labels.
public enum Ticks {
    /// About `target` round tick values (steps 1, 2, 2.5, 5 × 10ⁿ) covering lo…hi.
    public static func nice(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        let raw = (hi - lo) / Double(max(1, target))
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var out: [Double] = []
        // A span at the edge of Double precision (a flat series plus rounding noise) has no
        // round ticks to offer: label the ends.
        guard step > 0, max(abs(lo), abs(hi)) / step < 1e12 else { return [lo, hi] }
        let first = Int((lo / step).rounded(.up)), last = Int((hi / step + 1e-9).rounded(.down))
        for k in first...max(first, last) where Double(k) * step <= hi + step * 1e-9 {
            let v = Double(k) * step  // printed to 12 digits so 3 × 0.2 is 0.6, not 0.6000000000000001
            out.append(k == 0 ? 0 : Double(String(format: "%.12g", v)) ?? v)
        }
        return out
    }

    /// A short label like matplotlib's default formatter: "0", "0.25", "1e-05", "1200".
    public static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        var s = String(format: "%.4g", v)
        if s.contains("e") { return s }
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// Ticks for an axis `pixels` long: the most (up to 5 intervals) whose labels do not crowd.
    public static func fitting(_ range: ClosedRange<Double>, pixels: Int, textScale s: Int) -> [Double] {
        var target = 5
        while true {
            let ticks = nice(range.lowerBound, range.upperBound, target: target)
            let width = ticks.map { BitmapFont.size(of: label($0), scale: s).width + 2 * BitmapFont.cellWidth * s }
                .reduce(0, +)
            if width <= pixels || target <= 1 { return ticks }
            target -= 1
        }
    }

    /// A padded data range (matplotlib's 5 % margins) that is never empty.
    public static func padded(_ values: [Double], margin: Double = 0.05) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return 0...1 }
        if hi - lo <= 1e-9 * max(abs(hi), abs(lo)) { return (lo - max(abs(lo) * 0.05, 0.05))...(hi + max(abs(hi) * 0.05, 0.05)) }
        let m = (hi - lo) * margin
        return (lo - m)...(hi + m)
    }
}

/// One legend row: a line sample in `color` and the label text.
public struct LegendEntry: Sendable {
    public var label: String
    public var color: RGB
    public var thickness: Int
    public var dashed: Bool
    public init(_ label: String, color: RGB, thickness: Int = 2, dashed: Bool = false) {
        (self.label, self.color, self.thickness, self.dashed) = (label, color, thickness, dashed)
    }
}

extension Canvas {
    /// Frame box, ticks with labels, an optional centred title above and axis labels.
    public mutating func drawAxes(_ f: ChartFrame, title: String? = nil, xLabel: String? = nil,
                                  yLabel: String? = nil, xTicks: [Double]? = nil, yTicks: [Double]? = nil,
                                  textScale s: Int, grid: Bool = false) {
        let ink = RGB(0, 0, 0), tick = 3 * s, lh = BitmapFont.cellHeight * s
        for x in xTicks ?? Ticks.fitting(f.xRange, pixels: f.right - f.left, textScale: s) {
            let p = f.px(x)
            guard p >= f.left - 1, p <= f.right + 1 else { continue }
            if grid { line(x0: p, y0: f.top, x1: p, y1: f.bottom, color: RGB(225, 225, 225)) }
            self.line(x0: p, y0: f.bottom, x1: p, y1: f.bottom + tick, color: ink, thickness: max(1, s / 2))
            let label = Ticks.label(x), w = BitmapFont.size(of: label, scale: s).width
            text(label, x: p - w / 2, y: f.bottom + tick + s, color: ink, scale: s)
        }
        var yLabelWidth = 0
        for y in yTicks ?? Ticks.nice(f.yRange.lowerBound, f.yRange.upperBound) {
            let p = f.py(y)
            guard p >= f.top - 1, p <= f.bottom + 1 else { continue }
            if grid { line(x0: f.left, y0: p, x1: f.right, y1: p, color: RGB(225, 225, 225)) }
            self.line(x0: f.left - tick, y0: p, x1: f.left, y1: p, color: ink, thickness: max(1, s / 2))
            let label = Ticks.label(y), w = BitmapFont.size(of: label, scale: s).width
            yLabelWidth = max(yLabelWidth, w)
            text(label, x: f.left - tick - s - w, y: p - BitmapFont.glyphHeight * s / 2, color: ink, scale: s)
        }
        strokeRect(x0: f.left, y0: f.top, x1: f.right, y1: f.bottom, color: ink, thickness: max(1, s / 2))
        if let title {  // shrunk to fit within 130 % of the frame width
            var ts = s
            while ts > 1 && BitmapFont.size(of: title, scale: ts).width > (f.right - f.left) * 13 / 10 { ts -= 1 }
            let w = BitmapFont.size(of: title, scale: ts).width
            text(title, x: max(0, (f.left + f.right - w) / 2), y: f.top - lh - lh / 2, color: ink, scale: ts)
        }
        if let xLabel {
            let w = BitmapFont.size(of: xLabel, scale: s).width
            text(xLabel, x: (f.left + f.right - w) / 2, y: f.bottom + tick + lh + lh / 2, color: ink, scale: s)
        }
        if let yLabel {
            let w = BitmapFont.size(of: yLabel, scale: s).width
            let tickWidth = yLabelWidth + tick + s
            verticalText(yLabel, x: max(0, f.left - tickWidth - lh - lh / 2), y: (f.top + f.bottom - w) / 2,
                         color: ink, scale: s)
        }
    }

    /// A data series as a polyline (NaNs break it), optional dot markers of `markerRadius`.
    public mutating func drawSeries(_ f: ChartFrame, xs: [Double], ys: [Double], color: RGB, thickness: Int,
                                    dash: (on: Int, off: Int)? = nil, markerRadius: Int = 0) {
        var run: [(x: Int, y: Int)] = []
        func flush() { if !run.isEmpty { polyline(run, color: color, thickness: thickness, dash: dash) }; run = [] }
        for (x, y) in zip(xs, ys) {
            guard x.isFinite, y.isFinite else { flush(); continue }
            run.append((f.px(x), f.py(y)))
        }
        flush()
        if markerRadius > 0 {
            for (x, y) in zip(xs, ys) where x.isFinite && y.isFinite {
                fillCircle(cx: f.px(x), cy: f.py(y), radius: markerRadius, color: color)
            }
        }
    }

    /// The (width, height) `drawLegend` will take.
    public static func legendSize(_ entries: [LegendEntry], textScale s: Int) -> (width: Int, height: Int) {
        let row = (BitmapFont.cellHeight + 3) * s, sample = 16 * s, pad = 3 * s
        let textWidth = entries.map { BitmapFont.size(of: $0.label, scale: s).width }.max() ?? 0
        return (pad * 3 + sample + textWidth, pad * 2 + row * entries.count)
    }

    /// A legend box with its top-left corner at (x, y): line samples and labels, white
    /// background and grey border as matplotlib's default legend.
    public mutating func drawLegend(_ entries: [LegendEntry], x: Int, y: Int, textScale s: Int) {
        guard !entries.isEmpty else { return }
        let row = (BitmapFont.cellHeight + 3) * s, sample = 16 * s, pad = 3 * s
        let (w, h) = Canvas.legendSize(entries, textScale: s)
        fillRect(x0: x, y0: y, x1: x + w, y1: y + h, color: .white, alpha: 0.85)
        strokeRect(x0: x, y0: y, x1: x + w, y1: y + h, color: RGB(204, 204, 204))
        for (k, e) in entries.enumerated() {
            let cy = y + pad + k * row + row / 2
            line(x0: x + pad, y0: cy, x1: x + pad + sample, y1: cy, color: e.color, thickness: e.thickness,
                 dash: e.dashed ? (2 * s, 2 * s) : nil)
            text(e.label, x: x + pad * 2 + sample, y: cy - BitmapFont.glyphHeight * s / 2, color: .black, scale: s)
        }
    }
}
