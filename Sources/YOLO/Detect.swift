// YOLOv5's `Detect` head (`models/yolo.py`): one 1×1 convolution with bias per output level
// to na·(5 + nc) channels, returned as raw maps (B, na, H, W, 5 + nc) in training and eval
// alike. Decoding to boxes is a separate function; this type does no sigmoid.
import Foundation
import NN
import TensorCore

/// The detection head: per-level output convolutions and the `anchors` buffer.
public final class Detect: Layer, @unchecked Sendable {
    public let name: String
    /// Number of classes.
    public let nc: Int
    /// Outputs per anchor: 5 + nc (x, y, w, h, objectness, classes).
    public let no: Int
    /// Number of output levels.
    public let nl: Int
    /// Anchors per level.
    public let na: Int
    /// `m.{j}`: Conv2d(ch[j], na·no, 1) with bias.
    public let m: [Conv2d]
    /// `anchors` (nl, na, 2): pixel (w, h) while building, then divided by each level's stride
    /// (grid units), as YOLOv5 stores it.
    public let anchors: Buffer

    /// `anchorPixels`: per level the flattened (w, h) pairs; `channels`: input width per level.
    public init(_ name: String, nc: Int, anchorPixels: [[Float]], channels: [Int],
                using generator: inout some RandomNumberGenerator) {
        precondition(anchorPixels.count == channels.count, "Detect: \(anchorPixels.count) anchor levels, \(channels.count) inputs")
        self.name = name
        self.nc = nc
        self.no = nc + 5
        self.nl = anchorPixels.count
        self.na = anchorPixels[0].count / 2
        anchors = Buffer(name + ".anchors", Tensor(shape: [nl, na, 2], scalars: anchorPixels.flatMap { $0 }))
        let outputs = na * (nc + 5)
        m = channels.enumerated().map { j, c in
            Conv2d("\(name).m.\(j)", inChannels: c, outChannels: outputs, kernel: 1, using: &generator)
        }
    }

    public var typeName: String { "models.yolo.Detect" }
    public var parameters: [Parameter] { m.flatMap(\.parameters) }
    public var buffers: [Buffer] { [anchors] }
    /// `anchors` first (a buffer of Detect itself), then `m.{j}.weight`, `m.{j}.bias`.
    public var namedState: [(name: String, value: Tensor)] {
        [(anchors.name, anchors.value)] + m.flatMap { YOLO.namedState($0) }
    }
    /// Detect, the `m` ModuleList and its convolutions.
    public var moduleCount: Int { 2 + m.count }

    /// Per level: NHWC (B, H, W, C) → (B, na, H, W, 5 + nc).
    public func callAsFunction(_ xs: [Tensor]) -> [Tensor] {
        precondition(xs.count == nl, "Detect: \(xs.count) inputs for \(nl) levels")
        return zip(m, xs).map { conv, x in
            let y = conv(x)  // (B, H, W, na·no), channel a·no + o as torch's view(bs, na, no, ny, nx)
            let (b, h, w) = (y.shape[0], y.shape[1], y.shape[2])
            return y.reshaped([b, h, w, na, no])  // (B, H, W, na, no)
                .permuted([0, 3, 1, 2, 4])        // (B, na, H, W, no)
        }
    }

    /// thop's count: the output convolutions' multiply-adds (no bias term).
    func profile(_ shapes: [[Int]]) -> Double {
        zip(m, shapes).reduce(0) { acc, pair in
            let (conv, s) = pair
            let p = Conv2DParams(batch: s[0], inHeight: s[1], inWidth: s[2], inChannels: s[3],
                                 outChannels: conv.outChannels, kernel: (1, 1))
            return acc + convOps(p)
        }
    }

    /// YOLOv5's `check_anchor_order`: when the mean anchor area runs against the stride order
    /// (last level minus first), the levels' anchors are reversed. Called on pixel anchors.
    func checkAnchorOrder(strides: [Int]) {
        let a = anchors.value.scalars
        func meanArea(_ l: Int) -> Float {
            (0..<na).reduce(0) { $0 + a[(l * na + $1) * 2] * a[(l * na + $1) * 2 + 1] } / Float(na)
        }
        let da = meanArea(nl - 1) - meanArea(0)
        let ds = strides[nl - 1] - strides[0]
        if da != 0, (da > 0) != (ds > 0) {
            let per = na * 2
            let flipped = (0..<nl).reversed().flatMap { a[($0 * per)..<($0 * per + per)] }
            anchors.value = Tensor(shape: [nl, na, 2], scalars: flipped)
        }
    }

    /// Pixel anchors → grid units: divided by each level's stride (`m.anchors /= m.stride`).
    func divideAnchors(by strides: [Int]) {
        var a = anchors.value.scalars
        for l in 0..<nl { for k in 0..<(na * 2) { a[l * na * 2 + k] /= Float(strides[l]) } }
        anchors.value = Tensor(shape: [nl, na, 2], scalars: a)
    }

    /// YOLOv5's `_initialize_biases` (Lin et al. 2017, focal loss §3.3 prior): per level of
    /// stride s, with the bias viewed as (na, no),
    ///     objectness += log(8 / (640 / s)²)       (about 8 objects per 640 image)
    ///     classes    += log(0.6 / (nc − 0.99999))
    func initializeBiases(strides: [Int]) {
        let cls = Float(Foundation.log(0.6 / (Double(nc) - 0.99999)))
        for (conv, s) in zip(m, strides) {
            guard let bias = conv.bias else { continue }
            let obj = Float(Foundation.log(8 / Foundation.pow(640 / Double(s), 2)))
            bias.value.withUnsafeMutableBufferPointer { b in
                for a in 0..<na {
                    b[a * no + 4] += obj
                    for c in 0..<nc { b[a * no + 5 + c] += cls }
                }
            }
        }
    }
}
