// The heap buffer behind a `Tensor`: 64-byte aligned Float32, with an identity and a
// version so backends can cache work derived from it (oneDNN weight reorders).
// It is not a tensor: it has no shape.
import Synchronization

private let nextStorageID = Atomic<Int>(1)

/// A 64-byte aligned buffer of `Float`, shared copy-on-write between `Tensor` values.
public final class TensorStorage: @unchecked Sendable {
    /// Start of the buffer; valid for `count` elements.
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Unique for the life of the process.
    public let id: Int
    /// Bumped on every mutable access, so caches keyed by `(id, version)` never go stale.
    public private(set) var version: Int = 0

    /// Uninitialised storage for `count` elements.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative element count")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        self.pointer = TensorMemory.shared.allocate(byteCount: bytes)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        self.id = nextStorageID.add(1, ordering: .relaxed).oldValue
    }

    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        TensorMemory.shared.deallocate(UnsafeMutableRawPointer(pointer),
                                        byteCount: max(count, 1) * MemoryLayout<Float>.stride)
    }

    func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    func markMutated() { version &+= 1 }
}
