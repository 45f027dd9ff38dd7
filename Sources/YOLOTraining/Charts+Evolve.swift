// evolve.png as YOLOv5 7.0's `plot_evolve` (utils/plots.py) lays it out: a 6×5 grid, one panel
// per evolved hyperparameter (evolve.csv columns 8…), value against fitness, points coloured by
// log density (`hist2d`, 20 edges, viridis), the best generation marked with a black "+" and
// titled `name = value`. Not matplotlib's pixels: bitmap text, round dots, no tight_layout.
import Foundation
import YOLO
import YOLOData

extension Charts {
    /// Number of result columns before the hyperparameters in evolve.csv (P, R, mAP@.5,
    /// mAP@.5:.95, val box/obj/cls loss).
    static let evolveResultColumns = 7

    /// Reads `csv` (evolve.csv) and writes `output` (default: evolve.png beside it), 10×12 in at
    /// 200 dpi like upstream unless `width`/`height` say otherwise. Returns the file written.
    @discardableResult
    public static func plotEvolve(csv: URL, to output: URL? = nil, width: Int = 2000, height: Int = 2400) throws -> URL {
        let url = output ?? csv.deletingPathExtension().appendingPathExtension("png")
        try PlotFile.write(renderEvolve(try ResultsCSV.read(csv), width: width, height: height), to: url)
        return url
    }

    /// The grid for an evolve.csv table: fitness = 0.1·mAP@.5 + 0.9·mAP@.5:.95 per row; panel i
    /// (row-major, at most 30) plots hyperparameter column 7 + i against it. Y ticks only on the
    /// first column of panels, as upstream's `plt.yticks([])` for `i % 5 != 0`.
    public static func renderEvolve(_ table: ResultsCSV.Table, width: Int = 2000, height: Int = 2400) -> Image {
        var canvas = Canvas(width: width, height: height)
        let s = max(1, Int((Double(min(width, height)) / 700).rounded()))
        let rows = table.rows.filter { $0.count > evolveResultColumns }
        let fitness = rows.map { Evolution.fitness(Array($0.prefix(4))) }
        // np.argmax: the first maximum.
        let best = fitness.indices.max { (fitness[$0], $1) < (fitness[$1], $0) }
        let keys = Array(table.columns.dropFirst(evolveResultColumns).prefix(30))
        let pw = width / 5, ph = height / 6
        let dot = max(1, width / 250), cross = max(2, width / 95)
        for (i, key) in keys.enumerated() {
            let values = rows.map { $0[evolveResultColumns + i] }
            // Room on both sides for half an x tick label, so neighbouring panels' labels never touch.
            let frame = ChartFrame.layout(panel: (pw * (i % 5), ph * (i / 5), pw, ph), xRange: Ticks.padded(values),
                                          yRange: Ticks.padded(fitness), textScale: s,
                                          yTickChars: i % 5 == 0 ? nil : 3, rightMargin: 4 * BitmapFont.cellWidth * s)
            let density = logDensity(values, fitness, edges: 20)
            let (lo, hi) = (density.min() ?? 0, density.max() ?? 0)
            for (k, (v, f)) in zip(values, fitness).enumerated() {
                let t = hi > lo ? (density[k] - lo) / (hi - lo) : 0  // matplotlib Normalize; flat → 0
                canvas.fillCircle(cx: frame.px(v), cy: frame.py(f), radius: dot, color: viridisColor(t), alpha: 0.8)
            }
            var title = key
            if let j = best {
                let (x, y) = (frame.px(values[j]), frame.py(fitness[j]))
                canvas.line(x0: x - cross, y0: y, x1: x + cross, y1: y, color: .black, thickness: max(1, s))
                canvas.line(x0: x, y0: y - cross, x1: x, y1: y + cross, color: .black, thickness: max(1, s))
                title = "\(key) = \(String(format: "%.3g", values[j]))"
            }
            canvas.drawAxes(frame, title: title, xTicks: Ticks.fitting(frame.xRange, pixels: frame.right - frame.left,
                                                                        textScale: s),
                            yTicks: i % 5 == 0 ? nil : [], textScale: s)
        }
        return canvas.image
    }

    /// YOLOv5's `hist2d(x, y, n)`: n edges from min to max on each axis (n − 1 bins, the last
    /// closed), each point's bin count, log. A constant column puts every point in one bin.
    static func logDensity(_ x: [Double], _ y: [Double], edges n: Int) -> [Double] {
        func bins(_ v: [Double]) -> [Int] {
            guard let lo = v.min(), let hi = v.max(), hi > lo else { return v.map { _ in n - 2 } }
            // np.digitize(v, linspace(lo, hi, n)) − 1, clipped to the n − 1 bins.
            return v.map { min(n - 2, max(0, Int(((($0 - lo) / (hi - lo)) * Double(n - 1)).rounded(.down)))) }
        }
        let bx = bins(x), by = bins(y)
        var counts: [Int: Int] = [:]
        for (a, b) in zip(bx, by) { counts[a * n + b, default: 0] += 1 }
        return zip(bx, by).map { Foundation.log(Double(counts[$0 * n + $1]!)) }
    }

    /// matplotlib's "viridis" sampled at 0, 0.1, …, 1.
    static let viridis: [RGB] = [
        0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C, 0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725,
    ].map { RGB(hex: $0) }

    /// The "viridis" colour at `t` in 0…1 (linear between the samples).
    public static func viridisColor(_ t: Double) -> RGB { colormap(viridis, at: t) }
}
