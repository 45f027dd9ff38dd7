// The mosaic canvas painted only where the warp reads (`placeMosaic(region:)`): byte-identical to
// the fully painted canvas after the warp, with the unpainted part set to a value the full canvas
// never holds there, so a read outside the region would show.
import TensorCore
import XCTest
@testable import YOLOData

final class MosaicRegionTests: XCTestCase {
    func testWarpOfRegionCanvasEqualsWarpOfFullCanvas() {
        let s = 64, side = 2 * s, border = -s / 2
        let tiles = (0..<4).map { i in
            MosaicTile(image: patternImage(width: 40 + 9 * i, height: 64 - 7 * i, seed: i), labels: [])
        }
        var g = SeededGenerator(seed: 11)
        var partial = 0
        for trial in 0..<300 {
            let center = (x: Int(g.uniform(Double(s / 2), Double(3 * s / 2))), y: Int(g.uniform(Double(s / 2), Double(3 * s / 2))))
            // Scales over and past YOLOv5's ranges (scale 0.5 → [0.5, 1.5]; scratch-high 0.9), translations to 0.3.
            let scale = trial < 4 ? [0.1, 0.5, 1.0, 3.0][trial] : g.uniform(0.1, 2.5)
            let draws = PerspectiveDraws(scale: scale, translateX: g.uniform(0.2, 0.8), translateY: g.uniform(0.2, 0.8))
            let out = side + 2 * border
            let m = draws.matrix(inputWidth: side, inputHeight: side, outputWidth: out, outputHeight: out)
            guard let region = affineWarpSourceRegion(matrix: m, width: out, height: out, sourceWidth: side,
                                                      sourceHeight: side) else {
                return XCTFail("a scale-and-translate matrix has a region")
            }
            if region.columns.count < side || region.rows.count < side { partial += 1 }
            let full = placeMosaic(tiles, size: s, center: center).image
            let cut = placeMosaic(tiles, size: s, center: center, region: region, outside: 7).image
            XCTAssertEqual(applyPerspective(cut, targets: [], draws: draws, projective: false, border: border).image,
                           applyPerspective(full, targets: [], draws: draws, projective: false, border: border).image,
                           "trial \(trial) scale \(scale)")
        }
        XCTAssertGreaterThan(partial, 100, "most trials paint part of the canvas")
    }

    func testRotationHasNoRegion() {
        let m = PerspectiveDraws(angle: 5).matrix(inputWidth: 128, inputHeight: 128, outputWidth: 64, outputHeight: 64)
        XCTAssertNil(affineWarpSourceRegion(matrix: m, width: 64, height: 64, sourceWidth: 128, sourceHeight: 128))
    }
}
