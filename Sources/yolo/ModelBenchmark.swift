// `yolo benchmark model`: whole-model speed on the workloads of Tools/bench/peer_model.py
// (PyTorch YOLOv5's side), with the same inputs: yolov5s at 640, batch 1, fused eval inference;
// yolov5n at 320, batch 16, train-mode forward + ComputeLoss + backward. Median milliseconds.
import ArgumentParser
import Foundation
import NN
import TensorCore
import TensorDNNL
import YOLO

struct ModelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "yolov5s 640 b1 fused inference and yolov5n 320 b16 training-step milliseconds.")

    @Option(help: "Timed repetitions per figure (the median is reported).") var repeats = 10
    @Option(help: "coco128 label folder; the first 16 files (sorted) are the training step's targets.")
    var labels = "datasets/coco128/labels/train2017"
    @Flag(help: "Print the figures as JSON.") var json = false
    @Flag(help: "Also time the training step's parts (forward, forward + loss, with a tape) on stderr.")
    var breakdown = false

    func run() throws {
        Engine.backend = DNNLBackend()
        var g = SeededGenerator(seed: 0)

        let s = YOLOModel(spec: try ModelSpec.load(cfg: "yolov5s"), nc: 80, using: &g)
        s.fuse()
        let x1 = Self.pixels(batch: 1, size: 640, seed: 1)
        let infer = medianMilliseconds(repeats: repeats) { _ = s(x1, training: false) }
        if !json { FileHandle.standardError.write(Data("yolov5s 640 b1 inference: \(infer) ms\n".utf8)) }

        let n = YOLOModel(spec: try ModelSpec.load(cfg: "yolov5n"), nc: 80, using: &g)
        let hyp = try Hyperparameters.load("hyp.scratch-low").scaledForTraining(layers: n.nl, classes: 80, imageSize: 320)
        let loss = ComputeLoss(nc: 80, anchors: (0..<n.nl).map { n.levelAnchors($0).map { SIMD2($0[0], $0[1]) } },
                               strides: n.strides.map(Float.init), hyp: hyp)
        let x16 = Self.pixels(batch: 16, size: 320, seed: 2)
        let targets = try Self.targets(labels, count: 16)
        if breakdown {
            let fwd = medianMilliseconds(repeats: repeats) { _ = n(x16, training: true) }
            let fwdTape = medianMilliseconds(repeats: repeats) {
                _ = pullback(seed: Tensor(1)) { _ in loss(n(x16, training: true), targets: targets).loss }
            }
            let fwdLossNoTape = medianMilliseconds(repeats: repeats) { _ = loss(n(x16, training: true), targets: targets) }
            let preds = n(x16, training: true)
            let lossOnly = medianMilliseconds(repeats: repeats) {
                _ = valueWithGradients { tape in
                    loss(preds.map { tape.watch($0, as: TensorID()) }, targets: targets).loss
                }
            }
            FileHandle.standardError.write(Data(String(
                format: "train forward %.1f ms; forward + loss %.1f ms; loss fwd+bwd alone %.1f ms; "
                    + "forward + loss + backward (pullback) %.1f ms\n", fwd, fwdLossNoTape, lossOnly, fwdTape).utf8))
        }
        let train = medianMilliseconds(repeats: repeats) {
            _ = valueWithGradients { _ in loss(n(x16, training: true), targets: targets).loss }
        }
        if json {
            print("{\"yolov5s_640_b1_infer_ms\": \(infer), \"yolov5n_320_b16_train_step_ms\": \(train)}")
        } else {
            print(String(format: "yolov5s 640 b1 fused inference: %.1f ms\nyolov5n 320 b16 train step: %.1f ms", infer, train))
        }
    }

    /// peer_model.py's pixels: frac(|sin(i·12.9898 + seed)·43758.5453|) over the NCHW index i
    /// (float64, then float32), laid out NHWC.
    static func pixels(batch b: Int, size s: Int, seed: Double) -> Tensor {
        var v = [Float](repeating: 0, count: b * s * s * 3)
        for n in 0..<b { for c in 0..<3 { for y in 0..<s { for x in 0..<s {
            let i = Double(((n * 3 + c) * s + y) * s + x)
            let t = abs(sin(i * 12.9898 + seed) * 43758.5453)
            v[((n * s + y) * s + x) * 3 + c] = Float(t - t.rounded(.towardZero))
        } } } }
        return Tensor(shape: [b, s, s, 3], scalars: v)
    }

    /// Rows [image, class, x, y, w, h] of the first `count` label files (sorted by name).
    static func targets(_ folder: String, count: Int) throws -> [[Float]] {
        guard let all = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw ValidationError("\(folder): no such label folder (run from the repository root, or pass --labels)")
        }
        let files = all.filter { $0.hasSuffix(".txt") }.sorted()
        guard files.count >= count else { throw ValidationError("\(folder): fewer than \(count) label files") }
        var rows: [[Float]] = []
        for (i, f) in files.prefix(count).enumerated() {
            let text = try String(contentsOfFile: folder + "/" + f, encoding: .utf8)
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                rows.append([Float(i)] + line.split(separator: " ").compactMap { Float($0) })
            }
        }
        return rows
    }
}
