// `loadMosaic` and `mixup`: YOLOv5's 4-image mosaic (utils/dataloaders.py load_mosaic) and MixUp
// (utils/augmentations.py mixup). Not the 9-image mosaic or copy-paste (off in YOLOv5 defaults).

/// An image as load_image returns it (long side resized to the training size) with its labels
/// `[class, x, y, w, h]` normalised to that image. `image` may be only the part of it a mosaic
/// shows (`MosaicTileView`): it then starts at `origin` of the `width` x `height` image.
public struct MosaicTile: Sendable {
    public var image: Image
    public var labels: [[Float]]
    public var width: Int, height: Int
    public var origin: (x: Int, y: Int)

    public init(image: Image, labels: [[Float]]) {
        self.init(part: image, origin: (0, 0), width: image.width, height: image.height, labels: labels)
    }

    public init(part: Image, origin: (x: Int, y: Int), width: Int, height: Int, labels: [[Float]]) {
        self.image = part
        self.labels = labels
        self.width = width
        self.height = height
        self.origin = origin
    }
}

/// Where the tile in mosaic slot `slot` (0 top left, 1 top right, 2 bottom left, 3 bottom right)
/// goes: `a` (x1, y1, x2, y2) on the 2s x 2s canvas and `b`, the same rectangle in the tile, as
/// load_mosaic computes them; each tile is cut to the canvas on the side away from the centre.
func mosaicPlacement(slot: Int, width w: Int, height h: Int, size s: Int, center: (x: Int, y: Int))
    -> (a: (Int, Int, Int, Int), b: (Int, Int, Int, Int)) {
    let (xc, yc) = center
    let a: (Int, Int, Int, Int), b: (Int, Int, Int, Int)
    switch slot {
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
    return (a, b)
}

/// The part of a tile placed at (`a`, `b`) (`mosaicPlacement`) that lands in the painted part of
/// the canvas (`painted`: columns, rows): where it starts on the canvas, and the tile's columns and
/// rows there.
func mosaicVisiblePart(_ a: (Int, Int, Int, Int), _ b: (Int, Int, Int, Int),
                       painted: (columns: Range<Int>, rows: Range<Int>))
    -> (canvasX: Int, canvasY: Int, columns: Range<Int>, rows: Range<Int>) {
    let x0 = max(a.0, painted.columns.lowerBound), x1 = max(min(a.2, painted.columns.upperBound), x0)
    let y0 = max(a.1, painted.rows.lowerBound), y1 = max(min(a.3, painted.rows.upperBound), y0)
    let tx = b.0 + x0 - a.0, ty = b.1 + y0 - a.1
    return (x0, y0, tx..<(tx + x1 - x0), ty..<(ty + y1 - y0))
}

/// What a mosaic shows of the tile in one slot, for loaders that can decode part of an image:
/// `visible(width:height:)` gives, for the tile's size, the columns and rows of it that end up on
/// the canvas the warp reads (empty ranges when none).
public struct MosaicTileView: Sendable {
    public let slot: Int
    let size: Int
    let center: (x: Int, y: Int)
    let painted: (columns: Range<Int>, rows: Range<Int>)

    public func visible(width: Int, height: Int) -> (columns: Range<Int>, rows: Range<Int>) {
        let (a, b) = mosaicPlacement(slot: slot, width: width, height: height, size: size, center: center)
        let part = mosaicVisiblePart(a, b, painted: painted)
        return (part.columns, part.rows)
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
    for (i, tile) in tiles.enumerated() {
        let w = tile.width, h = tile.height
        let (a, b) = mosaicPlacement(slot: i, width: w, height: h, size: s, center: center)
        let part = mosaicVisiblePart(a, b, painted: (painted.0, painted.1))
        if !part.columns.isEmpty && !part.rows.isEmpty {
            let x = part.columns.lowerBound - tile.origin.x, y = part.rows.lowerBound - tile.origin.y
            precondition(x >= 0 && y >= 0 && x + part.columns.count <= tile.image.width
                         && y + part.rows.count <= tile.image.height, "mosaic tile \(i) lacks the part shown")
            blit(tile.image, rect: (x, y, part.columns.count, part.rows.count), into: &canvas,
                 x: part.canvasX, y: part.canvasY)
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
    try loadMosaic(index: index, imageSize: s, pool: pool, hyp: hyp, using: &g) { i, _ in try load(i) }
}

/// `loadMosaic` with a loader told which part of each tile the mosaic shows (`MosaicTileView`):
/// it may return only that part (and must return at least that part).
public func loadMosaic(index: Int, imageSize s: Int, pool: [Int], hyp: AugmentationHyperparameters,
                       using g: inout some RandomNumberGenerator,
                       load: (Int, MosaicTileView) throws -> MosaicTile) rethrows -> (image: Image, targets: [[Float]]) {
    let border = floorDiv(-s, 2)  // YOLOv5 mosaic_border = -img_size // 2
    let yc = Int(g.uniform(Double(-border), Double(2 * s + border)))
    let xc = Int(g.uniform(Double(-border), Double(2 * s + border)))
    var indices = [index]
    for _ in 0..<3 { indices.append(pool[Int(g.nextDouble() * Double(pool.count))]) }
    indices.shuffleInPlace(using: &g)
    // random_perspective's draws come next; loading and building the canvas draw nothing, so the
    // draws come first here and only the part of the canvas the warp reads is decoded and painted.
    let draws = PerspectiveDraws.sample(degrees: hyp.degrees, translate: hyp.translate, scale: hyp.scale,
                                        shear: hyp.shear, perspective: hyp.perspective, using: &g)
    let projective = hyp.perspective != 0
    let side = 2 * s, out = side + 2 * border
    let region = projective ? nil : affineWarpSourceRegion(
        matrix: draws.matrix(inputWidth: side, inputHeight: side, outputWidth: out, outputHeight: out),
        width: out, height: out, sourceWidth: side, sourceHeight: side)
    let painted = region.map { ($0.columns.clamped(to: 0..<side), $0.rows.clamped(to: 0..<side)) }
        ?? (0..<side, 0..<side)
    let tiles = try indices.enumerated().map { slot, i in
        try load(i, MosaicTileView(slot: slot, size: s, center: (xc, yc), painted: painted))
    }
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
