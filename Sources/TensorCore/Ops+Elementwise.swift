// Differentiable element-wise ops: forward on `Engine.backend`, backward beside it.

extension Tensor {
    var backend: any Backend { Engine.backend }

    /// Sums `grad` down to `shape`, undoing broadcasting.
    static func unbroadcast(_ grad: Tensor, to shape: [Int]) -> Tensor {
        if grad.shape == shape { return grad }
        let pad = grad.rank - shape.count
        let padded = [Int](repeating: 1, count: pad) + shape
        let axes = (0..<grad.rank).filter { padded[$0] == 1 && grad.shape[$0] != 1 }
        let reduced = axes.isEmpty ? grad : Engine.backend.reduce(.sum, grad, axes: axes)
        return reduced.reshapedStorage(shape)
    }

    static func binaryOp(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        let y = Engine.backend.binary(op, a, b)
        return record(y, inputs: [a, b]) { g in
            // Each partial derivative, then summed back over broadcast axes.
            let (ga, gb): (Tensor?, Tensor?)
            switch op {
            case .add: (ga, gb) = (g, g)
            case .sub: (ga, gb) = (g, -g)
            case .mul: (ga, gb) = (g * b, g * a)
            case .div: (ga, gb) = (g / b, -(g * a / (b * b)))
            case .pow: // d/da a^b = b·a^(b−1); d/db a^b = a^b·ln a (0 where a = 0, as torch)
                let safeLog = Engine.backend.select(a.greater(0), a.log(), Tensor(0))
                (ga, gb) = (g * b * a.pow(b - 1), g * y * safeLog)
            case .minimum, .maximum: // the gradient goes to the chosen side; ties split evenly
                let pick = op == .minimum ? a.less(b) : a.greater(b)
                let tie = a.equal(b)
                let wa = pick + tie * 0.5
                (ga, gb) = (g * wa, g * (1 - wa))
            case .equal, .less, .lessEqual, .greater, .greaterEqual: (ga, gb) = (nil, nil)
            }
            return [ga.map { unbroadcast($0, to: a.shape) }, gb.map { unbroadcast($0, to: b.shape) }]
        }
    }

    static func unaryOp(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let y = Engine.backend.unary(op, x)
        return record(y, inputs: [x]) { g in
            switch op {
            case .neg: return [-g]
            case .exp: return [g * y]                       // e^x
            case .log: return [g / x]                       // 1/x
            case .sqrt: return [g / (y * 2)]                // 1/(2√x)
            case .atan: return [g / (x * x + 1)]            // 1/(1+x²)
            case .abs: return [g * Engine.backend.binary(.sub, x.greater(0), x.less(0))] // sign(x)
            case let .clamp(lo, hi): return [g * Engine.backend.unary(.insideMask(min: lo, max: hi), x)]
            case .insideMask: return [nil]
            case let .affine(s, _): return [g * s]
            case let .powScalar(e): return [g * Engine.backend.unary(.powScalar(e - 1), x) * e]
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binaryOp(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binaryOp(.sub, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binaryOp(.mul, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binaryOp(.div, a, b) }
    public static prefix func - (a: Tensor) -> Tensor { unaryOp(.neg, a) }

    public static func + (a: Tensor, b: Float) -> Tensor { unaryOp(.affine(scale: 1, bias: b), a) }
    public static func - (a: Tensor, b: Float) -> Tensor { unaryOp(.affine(scale: 1, bias: -b), a) }
    public static func * (a: Tensor, b: Float) -> Tensor { unaryOp(.affine(scale: b, bias: 0), a) }
    public static func / (a: Tensor, b: Float) -> Tensor { unaryOp(.affine(scale: 1 / b, bias: 0), a) }
    public static func + (a: Float, b: Tensor) -> Tensor { b + a }
    public static func - (a: Float, b: Tensor) -> Tensor { unaryOp(.affine(scale: -1, bias: a), b) }
    public static func * (a: Float, b: Tensor) -> Tensor { b * a }
    public static func / (a: Float, b: Tensor) -> Tensor { binaryOp(.div, Tensor(a), b) }

    public func pow(_ e: Tensor) -> Tensor { Tensor.binaryOp(.pow, self, e) }
    public func pow(_ e: Float) -> Tensor { Tensor.unaryOp(.powScalar(e), self) }
    public func minimum(_ b: Tensor) -> Tensor { Tensor.binaryOp(.minimum, self, b) }
    public func maximum(_ b: Tensor) -> Tensor { Tensor.binaryOp(.maximum, self, b) }
    public func exp() -> Tensor { Tensor.unaryOp(.exp, self) }
    public func log() -> Tensor { Tensor.unaryOp(.log, self) }
    public func sqrt() -> Tensor { Tensor.unaryOp(.sqrt, self) }
    public func atan() -> Tensor { Tensor.unaryOp(.atan, self) }
    public func abs() -> Tensor { Tensor.unaryOp(.abs, self) }
    /// Clamped to [lo, hi]; the gradient is 1 inside (bounds included, as torch.clamp) and 0 outside.
    public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        Tensor.unaryOp(.clamp(min: lo, max: hi), self)
    }

    // Comparisons: 1 or 0, not differentiable.
    public func equal(_ b: Tensor) -> Tensor { backend.binary(.equal, self, b) }
    public func less(_ b: Tensor) -> Tensor { backend.binary(.less, self, b) }
    public func lessEqual(_ b: Tensor) -> Tensor { backend.binary(.lessEqual, self, b) }
    public func greater(_ b: Tensor) -> Tensor { backend.binary(.greater, self, b) }
    public func greaterEqual(_ b: Tensor) -> Tensor { backend.binary(.greaterEqual, self, b) }
    public func greater(_ b: Float) -> Tensor { greater(Tensor(b)) }
    public func less(_ b: Float) -> Tensor { less(Tensor(b)) }

    /// `cond != 0 ? a : b` with broadcasting; differentiable in `a` and `b`.
    public static func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let y = Engine.backend.select(cond, a, b)
        return record(y, inputs: [a, b]) { g in
            let zero = Tensor(0)
            return [unbroadcast(Engine.backend.select(cond, g, zero), to: a.shape),
                    unbroadcast(Engine.backend.select(cond, zero, g), to: b.shape)]
        }
    }

    /// Point-wise activation.
    public func activation(_ kind: Activation) -> Tensor {
        let y = backend.activation(kind, self)
        let x = self
        return Tensor.record(y, inputs: [x]) { g in
            [Engine.backend.activationBackward(kind, input: x, gradOutput: g)]
        }
    }

    public func silu() -> Tensor { activation(.silu) }
    public func sigmoid() -> Tensor { activation(.sigmoid) }
    public func relu() -> Tensor { activation(.relu) }
}
