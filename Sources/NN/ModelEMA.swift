// YOLOv5's ModelEMA (utils/torch_utils.py): an exponential moving average of the model's
// state dict, with a decay that ramps up from 0 as d = decay·(1 − exp(−updates/tau)).
// The EMA keeps its own copies of every floating-point entry, parameters and buffers alike,
// keyed by their PyTorch names; `update` is called after every optimizer step.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

public final class ModelEMA: @unchecked Sendable {
    /// Maximum decay (YOLOv5: 0.9999).
    public let decay: Double
    /// Ramp time constant in updates (YOLOv5: 2000).
    public let tau: Double
    /// Number of updates so far; checkpoints store it (`ckpt['updates']`) and resume sets it.
    public var updates: Int
    /// Entry names in state-dict order (parameters first, then buffers, as given at init).
    public let names: [String]
    /// Names whose values are not averaged: torch averages only floating-point entries, and
    /// BatchNorm's integer `num_batches_tracked` is not one (it keeps its initial copy).
    public let frozenNames: Set<String>
    private var values: [Tensor]
    private let index: [String: Int]

    /// Copies the current values of `parameters` and `buffers` (the model at EMA creation;
    /// torch's deepcopy). Entries whose name ends in `num_batches_tracked` are copied but
    /// never averaged.
    public init(parameters: [Parameter], buffers: [Buffer], decay: Double = 0.9999, tau: Double = 2000,
                updates: Int = 0) {
        var names: [String] = [], values: [Tensor] = []
        for p in parameters { names.append(p.name); values.append(ModelEMA.ownedCopy(p.value)) }
        for b in buffers { names.append(b.name); values.append(ModelEMA.ownedCopy(b.value)) }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() {
            precondition(index[n] == nil, "duplicate state name \(n)")
            index[n] = i
        }
        self.names = names
        self.values = values
        self.index = index
        self.frozenNames = Set(names.filter { $0.hasSuffix("num_batches_tracked") })
        self.decay = decay
        self.tau = tau
        self.updates = updates
    }

    /// An EMA of a layer's parameters and buffers.
    public convenience init(_ layer: any Layer, decay: Double = 0.9999, tau: Double = 2000, updates: Int = 0) {
        self.init(parameters: layer.parameters, buffers: layer.buffers, decay: decay, tau: tau, updates: updates)
    }

    /// The decay used by the update that brings the count to `updates`.
    public func decay(forUpdates updates: Int) -> Double {
        decay * (1 - exp(-Double(updates) / tau))
    }

    /// The averaged value of entry `name`.
    public subscript(name: String) -> Tensor? {
        index[name].map { values[$0] }
    }

    /// Every entry by name (to save as the checkpoint's `ema` state dict).
    public var stateDict: [String: Tensor] {
        var d: [String: Tensor] = [:]
        for (n, v) in zip(names, values) { d[n] = v }
        return d
    }

    /// Replaces entries from a state dict (resuming from a checkpoint); names absent from
    /// `state` keep their values. Shapes must match.
    public func load(_ state: [String: Tensor]) {
        for (i, n) in names.enumerated() {
            guard let t = state[n] else { continue }
            precondition(t.count == values[i].count, "EMA entry \(n): \(t.shape) vs \(values[i].shape)")
            values[i] = Tensor(shape: values[i].shape, scalars: t.scalars)
        }
    }

    /// One EMA step: updates += 1, d = decay(updates); for every averaged entry
    /// v = d·v + (1 − d)·model_v. Model entries are matched by name; each name the EMA holds
    /// must be present among `parameters` and `buffers`. Returns d.
    @discardableResult
    public func update(parameters: [Parameter], buffers: [Buffer]) -> Double {
        updates += 1
        let d = decay(forUpdates: updates)
        var seen = 0
        for p in parameters { seen += blend(p.name, p.value, d) }
        for b in buffers { seen += blend(b.name, b.value, d) }
        precondition(seen == names.count - frozenNames.count,
                     "ModelEMA.update: model provided \(seen) of \(names.count - frozenNames.count) entries")
        return d
    }

    /// `update(parameters:buffers:)` with a layer's parameters and buffers.
    @discardableResult
    public func update(_ layer: any Layer) -> Double {
        update(parameters: layer.parameters, buffers: layer.buffers)
    }

    /// Writes the averaged values into a model's parameters and buffers (matched by name),
    /// e.g. to evaluate or export the EMA weights.
    public func copy(to parameters: [Parameter], buffers: [Buffer]) {
        for p in parameters { if let i = index[p.name] { p.value = values[i] } }
        for b in buffers { if let i = index[b.name] { b.value = values[i] } }
    }

    /// v = d·v + (1 − d)·m for entry `name`; 1 when averaged, 0 when unknown or frozen.
    private func blend(_ name: String, _ model: Tensor, _ d: Double) -> Int {
        guard let i = index[name], !frozenNames.contains(name) else { return 0 }
        precondition(model.count == values[i].count, "EMA entry \(name): \(model.shape) vs \(values[i].shape)")
        // torch: v *= d; v += (1 − d)·m, each scalar rounded to Float32.
        let df = Float(d), omd = Float(1 - d)
        let n = model.count
        model.withUnsafeBufferPointer { m in
            values[i].withUnsafeMutableBufferPointer { v in
                for k in 0..<n {
                    v[k] = v[k] * df + omd * m[k]
                }
            }
        }
        return 1
    }

    private static func ownedCopy(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape, scalars: t.scalars)
    }
}
