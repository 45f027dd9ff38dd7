// One process-wide allocator setting shared by the engine and the data loader.
#if canImport(Glibc)
import Glibc
#endif

public enum Allocator {
    /// glibc serves multi-megabyte buffers (decoded images, mosaic canvases) with a fresh mmap by
    /// default and returns them on free, so the next sample pays page faults and kernel zeroing
    /// again. (Tensor buffers have their own pool, `TensorMemory`.) Fixed mmap (32 MB) and trim
    /// (256 MB) thresholds, which also stop glibc's dynamic adjustment, keep freed buffers for
    /// reuse. Idempotent; called by `DNNLBackend` and `DataLoader` when they are made, never at import.
    public static func keepLargeFreedBlocksInHeap() { _ = configured }

    private static let configured: Void = {
        #if canImport(Glibc)
        // mallopt is in malloc.h, which the Glibc module does not export: look it up.
        // M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            _ = mallopt(-3, 32 << 20)
            _ = mallopt(-1, 256 << 20)
        }
        #endif
    }()
}
