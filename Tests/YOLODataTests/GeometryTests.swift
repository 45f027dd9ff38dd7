// Hand-worked cases: letterbox box mapping, flips, box_candidates, mosaic placement and the
// mosaic + perspective pipeline under fixed draws, the Beta sampler, quad collate.
import TensorCore
import XCTest
import YOLOData

/// Always returns the same 64 bits: nextDouble() == 0.5 for 1 << 63, so every uniform(lo, hi) is its midpoint.
struct ConstantGenerator: RandomNumberGenerator {
    var value: UInt64 = 1 << 63
    mutating func next() -> UInt64 { value }
}

/// A deterministic test picture with distinct values per pixel and channel.
func patternImage(width: Int, height: Int, seed: Int = 0) -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 { pixels[(y * width + x) * 3 + c] = UInt8(truncatingIfNeeded: x * 3 + y * 5 + seed * 7 + c * 71) }
        }
    }
    return Image(width: width, height: height, pixels: pixels)
}

final class GeometryTests: XCTestCase {
    func testLetterboxedBoxMapsBack() {
        let image = patternImage(width: 64, height: 48)
        for (h, w, auto) in [(80, 80, false), (100, 100, true), (32, 40, false), (70, 90, false)] {
            let boxed = letterbox(image, height: h, width: w, auto: auto)
            let box = [10.3, 5.2, 40.7, 30.1]
            let mapped = boxed.map(box: box)
            XCTAssertTrue(mapped[0] >= 0 && mapped[2] <= Double(boxed.image.width))
            let back = boxed.unmap(box: mapped, originalWidth: 64, originalHeight: 48)
            for (a, b) in zip(back, box) { XCTAssertEqual(a, b, accuracy: 0.5) }
        }
        // 64x48 into 80x80: r = 1.25, 80x60 resized, 20 px padding split 10 / 10.
        let boxed = letterbox(image, height: 80, width: 80, auto: false)
        XCTAssertEqual(boxed.ratio.x, 1.25)
        XCTAssertEqual(boxed.padding.x, 0)
        XCTAssertEqual(boxed.padding.y, 10)
        XCTAssertEqual(boxed.image[0, 9, 0], 114)
        XCTAssertEqual(boxed.image[0, 70, 0], 114)
    }

