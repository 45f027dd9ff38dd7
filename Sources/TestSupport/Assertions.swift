// Test helpers shared by every test target: closeness assertions that report the caller's
// line, a central finite-difference gradient checker, and seeded random tensors.
import TensorCore
import XCTest

/// Fails unless |a − b| ≤ atol + rtol·|b| element-wise; reports the worst element.
public func assertClose(_ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard a.shape == b.shape else {
        XCTFail("shape \(a.shape) != \(b.shape) \(message)", file: file, line: line)
        return
    }
    assertClose(a.scalars, b.scalars, rtol: rtol, atol: atol, message, file: file, line: line)
}

public func assertClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == b.count else {
        XCTFail("count \(a.count) != \(b.count) \(message)", file: file, line: line)
        return
    }
    var worst = -Float.infinity, worstIndex = -1
    for i in 0..<a.count {
        let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if excess > worst || excess.isNaN || (a[i].isNaN != b[i].isNaN) {
            worst = excess.isNaN ? .infinity : excess
            worstIndex = i
        }
    }
    if worstIndex >= 0, worst > 0 {
        XCTFail("element \(worstIndex): \(a[worstIndex]) vs \(b[worstIndex]) (rtol \(rtol), atol \(atol)) \(message)",
                file: file, line: line)
    }
}

/// Relative error by norm: ‖a − b‖ / max(‖b‖, tiny).
public func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var num: Double = 0, den: Double = 0
    for i in 0..<a.count {
        num += Double(a[i] - b[i]) * Double(a[i] - b[i])
        den += Double(b[i]) * Double(b[i])
    }
    return Float((num / max(den, 1e-30)).squareRoot())
}

/// Checks the tape's gradients of `f` against central finite differences in Float64-free
/// Float32 arithmetic: for each input, (f(x + h) − f(x − h)) / 2h per element.
/// `f` must return a scalar. Inputs should avoid kinks (ReLU at 0, ties in max).
public func assertGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], step h: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
) {
    let ids = inputs.map { _ in TensorID() }
    let (_, grads) = valueWithGradients { tape in
        f(zip(inputs, ids).map { tape.watch($0, as: $1) })
    }
    for (k, input) in inputs.enumerated() {
        var numeric = [Float](repeating: 0, count: input.count)
        for i in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[k].withUnsafeMutableBufferPointer { $0[i] += h }
            minus[k].withUnsafeMutableBufferPointer { $0[i] -= h }
            numeric[i] = (f(plus).scalar - f(minus).scalar) / (2 * h)
        }
        guard let analytic = grads[ids[k]] else {
            if numeric.contains(where: { abs($0) > atol }) {
                XCTFail("no gradient for input \(k), numeric \(numeric.prefix(4))", file: file, line: line)
            }
            continue
        }
        assertClose(analytic.scalars, numeric, rtol: rtol, atol: atol, "input \(k)", file: file, line: line)
    }
}

extension Tensor {
    /// Seeded uniform values in [lo, hi) for tests.
    public static func random(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.uniform(shape, lo: lo, hi: hi, using: &g)
    }
}

/// A test case that runs on `ReferenceBackend` and restores the previous backend afterwards
/// (all test targets share one process, and some tests select `DNNLBackend`).
open class ReferenceBackendTestCase: XCTestCase {
    private var savedBackend: (any Backend)?

    open override func setUp() {
        super.setUp()
        savedBackend = Engine.backend
        Engine.backend = ReferenceBackend()
    }

    open override func tearDown() {
        if let savedBackend { Engine.backend = savedBackend }
        super.tearDown()
    }
}
