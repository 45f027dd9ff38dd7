// confusion_matrix.png as YOLOv5's `ConfusionMatrix.plot` (utils/metrics.py) draws it with
// seaborn: column-normalised, cells under 0.005 left blank, "Blues" colour map, class names
// plus "background" on the axes when there are few classes, values annotated when nc < 30.
import Foundation
import YOLOData

extension Charts {
    /// matplotlib's "Blues" (ColorBrewer 9-class) control points, evenly spaced on 0…1.
    static let blues: [RGB] = [
        0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6, 0x2171B5, 0x08519C, 0x08306B,
    ].map { RGB(hex: $0) }

    /// The "Blues" colour at `t` in 0…1 (linear between control points).
    public static func bluesColor(_ t: Double) -> RGB { colormap(blues, at: t) }

    /// A colour map of evenly spaced samples read at `t` in 0…1 (not finite: 0), linear between
    /// neighbouring samples, each channel rounded.
    static func colormap(_ samples: [RGB], at t: Double) -> RGB {
        let u = min(max(t.isFinite ? t : 0, 0), 1) * Double(samples.count - 1)
        let k = min(Int(u), samples.count - 2), f = u - Double(k)
        let a = samples[k], b = samples[k + 1]
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) * (1 - f) + Double(y) * f).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    /// YOLOv5's column normalisation: each column (a true class, or background) divided by its
    /// sum + 1e-9; entries below 0.005 become NaN (drawn blank).
    public static func normalizedConfusion(_ matrix: [[Double]]) -> [[Double]] {
        let n = matrix.count
        let sums = (0..<n).map { j in matrix.reduce(0) { $0 + $1[j] } }
        return matrix.map { row in
            row.enumerated().map { j, v in
                let x = v / (sums[j] + 1e-9)
                return x < 0.005 ? .nan : x
            }
        }
    }

    /// Writes confusion_matrix.png. `matrix` is (nc + 1) × (nc + 1) counts, rows = predicted
    /// class, columns = true class, index nc = background (YOLOv5's `ConfusionMatrix.matrix`).
    public static func plotConfusionMatrix(_ matrix: [[Double]], names: [String], normalize: Bool = true,
                                           to url: URL, width: Int = 3000, height: Int = 2250) throws {
        try PlotFile.write(renderConfusionMatrix(matrix, names: names, normalize: normalize, width: width,
                                                 height: height), to: url)
    }

    public static func renderConfusionMatrix(_ matrix: [[Double]], names: [String], normalize: Bool = true,
                                             width: Int = 3000, height: Int = 2250) -> Image {
        let n = matrix.count, nc = n - 1
        precondition(n > 0 && matrix.allSatisfy { $0.count == n }, "confusion matrix must be square")
        let array = normalize ? normalizedConfusion(matrix) : matrix.map { $0.map { $0 < 0.005 ? .nan : $0 } }
        let vmax = array.flatMap { $0 }.filter(\.isFinite).max() ?? 1
        let labelled = names.count > 0 && names.count < 99 && names.count == nc
        let ticks = labelled ? names + ["background"] : (0..<n).map(String.init)
        var canvas = Canvas(width: width, height: height)
        let s = textScale(width: width, height: height)
        let longest = ticks.map { $0.count }.max() ?? 1
        let labelSpace = (longest * BitmapFont.cellWidth + 4) * s + 3 * BitmapFont.cellHeight * s
        // Square cells in the room left by labels, title and colour bar.
        let cell = max(1, min((width - labelSpace - 24 * s * 5) / n, (height - labelSpace - 4 * 8 * s) / n))
        let x0 = labelSpace, y0 = 3 * BitmapFont.cellHeight * s
        for i in 0..<n {
            for j in 0..<n where array[i][j].isFinite {
                let color = bluesColor(array[i][j] / max(vmax, 1e-12))
                canvas.fillRect(x0: x0 + j * cell, y0: y0 + i * cell, x1: x0 + (j + 1) * cell - 1,
                                y1: y0 + (i + 1) * cell - 1, color: color)
                if nc < 30 { annotate(&canvas, array[i][j], color: color, cellX: x0 + j * cell, cellY: y0 + i * cell,
                                      cell: cell, s: s) }
            }
        }
        drawMatrixLabels(&canvas, ticks: ticks, x0: x0, y0: y0, cell: cell, s: s)
        drawColorBar(&canvas, x: x0 + n * cell + 8 * s, y: y0, height: n * cell, vmax: vmax, s: s)
        return canvas.image
    }

    /// "%.2f" in the cell, white on dark cells and near-black on light ones (seaborn's rule:
    /// relative luminance below 0.408 gets white).
    static func annotate(_ canvas: inout Canvas, _ v: Double, color: RGB, cellX: Int, cellY: Int, cell: Int, s: Int) {
        let label = String(format: "%.2f", v)
        var scale = s
        while scale > 1 && BitmapFont.size(of: label, scale: scale).width > cell - 2 { scale -= 1 }
        let (w, h) = BitmapFont.size(of: label, scale: scale)
        guard w <= cell else { return }
        func lin(_ c: UInt8) -> Double {
            let x = Double(c) / 255
            return x <= 0.03928 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
        }
        let luminance = 0.2126 * lin(color.r) + 0.7152 * lin(color.g) + 0.0722 * lin(color.b)
        canvas.text(label, x: cellX + (cell - w) / 2, y: cellY + (cell - h) / 2 + scale,
                    color: luminance < 0.408 ? .white : RGB(38, 38, 38), scale: scale)
    }

    static func drawMatrixLabels(_ canvas: inout Canvas, ticks: [String], x0: Int, y0: Int, cell: Int, s: Int) {
        let n = ticks.count, ink = RGB.black
        let lh = BitmapFont.cellHeight * s
        var scale = s
        while scale > 1 && lh * scale / s > cell { scale -= 1 }
        let longest = ticks.map { BitmapFont.size(of: $0, scale: scale).width }.max() ?? 0
        let upright = longest <= cell - 2 * s  // seaborn turns crowded column labels vertical
        for (k, t) in ticks.enumerated() {
            let (w, h) = BitmapFont.size(of: t, scale: scale)
            // Rows (predicted) on the left; columns (true) below.
            canvas.text(t, x: x0 - w - 3 * s, y: y0 + k * cell + (cell - h) / 2, color: ink, scale: scale)
            if upright {
                canvas.text(t, x: x0 + k * cell + (cell - w) / 2, y: y0 + n * cell + 3 * s, color: ink, scale: scale)
            } else {
                canvas.verticalText(t, x: x0 + k * cell + (cell - h) / 2, y: y0 + n * cell + 3 * s, color: ink,
                                    scale: scale)
            }
        }
        let below = upright ? lh : longest
        let title = "Confusion Matrix", tw = BitmapFont.size(of: title, scale: s).width
        canvas.text(title, x: x0 + (n * cell - tw) / 2, y: y0 - 2 * lh, color: ink, scale: s)
        let xl = "True", xw = BitmapFont.size(of: xl, scale: s).width
        canvas.text(xl, x: x0 + (n * cell - xw) / 2, y: y0 + n * cell + below + 6 * s, color: ink, scale: s)
        let yl = "Predicted", yw = BitmapFont.size(of: yl, scale: s).width
        canvas.verticalText(yl, x: max(0, x0 - longest - 3 * s - 2 * lh), y: y0 + (n * cell - yw) / 2, color: ink,
                            scale: s)
    }

    /// A vertical colour bar 0…vmax with tick labels on its right.
    static func drawColorBar(_ canvas: inout Canvas, x: Int, y: Int, height: Int, vmax: Double, s: Int) {
        let w = 12 * s
        guard height > 1 else { return }
        for row in 0..<height {
            let t = 1 - Double(row) / Double(height - 1)
            canvas.fillRect(x0: x, y0: y + row, x1: x + w, y1: y + row, color: bluesColor(t))
        }
        for v in Ticks.nice(0, vmax) {
            let py = y + Int((1 - v / max(vmax, 1e-12)) * Double(height - 1))
            canvas.line(x0: x + w, y0: py, x1: x + w + 3 * s, y1: py, color: .black, thickness: max(1, s / 2))
            canvas.text(Ticks.label(v), x: x + w + 5 * s, y: py - BitmapFont.glyphHeight * s / 2, color: .black,
                        scale: s)
        }
    }
}
