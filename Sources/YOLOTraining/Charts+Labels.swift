// labels.jpg as YOLOv5's `plot_labels` (utils/plots.py) lays it out, 2×2: class histogram,
// up to 1000 boxes drawn about a common centre, box-centre x/y and width/height 2-D histograms.
// The seaborn correlogram (labels_correlogram.jpg) is not drawn.
import Foundation
import YOLOData

extension Charts {
    /// Writes labels.jpg. `labels` rows are [class, x, y, w, h], xywh normalised to 0…1 (the
    /// dataset's concatenated labels, as upstream passes them); `names` are the class names.
    public static func plotLabels(_ labels: [[Float]], names: [String], to url: URL, size: Int = 1600) throws {
        try PlotFile.write(renderLabels(labels, names: names, size: size), to: url)
    }

    public static func renderLabels(_ labels: [[Float]], names: [String], size: Int = 1600) -> Image {
        var canvas = Canvas(width: size, height: size)
        let s = textScale(width: size, height: size)
        let half = size / 2
        let classes = labels.map { Int($0[0]) }
        let nc = (classes.max() ?? -1) + 1
        drawClassHistogram(&canvas, classes: classes, nc: nc, names: names, panel: (0, 0, half, half), s: s)
        drawCentredBoxes(&canvas, labels: labels, panel: (half, 0, half, half), s: s)
        drawHistogram2D(&canvas, xs: labels.map { Double($0[1]) }, ys: labels.map { Double($0[2]) },
                        xLabel: "x", yLabel: "y", panel: (0, half, half, half), s: s)
        drawHistogram2D(&canvas, xs: labels.map { Double($0[3]) }, ys: labels.map { Double($0[4]) },
                        xLabel: "width", yLabel: "height", panel: (half, half, half, half), s: s)
        return canvas.image
    }

    /// Instances per class, bars 0.8 wide in the class colour; names under the bars when
    /// 0 < names.count < 30, otherwise a "classes" axis label.
    static func drawClassHistogram(_ canvas: inout Canvas, classes: [Int], nc: Int, names: [String],
                                   panel: (x: Int, y: Int, w: Int, h: Int), s: Int) {
        var counts = [Int](repeating: 0, count: max(nc, 1))
        for c in classes where c >= 0 { counts[c] += 1 }
        let showNames = !names.isEmpty && names.count < 30
        let longest = showNames ? (names.map { $0.count }.max() ?? 0) : 0
        var frame = ChartFrame.layout(panel: panel, xRange: -0.5...(Double(counts.count) - 0.5),
                                      yRange: 0...(Double(counts.max() ?? 1) * 1.05 + 1e-9), textScale: s,
                                      hasTitle: false, hasXLabel: !showNames, hasYLabel: true)
        if showNames { frame.bottom = max(frame.top + 1, frame.bottom - longest * BitmapFont.cellWidth * s) }
        for (c, n) in counts.enumerated() where n > 0 {
            canvas.fillRect(x0: frame.px(Double(c) - 0.4), y0: frame.py(Double(n)), x1: frame.px(Double(c) + 0.4),
                            y1: frame.bottom, color: RGB.yoloClass(c))
        }
        let xTicks = showNames ? [Double]() : Ticks.nice(0, Double(max(1, counts.count - 1)))
        canvas.drawAxes(frame, xLabel: showNames ? nil : "classes", yLabel: "instances", xTicks: xTicks,
                        textScale: s)
        guard showNames else { return }
        for (c, name) in names.enumerated() {
            let p = frame.px(Double(c))
            guard p <= frame.right + 1 else { continue }
            canvas.verticalText(name, x: p - BitmapFont.cellHeight * s / 2, y: frame.bottom + 4 * s, color: .black,
                                scale: s)
        }
    }

    /// The first 1000 boxes centred at (0.5, 0.5) of a 2000-px square (scaled to the panel),
    /// outlined 1 px in their class colour; no axes.
    static func drawCentredBoxes(_ canvas: inout Canvas, labels: [[Float]], panel: (x: Int, y: Int, w: Int, h: Int),
                                 s: Int) {
        let side = min(panel.w, panel.h) - 8 * s
        let ox = panel.x + (panel.w - side) / 2, oy = panel.y + (panel.h - side) / 2
        for row in labels.prefix(1000) {
            let w = Double(row[3]) * Double(side), h = Double(row[4]) * Double(side)
            let c = Double(side) / 2
            canvas.strokeRect(x0: ox + Int(c - w / 2), y0: oy + Int(c - h / 2), x1: ox + Int(c + w / 2),
                              y1: oy + Int(c + h / 2), color: RGB.yoloClass(Int(row[0])))
        }
    }

    /// A 50×50-bin 2-D histogram (seaborn `histplot(x, y, bins=50, pmax=0.9)`): cells shaded
    /// from white to tab:blue, saturating at the 90th percentile of non-empty cell counts.
    static func drawHistogram2D(_ canvas: inout Canvas, xs: [Double], ys: [Double], xLabel: String, yLabel: String,
                                panel: (x: Int, y: Int, w: Int, h: Int), s: Int, bins: Int = 50) {
        let xr = Ticks.padded(xs, margin: 0.02), yr = Ticks.padded(ys, margin: 0.02)
        let frame = ChartFrame.layout(panel: panel, xRange: xr, yRange: yr, textScale: s, hasTitle: false,
                                      hasXLabel: true, hasYLabel: true)
        var counts = [Int](repeating: 0, count: bins * bins)
        func bin(_ v: Double, _ r: ClosedRange<Double>) -> Int {
            min(bins - 1, max(0, Int((v - r.lowerBound) / (r.upperBound - r.lowerBound) * Double(bins))))
        }
        for (x, y) in zip(xs, ys) where x.isFinite && y.isFinite { counts[bin(y, yr) * bins + bin(x, xr)] += 1 }
        let nonEmpty = counts.filter { $0 > 0 }.sorted()
        let cap = nonEmpty.isEmpty ? 1 : Double(nonEmpty[min(nonEmpty.count - 1, Int(0.9 * Double(nonEmpty.count)))])
        let tab = RGB.tab10[0]
        for by in 0..<bins {
            for bx in 0..<bins where counts[by * bins + bx] > 0 {
                let t = 0.15 + 0.85 * min(1, Double(counts[by * bins + bx]) / max(cap, 1))
                func mix(_ c: UInt8) -> UInt8 { UInt8((255 * (1 - t) + Double(c) * t).rounded()) }
                let x0 = xr.lowerBound + (xr.upperBound - xr.lowerBound) * Double(bx) / Double(bins)
                let x1 = xr.lowerBound + (xr.upperBound - xr.lowerBound) * Double(bx + 1) / Double(bins)
                let y0 = yr.lowerBound + (yr.upperBound - yr.lowerBound) * Double(by) / Double(bins)
                let y1 = yr.lowerBound + (yr.upperBound - yr.lowerBound) * Double(by + 1) / Double(bins)
                canvas.fillRect(x0: frame.px(x0), y0: frame.py(y1), x1: frame.px(x1) - 1, y1: frame.py(y0) - 1,
                                color: RGB(mix(tab.r), mix(tab.g), mix(tab.b)))
            }
        }
        canvas.drawAxes(frame, xLabel: xLabel, yLabel: yLabel, textScale: s)
    }
}
