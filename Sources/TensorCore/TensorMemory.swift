// Where tensor buffers come from. Small ones come from malloc; buffers of 1 MiB and more are
// mapped pages kept in a free list by exact size, because a training step frees and asks again
// for the same sizes (activations, their gradients) and fresh pages cost a kernel zero-fill each
// time. The free list is bounded: mapped tensor bytes (in use + kept) never exceed the highest
// in-use total seen so far plus a slack (half that total, at least 64 MiB), so a change of shapes
// (multi-scale, rectangular validation batches) releases the old sizes instead of adding to the
// process's peak memory. Half, because exact sizes are not interchangeable: a step's forward and
// backward peak in different sizes, and the yolov5n 320 b16 step needs about 90 MiB more than its
// in-use peak kept to stop mapping fresh pages each step (with 64 MiB: 26 000 page faults and
// 40-80 ms per step).
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public final class TensorMemory: Sendable {
    /// The pool behind every `TensorStorage`.
    public static let shared = TensorMemory(mappedThreshold: 1 << 20, slack: 64 << 20, slackFraction: 0.5)

    /// Buffers from this size on are mapped and cached; smaller ones use malloc.
    public let mappedThreshold: Int
    /// Cached bytes allowed above the high-water mark of bytes in use: the larger of `slack` and
    /// `slackFraction` of that mark.
    public let slack: Int
    public let slackFraction: Double

    public init(mappedThreshold: Int, slack: Int, slackFraction: Double = 0) {
        self.mappedThreshold = mappedThreshold
        self.slack = slack
        self.slackFraction = slackFraction
    }

    private struct State {
        // Addresses as integers: the state crosses threads under the lock.
        var free: [Int: [Int]] = [:]
        var cachedBytes = 0
        var mappedInUse = 0
        var highWater = 0
    }

    private let state = Mutex(State())

    /// `byteCount` bytes, 64-byte aligned.
    public func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= mappedThreshold else {
            return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        }
        let size = pageRounded(byteCount)
        let (reused, released) = state.withLock { s -> (Int?, [(Int, Int)]) in
            s.mappedInUse += size
            s.highWater = max(s.highWater, s.mappedInUse)
            if var list = s.free[size], let p = list.popLast() {
                s.free[size] = list.isEmpty ? nil : list
                s.cachedBytes -= size
                return (p, [])
            }
            var released: [(Int, Int)] = []
            // A new mapping: first give back cached sizes that would lift us over the bound.
            let bound = s.highWater + max(slack, Int(Double(s.highWater) * slackFraction))
            while s.cachedBytes > 0 && s.mappedInUse + s.cachedBytes > bound {
                guard let (key, list) = s.free.first(where: { !$0.value.isEmpty }) else { break }
                var rest = list
                released.append((rest.removeLast(), key))
                s.free[key] = rest.isEmpty ? nil : rest
                s.cachedBytes -= key
            }
            return (nil, released)
        }
        for (p, n) in released { munmap(UnsafeMutableRawPointer(bitPattern: p), n) }
        if let reused { return UnsafeMutableRawPointer(bitPattern: reused)! }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != MAP_FAILED else {
            fatalError("out of memory: could not map \(size >> 20) MiB for a tensor")
        }
        return p
    }

    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= mappedThreshold else { pointer.deallocate(); return }
        let size = pageRounded(byteCount)
        state.withLock { s in
            s.mappedInUse -= size
            s.free[size, default: []].append(Int(bitPattern: pointer))
            s.cachedBytes += size
        }
    }

    /// Mapped bytes kept for reuse (for tests and diagnostics).
    public var cachedBytes: Int { state.withLock { $0.cachedBytes } }
    /// Mapped bytes handed out and not yet returned.
    public var mappedBytesInUse: Int { state.withLock { $0.mappedInUse } }

    private func pageRounded(_ n: Int) -> Int { (n + 4095) & ~4095 }
}
