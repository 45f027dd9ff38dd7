// Optimizers with PyTorch's update rules: SGD (momentum, Nesterov, L2 weight decay), Adam (L2
// weight decay) and AdamW (decoupled weight decay), over parameter groups laid out as YOLOv5's
// `smart_optimizer` lays them out. Hyperparameters are Doubles, as Python floats are in torch;
// the element-wise work is Float32, with each scalar rounded to Float once per parameter, as
// torch's CPU kernels do. State (momentum buffers, Adam moments, step counts) exports to named
// tensors for checkpoints.
import TensorCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One group of parameters sharing hyperparameters (torch's `optimizer.param_groups[i]`).
/// `lr` and `momentum` are rewritten by the trainer every warmup iteration and every epoch.
public struct ParameterGroup: @unchecked Sendable {
    public var parameters: [Parameter]
    /// The learning rate used by the next `step`.
    public var lr: Double
    /// The learning rate schedules scale: torch's `initial_lr` (set when the scheduler is built).
    public var initialLR: Double
    /// SGD momentum. Adam and AdamW ignore it (their β₁ is fixed, as in YOLOv5 where the warmup
    /// only touches groups that have a `momentum` key); see `Optimizer.hasMomentum`.
    public var momentum: Double
    /// L2 penalty (SGD, Adam) or decoupled decay (AdamW).
    public var weightDecay: Double

    public init(parameters: [Parameter], lr: Double, momentum: Double = 0, weightDecay: Double = 0,
                initialLR: Double? = nil) {
        self.parameters = parameters
        self.lr = lr
        self.initialLR = initialLR ?? lr
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// The index of the bias group in `yoloGroups` (YOLOv5 7.0's `smart_optimizer` builds the
    /// optimizer with the biases first and adds the other groups after), i.e. the `j == 0` group
    /// that train.py's warmup starts at `warmup_bias_lr`.
    public static let yoloBiasGroupIndex = 0

    /// YOLOv5 7.0's three groups, in the optimizer's order: 0) biases, no decay; 1) other weights,
    /// with `weightDecay`; 2) normalisation-layer weights, no decay. Parameters keep their order.
    /// `isNormWeight` defaults to names whose module is a BatchNorm (`…bn.weight`).
    public static func yoloGroups(
        _ parameters: [Parameter], lr: Double, momentum: Double, weightDecay: Double,
        isNormWeight: (Parameter) -> Bool = { $0.name.hasSuffix("bn.weight") }
    ) -> [ParameterGroup] {
        var biases: [Parameter] = [], decayed: [Parameter] = [], norm: [Parameter] = []
        for p in parameters {
            if p.name == "bias" || p.name.hasSuffix(".bias") {
                biases.append(p)
            } else if isNormWeight(p) {
                norm.append(p)
            } else {
                decayed.append(p)
            }
        }
        return [
            ParameterGroup(parameters: biases, lr: lr, momentum: momentum, weightDecay: 0),
            ParameterGroup(parameters: decayed, lr: lr, momentum: momentum, weightDecay: weightDecay),
            ParameterGroup(parameters: norm, lr: lr, momentum: momentum, weightDecay: 0),
        ]
    }
}

public enum OptimizerStateError: Error, CustomStringConvertible {
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    case groupCountMismatch(expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(name, expected, got):
            return "optimizer state \(name): shape \(got), parameter has \(expected)"
        case let .groupCountMismatch(expected, got):
            return "optimizer state has \(got) parameter groups, optimizer has \(expected)"
        }
    }
}

/// An optimizer over parameter groups. `step` updates every parameter that requires a gradient
/// and has one in `gradients`; the others, and their state, are left as they are.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// Whether groups carry a momentum that the warmup sets (true for SGD; torch's
    /// `'momentum' in param_group`).
    var hasMomentum: Bool { get }
    func step(_ gradients: Gradients)
    /// The per-parameter state and group hyperparameters as named tensors, all prefixed
    /// `optimizer.`:
    /// - `optimizer.state.<param>.momentum_buffer` (SGD, once the parameter has stepped with momentum),
    /// - `optimizer.state.<param>.exp_avg`, `.exp_avg_sq`, `.step` (Adam/AdamW; step is a rank-0
    ///   tensor holding the count, exact below 2²⁴),
    /// - `optimizer.param_groups.<i>.lr`, `.initial_lr`, `.momentum`, `.weight_decay`, and for
    ///   Adam/AdamW `optimizer.betas`: Doubles stored exactly as three Float32s (hi, mid, lo)
    ///   that sum to the value (six for the betas).
    func exportState() -> [String: Tensor]
    /// Restores what `exportState` wrote. Parameters are matched by name; names absent from
    /// `state` start fresh. Group hyperparameters are restored when present.
    func importState(_ state: [String: Tensor]) throws
}

