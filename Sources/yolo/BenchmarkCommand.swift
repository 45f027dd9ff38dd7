// `yolo benchmark`: speed figures of the engine. Benchmarks report numbers; tests check behaviour.
import ArgumentParser
import Foundation
import TensorCore
import TensorDNNL

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure the speed of the engine, the model and the data loader.",
        subcommands: [OpsBenchmark.self, ModelBenchmark.self, DataBenchmark.self])
}

/// Median wall time of `body` in milliseconds after `warmup` untimed runs.
func medianMilliseconds(repeats: Int, warmup: Int = 2, _ body: () -> Void) -> Double {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    return times.count % 2 == 1 ? times[times.count / 2]
                                : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
}

extension Tensor {
    /// Seeded uniform values in [-1, 1) for benchmark inputs.
    static func benchmarkInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.uniform(shape, lo: -1, hi: 1, using: &g)
    }
}
