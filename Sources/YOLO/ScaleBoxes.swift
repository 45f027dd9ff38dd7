// Mapping boxes from the letterboxed network input back to the original image, as YOLOv5
// 7.0's `scale_boxes` and `clip_boxes` (utils/general.py). Not the letterbox itself.

/// How a letterbox resized and padded an image: `gain` = new / old size, `pad` = (x, y)
/// pixels added on the left and top. YOLOv5's `ratio_pad` `((gain, _), (padX, padY))`.
public struct LetterboxRatioPad: Equatable, Sendable {
    public var gain: Double
    public var pad: (x: Double, y: Double)

    public init(gain: Double, pad: (x: Double, y: Double)) {
        self.gain = gain
        self.pad = pad
    }

    /// The gain and centred padding `scale_boxes` assumes when it is given no `ratio_pad`:
    /// gain = min(h1/h0, w1/w0), pad = ((w1 − w0·gain)/2, (h1 − h0·gain)/2), in Double as Python.
    public init(letterboxed: (height: Int, width: Int), original: (height: Int, width: Int)) {
        let gain = min(Double(letterboxed.height) / Double(original.height),
                       Double(letterboxed.width) / Double(original.width))
        self.init(gain: gain, pad: ((Double(letterboxed.width) - Double(original.width) * gain) / 2,
                                    (Double(letterboxed.height) - Double(original.height) * gain) / 2))
    }

    public static func == (a: Self, b: Self) -> Bool { a.gain == b.gain && a.pad == b.pad }
}

/// Rescales xyxy boxes in place from the letterboxed input to the original image, then clips:
/// x = (x − padX) / gain, y = (y − padY) / gain, in Float32 as PyTorch does on a Float tensor.
/// - Parameters:
///   - boxes: row-major rows of `rowStride` floats whose first four are x1, y1, x2, y2 (4 for
///     plain boxes, 6 for `[x1, y1, x2, y2, conf, cls]` rows); other fields are untouched.
///   - letterboxed: (height, width) of the network input.
///   - original: (height, width) of the original image; boxes are clipped to it.
///   - ratioPad: the letterbox's own gain and padding; nil derives them from the two shapes.
public func scaleBoxes(_ boxes: inout [Float], rowStride: Int = 4, from letterboxed: (height: Int, width: Int),
                       to original: (height: Int, width: Int), ratioPad: LetterboxRatioPad? = nil) {
    precondition(rowStride >= 4 && boxes.count % rowStride == 0, "boxes must be rows of \(rowStride) ≥ 4 floats")
    let rp = ratioPad ?? LetterboxRatioPad(letterboxed: letterboxed, original: original)
    let gain = Float(rp.gain), padX = Float(rp.pad.x), padY = Float(rp.pad.y)
    for r in stride(from: 0, to: boxes.count, by: rowStride) {
        boxes[r] = (boxes[r] - padX) / gain
        boxes[r + 1] = (boxes[r + 1] - padY) / gain
        boxes[r + 2] = (boxes[r + 2] - padX) / gain
        boxes[r + 3] = (boxes[r + 3] - padY) / gain
    }
    clipBoxes(&boxes, rowStride: rowStride, to: original)
}

/// `scaleBoxes` for detections: corners rescaled and clipped; confidence and class kept.
public func scaleBoxes(_ detections: [Detection], from letterboxed: (height: Int, width: Int),
                       to original: (height: Int, width: Int), ratioPad: LetterboxRatioPad? = nil) -> [Detection] {
    var flat = detections.flatMap { [$0.x1, $0.y1, $0.x2, $0.y2] }
    scaleBoxes(&flat, from: letterboxed, to: original, ratioPad: ratioPad)
    return detections.indices.map { i in
        Detection(x1: flat[4 * i], y1: flat[4 * i + 1], x2: flat[4 * i + 2], y2: flat[4 * i + 3],
                  confidence: detections[i].confidence, classIndex: detections[i].classIndex)
    }
}

/// Clamps xyxy boxes in place to an image: x to [0, width], y to [0, height] (`clip_boxes`).
/// `boxes` holds rows of `rowStride` floats whose first four are x1, y1, x2, y2.
public func clipBoxes(_ boxes: inout [Float], rowStride: Int = 4, to shape: (height: Int, width: Int)) {
    precondition(rowStride >= 4 && boxes.count % rowStride == 0, "boxes must be rows of \(rowStride) ≥ 4 floats")
    let w = Float(shape.width), h = Float(shape.height)
    for r in stride(from: 0, to: boxes.count, by: rowStride) {
        boxes[r] = clamp(boxes[r], 0, w)
        boxes[r + 1] = clamp(boxes[r + 1], 0, h)
        boxes[r + 2] = clamp(boxes[r + 2], 0, w)
        boxes[r + 3] = clamp(boxes[r + 3], 0, h)
    }
}

/// `clipBoxes` for detections.
public func clipBoxes(_ detections: [Detection], to shape: (height: Int, width: Int)) -> [Detection] {
    let w = Float(shape.width), h = Float(shape.height)
    return detections.map {
        Detection(x1: clamp($0.x1, 0, w), y1: clamp($0.y1, 0, h), x2: clamp($0.x2, 0, w), y2: clamp($0.y2, 0, h),
                  confidence: $0.confidence, classIndex: $0.classIndex)
    }
}

/// `torch.clamp`: NaN stays NaN.
@inline(__always)
private func clamp(_ v: Float, _ lo: Float, _ hi: Float) -> Float { v.isNaN ? v : min(max(v, lo), hi) }