/// State key prefixes (shared by every optimizer).
public enum OptimizerStateKey {
    public static let prefix = "optimizer."
    public static func state(_ parameter: String, _ field: String) -> String {
        "optimizer.state.\(parameter).\(field)"
    }
    public static func group(_ index: Int, _ field: String) -> String {
        "optimizer.param_groups.\(index).\(field)"
    }
}

// MARK: - Shared helpers

/// A Double stored exactly in three Float32s (hi, mid, lo), each the rounding of what the
/// previous ones leave: x == Double(hi) + (Double(mid) + Double(lo)) for normal-range values.
func doubleComponents(_ x: Double) -> [Float] {
    let hi = Float(x)
    let r1 = x - Double(hi)
    let mid = Float(r1)
    let lo = Float(r1 - Double(mid))
    return [hi, mid, lo]
}

func doubleFromComponents(_ s: ArraySlice<Float>) -> Double {
    let c = Array(s)
    switch c.count {
    case 0: return 0
    case 1: return Double(c[0])
    case 2: return Double(c[0]) + Double(c[1])
    default: return Double(c[0]) + (Double(c[1]) + Double(c[2]))
    }
}

@inline(__always) func encodeDouble(_ x: Double) -> Tensor {
    Tensor(shape: [3], scalars: doubleComponents(x))
}

@inline(__always) func decodeDouble(_ t: Tensor) -> Double { doubleFromComponents(t.scalars[...]) }

extension Optimizer {
    /// Every parameter of every group, by name (the first one wins on duplicate names).
    var parametersByName: [String: Parameter] {
        var d: [String: Parameter] = [:]
        for g in groups { for p in g.parameters where d[p.name] == nil { d[p.name] = p } }
        return d
    }

    /// The gradient to apply to `p`, nil when it is frozen or got none.
    @inline(__always) func gradient(for p: Parameter, in gradients: Gradients) -> Tensor? {
        guard p.requiresGradient, let g = gradients[p] else { return nil }
        precondition(g.shape == p.value.shape,
                     "gradient shape \(g.shape) differs from parameter \(p.name) shape \(p.value.shape)")
        return g
    }
}

func exportGroupState(_ groups: [ParameterGroup], into out: inout [String: Tensor]) {
    for (i, g) in groups.enumerated() {
        out[OptimizerStateKey.group(i, "lr")] = encodeDouble(g.lr)
        out[OptimizerStateKey.group(i, "initial_lr")] = encodeDouble(g.initialLR)
        out[OptimizerStateKey.group(i, "momentum")] = encodeDouble(g.momentum)
        out[OptimizerStateKey.group(i, "weight_decay")] = encodeDouble(g.weightDecay)
    }
}

func importGroupState(_ groups: inout [ParameterGroup], from state: [String: Tensor]) throws {
    let present = (0...groups.count).filter { state[OptimizerStateKey.group($0, "lr")] != nil }
    guard !present.isEmpty else { return }
    guard present.count == groups.count, present.last == groups.count - 1 else {
        throw OptimizerStateError.groupCountMismatch(expected: groups.count, got: present.count)
    }
    for i in groups.indices {
        if let t = state[OptimizerStateKey.group(i, "lr")] { groups[i].lr = decodeDouble(t) }
        if let t = state[OptimizerStateKey.group(i, "initial_lr")] { groups[i].initialLR = decodeDouble(t) }
        if let t = state[OptimizerStateKey.group(i, "momentum")] { groups[i].momentum = decodeDouble(t) }
        if let t = state[OptimizerStateKey.group(i, "weight_decay")] { groups[i].weightDecay = decodeDouble(t) }
    }
}

func checkedStateTensor(_ t: Tensor, name: String, like p: Parameter) throws -> Tensor {
    guard t.count == p.value.count else {
        throw OptimizerStateError.shapeMismatch(name: name, expected: p.value.shape, got: t.shape)
    }
    // A fresh, uniquely owned copy in the parameter's shape.
    return Tensor(shape: p.value.shape, scalars: t.scalars)
}

// MARK: - SGD

/// torch.optim.SGD with dampening 0: g += wd·p; buf = g (first step) or momentum·buf + g;
/// g = g + momentum·buf (Nesterov) or buf; p -= lr·g. No buffer is kept while momentum is 0.
public final class SGD: Optimizer, @unchecked Sendable {
    public var groups: [ParameterGroup]
    public let nesterov: Bool
    public var hasMomentum: Bool { true }
    /// Momentum buffers by parameter.
    private var buffers: [TensorID: Tensor] = [:]

