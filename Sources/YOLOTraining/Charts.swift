// `Charts`: YOLOv5's run-folder figures drawn with `Canvas` — results.png (utils/plots.py
// plot_results), PR/F1/P/R curves (utils/metrics.py plot_pr_curve, plot_mc_curve). Same
// panels, titles, labels, legends and smoothing as upstream; not matplotlib's pixels or fonts.
// Each `plot…` writes a file (format by extension); each `render…` returns the `Image`.
import Foundation
import YOLOData

public enum Charts {
    /// Text scale for a figure: matplotlib's 11 pt font is about 1/40 of a figure's height.
    static func textScale(width: Int, height: Int) -> Int {
        max(1, Int((Double(min(width, height)) / 320).rounded()))
    }

    // MARK: results.png

    /// Panel order of YOLOv5's 2×5 grid, as results.csv column indices (0 is epoch):
    /// box, obj, cls train loss, P, R / val box, obj, cls loss, mAP@.5, mAP@.5:.95.
    public static let resultsPanels = [1, 2, 3, 4, 5, 8, 9, 10, 6, 7]

    /// Reads `csv` (results.csv) and writes `output` (default: results.png beside it), 12×6 in
    /// at 200 dpi like upstream unless `width`/`height` say otherwise.
    public static func plotResults(csv: URL, to output: URL? = nil, width: Int = 2400, height: Int = 1200) throws {
        let table = try ResultsCSV.read(csv)
        let url = output ?? csv.deletingLastPathComponent().appendingPathComponent("results.png")
        try PlotFile.write(renderResults(table, width: width, height: height), to: url)
    }

    /// The 2×5 grid: each panel the raw column (line with dots, labelled by the file stem
    /// "results") and its Gaussian-smoothed copy (σ = 3, dotted, "smooth"), titled by column.
    public static func renderResults(_ table: ResultsCSV.Table, width: Int = 2400, height: Int = 1200) -> Image {
        var canvas = Canvas(width: width, height: height)
        let s = textScale(width: width, height: height)
        let xs = table.rows.map { $0.first ?? 0 }
        let pw = width / 5, ph = height / 2
        for (i, j) in resultsPanels.enumerated() where j < table.columns.count {
            let ys = table.rows.map { $0[j] }
            let smooth = gaussianFilter1D(ys, sigma: 3)
            let frame = ChartFrame.layout(panel: (pw * (i % 5), ph * (i / 5), pw, ph), xRange: Ticks.padded(xs),
                                          yRange: Ticks.padded(ys + smooth), textScale: s)
            canvas.drawAxes(frame, title: table.columns[j], textScale: s)
            canvas.drawSeries(frame, xs: xs, ys: ys, color: RGB.tab10[0], thickness: s, markerRadius: s + 1)
            canvas.drawSeries(frame, xs: xs, ys: smooth, color: RGB.tab10[1], thickness: s, dash: (s, 2 * s))
            if i == 1 {  // upstream: ax[1].legend(), matplotlib's "best" spot; we use the top right
                let entries = [LegendEntry("results", color: RGB.tab10[0], thickness: s),
                               LegendEntry("smooth", color: RGB.tab10[1], thickness: s, dashed: true)]
                let size = Canvas.legendSize(entries, textScale: s)
                canvas.drawLegend(entries, x: frame.right - size.width - 2 * s, y: frame.top + 2 * s, textScale: s)
            }
        }
        return canvas.image
    }

    /// scipy.ndimage.gaussian_filter1d(y, sigma) with its defaults: mode "reflect"
    /// (d c b a | a b c d | d c b a), kernel truncated at 4σ.
    public static func gaussianFilter1D(_ y: [Double], sigma: Double) -> [Double] {
        let n = y.count
        guard n > 1, sigma > 0 else { return y }
        let radius = Int(4 * sigma + 0.5)
        var kernel = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        func reflect(_ i: Int) -> Int {
            let m = ((i % (2 * n)) + 2 * n) % (2 * n)  // period 2n
            return m < n ? m : 2 * n - 1 - m
        }
        return (0..<n).map { i in
            (-radius...radius).reduce(0.0) { $0 + kernel[$1 + radius] * y[reflect(i + $1)] }
        }
    }

    // MARK: PR_curve.png, F1/P/R_curve.png

    /// Writes PR_curve.png. `recall` is the x grid (YOLOv5: 1000 points on 0…1); `precision[c]`
    /// is class c's precision at those recalls; `ap50[c]` its AP@0.5. Classes are drawn in
    /// colour with a legend when 0 < names.count < 21, else thin grey.
    public static func plotPRCurve(recall: [Double], precision: [[Double]], ap50: [Double], names: [String],
                                   to url: URL, width: Int = 2250, height: Int = 1500) throws {
        try PlotFile.write(renderPRCurve(recall: recall, precision: precision, ap50: ap50, names: names,
                                         width: width, height: height), to: url)
    }

