import TensorCore
import XCTest

final class TensorMemoryTests: XCTestCase {
    func testSmallBuffersComeFromMallocAndAreNotCached() {
        let pool = TensorMemory(mappedThreshold: 1 << 20, slack: 0)
        let p = pool.allocate(byteCount: 1000)
        XCTAssertEqual(Int(bitPattern: p) % 64, 0)
        pool.deallocate(p, byteCount: 1000)
        XCTAssertEqual(pool.cachedBytes, 0)
        XCTAssertEqual(pool.mappedBytesInUse, 0)
    }

    func testFreedSizeIsReusedAndZeroFilledWhenNew() {
        let pool = TensorMemory(mappedThreshold: 1 << 20, slack: 0)
        let n = 3 << 20
        let a = pool.allocate(byteCount: n)
        let bytes = a.bindMemory(to: UInt8.self, capacity: n)
        XCTAssertEqual(bytes[0], 0)            // fresh pages are zero
        XCTAssertEqual(bytes[n - 1], 0)
        bytes[n - 1] = 7                        // the whole requested range is writable
        XCTAssertEqual(pool.mappedBytesInUse, n)
        pool.deallocate(a, byteCount: n)
        XCTAssertEqual(pool.cachedBytes, n)
        let b = pool.allocate(byteCount: n)
        XCTAssertEqual(a, b, "the same size comes back from the free list")
        XCTAssertEqual(pool.cachedBytes, 0)
        pool.deallocate(b, byteCount: n)
    }

    func testNewSizesReleaseCachedOnesAboveTheHighWaterMark() {
        let pool = TensorMemory(mappedThreshold: 1 << 20, slack: 1 << 20)
        // Two 4 MiB buffers in use at once: high-water mark 8 MiB.
        let a = pool.allocate(byteCount: 4 << 20), b = pool.allocate(byteCount: 4 << 20)
        pool.deallocate(a, byteCount: 4 << 20)
        pool.deallocate(b, byteCount: 4 << 20)
        XCTAssertEqual(pool.cachedBytes, 8 << 20)
        // A 6 MiB request misses; 6 in use + 8 cached would exceed 8 + 1 slack: one 4 MiB block
        // goes (6 + 4 = 10 > 9 still): both go, leaving nothing cached.
        let c = pool.allocate(byteCount: 6 << 20)
        XCTAssertEqual(pool.cachedBytes, 0)
        XCTAssertEqual(pool.mappedBytesInUse, 6 << 20)
        pool.deallocate(c, byteCount: 6 << 20)
        // 2 MiB misses with 6 cached: 2 + 6 = 8 ≤ 8 + 1, so the 6 MiB block stays.
        let d = pool.allocate(byteCount: 2 << 20)
        XCTAssertEqual(pool.cachedBytes, 6 << 20)
        pool.deallocate(d, byteCount: 2 << 20)
    }

    func testSlackGrowsWithTheHighWaterMark() {
        // High-water mark 8 MiB, slack max(1 MiB, 8/2 MiB) = 4 MiB: the bound is 12 MiB.
        let pool = TensorMemory(mappedThreshold: 1 << 20, slack: 1 << 20, slackFraction: 0.5)
        let a = pool.allocate(byteCount: 4 << 20), b = pool.allocate(byteCount: 4 << 20)
        pool.deallocate(a, byteCount: 4 << 20)
        pool.deallocate(b, byteCount: 4 << 20)
        // 6 in use + 8 cached = 14 > 12: one 4 MiB block goes (6 + 4 = 10 ≤ 12), one stays.
        let c = pool.allocate(byteCount: 6 << 20)
        XCTAssertEqual(pool.cachedBytes, 4 << 20)
        pool.deallocate(c, byteCount: 6 << 20)
        XCTAssertEqual(pool.cachedBytes, 10 << 20)
    }

    func testConcurrentUseKeepsTheBooksBalanced() {
        let pool = TensorMemory(mappedThreshold: 1 << 20, slack: 1 << 20)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for k in 0..<50 {
                let n = (1 + (i + k) % 3) << 20
                let p = pool.allocate(byteCount: n)
                p.storeBytes(of: UInt8(k), as: UInt8.self)
                pool.deallocate(p, byteCount: n)
            }
        }
        XCTAssertEqual(pool.mappedBytesInUse, 0)
    }
}
