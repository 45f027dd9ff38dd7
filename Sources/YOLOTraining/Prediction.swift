// `yolo detect` as a function: images and videos from a file, folder, glob or .txt list; annotated
// copies, optional label text files and crops in runs/detect/exp{N}; one line per image or frame.
import Foundation
import YOLO
import YOLOData

public struct PredictionOptions: Sendable {
    public var weights: String, source: String, cfg = ""
    public var imageSize = 640, confThreshold = 0.25, iouThreshold = 0.45, maxDetections = 1000
    public var classes: [Int]?, agnostic = false
    public var saveTxt = false, saveConf = false, saveCrop = false, nosave = false
    public var lineThickness = 3, hideLabels = false, hideConf = false
    public var project = "runs/detect", name = "exp", existOK = false

    public init(weights: String, source: String) {
        self.weights = weights
        self.source = source
    }
}

/// Image files named by `source`: a file, a folder (sorted), a glob, or a .txt list of paths.
public func imageFiles(_ source: String) throws -> [URL] {
    try MediaFiles(source: source).images
}

/// detect.py over `o.source`: images first, then videos (`runVideoPrediction`), numbered together.
/// Videos need ffmpeg and ffprobe in a folder of `ffmpegSearchPath` (colon-separated, as PATH);
/// without them each video costs one line and is skipped.
public func runPrediction(_ o: PredictionOptions, ffmpegSearchPath: String? = ProcessInfo.processInfo.environment["PATH"],
                          log: (String) -> Void = { print($0) }) throws {
    let detector = try Detector(weights: URL(fileURLWithPath: o.weights), cfg: o.cfg.isEmpty ? nil : o.cfg)
    detector.imageSize = o.imageSize
    detector.confThreshold = o.confThreshold
    detector.iouThreshold = o.iouThreshold
    detector.maxDetections = o.maxDetections
    detector.classes = o.classes
    detector.agnostic = o.agnostic
    let files = try MediaFiles(source: o.source)
    let dir = try RunDirectory.make(project: o.project, name: o.name, existOK: o.existOK)
    let step = PredictionStep(detector: detector, options: o, dir: dir)
    if o.saveTxt { try FileManager.default.createDirectory(at: step.labelsDir, withIntermediateDirectories: true) }
    for (n, url) in files.images.enumerated() {
        let prefix = "image \(n + 1)/\(files.count) \(url.path): "
        let image: Image
        do { image = try ImageCodec.decode(contentsOf: url).0 } catch {
            log(prefix + "skipped (\(error))")
            continue
        }
        let stem = url.deletingPathExtension().lastPathComponent
        guard let annotated = try step.run(image, prefix: prefix, stem: stem, log: log) else { continue }
        try ImageCodec.writeJPEG(annotated, to: dir.appendingPathComponent(url.lastPathComponent.replacingOccurrences(
            of: ".png", with: ".jpg")))
    }
    let ffmpeg = Result { try FFmpeg.locate(searchPath: ffmpegSearchPath) }
    for (k, url) in files.videos.enumerated() {
        let number = "\(files.images.count + k + 1)/\(files.count)"
        switch ffmpeg {
        case let .failure(error): log("video \(number) \(url.path): skipped, \(error)")
        case let .success(ffmpeg): try runVideoPrediction(url, number: number, step: step, ffmpeg: ffmpeg, log: log)
        }
    }
    log("Results saved to \(dir.path)")
}

/// What detect does with one picture, an image or a video frame: detect, print detect.py's line,
/// write the label file and crops, draw the boxes.
struct PredictionStep {
    let detector: Detector
    let options: PredictionOptions
    let dir: URL
    var labelsDir: URL { dir.appendingPathComponent("labels") }

