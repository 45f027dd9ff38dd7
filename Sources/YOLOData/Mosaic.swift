// `loadMosaic` and `mixup`: YOLOv5's 4-image mosaic (utils/dataloaders.py load_mosaic) and MixUp
// (utils/augmentations.py mixup). Not the 9-image mosaic or copy-paste (off in YOLOv5 defaults).

/// An image as load_image returns it (long side resized to the training size) with its labels
/// `[class, x, y, w, h]` normalised to that image.
public struct MosaicTile: Sendable {
    public var image: Image
    public var labels: [[Float]]

    public init(image: Image, labels: [[Float]]) {
        self.image = image
        self.labels = labels
    }
}

/// Floor division (Python //).
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int { (a - (a %% b)) / b }

/// Places four tiles around `center` on a 2s x 2s canvas of 114 grey, as load_mosaic does:
/// tile 0 ends at the centre (top left), 1 starts right of it (top right), 2 below (bottom left),
/// 3 diagonally (bottom right); each is cropped to the canvas from the side away from the centre.
/// Returns labels `[class, x1, y1, x2, y2]` in canvas pixels, clipped to [0, 2s].
///
/// With a `region` (columns, rows), only that part of the canvas is painted (grey and tiles): the
/// warp that follows reads nothing else (`affineWarpSourceRegion`), and at scales above 1 it reads
/// a quarter of the canvas or less. The rest is left as it comes from the allocator, or set to
/// `outside` (tests use it to show nothing there is read).
public func placeMosaic(_ tiles: [MosaicTile], size s: Int, center: (x: Int, y: Int),
                        region: (columns: Range<Int>, rows: Range<Int>)? = nil,
                        outside: UInt8? = nil) -> (image: Image, targets: [[Float]]) {
    precondition(tiles.count == 4, "a mosaic has 4 tiles")
    let side = 2 * s
    let painted = region.map { ($0.columns.clamped(to: 0..<side), $0.rows.clamped(to: 0..<side)) }
        ?? (0..<side, 0..<side)
    var canvas: Image
    if painted == (0..<side, 0..<side) {
        canvas = Image(width: side, height: side, fill: 114)
    } else if let outside {
        canvas = Image(width: side, height: side, fill: outside)
        canvas.fill(columns: painted.0, rows: painted.1, with: 114)
    } else {
        canvas = Image(width: side, height: side,
                       pixels: [UInt8](unsafeUninitializedCapacity: side * side * 3) { _, n in n = side * side * 3 })
        canvas.fill(columns: painted.0, rows: painted.1, with: 114)
    }
    var targets: [[Float]] = []
    let (xc, yc) = center
    for (i, tile) in tiles.enumerated() {
        let w = tile.image.width, h = tile.image.height
        // (x1a, y1a, x2a, y2a) on the canvas, (x1b, y1b, x2b, y2b) in the tile.
        let a: (Int, Int, Int, Int), b: (Int, Int, Int, Int)
        switch i {
        case 0:
            a = (max(xc - w, 0), max(yc - h, 0), xc, yc)
            b = (w - (a.2 - a.0), h - (a.3 - a.1), w, h)
        case 1:
            a = (xc, max(yc - h, 0), min(xc + w, 2 * s), yc)
            b = (0, h - (a.3 - a.1), min(w, a.2 - a.0), h)
        case 2:
            a = (max(xc - w, 0), yc, xc, min(2 * s, yc + h))
            b = (w - (a.2 - a.0), 0, w, min(a.3 - a.1, h))
        default:
            a = (xc, yc, min(xc + w, 2 * s), min(2 * s, yc + h))
            b = (0, 0, min(w, a.2 - a.0), min(a.3 - a.1, h))
        }
        // The tile's canvas rectangle a, cut to the painted region, and the same cut in the tile.
        let x0 = max(a.0, painted.0.lowerBound), x1 = min(a.2, painted.0.upperBound)
        let y0 = max(a.1, painted.1.lowerBound), y1 = min(a.3, painted.1.upperBound)
        if x0 < x1 && y0 < y1 {
            blit(tile.image, rect: (b.0 + x0 - a.0, b.1 + y0 - a.1, x1 - x0, y1 - y0), into: &canvas, x: x0, y: y0)
        }
        let padW = Double(a.0 - b.0), padH = Double(a.1 - b.1)
        targets += xywhnToXyxy(tile.labels, width: Double(w), height: Double(h), padX: padW, padY: padH)
    }
    let limit = Float(2 * s)
    targets = targets.map { t in [t[0]] + t[1...4].map { min(max($0, 0), limit) } }
    return (canvas, targets)
}

