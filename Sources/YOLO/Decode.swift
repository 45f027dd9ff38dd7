// YOLOv5 7.0 `Detect` inference decoding: raw head maps → boxes in input-image pixels.
// It is not the head's 1×1 convolution and records no gradients: plain Float loops.
import Foundation
import TensorCore

/// Decodes the detection head's raw maps exactly as YOLOv5 7.0's `Detect.forward` does in
/// eval mode (`models/yolo.py`):
///
///     y  = σ(raw)
///     xy = (y[..., 0:2]·2 + grid)·stride      grid = (x, y) − 0.5   (`_make_grid`)
///     wh = (y[..., 2:4]·2)²·anchor_grid       anchor_grid = anchors·stride, in pixels
///     obj, cls = y[..., 4:]
///
/// - Parameters:
///   - raw: one tensor per level, in the order of `strides` (P3 first). Either YOLOv5's
///     permuted layout (B, na, H, W, 5 + nc), or the channels-last output of the head's
///     conv (B, H, W, na·(5 + nc)) whose channel `a·(5 + nc) + k` is anchor `a`, field `k`
///     (PyTorch's `view(bs, na, no, ny, nx)` split of the conv channels).
///   - anchors: per level, the na (w, h) anchor pairs flattened `[w0, h0, w1, h1, …]`, in
///     **input-image pixels** as written in the model YAML (P3 `10,13, 16,30, 33,23`), i.e.
///     YOLOv5's `anchor_grid`, not its stride-divided `Detect.anchors`.
///   - strides: per level, the input pixels per grid cell (8, 16, 32).
/// - Returns: (B, Σ na·H·W, 5 + nc) rows `[cx, cy, w, h, obj, cls_0 …]` in pixels, ordered
///   (level, anchor, y, x): the first element of YOLOv5's eval-mode `Detect` output.
public func decodePredictions(_ raw: [Tensor], anchors: [[Float]], strides: [Int]) -> Tensor {
    precondition(!raw.isEmpty && raw.count == anchors.count && raw.count == strides.count,
                 "need one anchor list and one stride per level")
    let levels = raw.indices.map { DecodeLevel(raw[$0], anchors: anchors[$0], stride: strides[$0]) }
    let batch = levels[0].batch, outputs = levels[0].outputs
    precondition(levels.allSatisfy { $0.batch == batch && $0.outputs == outputs },
                 "levels disagree on batch size or 5 + nc")
    let rowsPerImage = levels.reduce(0) { $0 + $1.rows }
    var result = Tensor(uninitializedShape: [batch, rowsPerImage, outputs])  // (B, N, 5 + nc)
    result.withUnsafeMutableBufferPointer { out in
        var rowOffset = 0
        for (level, input) in zip(levels, raw) {
            input.withUnsafeBufferPointer { src in
                for b in 0..<batch {
                    level.decode(src, image: b, into: out.baseAddress! + (b * rowsPerImage + rowOffset) * outputs)
                }
            }
            rowOffset += level.rows
        }
    }
    return result
}

/// The logistic function as PyTorch computes `sigmoid` in Float32: 1 / (1 + e^−v).
@inline(__always)
func logistic(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

/// One pyramid level's sizes and anchors, and the loop that decodes it.
struct DecodeLevel {
    let batch: Int, anchorCount: Int, height: Int, width: Int, outputs: Int
    /// true: (B, H, W, na·no) conv output; false: (B, na, H, W, no).
    let channelsLast: Bool
    let anchors: [Float]
    let stride: Float
    var rows: Int { anchorCount * height * width }

    init(_ t: Tensor, anchors: [Float], stride: Int) {
        precondition(anchors.count % 2 == 0 && !anchors.isEmpty, "anchors come in (w, h) pairs")
        let na = anchors.count / 2
        switch t.rank {
        case 5:  // (B, na, H, W, no)
            precondition(t.shape[1] == na, "level has \(t.shape[1]) anchors, expected \(na)")
            (batch, height, width, outputs, channelsLast) = (t.shape[0], t.shape[2], t.shape[3], t.shape[4], false)
        case 4:  // (B, H, W, na·no)
            precondition(t.shape[3] % na == 0, "channels \(t.shape[3]) not a multiple of \(na) anchors")
            (batch, height, width, outputs, channelsLast) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3] / na, true)
        default:
            preconditionFailure("raw level must be (B, na, H, W, no) or (B, H, W, na·no), got \(t.shape)")
        }
        precondition(outputs >= 5, "rows need at least 5 fields, got \(outputs)")
        self.anchorCount = na
        self.anchors = anchors
        self.stride = Float(stride)
    }

    /// Writes image `b`'s na·H·W decoded rows, (anchor, y, x) order, starting at `out`.
    func decode(_ src: UnsafeBufferPointer<Float>, image b: Int, into out: UnsafeMutablePointer<Float>) {
        let no = outputs
        let base = src.baseAddress! + b * rows * no
        for a in 0..<anchorCount {
            let anchorW = anchors[2 * a], anchorH = anchors[2 * a + 1]
            for y in 0..<height {
                let gridY = Float(y) - 0.5
                for x in 0..<width {
                    let gridX = Float(x) - 0.5
                    // Source row: (a, y, x, :) permuted, or (y, x, a·no …) channels-last.
                    let inRow = channelsLast ? base + ((y * width + x) * anchorCount + a) * no
                                             : base + ((a * height + y) * width + x) * no
                    let outRow = out + ((a * height + y) * width + x) * no
                    outRow[0] = (logistic(inRow[0]) * 2 + gridX) * stride
                    outRow[1] = (logistic(inRow[1]) * 2 + gridY) * stride
                    let w = logistic(inRow[2]) * 2, h = logistic(inRow[3]) * 2
                    outRow[2] = (w * w) * anchorW
                    outRow[3] = (h * h) * anchorH
                    for k in 4..<no { outRow[k] = logistic(inRow[k]) }
                }
            }
        }
    }
}
