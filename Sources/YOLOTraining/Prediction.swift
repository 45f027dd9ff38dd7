// `yolo detect` as a function: images from a file, folder, glob or .txt list; annotated copies,
// optional label text files and crops in runs/detect/exp{N}; one line per image.
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
    let fm = FileManager.default
    var isDir: ObjCBool = false
    if source.contains("*") {
        let dir = URL(fileURLWithPath: source).deletingLastPathComponent()
        let pattern = URL(fileURLWithPath: source).lastPathComponent
        let files = try fm.contentsOfDirectory(atPath: dir.path).filter { fnmatch(pattern, $0, 0) == 0 }.sorted()
        return files.map { dir.appendingPathComponent($0) }.filter { LabelFiles.isImage($0.path) }
    }
    guard fm.fileExists(atPath: source, isDirectory: &isDir) else {
        throw WeightsError.missing(source)
    }
    if isDir.boolValue {
        return try LabelFiles.discoverImages(in: [URL(fileURLWithPath: source)]).map { URL(fileURLWithPath: $0) }
    }
    if source.hasSuffix(".txt") {
        return try LabelFiles.discoverImages(in: [URL(fileURLWithPath: source)]).map { URL(fileURLWithPath: $0) }
    }
    return [URL(fileURLWithPath: source)]
}

public func runPrediction(_ o: PredictionOptions, log: (String) -> Void = { print($0) }) throws {
    let detector = try Detector(weights: URL(fileURLWithPath: o.weights), cfg: o.cfg.isEmpty ? nil : o.cfg)
    detector.imageSize = o.imageSize
    detector.confThreshold = o.confThreshold
    detector.iouThreshold = o.iouThreshold
    detector.maxDetections = o.maxDetections
    detector.classes = o.classes
    detector.agnostic = o.agnostic
    let dir = try RunDirectory.make(project: o.project, name: o.name, existOK: o.existOK)
    let files = try imageFiles(o.source)
    let labelsDir = dir.appendingPathComponent("labels")
    if o.saveTxt { try FileManager.default.createDirectory(at: labelsDir, withIntermediateDirectories: true) }
    for (n, url) in files.enumerated() {
        let image: Image
        do { image = try ImageCodec.decode(contentsOf: url).0 } catch {
            log("image \(n + 1)/\(files.count) \(url.path): skipped (\(error))")
            continue
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let dets = detector.detect(image)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        var counts: [Int: Int] = [:]
        for d in dets { counts[d.classIndex, default: 0] += 1 }
        let summary = counts.keys.sorted().map { c in
            let name = c < detector.names.count ? detector.names[c] : "\(c)"
            return "\(counts[c]!) \(name)\(counts[c]! > 1 ? "s" : "")"
        }.joined(separator: ", ")
        log("image \(n + 1)/\(files.count) \(url.path): \(image.width)x\(image.height) "
            + "\(summary.isEmpty ? "(no detections)" : summary), \(String(format: "%.1f", ms))ms")
        let stem = url.deletingPathExtension().lastPathComponent
        if o.saveTxt {
            let lines = dets.map { d -> String in
                let cx = (d.x1 + d.x2) / 2 / Float(image.width), cy = (d.y1 + d.y2) / 2 / Float(image.height)
                let w = (d.x2 - d.x1) / Float(image.width), h = (d.y2 - d.y1) / Float(image.height)
                var fields = [String(d.classIndex)] + [cx, cy, w, h].map { String(format: "%g", $0) }
                if o.saveConf { fields.append(String(format: "%g", d.confidence)) }
                return fields.joined(separator: " ")
            }
            try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"))
                .write(to: labelsDir.appendingPathComponent(stem + ".txt"), atomically: true, encoding: .utf8)
        }
        if o.saveCrop { try saveCrops(dets, of: image, names: detector.names, stem: stem, dir: dir) }
        guard !o.nosave else { continue }
        var canvas = Canvas(image: image)
        for d in dets {
            let name = d.classIndex < detector.names.count ? detector.names[d.classIndex] : "\(d.classIndex)"
            let label = o.hideLabels ? "" : (o.hideConf ? name : "\(name) \(String(format: "%.2f", d.confidence))")
            canvas.boxLabel(x0: Int(d.x1), y0: Int(d.y1), x1: Int(d.x2), y1: Int(d.y2), label: label,
                            color: .yoloClass(d.classIndex), lineWidth: o.lineThickness, textScale: max(1, o.lineThickness - 1))
        }
        try ImageCodec.writeJPEG(canvas.image, to: dir.appendingPathComponent(url.lastPathComponent.replacingOccurrences(
            of: ".png", with: ".jpg")))
    }
    log("Results saved to \(dir.path)")
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