/// YOLOv5 load_mosaic: centre (yc, xc) = int(uniform(s/2, 3s/2)) each (y drawn first), the
/// sample plus 3 picks from `pool` (random.choices), shuffled, placed by `placeMosaic`, then
/// `randomPerspective` with border −s/2 back to s x s. `load(i)` returns load_image's result.
/// Returns labels `[class, x1, y1, x2, y2]` in output pixels.
public func loadMosaic(index: Int, imageSize s: Int, pool: [Int], hyp: AugmentationHyperparameters,
                       using g: inout some RandomNumberGenerator,
                       load: (Int) throws -> MosaicTile) rethrows -> (image: Image, targets: [[Float]]) {
    let border = floorDiv(-s, 2)  // YOLOv5 mosaic_border = -img_size // 2
    let yc = Int(g.uniform(Double(-border), Double(2 * s + border)))
    let xc = Int(g.uniform(Double(-border), Double(2 * s + border)))
    var indices = [index]
    for _ in 0..<3 { indices.append(pool[Int(g.nextDouble() * Double(pool.count))]) }
    indices.shuffleInPlace(using: &g)
    let tiles = try indices.map(load)
    // random_perspective's draws come next; drawn first here (building the canvas draws nothing)
    // so that only the part of the canvas the warp reads is painted.
    let draws = PerspectiveDraws.sample(degrees: hyp.degrees, translate: hyp.translate, scale: hyp.scale,
                                        shear: hyp.shear, perspective: hyp.perspective, using: &g)
    let projective = hyp.perspective != 0
    let side = 2 * s, out = side + 2 * border
    let region = projective ? nil : affineWarpSourceRegion(
        matrix: draws.matrix(inputWidth: side, inputHeight: side, outputWidth: out, outputHeight: out),
        width: out, height: out, sourceWidth: side, sourceHeight: side)
    let (canvas, targets) = placeMosaic(tiles, size: s, center: (xc, yc), region: region)
    return applyPerspective(canvas, targets: targets, draws: draws, projective: projective, border: border)
}

/// YOLOv5 mixup: ratio r ~ Beta(32, 32) (YOLOv5 7.0), pixels r·a + (1 − r)·b truncated to UInt8,
/// labels concatenated. The images must have the same size.
public func mixup(_ a: Image, _ targetsA: [[Float]], _ b: Image, _ targetsB: [[Float]],
                  using g: inout some RandomNumberGenerator) -> (image: Image, targets: [[Float]]) {
    let r = g.beta(32, 32)
    return (blend(a, b, ratio: r), targetsA + targetsB)
}

/// r·a + (1 − r)·b per byte, truncated (NumPy .astype(np.uint8) of float64).
public func blend(_ a: Image, _ b: Image, ratio r: Double) -> Image {
    precondition(a.width == b.width && a.height == b.height, "mixup needs equal sizes")
    var out = a
    out.pixels.withUnsafeMutableBufferPointer { p in
        b.pixels.withUnsafeBufferPointer { q in
            for i in 0..<p.count { p[i] = UInt8(Double(p[i]) * r + Double(q[i]) * (1 - r)) }
        }
    }
    return out
}
