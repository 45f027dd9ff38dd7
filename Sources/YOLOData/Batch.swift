// Batches: YOLOv5's collate_fn / collate_fn4 (utils/dataloaders.py), rectangular batch shapes
// (LoadImagesAndLabels.__init__ rect branch) and image-weight helpers (utils/general.py
// labels_to_class_weights / labels_to_image_weights). The threads that fill batches are in Loader.swift.
import TensorCore

/// One collated batch.
public struct Batch: Sendable {
    /// (B, H, W, 3), RGB, pixels / 255.
    public var images: Tensor
    /// One row per object: [image index in batch, class, x, y, w, h], xywh normalised.
    public var targets: [[Float]]
    /// Dataset index of each image.
    public var indices: [Int]
    /// Source path (or name) of each image.
    public var paths: [String]
    /// Letterbox record per image (nil for mosaics), for mapping predictions back.
    public var shapes: [SampleShape?]
}

/// Stacks samples of one size into a batch (collate_fn): labels get their image's batch index.
public func collate(_ samples: [Sample], indices: [Int], paths: [String]) -> Batch {
    precondition(!samples.isEmpty)
    let w = samples[0].image.width, h = samples[0].image.height, plane = w * h * 3
    var images = Tensor(uninitializedShape: [samples.count, h, w, 3])
    images.withUnsafeMutableBufferPointer { out in
        for (b, s) in samples.enumerated() {
            precondition(s.image.width == w && s.image.height == h, "batch images differ in size")
            s.image.pixels.withUnsafeBufferPointer { p in
                let o = out.baseAddress! + b * plane
                // Divided, as `imgs.float() / 255`: multiplying by 1/255 is 1 ulp off for 126 of the 256 values.
                for i in 0..<plane { o[i] = Float(p[i]) / 255 }
            }
        }
    }
    var targets: [[Float]] = []
    for (b, s) in samples.enumerated() { targets += s.labels.map { [Float(b)] + $0 } }
    return Batch(images: images, targets: targets, indices: indices, paths: paths, shapes: samples.map(\.shape))
}

/// YOLOv5 collate_fn4 ("quad"): every 4 samples become one image of twice the size: with
/// probability 0.5 the first sample upsampled 2x (bilinear, align_corners=False, truncated to
/// UInt8), else a 2x2 grid (k top left, k+1 bottom left, k+2 top right, k+3 bottom right) with
/// labels moved into their quadrant and halved. Keeps the first B/4 indices, paths and shapes.
public func collateQuad(_ samples: [Sample], indices: [Int], paths: [String],
                        using g: inout some RandomNumberGenerator) -> Batch {
    let n = samples.count / 4
    precondition(n > 0, "quad collate needs at least 4 samples")
    var quads: [Sample] = []
    for q in 0..<n {
        let k = q * 4
        if g.nextDouble() < 0.5 {
            quads.append(Sample(image: upsample2x(samples[k].image), labels: samples[k].labels, shape: samples[k].shape))
        } else {
            let w = samples[k].image.width, h = samples[k].image.height
            var canvas = Image(width: 2 * w, height: 2 * h, fill: 0)
            var labels: [[Float]] = []
            for (j, (dx, dy)) in [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
                blit(samples[k + j].image, into: &canvas, x: dx * w, y: dy * h)
                labels += samples[k + j].labels.map { l in
                    [l[0], (l[1] + Float(dx)) * 0.5, (l[2] + Float(dy)) * 0.5, l[3] * 0.5, l[4] * 0.5]
                }
            }
            quads.append(Sample(image: canvas, labels: labels, shape: samples[k].shape))
        }
    }
    return collate(quads, indices: Array(indices.prefix(n)), paths: Array(paths.prefix(n)))
}

/// F.interpolate(scale_factor=2, mode="bilinear", align_corners=False) of a UInt8 image computed in
/// float and truncated back to UInt8, as collate_fn4 does.
func upsample2x(_ image: Image) -> Image {
    let w = image.width, h = image.height
    var out = Image(width: 2 * w, height: 2 * h, fill: 0)
    func taps(_ d: Int, _ n: Int) -> (Int, Int, Float) {
        let s = max((Float(d) + 0.5) * 0.5 - 0.5, 0)
        let i0 = min(Int(s), n - 1)
        return (i0, min(i0 + 1, n - 1), s - Float(i0))
    }
    let xt = (0..<2 * w).map { taps($0, w) }, yt = (0..<2 * h).map { taps($0, h) }
    image.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for y in 0..<2 * h {
                let (y0, y1, ly) = yt[y]
                for x in 0..<2 * w {
                    let (x0, x1, lx) = xt[x]
                    for c in 0..<3 {
                        let a = Float(src[(y0 * w + x0) * 3 + c]), b = Float(src[(y0 * w + x1) * 3 + c])
                        let p = Float(src[(y1 * w + x0) * 3 + c]), q = Float(src[(y1 * w + x1) * 3 + c])
                        let v = (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * p + lx * q)
                        dst[(y * 2 * w + x) * 3 + c] = UInt8(v)
                    }
                }
            }
        }
    }
    return out
}

/// Rectangular batches: images sorted by aspect ratio h/w (a stable sort; YOLOv5's np.argsort is
/// not stable, so ties may order differently), consecutive runs of `batchSize`, and per batch the
/// shape (height, width) = ceil(shape·imageSize/stride + pad)·stride, where shape is [max ar, 1]
/// when every ar < 1, [1, 1/min ar] when every ar > 1, else [1, 1].
public func rectBatchShapes(sizes: [(width: Int, height: Int)], batchSize: Int, imageSize: Int, stride: Int,
                            pad: Double) -> (order: [Int], shapes: [(height: Int, width: Int)]) {
    let ar = sizes.map { Double($0.height) / Double($0.width) }
    let order = ar.indices.sorted { ar[$0] < ar[$1] || (ar[$0] == ar[$1] && $0 < $1) }
    var shapes: [(height: Int, width: Int)] = []
    for start in Swift.stride(from: 0, to: order.count, by: batchSize) {
        let run = order[start..<min(start + batchSize, order.count)].map { ar[$0] }
        let lo = run.min()!, hi = run.max()!
        var s = (1.0, 1.0)
        if hi < 1 { s = (hi, 1) } else if lo > 1 { s = (1, 1 / lo) }
        func side(_ v: Double) -> Int { Int((v * Double(imageSize) / Double(stride) + pad).rounded(.up)) * stride }
        shapes.append((side(s.0), side(s.1)))
    }
    return (order, shapes)
}

/// labels_to_class_weights: inverse class frequency over all labels (empty classes count 1), normalised.
public func classWeights(labels: [[[Float]]], classCount nc: Int) -> [Double] {
    var counts = [Double](repeating: 0, count: nc)
    for image in labels { for l in image where Int(l[0]) < nc { counts[Int(l[0])] += 1 } }
    let inverse = counts.map { 1 / ($0 == 0 ? 1 : $0) }
    let total = inverse.reduce(0, +)
    return inverse.map { $0 / total }
}

/// labels_to_image_weights: per image, the sum of its labels' class weights. Sample an epoch with
/// `weightedChoices(weights:count:using:)` (random.choices), as train.py does with --image-weights.
public func imageWeights(labels: [[[Float]]], classWeights: [Double]) -> [Double] {
    labels.map { image in image.reduce(0) { $0 + (Int($1[0]) < classWeights.count ? classWeights[Int($1[0])] : 0) } }
}
