// YOLOv5's pooling and routing blocks (`models/common.py`, torch.nn): SPP, SPPF, Concat and
// nn.Upsample (nearest). Pools are stride 1 with padding k/2, so they keep the size.
import NN
import TensorCore

/// `SPP(c1, c2, k = (5, 9, 13))`: cv2(cat(x, pool₅(x), pool₉(x), pool₁₃(x))) with x = cv1(input),
/// hidden width c1/2 (He et al. 2015, spatial pyramid pooling).
public final class SPP: YOLOBlock, @unchecked Sendable {
    public let cv1: Conv, cv2: Conv
    public let pools: [MaxPool2d]

    public init(_ name: String, _ c1: Int, _ c2: Int, kernels: [Int] = [5, 9, 13],
                using generator: inout some RandomNumberGenerator) {
        let hidden = c1 / 2
        cv1 = Conv(name + ".cv1", c1, hidden, using: &generator)
        cv2 = Conv(name + ".cv2", hidden * (kernels.count + 1), c2, using: &generator)
        pools = kernels.map { MaxPool2d(kernel: $0, stride: 1, padding: $0 / 2) }
    }

    public var typeName: String { "models.common.SPP" }
    public var parameters: [Parameter] { cv1.parameters + cv2.parameters }
    public var buffers: [Buffer] { cv1.buffers + cv2.buffers }
    public var namedState: [(name: String, value: Tensor)] { cv1.namedState + cv2.namedState }
    /// SPP, cv1, cv2, the pools' ModuleList and each pool.
    public var moduleCount: Int { 2 + cv1.moduleCount + cv2.moduleCount + pools.count }
    public func fuse() { cv1.fuse(); cv2.fuse() }
    public var batchNorms: [BatchNorm2d] { cv1.batchNorms + cv2.batchNorms }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor {
        let x = cv1(xs[0], training: training)
        return cv2(Tensor.concat([x] + pools.map { $0(x) }), training: training)
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let a = cv1.profile(shapes)
        var cat = a.shape
        cat[3] *= pools.count + 1
        let b = cv2.profile([cat])
        return (b.shape, a.ops + b.ops)
    }
}

/// `SPPF(c1, c2, k = 5)`: y₁ = pool(x), y₂ = pool(y₁), y₃ = pool(y₂); cv2(cat(x, y₁, y₂, y₃)).
/// Equal to SPP(5, 9, 13) (a 5×5 max of 5×5 maxima is a 9×9 max) and cheaper (v6.0).
public final class SPPF: YOLOBlock, @unchecked Sendable {
    public let cv1: Conv, cv2: Conv
    public let pool: MaxPool2d

    public init(_ name: String, _ c1: Int, _ c2: Int, kernel k: Int = 5,
                using generator: inout some RandomNumberGenerator) {
        let hidden = c1 / 2
        cv1 = Conv(name + ".cv1", c1, hidden, using: &generator)
        cv2 = Conv(name + ".cv2", hidden * 4, c2, using: &generator)
        pool = MaxPool2d(kernel: k, stride: 1, padding: k / 2)
    }

    public var typeName: String { "models.common.SPPF" }
    public var parameters: [Parameter] { cv1.parameters + cv2.parameters }
    public var buffers: [Buffer] { cv1.buffers + cv2.buffers }
    public var namedState: [(name: String, value: Tensor)] { cv1.namedState + cv2.namedState }
    public var moduleCount: Int { 2 + cv1.moduleCount + cv2.moduleCount }
    public func fuse() { cv1.fuse(); cv2.fuse() }
    public var batchNorms: [BatchNorm2d] { cv1.batchNorms + cv2.batchNorms }

    public func forward(_ xs: [Tensor], training: Bool) -> Tensor {
        let x = cv1(xs[0], training: training)
        let y1 = pool(x), y2 = pool(y1)
        return cv2(Tensor.concat([x, y1, y2, pool(y2)]), training: training)
    }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let a = cv1.profile(shapes)
        var cat = a.shape
        cat[3] *= 4
        let b = cv2.profile([cat])
        return (b.shape, a.ops + b.ops)
    }
}

/// `Concat(1)`: joins its inputs along channels (the last NHWC axis).
public final class ConcatBlock: YOLOBlock, @unchecked Sendable {
    public init() {}
    public var typeName: String { "models.common.Concat" }
    public var parameters: [Parameter] { [] }
    public var namedState: [(name: String, value: Tensor)] { [] }
    public var moduleCount: Int { 1 }
    public func forward(_ xs: [Tensor], training: Bool) -> Tensor { Tensor.concat(xs) }

    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        var s = shapes[0]
        s[3] = shapes.reduce(0) { $0 + $1[3] }
        return (s, 0)
    }
}

/// `nn.Upsample(None, scale, 'nearest')` over NHWC.
public final class UpsampleBlock: YOLOBlock, @unchecked Sendable {
    public let scale: Int
    public init(scale: Int) { self.scale = scale }
    public var typeName: String { "torch.nn.modules.upsampling.Upsample" }
    public var parameters: [Parameter] { [] }
    public var namedState: [(name: String, value: Tensor)] { [] }
    public var moduleCount: Int { 1 }
    public func forward(_ xs: [Tensor], training: Bool) -> Tensor { Upsample(scale: scale)(xs[0]) }

    /// thop counts one operation per output element for nearest upsampling.
    public func profile(_ shapes: [[Int]]) -> (shape: [Int], ops: Double) {
        let s = shapes[0]
        let out = [s[0], s[1] * scale, s[2] * scale, s[3]]
        return (out, Double(out.reduce(1, *)))
    }
}
