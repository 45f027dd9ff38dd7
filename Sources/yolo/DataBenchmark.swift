// `yolo benchmark data`: images/s of the training data loader (YOLOv5's create_dataloader with
// augment=True and hyp.scratch-low: mosaic, random_perspective, HSV, flips), and with `--stages`
// the single-thread cost of each step of one mosaic sample. The peer's side is
// Tools/bench/peer_data.py; Tools/bench/bench_data.sh runs both.
import ArgumentParser
import Foundation
import TensorCore
import YOLO
import YOLOData
import YOLOTraining

struct DataBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Images/s of the augmenting training data loader (mosaic, perspective, HSV, flips).")

    @Option(help: "Images: a folder, a .txt list or a dataset YAML (its train split).")
    var source = "datasets/coco128/images/train2017"
    @Option(name: [.customLong("img"), .customLong("img-size"), .customLong("imgsz")], help: "Training image size.")
    var img = 640
    @Option(help: "Loader worker threads.") var workers = 2
    @Option(name: .customLong("batch-size")) var batchSize = 16
    @Option(help: "Hyperparameter YAML (bundled name or path).") var hyp = "hyp.scratch-low"
    @Option(help: "Classes, when --source is not a YAML.") var nc = 80
    @Option(help: "Timed passes over the dataset after the warm-up batch.") var passes = 2
    @Option var seed = 0
    @Flag(help: "Also time each step of the per-sample pipeline on one thread (median ms per sample).")
    var stages = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Option(help: ArgumentHelp("Instead of timing, write the batches of epochs 0..<--dump-epochs to this folder as NumPy files (e{epoch}_b{batch}_images.npy: uint8 B×H×W×3 RGB, _targets.npy: float32 rows [image, class, x, y, w, h]), for training another implementation on exactly the batches `yolo train` sees (Tools/bench/peer_on_our_batches.py).", valueName: "dir"))
    var dumpBatches: String?
    @Option(help: "Epochs written by --dump-batches.") var dumpEpochs = 1

    struct Report: Codable {
        var images_per_second: Double
        var images: Int, seconds: Double, workers: Int, batch_size: Int, img: Int
        var stages_ms: [String: Double]?
    }

    func run() throws {
        let (index, _) = try scan()
        let augmentation = try Self.augmentation(hyp)
        let loader = try DataLoader(source: DatasetSource(index), imageSize: img, batchSize: batchSize, augment: true,
                                    hyp: augmentation, rect: false, stride: 32, pad: 0, workers: workers,
                                    seed: UInt64(seed), shuffle: true)
        if let dumpBatches {
            try Self.dump(loader, epochs: dumpEpochs, to: URL(fileURLWithPath: dumpBatches))
            return
        }
        let (images, seconds) = try Self.measure(loader, batches: passes * loader.batchCount)
        var report = Report(images_per_second: Double(images) / seconds, images: images, seconds: seconds,
                            workers: workers, batch_size: loader.batchSize, img: img, stages_ms: nil)
        if stages { report.stages_ms = try Self.stageTimes(DatasetSource(index), imageSize: img, hyp: augmentation) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(String(format: "%d images in %.2f s: %.1f images/s (%d workers, batch %d, %d px)", images, seconds,
                         report.images_per_second, workers, loader.batchSize, img))
            for (k, v) in (report.stages_ms ?? [:]).sorted(by: { $0.key < $1.key }) {
                print(String(format: "  %-10@ %7.2f ms", k, v))
            }
        }
    }

    /// The dataset scan (not timed): a YAML's train split, else the folder or list itself.
    func scan() throws -> (DatasetIndex, Int) {
        let url = URL(fileURLWithPath: source)
        var sources = [url], classes = nc
        if ["yaml", "yml"].contains(url.pathExtension.lowercased()) {
            let config = try DatasetConfig.load(url)
            sources = config.train
            classes = config.nc
        }
        // No label cache: the scan is untimed, and the cache would be (re)written beside the labels.
        return (try DatasetIndex.scan(images: sources, nc: classes, useCache: false, requireLabels: true), classes)
    }

    /// The augmentation keys of a hyp file, as the trainer maps them.
    static func augmentation(_ name: String) throws -> AugmentationHyperparameters {
        AugmentationHyperparameters(try Hyperparameters.load(name))
    }

    /// Batches as one stream over epochs 0, 1, … (as the peer's InfiniteDataLoader): the first
    /// batch is a warm-up, the next `batches` are timed. Returns (images, seconds).
    static func measure(_ loader: DataLoader, batches: Int) throws -> (Int, Double) {
        var epoch = 0
        var iterator = loader.epoch(epoch)
        func next() throws -> Batch {
            while true {
                if let b = try iterator.nextBatch() { return b }
                epoch += 1
                iterator = loader.epoch(epoch)
            }
        }
        _ = try next()
        let start = DispatchTime.now().uptimeNanoseconds
        var images = 0
        for _ in 0..<batches { images += try next().images.shape[0] }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (images, seconds)
    }

    /// Writes every batch of `epochs` epochs as .npy files (see --dump-batches).
    static func dump(_ loader: DataLoader, epochs: Int, to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for epoch in 0..<epochs {
            let iterator = loader.epoch(epoch)
            var b = 0
            while let batch = try iterator.nextBatch() {
                // Back to the loader's bytes: the batch holds u / 255 in Float, and round(v · 255) = u.
                let pixels = batch.images.scalars.map { UInt8(($0 * 255).rounded()) }
                try npy(shape: batch.images.shape, type: "|u1", data: Data(pixels))
                    .write(to: dir.appendingPathComponent("e\(epoch)_b\(b)_images.npy"))
                let rows = batch.targets.flatMap { $0 }
                try npy(shape: [batch.targets.count, 6], type: "<f4", data: rows.withUnsafeBytes { Data($0) })
                    .write(to: dir.appendingPathComponent("e\(epoch)_b\(b)_targets.npy"))
                b += 1
            }
            print("epoch \(epoch): \(b) batches written to \(dir.path)")
        }
    }

    /// NumPy's .npy format 1.0: magic, version, a little-endian UInt16 header length, the header
    /// dict padded with spaces to a multiple of 64 bytes (newline last), then the C-order data.
    static func npy(shape: [Int], type: String, data: Data) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(type)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(data)
        return out
    }

    /// Median milliseconds per sample of each step of a mosaic sample, on this thread, over the
    /// first 32 images as sample indices (decode and resize are per tile, i.e. ×4 per sample).
    static func stageTimes(_ source: DatasetSource, imageSize s: Int, hyp: AugmentationHyperparameters) throws
        -> [String: Double] {
        var times: [String: [Double]] = [:]
        func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let start = DispatchTime.now().uptimeNanoseconds
            let r = try body()
            times[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            return r
        }
        let n = min(source.count, 32)
        var samples: [Sample] = []
        for i in 0..<n {
            var g = derivedGenerator(seed: 0, stream: 1, 0, i)
            let border = -s / 2
            _ = g.uniform(0, 1); _ = g.uniform(0, 1)
            let xc = s / 2 + Int(g.nextDouble() * Double(s)), yc = s / 2 + Int(g.nextDouble() * Double(s))
            let indices = [i, (i + 1) % source.count, (i + 2) % source.count, (i + 3) % source.count]
            var tiles: [MosaicTile] = []
            var decode = 0.0, resize = 0.0
            for j in indices {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let image = try source.loadImage(j)
                let t1 = DispatchTime.now().uptimeNanoseconds
                let resized = resizeForTraining(image, imageSize: s, augment: true)
                let t2 = DispatchTime.now().uptimeNanoseconds
                decode += Double(t1 - t0) / 1e6
                resize += Double(t2 - t1) / 1e6
                tiles.append(MosaicTile(image: resized, labels: source.labels(j)))
            }
            times["1 decode", default: []].append(decode)
            times["2 resize", default: []].append(resize)
            let (canvas, targets) = timed("3 mosaic") { placeMosaic(tiles, size: s, center: (xc, yc)) }
            var (image, warped) = timed("4 warp") {
                randomPerspective(canvas, targets: targets, degrees: hyp.degrees, translate: hyp.translate,
                                  scale: hyp.scale, shear: hyp.shear, perspective: hyp.perspective, border: border,
                                  using: &g)
            }
            let labels = timed("5 labels") {
                xyxyToXywhn(warped, width: image.width, height: image.height, clip: true, eps: 1e-3)
            }
            warped = []
            image = timed("6 hsv") { augmentHSV(image, hgain: hyp.hsvH, sgain: hyp.hsvS, vgain: hyp.hsvV, using: &g) }
            image = timed("7 fliplr") { image.flippedHorizontally() }
            samples.append(Sample(image: image, labels: labels))
        }
        for start in stride(from: 0, to: samples.count - 15, by: 16) {
            let chunk = Array(samples[start..<start + 16])
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = collate(chunk, indices: Array(0..<16), paths: Array(repeating: "", count: 16))
            times["8 collate", default: []].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / 16)
        }
        return times.mapValues { v in
            let t = v.sorted()
            return t.count % 2 == 1 ? t[t.count / 2] : (t[t.count / 2 - 1] + t[t.count / 2]) / 2
        }
    }
}