    public init(groups: [ParameterGroup], nesterov: Bool = false) {
        self.groups = groups
        self.nesterov = nesterov
    }

    public convenience init(_ parameters: [Parameter], lr: Double, momentum: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters, lr: lr, momentum: momentum,
                                          weightDecay: weightDecay)],
                  nesterov: nesterov)
    }

    /// The momentum buffer of `parameter`, nil before its first step with momentum.
    public func momentumBuffer(_ parameter: Parameter) -> Tensor? { buffers[parameter.id] }

    public func step(_ gradients: Gradients) {
        for group in groups {
            let lr = Float(group.lr), wd = Float(group.weightDecay), mu = Float(group.momentum)
            let useMomentum = group.momentum != 0
            for p in group.parameters {
                guard let grad = gradient(for: p, in: gradients) else { continue }
                let n = p.value.count
                if !useMomentum {
                    grad.withUnsafeBufferPointer { g in
                        p.value.withUnsafeMutableBufferPointer { w in
                            for i in 0..<n {
                                let gi = wd != 0 ? g[i] + wd * w[i] : g[i]
                                w[i] -= lr * gi
                            }
                        }
                    }
                    continue
                }
                var buf = buffers.removeValue(forKey: p.id)
                let first = buf == nil
                if first { buf = Tensor(uninitializedShape: p.value.shape) }
                let nesterov = self.nesterov
                grad.withUnsafeBufferPointer { g in
                    p.value.withUnsafeMutableBufferPointer { w in
                        buf!.withUnsafeMutableBufferPointer { b in
                            for i in 0..<n {
                                let gi = wd != 0 ? g[i] + wd * w[i] : g[i]
                                let bi = first ? gi : mu * b[i] + gi
                                b[i] = bi
                                let step = nesterov ? gi + mu * bi : bi
                                w[i] -= lr * step
                            }
                        }
                    }
                }
                buffers[p.id] = buf
            }
        }
    }

    public func exportState() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for g in groups {
            for p in g.parameters {
                if let b = buffers[p.id] { out[OptimizerStateKey.state(p.name, "momentum_buffer")] = b }
            }
        }
        exportGroupState(groups, into: &out)
        return out
    }

    public func importState(_ state: [String: Tensor]) throws {
        var restored: [TensorID: Tensor] = [:]
        for (name, p) in parametersByName {
            let key = OptimizerStateKey.state(name, "momentum_buffer")
            if let t = state[key] { restored[p.id] = try checkedStateTensor(t, name: key, like: p) }
        }
        try importGroupState(&groups, from: state)
        buffers = restored
    }
}

// MARK: - Adam / AdamW

/// Per-parameter Adam state: first and second moments and the step count.
struct AdamState {
    var step: Int
    var expAvg: Tensor
    var expAvgSq: Tensor
}

/// The shared update of torch's single-tensor Adam and AdamW (amsgrad off, maximize off).
/// `decoupled`: AdamW's p *= 1 − lr·wd before the step; otherwise Adam's g += wd·p.
private func adamStep(groups: [ParameterGroup], gradients: Gradients, beta1: Double, beta2: Double,
                      eps: Double, decoupled: Bool, states: inout [TensorID: AdamState],
                      gradientFor: (Parameter, Gradients) -> Tensor?) {
    for group in groups {
        let wd = Float(group.weightDecay)
        let decay = Float(1 - group.lr * group.weightDecay)
        for p in group.parameters {
            guard let grad = gradientFor(p, gradients) else { continue }
            let n = p.value.count
            var st = states.removeValue(forKey: p.id)
                ?? AdamState(step: 0, expAvg: Tensor(zeros: p.value.shape), expAvgSq: Tensor(zeros: p.value.shape))
            st.step += 1
            let t = Double(st.step)
            let bc1 = 1 - pow(beta1, t)
            let bc2 = 1 - pow(beta2, t)
            let stepSize = Float(group.lr / bc1)
            let bc2Sqrt = Float(bc2.squareRoot())
            let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2)
            let epsF = Float(eps)
            let l2 = !decoupled && group.weightDecay != 0
            let decoupledDecay = decoupled && group.weightDecay != 0
            grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    st.expAvg.withUnsafeMutableBufferPointer { m in
                        st.expAvgSq.withUnsafeMutableBufferPointer { v in
                            for i in 0..<n {
                                if decoupledDecay { w[i] *= decay }
                                let gi = l2 ? g[i] + wd * w[i] : g[i]
                                // torch's lerp for weight < 0.5: m + w·(g − m); else g − (g − m)·(1 − w).
                                let mi = w1 < 0.5 ? m[i] + w1 * (gi - m[i]) : gi - (gi - m[i]) * (1 - w1)
                                m[i] = mi
                                let vi = v[i] * b2 + w2 * gi * gi
                                v[i] = vi
                                let denom = vi.squareRoot() / bc2Sqrt + epsF
                                w[i] += (-stepSize * mi) / denom
                            }
                        }
                    }
                }
            }
            states[p.id] = st
        }
    }
}

