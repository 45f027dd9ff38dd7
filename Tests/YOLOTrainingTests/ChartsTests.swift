// Every chart writes a file that decodes to the expected size and is not one flat colour;
// plus the smoothing filters against values from scipy / YOLOv5's `smooth`.
import Foundation
import XCTest
import YOLOData
@testable import YOLOTraining

final class ChartsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        // PLOTS_OUT=/some/dir keeps the figures for a look.
        let keep = ProcessInfo.processInfo.environment["PLOTS_OUT"]
        dir = keep.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("charts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if ProcessInfo.processInfo.environment["PLOTS_OUT"] == nil { try? FileManager.default.removeItem(at: dir) }
    }

    /// Decodes `name` in `dir`, checks its size, and that it has many colours.
    @discardableResult
    func assertPlot(_ name: String, width: Int, height: Int, file: StaticString = #filePath, line: UInt = #line) throws -> Image {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        XCTAssertGreaterThan(data.count, 100, file: file, line: line)
        let image = name.hasSuffix(".png") ? try PNGEncoder.decodeForTesting(data) : try PlotFile.decodeJPEGForTesting(data)
        XCTAssertEqual(image.width, width, name, file: file, line: line)
        XCTAssertEqual(image.height, height, name, file: file, line: line)
        var colours = Set<UInt32>()
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            colours.insert(UInt32(image.pixels[i]) << 16 | UInt32(image.pixels[i + 1]) << 8 | UInt32(image.pixels[i + 2]))
            if colours.count > 3 { break }
        }
        XCTAssertGreaterThan(colours.count, 3, "\(name) is nearly a single colour", file: file, line: line)
        return image
    }

    func testResultsPNG() throws {
        let csv = ResultsCSV(url: dir.appendingPathComponent("results.csv"))
        for e in 0..<12 {
            let t = Double(e)
            try csv.append(epoch: e, values: [0.1 / (t + 1), 0.05, 0.02 + 0.001 * t, 0.3 + 0.05 * t, 0.2 + 0.04 * t,
                                              0.1 * t / 12, 0.05 * t / 12, 0.09, 0.04, 0.01, 0.01, 0.01, 0.01])
        }
        try Charts.plotResults(csv: csv.url, width: 1200, height: 600)
        try assertPlot("results.png", width: 1200, height: 600)
        try Charts.plotResults(csv: TensorBoardTests.fixtures.appendingPathComponent("results.csv"),
                               to: dir.appendingPathComponent("fixture.png"), width: 600, height: 300)
        try assertPlot("fixture.png", width: 600, height: 300)
    }

    func testCurves() throws {
        let px = (0..<1000).map { Double($0) / 999 }
        let names = ["person", "car", "dog"]
        let precision = (0..<3).map { c in px.map { max(0, 1 - pow($0, Double(c + 2))) } }
        try Charts.plotPRCurve(recall: px, precision: precision, ap50: [0.9, 0.8, 0.7], names: names,
                               to: dir.appendingPathComponent("PR_curve.png"), width: 900, height: 600)
        let pr = try assertPlot("PR_curve.png", width: 900, height: 600)
        XCTAssertTrue(pr.pixels.indices.contains { $0 % 3 == 0 && pr.pixels[$0] == 0 && pr.pixels[$0 + 1] == 0
                          && pr.pixels[$0 + 2] == 255 }, "the blue all-classes line")
        for (name, label) in [("F1", "F1"), ("P", "Precision"), ("R", "Recall")] {
            try Charts.plotMetricCurve(confidence: px, values: precision, names: names, yLabel: label,
                                       to: dir.appendingPathComponent("\(name)_curve.png"), width: 900, height: 600)
            try assertPlot("\(name)_curve.png", width: 900, height: 600)
        }
        // Many classes: grey curves, no per-class legend.
        let many = (0..<30).map { c in px.map { 1 - $0 * Double(c) / 30 } }
        try Charts.plotPRCurve(recall: px, precision: many, ap50: Array(repeating: 0.5, count: 30),
                               names: (0..<30).map { "c\($0)" }, to: dir.appendingPathComponent("many.png"),
                               width: 450, height: 300)
        try assertPlot("many.png", width: 450, height: 300)
    }

    func testConfusionMatrix() throws {
        let m: [[Double]] = [[50, 2, 3, 4], [1, 40, 0, 2], [0, 5, 30, 1], [3, 2, 1, 0]]
        try Charts.plotConfusionMatrix(m, names: ["a", "b", "c"], to: dir.appendingPathComponent("confusion_matrix.png"),
                                       width: 1200, height: 900)
        try assertPlot("confusion_matrix.png", width: 1200, height: 900)
        let n = Charts.normalizedConfusion(m)
        XCTAssertEqual(n[0][0], 50.0 / 54, accuracy: 1e-9)  // column sums: 54, 49, 34, 7
        XCTAssertTrue(n[3][3].isNaN)  // zero → blank
        XCTAssertTrue(n[2][0].isNaN)
        XCTAssertEqual(Charts.bluesColor(0), RGB(hex: 0xF7FBFF))
        XCTAssertEqual(Charts.bluesColor(1), RGB(hex: 0x08306B))
    }

    func testLabelsJPG() throws {
        var g = SystemRandomNumberGenerator()
        let labels: [[Float]] = (0..<300).map { i in
            [Float(i % 5), .random(in: 0.1...0.9, using: &g), .random(in: 0.1...0.9, using: &g),
             .random(in: 0.02...0.5, using: &g), .random(in: 0.02...0.5, using: &g)]
        }
        try Charts.plotLabels(labels, names: ["a", "b", "c", "d", "e"], to: dir.appendingPathComponent("labels.jpg"),
                              size: 800)
        try assertPlot("labels.jpg", width: 800, height: 800)
    }

    func testBatchMosaics() throws {
        let images = (0..<5).map { i -> Image in
            var c = Canvas(width: 64, height: 48, background: RGB(UInt8(40 * i), 100, 150))
            c.fillRect(x0: 10, y0: 10, x1: 30, y1: 30, color: .white)
            return c.image
        }
        let labels: [[Float]] = [[0, 1, 0.5, 0.5, 0.4, 0.4], [3, 2, 0.2, 0.3, 0.1, 0.2]]
        try Charts.plotImages(images, targets: labels, paths: (0..<5).map { "/data/images/im\($0).jpg" },
                              names: ["a", "b", "c"], to: dir.appendingPathComponent("train_batch0.jpg"))
        try assertPlot("train_batch0.jpg", width: 64 * 3, height: 48 * 3)  // 5 images → 3×3 grid
        let preds: [[Float]] = [[0, 1, 32, 24, 20, 20, 0.9], [0, 2, 10, 10, 8, 8, 0.1]]  // pixels; 2nd below 0.25
        let big = (0..<16).map { _ in Image(width: 640, height: 640, fill: 90) }
        try Charts.plotImages(big, targets: preds, names: ["a", "b", "c"],
                              to: dir.appendingPathComponent("val_batch0_pred.jpg"))
        try assertPlot("val_batch0_pred.jpg", width: 1920, height: 1920)  // 4×640 shrunk to 1920
    }

    func testGaussianFilterMatchesScipy() {
        // scipy.ndimage.gaussian_filter1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3) (mode reflect)
        let y = (0..<10).map(Double.init)
        let expected = [1.936, 2.1922, 2.6751, 3.3326, 4.0986, 4.9014, 5.6674, 6.3249, 6.8078, 7.064]
        let got = Charts.gaussianFilter1D(y, sigma: 3)
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 2e-4) }
        XCTAssertEqual(Charts.gaussianFilter1D([2], sigma: 3), [2])
    }

    func testBoxSmoothLikeYOLOv5() {
        // YOLOv5 utils/metrics.py smooth(y, 0.05) on 100 points (numpy): nf = 6, first values below.
        // (With an even nf numpy returns n + 1 values; we keep the first n. For YOLOv5's 1000
        // points nf = 51 is odd and the lengths agree.)
        let y = (0..<100).map { Double($0 % 7) }
        let s = Charts.boxSmooth(y, fraction: 0.05)
        for (a, b) in zip(s.prefix(5), [0.5, 1, 1.666667, 2.5, 3.5]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(s.count, 100)
        XCTAssertEqual(Charts.boxSmooth(Array(repeating: 3, count: 50), fraction: 0.05), Array(repeating: 3, count: 50))
    }

    func testTicks() {
        XCTAssertEqual(Ticks.nice(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        XCTAssertEqual(Ticks.nice(0, 0.3), [0, 0.1, 0.2, 0.3])
        XCTAssertEqual(Ticks.nice(0.09, 0.09 + 1e-17).count, 2)  // flat series: no endless loop
        XCTAssertEqual(Ticks.padded([0.09, 0.09 + 1e-17]).lowerBound, 0.04, accuracy: 1e-12)
        XCTAssertEqual(Ticks.label(0.25), "0.25")
        XCTAssertEqual(Ticks.label(1200), "1200")
        XCTAssertEqual(Ticks.label(1e-5), "1e-05")
    }

    /// evolve.png from a 4-generation evolve.csv: the size asked for, decodes, and the density
    /// colours appear (viridis ends at alpha 0.8 over white): generations 0 and 2 are close, so
    /// they share a bin (the top of the scale, yellow); 1 and 3 are alone (the bottom, purple).
    /// (Close, not equal: two equal dots blend twice and no pixel keeps the single-blend colour.)
    func testEvolvePNG() throws {
        let keys = ["metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95",
                    "val/box_loss", "val/obj_loss", "val/cls_loss", "lr0", "momentum", "iou_t"]
        let rows: [[Double]] = [[0, 0, 0.5, 0.3, 0.1, 0.1, 0.1, 0.01, 0.9, 0.2],  // fitness 0.32
                                [0, 0, 0.6, 0.4, 0.1, 0.1, 0.1, 0.02, 0.95, 0.2],  // 0.42, best
                                [0, 0, 0.5, 0.301, 0.1, 0.1, 0.1, 0.0101, 0.9, 0.2],  // 0.3209
                                [0, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.005, 0.8, 0.2]]  // 0.10
        let text = keys.map { String(repeating: " ", count: max(0, 20 - $0.count)) + $0 }.joined(separator: ",") + "\n"
            + rows.map { $0.map { String(format: "%20.5g", $0) }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let csv = dir.appendingPathComponent("evolve.csv")
        try Data(text.utf8).write(to: csv)
        let url = try Charts.plotEvolve(csv: csv, width: 1000, height: 1200)
        XCTAssertEqual(url.lastPathComponent, "evolve.png")
        let image = try assertPlot("evolve.png", width: 1000, height: 1200)
        var colours = Set<RGB>()
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            colours.insert(RGB(image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]))
        }
        // 0.8·(0xFD, 0xE7, 0x25) + 0.2·255 and 0.8·(0x44, 0x01, 0x54) + 0.2·255, rounded.
        XCTAssertTrue(colours.contains(RGB(253, 236, 81)), "no top-density (yellow) point")
        XCTAssertTrue(colours.contains(RGB(105, 52, 118)), "no bottom-density (purple) point")
        XCTAssertTrue(colours.contains(.black), "no best-point marker")
    }

    func testEvolveDensityLikeYOLOv5Hist2D() {
        // yolov5 utils/plots.py hist2d(x, y, 20) in the peer venv: [0.69315, 0, 0.69315, 0] for both
        // (a constant x column puts every point in one x bin, so only y separates them).
        let x = [0.01, 0.02, 0.01, 0.005], y = [0.32, 0.42, 0.32, 0.10]
        for (a, b) in zip(Charts.logDensity(x, y, edges: 20), [log(2.0), 0, log(2.0), 0]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        for (a, b) in zip(Charts.logDensity([0.2, 0.2, 0.2, 0.2], y, edges: 20), [log(2.0), 0, log(2.0), 0]) {
            XCTAssertEqual(a, b, accuracy: 1e-12)
        }
        XCTAssertEqual(Charts.viridisColor(0), RGB(hex: 0x440154))
        XCTAssertEqual(Charts.viridisColor(1), RGB(hex: 0xFDE725))
    }
}
