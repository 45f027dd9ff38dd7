// `EpochIterator`: one epoch of a `DataLoader`: worker threads claim sample positions in order,
// at most `prefetchBatches` batches ahead of the consumer; the worker finishing a batch collates
// it; `nextBatch()` hands batches out in order. Dropping the iterator stops the workers.
import Foundation

/// Shared between the consumer and the worker threads; every field is guarded by `condition`.
private final class EpochState: @unchecked Sendable {
    let condition = NSCondition()
    var nextPosition = 0
    var consumed = 0
    var cancelled = false
    var pending: [Int: [Sample?]] = [:]
    var remaining: [Int: Int] = [:]
    var failures: [Int: any Error] = [:]
    var ready: [Int: Result<Batch, any Error>] = [:]
}

/// The batches of one epoch, in order. Use `nextBatch()` to see errors; `next()` stops at the first
/// error and keeps it in `error`.
public final class EpochIterator: IteratorProtocol {
    public let epoch: Int
    public let order: [Int]
    public private(set) var error: (any Error)?
    private let loader: DataLoader
    private let state = EpochState()
    private let batches: Int
    private var nextBatchIndex = 0

    init(loader: DataLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.order(epoch: epoch)
        let full = loader.batchCount
        // collate_fn4 of a last batch under 4 samples is empty: drop it.
        batches = loader.quad && (loader.count - (full - 1) * loader.batchSize) < 4 ? full - 1 : full
        for _ in 0..<loader.workers {
            let state = self.state, loader = self.loader, order = self.order, epoch = self.epoch, batches = self.batches
            let thread = Thread { EpochIterator.work(state: state, loader: loader, order: order, epoch: epoch, batches: batches) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    deinit {
        state.condition.lock()
        state.cancelled = true
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// The next batch, or nil after the last; rethrows a failed image load of this batch.
    public func nextBatch() throws -> Batch? {
        guard nextBatchIndex < batches else { return nil }
        let b = nextBatchIndex
        state.condition.lock()
        while state.ready[b] == nil { state.condition.wait() }
        let result = state.ready.removeValue(forKey: b)!
        state.consumed += 1
        state.condition.broadcast()
        state.condition.unlock()
        nextBatchIndex += 1
        return try result.get()
    }

    public func next() -> Batch? {
        guard error == nil else { return nil }
        do { return try nextBatch() } catch {
            self.error = error
            return nil
        }
    }

    private static func work(state: EpochState, loader: DataLoader, order: [Int], epoch: Int, batches: Int) {
        let total = min(order.count, batches * loader.batchSize), bs = loader.batchSize
        state.condition.lock()
        while true {
            if state.cancelled || state.nextPosition >= total { break }
            let p = state.nextPosition, b = p / bs
            if b >= state.consumed + loader.prefetchBatches {
                state.condition.wait()
                continue
            }
            state.nextPosition += 1
            if state.pending[b] == nil {
                let size = min(bs, total - b * bs)
                state.pending[b] = [Sample?](repeating: nil, count: size)
                state.remaining[b] = size
            }
            state.condition.unlock()
            let result = Result { try loader.sample(position: p, order: order, epoch: epoch) }
            state.condition.lock()
            switch result {
            case .success(let s): state.pending[b]![p - b * bs] = s
            case .failure(let e): if state.failures[b] == nil { state.failures[b] = e }
            }
            state.remaining[b]! -= 1
            if state.remaining[b] == 0 {
                let samples = state.pending.removeValue(forKey: b)!
                let failure = state.failures.removeValue(forKey: b)
                state.remaining[b] = nil
                state.condition.unlock()
                let batch: Result<Batch, any Error> = failure.map { .failure($0) }
                    ?? .success(loader.batch(b, samples: samples.map { $0! }, order: order, epoch: epoch))
                state.condition.lock()
                state.ready[b] = batch
                state.condition.broadcast()
            }
        }
        state.condition.unlock()
    }
}

/// Images per second of `loader` over its first `batches` batches of `epoch` (all when nil),
/// counting the images fed to the model (quad batches count their merged images).
public func measureLoaderThroughput(_ loader: DataLoader, epoch: Int = 0, batches: Int? = nil) throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let iterator = loader.epoch(epoch)
    var images = 0, seen = 0
    while seen < (batches ?? Int.max), let batch = try iterator.nextBatch() {
        images += batch.images.shape[0]
        seen += 1
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Double(images) / max(seconds, 1e-9)
}