    func testExactHalfShrinkIsTheRounded2x2Mean() {
        // cv2.resize at exactly half size (INTER_AREA, and INTER_LINEAR, which OpenCV sends to the
        // area path): (a + b + c + d + 2) >> 2 per channel, worked here pixel by pixel.
        var g = SeededGenerator(seed: 4)
        for (w, h) in [(1, 1), (2, 3), (7, 5), (160, 120), (33, 1)] {
            let sw = 2 * w, sh = 2 * h
            let image = Image(width: sw, height: sh, pixels: (0..<(sw * sh * 3)).map { _ in UInt8.random(in: 0...255, using: &g) })
            var want = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                let p = { (yy: Int, xx: Int) in Int(image.pixels[(yy * sw + xx) * 3 + c]) }
                want[(y * w + x) * 3 + c] = UInt8((p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x)
                                                   + p(2 * y + 1, 2 * x + 1) + 2) >> 2)
            } } }
            for interpolation in [Interpolation.area, .linear] {
                XCTAssertEqual(resize(image, width: w, height: h, interpolation: interpolation).pixels, want,
                               "\(sw)x\(sh) \(interpolation)")
            }
        }
    }

    func testHorizontalFlipMatchesPixelByPixelMirrorAtEveryWidth() {
        // Widths on both sides of the 4-pixel blocks' limits (x + 6 ≤ w) and the scalar tail.
        var g = SeededGenerator(seed: 9)
        for w in 1...41 {
            for h in [1, 3] {
                let image = Image(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &g) })
                var want = image
                for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                    want.pixels[(y * w + x) * 3 + c] = image.pixels[(y * w + (w - 1 - x)) * 3 + c]
                } } }
                XCTAssertEqual(image.flippedHorizontally(), want, "\(w)x\(h)")
            }
        }
    }

    func testFlipsAreInvolutions() {
        let image = patternImage(width: 7, height: 5)
        XCTAssertEqual(image.flippedHorizontally().flippedHorizontally(), image)
        XCTAssertEqual(image.flippedVertically().flippedVertically(), image)
        XCTAssertNotEqual(image.flippedHorizontally(), image)
        XCTAssertEqual(image.flippedHorizontally()[0, 0, 1], image[6, 0, 1])
        XCTAssertEqual(image.flippedVertically()[2, 0, 2], image[2, 4, 2])
        let labels: [[Float]] = [[1, 0.25, 0.125, 0.5, 0.25]]
        XCTAssertEqual(flipLabelsHorizontal(flipLabelsHorizontal(labels)), labels)
        XCTAssertEqual(flipLabelsVertical(flipLabelsVertical(labels)), labels)
        XCTAssertEqual(flipLabelsHorizontal(labels)[0][1], 0.75)
        XCTAssertEqual(flipLabelsVertical(labels)[0][2], 0.875)
    }

    func testBoxCandidates() {
        XCTAssertTrue(boxCandidates(before: [0, 0, 10, 10], after: [0, 0, 10, 10]))
        XCTAssertFalse(boxCandidates(before: [0, 0, 10, 10], after: [0, 0, 2, 10]))  // w must exceed 2
        XCTAssertTrue(boxCandidates(before: [0, 0, 10, 10], after: [0, 0, 2.5, 10]))
        XCTAssertFalse(boxCandidates(before: [0, 0, 100, 100], after: [0, 0, 30, 30]))  // area 0.09
        XCTAssertTrue(boxCandidates(before: [0, 0, 100, 100], after: [0, 0, 40, 40]))  // area 0.16
        XCTAssertFalse(boxCandidates(before: [0, 0, 300, 3], after: [0, 0, 300, 2.5]))  // aspect 120
        XCTAssertTrue(boxCandidates(before: [0, 0, 300, 4], after: [0, 0, 297, 3]))  // aspect 99
    }

    /// Four equal 64x48 tiles, centre (64, 64) on a 128x128 canvas.
    func testPlaceMosaic() {
        let tile = MosaicTile(image: patternImage(width: 64, height: 48), labels: [[3, 0.5, 0.5, 0.5, 0.5]])
        let (canvas, targets) = placeMosaic([tile, tile, tile, tile], size: 64, center: (64, 64))
        XCTAssertEqual(canvas.width, 128)
        let expected: [[Float]] = [[3, 16, 28, 48, 52], [3, 80, 28, 112, 52], [3, 16, 76, 48, 100], [3, 80, 76, 112, 100]]
        XCTAssertEqual(targets, expected)
        XCTAssertEqual(canvas[0, 15, 0], 114)  // above tile 0 (it starts at y = 16)
        XCTAssertEqual(canvas[0, 16, 0], tile.image[0, 0, 0])
        XCTAssertEqual(canvas[64, 64, 1], tile.image[0, 0, 1])  // tile 3's top-left at the centre
        XCTAssertEqual(canvas[63, 111, 2], tile.image[63, 47, 2])  // tile 2's bottom-right
        XCTAssertEqual(canvas[0, 112, 0], 114)
    }

    /// With every uniform at its midpoint: centre (s, s), no rotation/scale/shear, translation 0.5·s,
    /// so M is a shift by −s/2 and the boxes are the placed ones shifted and clipped to [0, s].
    func testMosaicWithFixedDrawsMatchesHandTransform() {
        let tile = MosaicTile(image: patternImage(width: 64, height: 48), labels: [[3, 0.5, 0.5, 0.5, 0.5]])
        var g = ConstantGenerator()
        let (image, targets) = loadMosaic(index: 0, imageSize: 64, pool: [0], hyp: AugmentationHyperparameters(),
                                          using: &g) { _ in tile }
        XCTAssertEqual(image.width, 64)
        XCTAssertEqual(image.height, 64)
        let expected: [[Float]] = [[3, 0, 0, 16, 20], [3, 48, 0, 64, 20], [3, 0, 44, 16, 64], [3, 48, 44, 64, 64]]
        XCTAssertEqual(targets, expected)
        for t in targets { XCTAssertTrue(t[1] >= 0 && t[2] >= 0 && t[3] <= 64 && t[4] <= 64) }
        let (canvas, _) = placeMosaic([tile, tile, tile, tile], size: 64, center: (64, 64))
        for (x, y) in [(0, 0), (31, 31), (32, 32), (63, 63), (10, 50)] {
            for c in 0..<3 { XCTAssertEqual(image[x, y, c], canvas[x + 32, y + 32, c]) }
        }
    }

    /// Random draws: the mosaic's boxes stay inside the s x s output.
    func testRandomMosaicBoxesStayInside() {
        let tiles = (0..<5).map { i in
            MosaicTile(image: patternImage(width: 40 + 7 * i, height: 64 - 5 * i, seed: i),
                         labels: [[Float(i), 0.5, 0.5, 0.6, 0.4], [1, 0.2, 0.3, 0.1, 0.2]])
        }
        var hyp = AugmentationHyperparameters()
        hyp.degrees = 10
        hyp.shear = 5
        hyp.perspective = 0.0005
        var g = SeededGenerator(seed: 7)
        for _ in 0..<20 {
            let (image, targets) = loadMosaic(index: 0, imageSize: 64, pool: Array(0..<5), hyp: hyp, using: &g) { tiles[$0] }
            XCTAssertEqual(image.width, 64)
            for t in targets {
                XCTAssertTrue(t[1] >= 0 && t[2] >= 0 && t[3] <= 64 && t[4] <= 64 && t[1] < t[3] && t[2] < t[4], "\(t)")
            }
        }
    }

    func testBetaMoments() {
        var g = SeededGenerator(seed: 3)
        let draws = (0..<20000).map { _ in g.beta(32, 32) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let sd = (draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)).squareRoot()
        XCTAssertEqual(mean, 0.5, accuracy: 0.003)
        XCTAssertEqual(sd, (1024.0 / (4096 * 65)).squareRoot(), accuracy: 0.004)  // ≈ 0.062
        XCTAssertTrue(draws.allSatisfy { $0 > 0 && $0 < 1 })
    }

    func testMixupBlendsAndConcatenates() {
        let a = Image(width: 2, height: 1, fill: 200), b = Image(width: 2, height: 1, fill: 100)
        XCTAssertEqual(blend(a, b, ratio: 0.5).pixels, [UInt8](repeating: 150, count: 6))
        XCTAssertEqual(blend(a, b, ratio: 0.25).pixels, [UInt8](repeating: 125, count: 6))
        var g = SeededGenerator(seed: 1)
        let (_, labels) = mixup(a, [[1, 0, 0, 1, 1]], b, [[2, 0, 0, 1, 1]], using: &g)
        XCTAssertEqual(labels.map { $0[0] }, [1, 2])
    }

    func testRectBatchShapes() {
        let (order, shapes) = rectBatchShapes(sizes: [(100, 50), (50, 100), (80, 80)], batchSize: 2, imageSize: 64,
                                              stride: 32, pad: 0.5)
        XCTAssertEqual(order, [0, 2, 1])
        XCTAssertEqual(shapes.map(\.height), [96, 96])
        XCTAssertEqual(shapes.map(\.width), [96, 64])
        let (_, train) = rectBatchShapes(sizes: [(100, 50), (120, 60)], batchSize: 2, imageSize: 64, stride: 32, pad: 0)
        XCTAssertEqual(train.map(\.height), [32])
        XCTAssertEqual(train.map(\.width), [64])
    }

    func testQuadCollate() {
        let samples = (0..<4).map { i in
            Sample(image: patternImage(width: 8, height: 6, seed: i), labels: [[Float(i), 0.5, 0.5, 0.2, 0.2]], shape: nil)
        }
        var grid = ConstantGenerator(value: UInt64.max)  // nextDouble ≈ 1: the 2x2 grid
        let b = collateQuad(samples, indices: [0, 1, 2, 3], paths: ["a", "b", "c", "d"], using: &grid)
        XCTAssertEqual(b.images.shape, [1, 12, 16, 3])
        XCTAssertEqual(b.targets, [[0, 0, 0.25, 0.25, 0.1, 0.1], [0, 1, 0.25, 0.75, 0.1, 0.1],
                                   [0, 2, 0.75, 0.25, 0.1, 0.1], [0, 3, 0.75, 0.75, 0.1, 0.1]])
        // Sample 1 sits below sample 0 (torch.cat along H), sample 2 to its right.
        let pixel = b.images.scalars[(6 * 16 + 0) * 3]
        XCTAssertEqual(pixel, Float(samples[1].image[0, 0, 0]) / 255, accuracy: 1e-6)
        var up = ConstantGenerator(value: 0)  // nextDouble = 0: upsample sample 0
        let u = collateQuad(samples, indices: [0, 1, 2, 3], paths: ["a", "b", "c", "d"], using: &up)
        XCTAssertEqual(u.images.shape, [1, 12, 16, 3])
        XCTAssertEqual(u.targets, [[0, 0, 0.5, 0.5, 0.2, 0.2]])
        XCTAssertEqual(u.paths, ["a"])
    }

    /// collate's images are `imgs.float() / 255` exactly (IEEE division, correctly rounded, as torch
    /// divides): every byte value maps to Float(v) / 255, which differs from Float(v) · (1/255) by
    /// one ulp for 126 of the 256 values, so a multiply would fail here.
    func testCollateDividesBy255Exactly() {
        let pixels = (0..<256).flatMap { v in [UInt8(v), UInt8(v), UInt8(v)] }
        let sample = Sample(image: Image(width: 16, height: 16, pixels: pixels), labels: [[0, 0.5, 0.5, 0.1, 0.1]])
        let batch = collate([sample], indices: [0], paths: ["p"])
        XCTAssertEqual(batch.images.shape, [1, 16, 16, 3])
        let values = batch.images.scalars
        for v in 0..<256 {
            XCTAssertEqual(values[v * 3].bitPattern, (Float(v) / 255).bitPattern, "byte \(v)")
        }
        XCTAssertEqual(batch.targets, [[0, 0, 0.5, 0.5, 0.1, 0.1]])
    }
}
