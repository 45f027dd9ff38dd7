// YOLOv5's stem and CSP blocks (`models/common.py`): Focus, Bottleneck, BottleneckCSP, C3.
// NHWC activations: channel concatenation is along the last axis.
import NN
import TensorCore

/// `Focus(c1, c2, k, s, p)`: space-to-depth, then `Conv(4·c1, c2, k, s, p)` (the v5.0 stem).
/// The four slices x[::2, ::2], x[1::2, ::2], x[::2, 1::2], x[1::2, 1::2] (rows, columns) are
/// concatenated along channels in that order.
public final class Focus: YOLOBlock, @unchecked Sendable {
    public let conv: Conv

    public init(_ name: String, _ c1: Int, _ c2: Int, kernel k: Int = 1, stride s: Int = 1, padding p: Int? = nil,
                using generator: inout some RandomNumberGenerator) {
        conv = Conv(name + ".conv", 4 * c1, c2, kernel: k, stride: s, padding: p, using: &generator)
    }

    public var typeName: String { "models.common.Focus" }
    public var parameters: [Parameter] { conv.parameters }
    public var buffers: [Buffer] { conv.buffers }
    public var namedState: [(name: String, value: Tensor)] { conv.namedState }
    public var moduleCount: Int { 1 + conv.moduleCount }
    public var batchNorms: [BatchNorm2d] { conv.batchNorms }
    public func fuse() { conv.fuse() }

    /// (B, H, W, C) → (B, H/2, W/2, 4C), slice order as in the type comment.
    static func spaceToDepth(_ x: Tensor) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h % 2 == 0 && w % 2 == 0, "Focus needs an even height and width, got \(x.shape)")
        // (B, H/2, r, W/2, s, C) with row 2i + r and column 2j + s
        let split = x.reshaped([b, h / 2, 2, w / 2, 2, c])
        // (B, H/2, W/2, s, r, C): channel index s·2C + r·C + c gives the slice order
        // (r, s) = (0, 0), (1, 0), (0, 1), (1, 1)
        return split.permuted([0, 1, 3, 4, 2, 5]).reshaped([b, h / 2, w / 2, 4 * c])
    }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor {
        conv(Focus.spaceToDepth(xs[0]), training: training)
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let s = shapes[0]
        return conv.profile([[s[0], s[1] / 2, s[2] / 2, 4 * s[3]]])
    }
}

/// `Bottleneck(c1, c2, shortcut, e)`: 1×1 Conv to c2·e, 3×3 Conv to c2, plus the input when
/// `shortcut` and c1 == c2.
public final class Bottleneck: YOLOBlock, @unchecked Sendable {
    public let cv1: Conv
    public let cv2: Conv
    public let add: Bool

    public init(_ name: String, _ c1: Int, _ c2: Int, shortcut: Bool = true, expansion e: Double = 0.5,
                using generator: inout some RandomNumberGenerator) {
        let hidden = Int(Double(c2) * e)
        cv1 = Conv(name + ".cv1", c1, hidden, kernel: 1, stride: 1, using: &generator)
        cv2 = Conv(name + ".cv2", hidden, c2, kernel: 3, stride: 1, using: &generator)
        add = shortcut && c1 == c2
    }

    public var typeName: String { "models.common.Bottleneck" }
    public var parameters: [Parameter] { cv1.parameters + cv2.parameters }
    public var buffers: [Buffer] { cv1.buffers + cv2.buffers }
    public var namedState: [(name: String, value: Tensor)] { cv1.namedState + cv2.namedState }
    public var moduleCount: Int { 1 + cv1.moduleCount + cv2.moduleCount }
    public var batchNorms: [BatchNorm2d] { cv1.batchNorms + cv2.batchNorms }
    public func fuse() { cv1.fuse(); cv2.fuse() }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        let y = cv2(cv1(x, training: training), training: training)
        return add ? x + y : y
    }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor { self(xs[0], training: training) }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let a = cv1.profile(shapes), b = cv2.profile([a.shape])
        return (b.shape, a.ops + b.ops)
    }
}

/// `n` Bottlenecks(c, c, shortcut, e = 1.0) in series, named `{prefix}.m.{k}`.
func bottlenecks(_ prefix: String, channels c: Int, count n: Int, shortcut: Bool,
                 using generator: inout some RandomNumberGenerator) -> [Bottleneck] {
    (0..<n).map { Bottleneck("\(prefix).m.\($0)", c, c, shortcut: shortcut, expansion: 1.0, using: &generator) }
}

func runSeries(_ m: [Bottleneck], _ x: Tensor, training: Bool) -> Tensor {
    m.reduce(x) { $1($0, training: training) }
}

func profileSeries(_ m: [Bottleneck], _ shape: [Int]) -> (shape: [Int], ops: Double) {
    m.reduce((shape, 0.0)) { acc, b in
        let r = b.profile([acc.0])
        return (r.shape, acc.1 + r.ops)
    }
}

/// `C3(c1, c2, n, shortcut)`: cv3(cat(m(cv1(x)), cv2(x))) with hidden width c2/2.
public final class C3: YOLOBlock, @unchecked Sendable {
    public let cv1: Conv, cv2: Conv, cv3: Conv
    public let m: [Bottleneck]

    public init(_ name: String, _ c1: Int, _ c2: Int, repeats n: Int = 1, shortcut: Bool = true,
                using generator: inout some RandomNumberGenerator) {
        let hidden = Int(Double(c2) * 0.5)
        cv1 = Conv(name + ".cv1", c1, hidden, using: &generator)
        cv2 = Conv(name + ".cv2", c1, hidden, using: &generator)
        cv3 = Conv(name + ".cv3", 2 * hidden, c2, using: &generator)
        m = bottlenecks(name, channels: hidden, count: n, shortcut: shortcut, using: &generator)
    }