    /// Logs `prefix` + "HxW 2 persons, 12.3ms" (HxW: the letterboxed input, as detect.py), writes
    /// labels/<stem>.txt (--save-txt) and crops/<name>/<stem>.jpg (--save-crop); returns the picture
    /// with boxes drawn, or nil with --nosave.
    func run(_ image: Image, prefix: String, stem: String, log: (String) -> Void) throws -> Image? {
        let start = DispatchTime.now().uptimeNanoseconds
        let (dets, shape) = detector.detectWithInputShape(image)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        var counts: [Int: Int] = [:]
        for d in dets { counts[d.classIndex, default: 0] += 1 }
        let summary = counts.keys.sorted().map { c in "\(counts[c]!) \(name(c))\(counts[c]! > 1 ? "s" : "")" }
            .joined(separator: ", ")
        log(prefix + "\(shape.height)x\(shape.width) "
            + "\(summary.isEmpty ? "(no detections)" : summary), \(String(format: "%.1f", ms))ms")
        if options.saveTxt { try writeLabels(dets, of: image, stem: stem) }
        if options.saveCrop { try saveCrops(dets, of: image, names: detector.names, stem: stem, dir: dir) }
        guard !options.nosave else { return nil }
        var canvas = Canvas(image: image)
        for d in dets {
            let label = options.hideLabels
                ? "" : (options.hideConf ? name(d.classIndex) : "\(name(d.classIndex)) \(String(format: "%.2f", d.confidence))")
            canvas.boxLabel(x0: Int(d.x1), y0: Int(d.y1), x1: Int(d.x2), y1: Int(d.y2), label: label,
                            color: .yoloClass(d.classIndex), lineWidth: options.lineThickness,
                            textScale: max(1, options.lineThickness - 1))
        }
        return canvas.image
    }

    func name(_ c: Int) -> String { c < detector.names.count ? detector.names[c] : "\(c)" }

    /// One `class cx cy w h [conf]` row per detection, normalized to the picture (YOLO label format).
    func writeLabels(_ dets: [Detection], of image: Image, stem: String) throws {
        let lines = dets.map { yoloLabelLine($0, imageSize: (image.height, image.width), conf: options.saveConf) }
        try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"))
            .write(to: labelsDir.appendingPathComponent(stem + ".txt"), atomically: true, encoding: .utf8)
    }
}

/// One `--save-txt` line, as detect.py and val.py's `save_one_txt` write it: `class x y w h
/// [conf]`, xywh normalised by the image size (Float32 as the tensors), each field `%g`.
public func yoloLabelLine(_ d: Detection, imageSize: (height: Int, width: Int), conf: Bool) -> String {
    let (iw, ih) = (Float(imageSize.width), Float(imageSize.height))
    let cx = (d.x1 + d.x2) / 2 / iw, cy = (d.y1 + d.y2) / 2 / ih
    let w = (d.x2 - d.x1) / iw, h = (d.y2 - d.y1) / ih
    var fields = [String(d.classIndex)] + [cx, cy, w, h].map { String(format: "%g", $0) }
    if conf { fields.append(String(format: "%g", d.confidence)) }
    return fields.joined(separator: " ")
}

func saveCrops(_ dets: [Detection], of image: Image, names: [String], stem: String, dir: URL) throws {
    for (k, d) in dets.enumerated() {
        let x0 = max(0, Int(d.x1)), y0 = max(0, Int(d.y1))
        let x1 = min(image.width, Int(d.x2.rounded(.up))), y1 = min(image.height, Int(d.y2.rounded(.up)))
        guard x1 > x0, y1 > y0 else { continue }
        var pixels: [UInt8] = []
        pixels.reserveCapacity((x1 - x0) * (y1 - y0) * 3)
        for y in y0..<y1 { pixels += image.pixels[((y * image.width + x0) * 3)..<((y * image.width + x1) * 3)] }
        let name = d.classIndex < names.count ? names[d.classIndex] : "\(d.classIndex)"
        let folder = dir.appendingPathComponent("crops/\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ImageCodec.writeJPEG(Image(width: x1 - x0, height: y1 - y0, pixels: pixels),
                                 to: folder.appendingPathComponent("\(stem)\(k == 0 ? "" : "\(k + 1)").jpg"))
    }
}