    public static func renderPRCurve(recall: [Double], precision: [[Double]], ap50: [Double], names: [String],
                                     width: Int = 2250, height: Int = 1500) -> Image {
        let perClass = !names.isEmpty && names.count < 21
        var entries: [LegendEntry] = []
        var series: [([Double], RGB, Int)] = []
        for (c, ys) in precision.enumerated() {
            let color = perClass ? RGB.tab10[c % 10] : .grey
            series.append((ys, color, 1))
            if perClass { entries.append(LegendEntry(String(format: "%@ %.3f", name(names, c), ap50[c]), color: color)) }
        }
        let mean = meanOverClasses(precision, count: recall.count)
        let map50 = ap50.isEmpty ? 0 : ap50.reduce(0, +) / Double(ap50.count)
        series.append((mean, .blue, 3))
        entries.append(LegendEntry(String(format: "all classes %.3f mAP@0.5", map50), color: .blue, thickness: 3))
        return renderCurves(xs: recall, series: series, legend: entries, title: "Precision-Recall Curve",
                            xLabel: "Recall", yLabel: "Precision", width: width, height: height)
    }

    /// Writes F1_curve.png, P_curve.png or R_curve.png: `values[c]` is class c's metric at each
    /// `confidence` (YOLOv5: 1000 points on 0…1); the thick blue line is the class mean
    /// box-smoothed over 5 % of the points, labelled with its maximum and where it occurs.
    public static func plotMetricCurve(confidence: [Double], values: [[Double]], names: [String],
                                       yLabel: String, xLabel: String = "Confidence", to url: URL,
                                       width: Int = 2250, height: Int = 1500) throws {
        try PlotFile.write(renderMetricCurve(confidence: confidence, values: values, names: names, yLabel: yLabel,
                                             xLabel: xLabel, width: width, height: height), to: url)
    }

    public static func renderMetricCurve(confidence: [Double], values: [[Double]], names: [String],
                                         yLabel: String, xLabel: String = "Confidence",
                                         width: Int = 2250, height: Int = 1500) -> Image {
        let perClass = !names.isEmpty && names.count < 21
        var entries: [LegendEntry] = []
        var series: [([Double], RGB, Int)] = []
        for (c, ys) in values.enumerated() {
            let color = perClass ? RGB.tab10[c % 10] : .grey
            series.append((ys, color, 1))
            if perClass { entries.append(LegendEntry(name(names, c), color: color)) }
        }
        let mean = boxSmooth(meanOverClasses(values, count: confidence.count), fraction: 0.05)
        let best = mean.indices.max { mean[$0] < mean[$1] } ?? 0
        series.append((mean, .blue, 3))
        let label = mean.isEmpty ? "all classes" :
            String(format: "all classes %.2f at %.3f", mean[best], confidence[best])
        entries.append(LegendEntry(label, color: .blue, thickness: 3))
        return renderCurves(xs: confidence, series: series, legend: entries, title: "\(yLabel)-Confidence Curve",
                            xLabel: xLabel, yLabel: yLabel, width: width, height: height)
    }

    /// YOLOv5's `smooth(y, f)`: a box filter `nf` = round(n·f·2)//2 + 1 points wide (odd),
    /// the ends padded with the first/last value.
    public static func boxSmooth(_ y: [Double], fraction: Double) -> [Double] {
        guard !y.isEmpty else { return y }
        let nf = Int((Double(y.count) * fraction * 2).rounded(.toNearestOrEven)) / 2 + 1
        let half = nf / 2
        let padded = Array(repeating: y[0], count: half) + y + Array(repeating: y[y.count - 1], count: half)
        return (0..<y.count).map { i in padded[i..<(i + nf)].reduce(0, +) / Double(nf) }
    }

    static func meanOverClasses(_ rows: [[Double]], count: Int) -> [Double] {
        guard !rows.isEmpty else { return Array(repeating: 0, count: count) }
        return (0..<count).map { i in rows.reduce(0) { $0 + $1[i] } / Double(rows.count) }
    }

    static func name(_ names: [String], _ c: Int) -> String { c < names.count ? names[c] : String(c) }

    /// A single 0…1 × 0…1 axes with `series` (values, colour, thickness) and the legend
    /// outside on the right (matplotlib `bbox_to_anchor=(1.04, 1), loc="upper left"`).
    static func renderCurves(xs: [Double], series: [([Double], RGB, Int)], legend: [LegendEntry], title: String,
                             xLabel: String, yLabel: String, width: Int, height: Int) -> Image {
        var canvas = Canvas(width: width, height: height)
        let s = textScale(width: width, height: height)
        let legendChars = legend.map { $0.label.count }.max() ?? 0
        let legendWidth = (legendChars * BitmapFont.cellWidth + 30) * s
        let frame = ChartFrame.layout(panel: (0, 0, width, height), xRange: 0...1, yRange: 0...1, textScale: s,
                                      hasXLabel: true, hasYLabel: true, yTickChars: 4,
                                      rightMargin: min(width / 2, legendWidth + 6 * s))
        let lw = max(1, s / 2)
        for (ys, color, thickness) in series {
            canvas.drawSeries(frame, xs: xs, ys: ys.map { min(max($0, -0.01), 1.01) }, color: color,
                              thickness: thickness * lw)
        }
        canvas.drawAxes(frame, title: title, xLabel: xLabel, yLabel: yLabel, xTicks: Ticks.nice(0, 1),
                        yTicks: Ticks.nice(0, 1), textScale: s)
        canvas.drawLegend(legend.map { var e = $0; e.thickness *= lw; return e }, x: frame.right + 4 * s,
                          y: frame.top, textScale: s)
        return canvas.image
    }
}