    public var typeName: String { "models.common.C3" }
    public var parameters: [Parameter] { cv1.parameters + cv2.parameters + cv3.parameters + m.flatMap(\.parameters) }
    public var buffers: [Buffer] { cv1.buffers + cv2.buffers + cv3.buffers + m.flatMap(\.buffers) }
    public var namedState: [(name: String, value: Tensor)] {
        cv1.namedState + cv2.namedState + cv3.namedState + m.flatMap(\.namedState)
    }
    /// C3, its three Convs, the `m` Sequential and the Bottlenecks.
    public var moduleCount: Int {
        2 + cv1.moduleCount + cv2.moduleCount + cv3.moduleCount + m.reduce(0) { $0 + $1.moduleCount }
    }
    public func fuse() { [cv1, cv2, cv3].forEach { $0.fuse() }; m.forEach { $0.fuse() } }
    public var batchNorms: [BatchNorm2d] { [cv1, cv2, cv3].flatMap(\.batchNorms) + m.flatMap(\.batchNorms) }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor {
        let x = xs[0]
        let y1 = runSeries(m, cv1(x, training: training), training: training)
        return cv3(Tensor.concat([y1, cv2(x, training: training)]), training: training)
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let a = cv1.profile(shapes), b = profileSeries(m, a.shape), c = cv2.profile(shapes)
        var cat = b.shape
        cat[3] += c.shape[3]
        let d = cv3.profile([cat])
        return (d.shape, a.ops + b.ops + c.ops + d.ops)
    }
}

/// `BottleneckCSP(c1, c2, n, shortcut)`: cv4(act(bn(cat(cv3(m(cv1(x))), cv2(x))))) where cv2
/// and cv3 are plain 1×1 Conv2d without bias. The activation is LeakyReLU(0.1), as in v5.0 (the
/// seed) and as the model issue asks; v7.0 changed it to SiLU.
public final class BottleneckCSP: YOLOBlock, @unchecked Sendable {
    public let cv1: Conv
    public let cv2: Conv2d, cv3: Conv2d
    public let cv4: Conv
    public let bn: BatchNorm2d
    public let m: [Bottleneck]

    public init(_ name: String, _ c1: Int, _ c2: Int, repeats n: Int = 1, shortcut: Bool = true,
                using generator: inout some RandomNumberGenerator) {
        let hidden = Int(Double(c2) * 0.5)
        cv1 = Conv(name + ".cv1", c1, hidden, using: &generator)
        cv2 = Conv2d(name + ".cv2", inChannels: c1, outChannels: hidden, kernel: 1, bias: false, using: &generator)
        cv3 = Conv2d(name + ".cv3", inChannels: hidden, outChannels: hidden, kernel: 1, bias: false, using: &generator)
        cv4 = Conv(name + ".cv4", 2 * hidden, c2, using: &generator)
        bn = yoloBatchNorm(name + ".bn", channels: 2 * hidden)
        m = bottlenecks(name, channels: hidden, count: n, shortcut: shortcut, using: &generator)
    }

    public var typeName: String { "models.common.BottleneckCSP" }
    public var parameters: [Parameter] {
        cv1.parameters + cv2.parameters + cv3.parameters + cv4.parameters + bn.parameters + m.flatMap(\.parameters)
    }
    public var buffers: [Buffer] { cv1.buffers + cv4.buffers + bn.buffers + m.flatMap(\.buffers) }
    public var namedState: [(name: String, value: Tensor)] {
        cv1.namedState + YOLO.namedState(cv2) + YOLO.namedState(cv3) + cv4.namedState + YOLO.namedState(bn)
            + m.flatMap(\.namedState)
    }
    /// The block, cv1, cv2, cv3, cv4, bn, its own LeakyReLU, the `m` Sequential and the Bottlenecks.
    public var moduleCount: Int { 6 + cv1.moduleCount + cv4.moduleCount + m.reduce(0) { $0 + $1.moduleCount } }
    /// Only the Convs fold (the BatchNorm over the concatenation stays, as upstream).
    public func fuse() { cv1.fuse(); cv4.fuse(); m.forEach { $0.fuse() } }
    public var batchNorms: [BatchNorm2d] { cv1.batchNorms + cv4.batchNorms + [bn] + m.flatMap(\.batchNorms) }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor {
        let x = xs[0]
        let y1 = cv3(runSeries(m, cv1(x, training: training), training: training))
        let y2 = cv2(x)
        return cv4(bn(Tensor.concat([y1, y2]), training: training).activation(.leakyRelu(slope: 0.1)),
                   training: training)
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let a = cv1.profile(shapes), b = profileSeries(m, a.shape)
        let s = shapes[0]
        let p3 = Conv2DParams(batch: s[0], inHeight: b.shape[1], inWidth: b.shape[2], inChannels: b.shape[3],
                              outChannels: cv3.outChannels, kernel: (1, 1))
        let p2 = Conv2DParams(batch: s[0], inHeight: s[1], inWidth: s[2], inChannels: s[3],
                              outChannels: cv2.outChannels, kernel: (1, 1))
        var cat = p3.outputShape
        cat[3] += cv2.outChannels
        let d = cv4.profile([cat])
        return (d.shape, a.ops + b.ops + convOps(p3) + convOps(p2) + 4 * Double(cat.reduce(1, *)) + d.ops)
    }
}