/// Shared plumbing of Adam and AdamW.
public class AdamBase: @unchecked Sendable {
    public var groups: [ParameterGroup]
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    var states: [TensorID: AdamState] = [:]

    init(groups: [ParameterGroup], beta1: Double, beta2: Double, eps: Double) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
    }

    public var hasMomentum: Bool { false }

    /// The number of steps taken for `parameter` (0 before its first).
    public func stepCount(_ parameter: Parameter) -> Int { states[parameter.id]?.step ?? 0 }

    public func exportState() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for g in groups {
            for p in g.parameters {
                guard let st = states[p.id] else { continue }
                out[OptimizerStateKey.state(p.name, "step")] = Tensor(Float(st.step))
                out[OptimizerStateKey.state(p.name, "exp_avg")] = st.expAvg
                out[OptimizerStateKey.state(p.name, "exp_avg_sq")] = st.expAvgSq
            }
        }
        exportGroupState(groups, into: &out)
        out["optimizer.betas"] = Tensor(shape: [6], scalars: doubleComponents(beta1) + doubleComponents(beta2))
        return out
    }
}

extension AdamBase {
    func importAdamState(_ state: [String: Tensor], byName: [String: Parameter]) throws -> [TensorID: AdamState] {
        var restored: [TensorID: AdamState] = [:]
        for (name, p) in byName {
            let kStep = OptimizerStateKey.state(name, "step")
            let kAvg = OptimizerStateKey.state(name, "exp_avg")
            let kSq = OptimizerStateKey.state(name, "exp_avg_sq")
            guard let s = state[kStep], let m = state[kAvg], let v = state[kSq] else { continue }
            restored[p.id] = AdamState(step: Int(s.scalars.first ?? 0),
                                       expAvg: try checkedStateTensor(m, name: kAvg, like: p),
                                       expAvgSq: try checkedStateTensor(v, name: kSq, like: p))
        }
        if let b = state["optimizer.betas"], b.count == 6 {
            let s = b.scalars
            beta1 = doubleFromComponents(s[0..<3])
            beta2 = doubleFromComponents(s[3..<6])
        }
        return restored
    }
}

/// torch.optim.Adam (amsgrad off) with L2 weight decay: g += wd·p; m = lerp(m, g, 1 − β₁);
/// v = β₂·v + (1 − β₂)·g²; p -= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps).
/// YOLOv5 uses β₁ = hyp momentum (0.937), β₂ = 0.999.
public final class Adam: AdamBase, Optimizer, @unchecked Sendable {
    public init(groups: [ParameterGroup], betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8) {
        super.init(groups: groups, beta1: betas.0, beta2: betas.1, eps: eps)
    }

    public func step(_ gradients: Gradients) {
        adamStep(groups: groups, gradients: gradients, beta1: beta1, beta2: beta2, eps: eps,
                 decoupled: false, states: &states, gradientFor: { self.gradient(for: $0, in: $1) })
    }

    public func importState(_ state: [String: Tensor]) throws {
        let restored = try importAdamState(state, byName: parametersByName)
        try importGroupState(&groups, from: state)
        states = restored
    }
}

/// torch.optim.AdamW: p *= 1 − lr·wd, then Adam's update without the L2 term.
/// Note torch's AdamW default weight decay is 0.01; YOLOv5 passes 0 for the bias group.
public final class AdamW: AdamBase, Optimizer, @unchecked Sendable {
    public init(groups: [ParameterGroup], betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8) {
        super.init(groups: groups, beta1: betas.0, beta2: betas.1, eps: eps)
    }

    public func step(_ gradients: Gradients) {
        adamStep(groups: groups, gradients: gradients, beta1: beta1, beta2: beta2, eps: eps,
                 decoupled: true, states: &states, gradientFor: { self.gradient(for: $0, in: $1) })
    }

    public func importState(_ state: [String: Tensor]) throws {
        let restored = try importAdamState(state, byName: parametersByName)
        try importGroupState(&groups, from: state)
        states = restored
    }
}
