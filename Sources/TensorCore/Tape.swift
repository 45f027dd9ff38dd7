// Reverse-mode autograd: a tape of the ops run while recording, each with the backward
// function that sits beside its forward. Gradients come back in a `Gradients` store keyed
// by `TensorID`, never as mutable `.grad` fields.
import Synchronization

private let nextTapeID = Atomic<Int>(1)
private let nextTensorID = Atomic<Int>(1)

/// Identity of a leaf whose gradient is wanted (a parameter, or an input under test).
public struct TensorID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    /// A fresh, process-unique identity.
    public init() { rawValue = nextTensorID.add(1, ordering: .relaxed).oldValue }
    public var description: String { "#\(rawValue)" }
}

/// One recorded value: its inputs and how to send its gradient back to them.
final class TapeNode {
    let tapeID: Int
    let index: Int
    let shape: [Int]
    let inputs: [TapeNode?]
    /// Maps the gradient of this value to the gradients of `inputs` (nil where none flows).
    /// Released once it has run, so the activations it captured are freed during back-propagation.
    var backward: ((Tensor) -> [Tensor?])?
    /// Set for leaves.
    let leaf: TensorID?

    init(tapeID: Int, index: Int, shape: [Int], inputs: [TapeNode?],
         backward: ((Tensor) -> [Tensor?])?, leaf: TensorID?) {
        self.tapeID = tapeID
        self.index = index
        self.shape = shape
        self.inputs = inputs
        self.backward = backward
        self.leaf = leaf
    }
}

/// Gradients of a scalar with respect to the leaves that were watched.
public struct Gradients: @unchecked Sendable {
    public internal(set) var store: [TensorID: Tensor] = [:]
    public init() {}
    public subscript(id: TensorID) -> Tensor? {
        get { store[id] }
        set { store[id] = newValue }
    }
    public var ids: Dictionary<TensorID, Tensor>.Keys { store.keys }
}

/// The recording of one forward pass. Recording is per thread (a task-local binding).
/// A tape is used by one thread at a time: the one that records on it.
public final class Tape: @unchecked Sendable {
    @TaskLocal static var current: Tape?

    let id: Int
    private(set) var nodes: [TapeNode] = []
    private var leaves: [TensorID: TapeNode] = [:]

    init() { id = nextTapeID.add(1, ordering: .relaxed).oldValue }

    /// `value` as a leaf of this tape: gradients with respect to `id` will be returned.
    /// Watching the same id twice returns the same leaf.
    public func watch(_ value: Tensor, as id: TensorID) -> Tensor {
        var t = value
        if let node = leaves[id] {
            t.node = node
            return t
        }
        let node = append(shape: value.shape, inputs: [], backward: nil, leaf: id)
        leaves[id] = node
        t.node = node
        return t
    }

    fileprivate func append(shape: [Int], inputs: [TapeNode?], backward: ((Tensor) -> [Tensor?])?,
                            leaf: TensorID?) -> TapeNode {
        let node = TapeNode(tapeID: id, index: nodes.count, shape: shape, inputs: inputs,
                            backward: backward, leaf: leaf)
        nodes.append(node)
        return node
    }

    /// Back-propagates `seed` (the gradient of the recorded output) through the tape.
    func gradients(of output: Tensor, seed: Tensor) -> Gradients {
        var result = Gradients()
        guard let root = output.node, root.tapeID == id else { return result }
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        grads[root.index] = seed
        // Recording already stops inside backward functions: they see no current tape.
        for index in stride(from: root.index, through: 0, by: -1) {
            guard let g = grads[index] else { continue }
            grads[index] = nil
            let node = nodes[index]
            if let leaf = node.leaf {
                result.store[leaf] = g
                continue
            }
            guard let backward = node.backward else { continue }
            node.backward = nil
            let inputGrads = backward(g)
            precondition(inputGrads.count == node.inputs.count, "backward returned wrong arity")
            for (input, ig) in zip(node.inputs, inputGrads) {
                guard let input, input.tapeID == id, let ig else { continue }
                precondition(ig.shape == input.shape,
                             "gradient shape \(ig.shape) differs from value shape \(input.shape)")
                if let existing = grads[input.index] {
                    grads[input.index] = existing + ig
                } else {
                    grads[input.index] = ig
                }
            }
        }
        return result
    }
}

/// Runs `body` while recording, then returns its (scalar) value and the gradients of that
/// value with respect to every leaf `body` watched through `tape.watch(_:as:)`.
public func valueWithGradients(
    _ body: (Tape) throws -> Tensor
) rethrows -> (value: Tensor, gradients: Gradients) {
    let tape = Tape()
    let value = try Tape.$current.withValue(tape) { try body(tape) }
    precondition(value.count == 1, "valueWithGradients needs a scalar, got shape \(value.shape)")
    let grads = Tape.$current.withValue(nil) {
        tape.gradients(of: value, seed: Tensor(repeating: 1, shape: value.shape))
    }
    return (value.detached, grads)
}

/// Like `valueWithGradients`, for a non-scalar output with an explicit output gradient.
public func pullback(
    seed: Tensor, _ body: (Tape) throws -> Tensor
) rethrows -> (value: Tensor, gradients: Gradients) {
    let tape = Tape()
    let value = try Tape.$current.withValue(tape) { try body(tape) }
    precondition(value.shape == seed.shape, "seed shape \(seed.shape) differs from output \(value.shape)")
    let grads = Tape.$current.withValue(nil) { tape.gradients(of: value, seed: seed) }
    return (value.detached, grads)
}

/// The tape currently recording on this thread, if any.
public var currentTape: Tape? { Tape.current }

extension Tensor {
    /// Attaches `output` to the tape with its backward, when any input is being recorded.
    /// Every differentiable op ends with this call; an op without a backward cannot record.
    @inline(__always)
    static func record(_ output: Tensor, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard let tape = Tape.current else { return output }
        var any = false
        for x in inputs where x.node?.tapeID == tape.id { any = true; break }
        guard any else { return output }
        var out = output
        let nodes: [TapeNode?] = inputs.map { $0.node?.tapeID == tape.id ? $0.node : nil }
        out.node = tape.append(shape: output.shape, inputs: nodes, backward: backward, leaf: nil)
        return out
    }
}
