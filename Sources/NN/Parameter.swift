// Trainable parameters and non-trainable buffers, each named at construction with its
// PyTorch state-dict path (`model.2.cv1.conv.weight`), and the `Layer` protocol.
import TensorCore

/// A trainable tensor with its PyTorch name. Optimizers see these; they never see `Buffer`s.
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let id = TensorID()
    public var value: Tensor
    /// False for frozen parameters (`--freeze`): no gradient is recorded or applied.
    public var requiresGradient = true

    public init(_ name: String, _ value: Tensor) {
        self.name = name
        self.value = value
    }

    /// The value to compute with: on the tape as a leaf when gradients are being recorded.
    public var tensor: Tensor {
        guard requiresGradient, let tape = currentTape else { return value }
        return tape.watch(value, as: id)
    }
}

/// A non-trainable state tensor (BatchNorm running statistics), saved in state dicts.
public final class Buffer: @unchecked Sendable {
    public let name: String
    public var value: Tensor

    public init(_ name: String, _ value: Tensor) {
        self.name = name
        self.value = value
    }
}

/// A module of a network: it owns named parameters and buffers.
public protocol Layer: AnyObject {
    /// Every trainable parameter, in PyTorch's registration order.
    var parameters: [Parameter] { get }
    /// Every buffer, in PyTorch's registration order.
    var buffers: [Buffer] { get }
}

extension Layer {
    public var buffers: [Buffer] { [] }

    /// Parameters and buffers by PyTorch name, as `model.state_dict()` lists them.
    public var stateDict: [String: Tensor] {
        var d: [String: Tensor] = [:]
        for p in parameters { d[p.name] = p.value }
        for b in buffers { d[b.name] = b.value }
        return d
    }
}

extension Gradients {
    /// The gradient of a parameter, nil when none flowed to it.
    public subscript(parameter: Parameter) -> Tensor? { self[parameter.id] }
}
