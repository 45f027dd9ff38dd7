// Hand-worked target assignments (YOLOv5 never tests build_targets itself).
import TensorCore
import XCTest
@testable import YOLO

final class TargetAssignmentTests: XCTestCase {
    // One level, an 8×8 grid, anchors (grid units) 1×1, 2×2 and 8×8, anchor_t = 4.
    let anchors: [[SIMD2<Float>]] = [[SIMD2(1, 1), SIMD2(2, 2), SIMD2(8, 8)]]
    let grid = [(height: 8, width: 8)]

    private func assign(_ x: Float, _ y: Float, w: Float = 0.25, h: Float = 0.25) -> LevelTargets {
        let t = TargetBox(image: 1, classIndex: 5, box: SIMD4(x, y, w, h))
        return buildTargets([t], anchors: anchors, gridSizes: grid, anchorThreshold: 4)[0]
    }

    /// A target at the centre of cell (gj 4, gi 4) of size 0.25 (2×2 grid units).
    ///
    /// Anchors: r = 2/1 = 2 → max(2, 1/2) = 2 < 4 matches; r = 2/2 = 1 matches;
    /// r = 2/8 → max(0.25, 4) = 4, not < 4, no match. So anchors 0 and 1.
    /// Cells: gx = gy = 0.5625·8 = 4.5; the fractional part 0.5 is not < 0.5 for gx, gy, nor
    /// for the distances to the far edges 8 − 4.5 = 3.5; so no neighbour: only cell (4, 4).
    /// Box relative to the cell: (4.5 − 4, 4.5 − 4, 2, 2).
    func testTargetAtCellCentreTakesOnlyItsCell() {
        let t = assign(0.5625, 0.5625)
        XCTAssertEqual(t.count, 2)
        XCTAssertEqual(t.anchor, [0, 1])
        XCTAssertEqual(t.gridY, [4, 4])
        XCTAssertEqual(t.gridX, [4, 4])
        XCTAssertEqual(t.image, [1, 1])
        XCTAssertEqual(t.classIndex, [5, 5])
        XCTAssertEqual(t.box, [SIMD4(0.5, 0.5, 2, 2), SIMD4(0.5, 0.5, 2, 2)])
        XCTAssertEqual(t.anchorSize, [SIMD2(1, 1), SIMD2(2, 2)])
    }

    /// gx = 0.53125·8 = 4.25, gy = 0.59375·8 = 4.75.
    /// j: frac(4.25) = 0.25 < 0.5 and 4.25 > 1 → also the cell to the left: gi = ⌊4.25 − 0.5⌋ = 3.
    /// k: frac(4.75) = 0.75 → no.  l: 8 − 4.25 = 3.75, frac 0.75 → no.
    /// m: 8 − 4.75 = 3.25, frac 0.25 < 0.5 → also the cell below: gj = ⌊4.75 + 0.5⌋ = 5.
    /// Order: centre, j, m; each for anchors 0 then 1. Boxes are relative to the chosen cell,
    /// so the neighbours get offsets outside 0…1: (1.25, 0.75) and (0.25, −0.25).
    func testOffCentreTargetTakesTwoNeighbours() {
        let t = assign(0.53125, 0.59375)
        XCTAssertEqual(t.anchor, [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(t.gridX, [4, 4, 3, 3, 4, 4])
        XCTAssertEqual(t.gridY, [4, 4, 4, 4, 5, 5])
        XCTAssertEqual(t.box.map { SIMD2($0.x, $0.y) },
                       [SIMD2(0.25, 0.75), SIMD2(0.25, 0.75), SIMD2(1.25, 0.75), SIMD2(1.25, 0.75),
                        SIMD2(0.25, -0.25), SIMD2(0.25, -0.25)])
    }

    /// Near the left border: gx = 0.09375·8 = 0.75, gy = 4.5.
    /// j: frac 0.75 → no (and gx > 1 fails anyway for gx < 1).
    /// l: 8 − 0.75 = 7.25, frac 0.25 < 0.5 and > 1 → the cell to the right, gi = ⌊0.75 + 0.5⌋ = 1.
    /// A target at gx = 0.25 would have frac < 0.5 but gx ≤ 1: no cell outside the grid.
    func testBorderNeverAddsCellOutsideGrid() {
        let t = assign(0.09375, 0.5625)
        XCTAssertEqual(t.gridX, [0, 0, 1, 1])
        XCTAssertEqual(t.gridY, [4, 4, 4, 4])
        let edge = assign(0.03125, 0.5625)                  // gx = 0.25
        XCTAssertEqual(edge.gridX, [0, 0])
    }

    /// A large target (6×6 grid units) matches only the 8×8 anchor (r = 0.75 → 4/3) and the
    /// 2×2 one (r = 3); 1×1 gives r = 6 ≥ 4.
    func testAnchorRatioRule() {
        let t = assign(0.5625, 0.5625, w: 0.75, h: 0.75)
        XCTAssertEqual(t.anchor, [1, 2])
    }

    func testNoTargetsGivesEmptyLevels() {
        let t = buildTargets([], anchors: anchors + anchors, gridSizes: grid + grid, anchorThreshold: 4)
        XCTAssertEqual(t.map(\.count), [0, 0])
    }

    func testTargetRowsFromTensorAndArrays() {
        let rows: [[Float]] = [[1, 7, 0.5, 0.25, 0.1, 0.2]]
        XCTAssertEqual(TargetBox.rows(rows), [TargetBox(image: 1, classIndex: 7, box: SIMD4(0.5, 0.25, 0.1, 0.2))])
        XCTAssertEqual(TargetBox.rows(Tensor(shape: [1, 6], scalars: rows[0])), TargetBox.rows(rows))
        XCTAssertEqual(TargetBox.rows(Tensor(zeros: [0, 6])), [])
    }
}
