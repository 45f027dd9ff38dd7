// `letterbox`: YOLOv5's resize-and-pad to a stride-multiple shape (utils/augmentations.py letterbox),
// plus the box mappings into and out of the padded frame. Not the mosaic or the random warps.

/// The output of `letterbox`: the padded image and how original pixel coordinates map into it.
public struct Letterboxed: Sendable {
    public var image: Image
    /// Scale applied to original x and y (equal unless `scaleFill`).
    public var ratio: (x: Double, y: Double)
    /// Padding added on the left and top, before YOLOv5's rounding split: (dw, dh), each half the total.
    public var padding: (x: Double, y: Double)

    /// Maps an original-image box `[x1, y1, x2, y2]` (pixels) into the letterboxed image.
    public func map(box: [Double]) -> [Double] {
        [box[0] * ratio.x + padding.x, box[1] * ratio.y + padding.y,
         box[2] * ratio.x + padding.x, box[3] * ratio.y + padding.y]
    }

    /// Maps a letterboxed box back to the original image, clipped to `originalWidth` x
    /// `originalHeight` (YOLOv5 scale_boxes + clip_boxes).
    public func unmap(box: [Double], originalWidth: Int, originalHeight: Int) -> [Double] {
        let x1 = (box[0] - padding.x) / ratio.x, y1 = (box[1] - padding.y) / ratio.y
        let x2 = (box[2] - padding.x) / ratio.x, y2 = (box[3] - padding.y) / ratio.y
        let w = Double(originalWidth), h = Double(originalHeight)
        return [min(max(x1, 0), w), min(max(y1, 0), h), min(max(x2, 0), w), min(max(y2, 0), h)]
    }
}

/// Python's round(): half to even.
@inline(__always) func pythonRound(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }

/// Resizes `image` to fit `height` x `width` keeping its aspect ratio, then pads with `color`.
///
/// - `auto`: pad only to the next multiple of `stride` (minimum rectangle), not to the full shape.
/// - `scaleFill`: stretch to the full shape, no padding (ratios differ per axis).
/// - `scaleup`: allow enlarging; YOLOv5 passes `augment` here so validation only shrinks.
/// The total padding d is split as round(d/2 − 0.1) before and round(d/2 + 0.1) after, as YOLOv5 does.
public func letterbox(_ image: Image, height: Int, width: Int, color: UInt8 = 114, auto: Bool = true,
                      scaleFill: Bool = false, scaleup: Bool = true, stride: Int = 32) -> Letterboxed {
    let h0 = Double(image.height), w0 = Double(image.width)
    var r = min(Double(height) / h0, Double(width) / w0)
    if !scaleup { r = min(r, 1) }
    var ratio = (x: r, y: r)
    var newW = pythonRound(w0 * r), newH = pythonRound(h0 * r)
    var dw = Double(width - newW), dh = Double(height - newH)
    if auto {
        dw = Double((width - newW) %% stride)
        dh = Double((height - newH) %% stride)
    } else if scaleFill {
        dw = 0; dh = 0
        newW = width; newH = height
        ratio = (Double(width) / w0, Double(height) / h0)
    }
    dw /= 2
    dh /= 2
    let resized = (newW == image.width && newH == image.height)
        ? image : resize(image, width: newW, height: newH, interpolation: .linear)
    let top = pythonRound(dh - 0.1), bottom = pythonRound(dh + 0.1)
    let left = pythonRound(dw - 0.1), right = pythonRound(dw + 0.1)
    let padded = pad(resized, top: top, bottom: bottom, left: left, right: right, color: color)
    return Letterboxed(image: padded, ratio: ratio, padding: (dw, dh))
}

/// `letterbox` to a square.
public func letterbox(_ image: Image, size: Int, color: UInt8 = 114, auto: Bool = true, scaleFill: Bool = false,
                      scaleup: Bool = true, stride: Int = 32) -> Letterboxed {
    letterbox(image, height: size, width: size, color: color, auto: auto, scaleFill: scaleFill,
              scaleup: scaleup, stride: stride)
}

infix operator %% : MultiplicationPrecedence
/// Floor modulo (numpy np.mod / Python %): the result has the sign of the divisor.
@inline(__always) func %% (a: Int, b: Int) -> Int { let m = a % b; return m != 0 && (m < 0) != (b < 0) ? m + b : m }

/// cv2.copyMakeBorder with BORDER_CONSTANT: `image` surrounded by bands of `color`.
public func pad(_ image: Image, top: Int, bottom: Int, left: Int, right: Int, color: UInt8 = 114) -> Image {
    if top == 0 && bottom == 0 && left == 0 && right == 0 { return image }
    var out = Image(width: image.width + left + right, height: image.height + top + bottom, fill: color)
    blit(image, into: &out, x: left, y: top)
    return out
}

/// Copies all of `source` into `destination` with its top-left corner at (x, y); must fit.
func blit(_ source: Image, into destination: inout Image, x: Int, y: Int) {
    blit(source, rect: (0, 0, source.width, source.height), into: &destination, x: x, y: y)
}

/// Copies the `rect` (x, y, w, h) of `source` into `destination` at (x, y); must fit.
func blit(_ source: Image, rect: (x: Int, y: Int, w: Int, h: Int), into destination: inout Image, x: Int, y: Int) {
    guard rect.w > 0 && rect.h > 0 else { return }
    precondition(x >= 0 && y >= 0 && x + rect.w <= destination.width && y + rect.h <= destination.height)
    let dw = destination.width, sw = source.width, bytes = rect.w * 3
    source.pixels.withUnsafeBufferPointer { src in
        destination.pixels.withUnsafeMutableBufferPointer { dst in
            for row in 0..<rect.h {
                let s = src.baseAddress! + ((rect.y + row) * sw + rect.x) * 3
                let d = dst.baseAddress! + ((y + row) * dw + x) * 3
                d.update(from: s, count: bytes)
            }
        }
    }
}
