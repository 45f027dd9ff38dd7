// `yolo train --evolve N` end to end on coco8 at 64 px: evolve.csv, hyp_evolved.yaml and
// evolve.png (plot_evolve's 10×12 in at 200 dpi) in runs/evolve/exp.
import Foundation
import XCTest
import YOLOData

final class EvolveCLITests: XCTestCase {
    func testEvolveWritesEvolvePNG() throws {
        let tmp = try temporaryFolder(self)
        var arguments = YOLOBinary.tinyTrain(project: tmp.path, epochs: 1)
        arguments += ["--evolve", "2"]
        let r = try runYOLO(arguments, directory: tmp)  // runs/evolve/ is made in the working folder
        XCTAssertEqual(r.status, 0, r.output)
        let dir = tmp.appendingPathComponent("runs/evolve/exp")
        let csv = try String(contentsOf: dir.appendingPathComponent("evolve.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3, csv)  // header + 2 generations
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("hyp_evolved.yaml").path))
        let png = dir.appendingPathComponent("evolve.png")
        XCTAssertTrue(r.stdout.contains("Saved \(png.path)"), r.stdout)
        let image = try PNGEncoder.decodeForTesting(Data(contentsOf: png))
        XCTAssertEqual(image.width, 2000)
        XCTAssertEqual(image.height, 2400)
        XCTAssertTrue(image.pixels.contains { $0 < 128 }, "evolve.png is blank")
    }
}
