// YOLOv5's target assignment (utils/loss.py `build_targets`): which grid cells and anchors of
// each detection level are responsible for each labelled box. Pure Float arithmetic; no loss.
import TensorCore

/// One labelled box of a batch: YOLOv5's target row `[image, class, x, y, w, h]`, with the
/// box centre and size normalised to 0…1 by the image width and height.
public struct TargetBox: Equatable, Sendable {
    public var image: Int
    public var classIndex: Int
    public var box: SIMD4<Float>

    public init(image: Int, classIndex: Int, box: SIMD4<Float>) {
        self.image = image
        self.classIndex = classIndex
        self.box = box
    }

    /// Rows of 6 values `[image, class, x, y, w, h]`.
    public static func rows(_ rows: [[Float]]) -> [TargetBox] {
        rows.map { r in
            precondition(r.count == 6, "a target row has 6 values [image, class, x, y, w, h], got \(r.count)")
            return TargetBox(image: Int(r[0]), classIndex: Int(r[1]), box: SIMD4(r[2], r[3], r[4], r[5]))
        }
    }

    /// An (N, 6) tensor of rows `[image, class, x, y, w, h]`.
    public static func rows(_ t: Tensor) -> [TargetBox] {
        if t.count == 0 { return [] }
        precondition(t.rank == 2 && t.shape[1] == 6, "targets must be (N, 6), got \(t.shape)")
        let v = t.scalars
        return (0..<t.shape[0]).map { i in
            TargetBox(image: Int(v[6 * i]), classIndex: Int(v[6 * i + 1]),
                      box: SIMD4(v[6 * i + 2], v[6 * i + 3], v[6 * i + 4], v[6 * i + 5]))
        }
    }
}

/// The assignments of one detection level, one entry per (target, anchor, cell) match, in
/// YOLOv5's order: neighbour offset (centre, −x, −y, +x, +y), then anchor, then target.
public struct LevelTargets: Equatable, Sendable {
    /// Image index in the batch (`b`).
    public var image: [Int] = []
    /// Anchor index within the level (`a`).
    public var anchor: [Int] = []
    /// Cell row, clamped to 0..<H (`gj`).
    public var gridY: [Int] = []
    /// Cell column, clamped to 0..<W (`gi`).
    public var gridX: [Int] = []
    /// Class index (`tcls`).
    public var classIndex: [Int] = []
    /// Box in grid units relative to the cell: `[gx − gi, gy − gj, gw, gh]` (`tbox`).
    public var box: [SIMD4<Float>] = []
    /// Matched anchor size in grid units (`anch`).
    public var anchorSize: [SIMD2<Float>] = []

    public init() {}

    public var count: Int { image.count }
}

/// YOLOv5's neighbour-cell rule: besides its own cell, a target centre is also given to the
/// adjacent cell on each side it is nearer than half a cell to, unless that is the border.
/// Offsets are subtracted from the centre: index 1 (−x, mask j), 2 (−y, k), 3 (+x, l), 4 (+y, m).
private let cellOffsets: [SIMD2<Float>] = [SIMD2(0, 0), SIMD2(0.5, 0), SIMD2(0, 0.5), SIMD2(-0.5, 0), SIMD2(0, -0.5)]

/// Assigns targets to anchors and cells for every level, as YOLOv5's `build_targets`.
///
/// - Parameters:
///   - targets: the batch's labelled boxes.
///   - anchors: per level, the anchor sizes in grid units (pixels / stride), (na) each.
///   - gridSizes: per level, the prediction grid (height H, width W).
///   - anchorThreshold: `hyp.anchor_t`; a target matches an anchor when the larger of
///     r and 1/r, for r = target size / anchor size per dimension, is below it.
public func buildTargets(_ targets: [TargetBox], anchors: [[SIMD2<Float>]],
                         gridSizes: [(height: Int, width: Int)], anchorThreshold: Float) -> [LevelTargets] {
    precondition(anchors.count == gridSizes.count, "one anchor set per level")
    return zip(anchors, gridSizes).map { levelAnchors, grid in
        assignLevel(targets, anchors: levelAnchors, height: grid.height, width: grid.width,
                    anchorThreshold: anchorThreshold)
    }
}

private func assignLevel(_ targets: [TargetBox], anchors: [SIMD2<Float>], height: Int, width: Int,
                         anchorThreshold: Float) -> LevelTargets {
    var out = LevelTargets()
    let gain = SIMD2<Float>(Float(width), Float(height))
    // Targets in grid units: (nt) centres and sizes, as `targets * gain`.
    let centres = targets.map { SIMD2($0.box.x, $0.box.y) * gain }
    let sizes = targets.map { SIMD2($0.box.z, $0.box.w) * gain }

    // Anchor match, anchor-major as upstream's (na, nt) mask: (a, t) pairs kept in order.
    var matches: [(anchor: Int, target: Int)] = []
    for (a, anchor) in anchors.enumerated() {
        for t in targets.indices {
            let r = sizes[t] / anchor
            let worst = Swift.max(Swift.max(r.x, 1 / r.x), Swift.max(r.y, 1 / r.y))
            if worst < anchorThreshold { matches.append((a, t)) }
        }
    }

    // Neighbour masks per match: j, k use the centre, l, m the distance from the far edge.
    func fraction(_ v: Float) -> Float { v - v.rounded(.down) }   // Python's v % 1
    for (o, offset) in cellOffsets.enumerated() {
        for (a, t) in matches {
            let g = centres[t], gi = gain - g
            let take: Bool
            switch o {
            case 1: take = fraction(g.x) < 0.5 && g.x > 1
            case 2: take = fraction(g.y) < 0.5 && g.y > 1
            case 3: take = fraction(gi.x) < 0.5 && gi.x > 1
            case 4: take = fraction(gi.y) < 0.5 && gi.y > 1
            default: take = true
            }
            guard take else { continue }
            // Truncation as `.long()`; the clamped cell is also what the box is relative to
            // (upstream clamps gij in place before computing tbox).
            let cell = g - offset
            let cx = Swift.min(Swift.max(Int(cell.x), 0), width - 1)
            let cy = Swift.min(Swift.max(Int(cell.y), 0), height - 1)
            out.image.append(targets[t].image)
            out.anchor.append(a)
            out.gridY.append(cy)
            out.gridX.append(cx)
            out.classIndex.append(targets[t].classIndex)
            out.box.append(SIMD4(g.x - Float(cx), g.y - Float(cy), sizes[t].x, sizes[t].y))
            out.anchorSize.append(anchors[a])
        }
    }
    return out
}
