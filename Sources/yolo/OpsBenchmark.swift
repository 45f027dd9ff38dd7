// `yolo benchmark ops`: GFLOP/s of YOLOv5n's convolution shapes through the engine against
// oneDNN called directly, and GB/s of batch norm and SiLU against a plain copy.
import ArgumentParser
import Foundation
import TensorCore
import TensorDNNL

struct OpsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Convolution GFLOP/s and element-wise GB/s for YOLOv5n layer shapes.")

    @Option(help: "Batch size.") var batch = 8
    @Option(help: "Timed repetitions per figure (the median is reported).") var repeats = 10
    @Flag(help: "Print the figures as JSON.") var json = false

    /// (in, out, kernel, stride, padding, spatial size): YOLOv5n layers at 320 (first two) and deeper.
    static let layers: [(Int, Int, Int, Int, Int, Int)] = [
        (3, 16, 6, 2, 2, 320), (16, 32, 3, 2, 1, 160), (32, 32, 1, 1, 0, 80),
        (64, 64, 3, 1, 1, 40), (128, 128, 3, 1, 1, 20), (256, 256, 1, 1, 0, 10),
    ]

    struct ConvRow: Codable {
        var layer: String
        var fwd_gflops: Double, bwd_data_gflops: Double, bwd_weights_gflops: Double
        var engine_ms: Double, onednn_ms: Double
    }
    struct Bandwidth: Codable {
        var copy_gbs: Double, batchnorm_gbs: Double, silu_gbs: Double
        /// Batch norm then SiLU, forward and backward: oneDNN's two primitives each way, and the
        /// fused kernel YOLOv5's Conv block trains with.
        var bn_silu_unfused_ms: Double, bn_silu_fused_ms: Double
    }
    struct Report: Codable { var conv: [ConvRow]; var bandwidth: Bandwidth }

    func run() throws {
        let backend = DNNLBackend()
        Engine.backend = backend
        var rows: [ConvRow] = []
        for (cin, cout, k, s, pad, size) in Self.layers {
            rows.append(convRow(backend, cin, cout, k, s, pad, size))
            if !json { FileHandle.standardError.write(Data("measured \(rows.last!.layer)\n".utf8)) }
        }
        let report = Report(conv: rows, bandwidth: bandwidth(backend))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printTable(report)
        }
    }

    func convRow(_ backend: DNNLBackend, _ cin: Int, _ cout: Int, _ k: Int, _ s: Int, _ pad: Int, _ size: Int) -> ConvRow {
        let p = Conv2DParams(batch: batch, inHeight: size, inWidth: size, inChannels: cin, outChannels: cout,
                             kernel: (k, k), stride: (s, s), padding: (pad, pad))
        let x = Tensor.benchmarkInput(p.inputShape, seed: 1), w = Tensor.benchmarkInput(p.weightShape, seed: 2)
        let gy = Tensor.benchmarkInput(p.outputShape, seed: 3)
        let fwd = medianMilliseconds(repeats: repeats) { _ = backend.conv2d(input: x, weight: w, bias: nil, params: p) }
        let bwdData = medianMilliseconds(repeats: repeats) {
            _ = backend.conv2dBackwardData(gradOutput: gy, weight: w, params: p)
        }
        let bwdWeights = medianMilliseconds(repeats: repeats) {
            _ = backend.conv2dBackwardWeights(input: x, gradOutput: gy, params: p, withBias: false)
        }
        // Forward + backward through autograd, as training runs it (input and weight on the tape).
        let xid = TensorID(), wid = TensorID()
        let engine = medianMilliseconds(repeats: repeats) {
            _ = pullback(seed: gy) { tape in
                tape.watch(x, as: xid).conv2d(weight: tape.watch(w, as: wid), stride: (s, s), padding: (pad, pad))
            }
        }
        let direct = DirectConvolution(p)
        let onednn = medianMilliseconds(repeats: repeats) { direct.runAll() }
        let gflop = p.flops / 1e9
        return ConvRow(layer: "\(cin)->\(cout) k\(k) s\(s) \(size)x\(size)",
                       fwd_gflops: gflop / (fwd / 1e3), bwd_data_gflops: gflop / (bwdData / 1e3),
                       bwd_weights_gflops: gflop / (bwdWeights / 1e3), engine_ms: engine, onednn_ms: onednn)
    }

    /// GB/s counted as the bytes each pass must move at least: a copy reads and writes the tensor
    /// once (2×); forward + backward of batch norm or SiLU reads x and writes y, then reads x and
    /// dy and writes dx (5×).
    func bandwidth(_ backend: DNNLBackend) -> Bandwidth {
        let shape = [batch, 80, 80, 32]
        let x = Tensor.benchmarkInput(shape, seed: 4), gy = Tensor.benchmarkInput(shape, seed: 5)
        let bytes = Double(x.count * 4)
        let scale = Tensor(repeating: 1, shape: [32]), shift = Tensor(zeros: [32])
        let copy = medianMilliseconds(repeats: repeats) { _ = backend.slice(x, axis: 0, range: 0..<shape[0]) }
        let bn = medianMilliseconds(repeats: repeats) {
            let r = backend.batchNormTraining(input: x, scale: scale, shift: shift, epsilon: 1e-3)
            _ = backend.batchNormBackward(input: x, gradOutput: gy, scale: scale, mean: r.mean, variance: r.variance,
                                          epsilon: 1e-3)
        }
        let silu = medianMilliseconds(repeats: repeats) {
            _ = backend.activation(.silu, x)
            _ = backend.activationBackward(.silu, input: x, gradOutput: gy)
        }
        let unfused = medianMilliseconds(repeats: repeats) {
            let r = backend.batchNormTraining(input: x, scale: scale, shift: shift, epsilon: 1e-3)
            _ = backend.activation(.silu, r.output)
            let gz = backend.activationBackward(.silu, input: r.output, gradOutput: gy)
            _ = backend.batchNormBackward(input: x, gradOutput: gz, scale: scale, mean: r.mean, variance: r.variance,
                                          epsilon: 1e-3)
        }
        let fused = medianMilliseconds(repeats: repeats) {
            let r = backend.batchNormSiLUTraining(input: x, scale: scale, shift: shift, epsilon: 1e-3)
            _ = backend.batchNormSiLUBackward(input: x, gradOutput: gy, scale: scale, shift: shift, mean: r.mean,
                                              variance: r.variance, epsilon: 1e-3)
        }
        return Bandwidth(copy_gbs: 2 * bytes / (copy / 1e3) / 1e9, batchnorm_gbs: 5 * bytes / (bn / 1e3) / 1e9,
                         silu_gbs: 5 * bytes / (silu / 1e3) / 1e9, bn_silu_unfused_ms: unfused, bn_silu_fused_ms: fused)
    }

    func printTable(_ r: Report) {
        func f(_ v: Double, _ w: Int = 8) -> String { String(format: "%\(w).1f", v) }
        print("layer (batch \(batch), NHWC)       fwd GF/s  bwd-data  bwd-wts  engine ms  oneDNN ms  ratio")
        for row in r.conv {
            print(row.layer.padding(toLength: 30, withPad: " ", startingAt: 0), f(row.fwd_gflops), f(row.bwd_data_gflops),
                  f(row.bwd_weights_gflops), f(row.engine_ms, 10), f(row.onednn_ms, 10),
                  String(format: "%6.2f", row.engine_ms / row.onednn_ms))
        }
        let e = r.conv.reduce(0) { $0 + $1.engine_ms }, o = r.conv.reduce(0) { $0 + $1.onednn_ms }
        print("total".padding(toLength: 57, withPad: " ", startingAt: 0), f(e, 10), f(o, 10),
              String(format: "%6.2f", e / o))
        let b = r.bandwidth
        print(String(format: "bandwidth GB/s: copy %.1f  batch-norm fwd+bwd %.1f (%.0f%%)  SiLU fwd+bwd %.1f (%.0f%%)",
                     b.copy_gbs, b.batchnorm_gbs, 100 * b.batchnorm_gbs / b.copy_gbs, b.silu_gbs,
                     100 * b.silu_gbs / b.copy_gbs))
        print(String(format: "batch norm + SiLU fwd+bwd (%@): oneDNN unfused %.2f ms, fused %.2f ms",
                     "\(batch)x80x80x32", b.bn_silu_unfused_ms, b.bn_silu_fused_ms))
    }
}
