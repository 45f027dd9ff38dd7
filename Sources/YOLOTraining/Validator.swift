// Validation as YOLOv5's val.py runs it: eval-mode forward, decode, NMS (conf 0.001, IoU 0.6,
// multi-label), predictions and labels scaled back to each image's original size, matching
// over IoU 0.5:0.95, AP per class, confusion matrix, and the losses on the raw maps.
import Foundation
import TensorCore
import YOLO
import YOLOData
import YOLOMetrics

/// What one validation pass measured.
public struct ValidationResult: Sendable {
    public var metrics: DetectionMetrics
    /// Mean (box, obj, cls) loss per batch; zeros when no loss function was given.
    public var losses: [Float]
    public var images: Int
    public var labels: Int
    /// Labels per class (for the per-class table).
    public var labelsPerClass: [Int]
    public var confusion: ConfusionMatrix
    public var ap: APResult?
    /// Milliseconds per image: pre-process, inference, NMS.
    public var speed: (pre: Double, inference: Double, nms: Double)
}

/// One validated image: its file, original (height, width), and the NMS output mapped back to
/// the original image's pixels (val.py's `predn`), for --save-txt and --save-json.
public struct ValidatedImage: Sendable {
    public var path: String
    public var originalSize: (height: Int, width: Int)
    public var detections: [Detection]
}

public struct Validator {
    public var confThreshold = 0.001
    public var iouThreshold = 0.6
    /// val.py --save-hybrid: each image's labels enter NMS as detections of confidence 1.0
    /// (auto-labelling), so the metrics measure labels plus predictions, not the model.
    public var saveHybrid = false
    public var names: [String]

    public init(names: [String]) { self.names = names }

    /// Runs `model` in eval mode over every batch of `loader`. `lossFunction` adds val losses.
    /// `onBatch` sees each batch with its NMS output (for plots); `onImage` each image with its
    /// detections in original-image pixels (for --save-txt and --save-json).
    public func run(model: YOLOModel, loader: DataLoader, lossFunction: ComputeLoss? = nil,
                    onBatch: ((Int, Batch, [[Detection]]) throws -> Void)? = nil,
                    onImage: ((ValidatedImage) throws -> Void)? = nil) throws -> ValidationResult {
        let nc = names.count
        var stats: (tp: [[Bool]], conf: [Float], predClass: [Int], targetClass: [Int]) = ([], [], [], [])
        var confusion = ConfusionMatrix(nc: nc)
        var lossSum: [Float] = [0, 0, 0]
        var seen = 0, batches = 0
        var times = (pre: 0.0, inference: 0.0, nms: 0.0)
        let anchorPixels = Validator.anchorPixels(model)
        let iterator = loader.epoch(0)
        var t0 = now()
        while let batch = try iterator.nextBatch() {
            let t1 = now()
            let raw = model(batch.images, training: false)
            if let lossFunction {
                let items = lossFunction(raw.map { $0.detached }, targets: batch.targets).items
                for k in 0..<3 { lossSum[k] += items[k] }
            }
            let decoded = decodePredictions(raw, anchors: anchorPixels, strides: model.strides)
            let t2 = now()
            let detections = nonMaxSuppression(decoded, confThreshold: confThreshold, iouThreshold: iouThreshold,
                                               multiLabel: true, maxDetections: 300,
                                               labels: saveHybrid ? Validator.hybridLabels(batch) : nil)
            let t3 = now()
            times.pre += t1 - t0; times.inference += t2 - t1; times.nms += t3 - t2
            let (h, w) = (batch.images.shape[1], batch.images.shape[2])
            for (si, dets) in detections.enumerated() {
                seen += 1
                let labels = batch.targets.filter { Int($0[0]) == si }
                let shape = batch.shapes[si]
                let original = shape.map { ($0.originalHeight, $0.originalWidth) } ?? (h, w)
                let ratioPad = shape.map(Validator.ratioPad)
                // Labels: normalised xywh on the batch image → pixels xyxy → original image.
                var labelBoxes: [Float] = []
                for l in labels {
                    let cx = l[2] * Float(w), cy = l[3] * Float(h), bw = l[4] * Float(w), bh = l[5] * Float(h)
                    labelBoxes += [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
                }
                scaleBoxes(&labelBoxes, from: (h, w), to: original, ratioPad: ratioPad)
                var labelRows: [Float] = []
                for (k, l) in labels.enumerated() { labelRows += [l[1]] + labelBoxes[(4 * k)..<(4 * k + 4)] }
                let predsNative = scaleBoxes(dets, from: (h, w), to: original, ratioPad: ratioPad)
                try onImage?(ValidatedImage(path: batch.paths[si], originalSize: original, detections: predsNative))
                var detRows: [Float] = []
                for d in predsNative { detRows += [d.x1, d.y1, d.x2, d.y2, d.confidence, Float(d.classIndex)] }
                stats.targetClass += labels.map { Int($0[1]) }
                if dets.isEmpty {
                    if !labels.isEmpty { confusion.processBatch(detections: nil, labels: labelRows) }
                    continue
                }
                let correct = matchPredictions(detections: detRows, labels: labelRows, iouThresholds: iouThresholds)
                stats.tp += correct
                stats.conf += predsNative.map(\Detection.confidence)
                stats.predClass += predsNative.map(\Detection.classIndex)
                confusion.processBatch(detections: detRows, labels: labelRows)
            }
            try onBatch?(batches, batch, detections)
            batches += 1
            t0 = now()
        }
        var labelsPerClass = [Int](repeating: 0, count: nc)
        for c in stats.targetClass where c < nc { labelsPerClass[c] += 1 }
        var ap: APResult?
        var metrics = DetectionMetrics.zero
        if !stats.tp.isEmpty && stats.tp.contains(where: { $0.contains(true) }) {
            let r = apPerClass(tp: stats.tp, conf: stats.conf, predClass: stats.predClass, targetClass: stats.targetClass)
            ap = r
            metrics = DetectionMetrics(r)
        }
        let n = Double(max(seen, 1))
        return ValidationResult(metrics: metrics, losses: lossSum.map { $0 / Float(max(batches, 1)) }, images: seen,
                                labels: stats.targetClass.count, labelsPerClass: labelsPerClass, confusion: confusion,
                                ap: ap, speed: (times.pre / n, times.inference / n, times.nms / n))
    }

    /// `scale_boxes`'s `ratio_pad` from a letterbox record. The loader records the resize as
    /// `(h / h0, w / w0)`, and `scale_boxes` divides both axes by `ratio_pad[0][0]`, the height
    /// ratio. Rounding the resized size up makes the two ratios differ slightly (481×640 at
    /// 64 px: 49/481 vs 64/640); we use the height ratio, as upstream does.
    static func ratioPad(_ shape: SampleShape) -> LetterboxRatioPad {
        LetterboxRatioPad(gain: shape.ratio.height, pad: (shape.padding.x, shape.padding.y))
    }

    /// val.py's `lb` for --save-hybrid: per image of `batch`, its labels as xyxy boxes in the
    /// batch image's pixels (targets' normalised xywh × (W, H, W, H), in Float32 as upstream).
    static func hybridLabels(_ batch: Batch) -> [[Detection]] {
        let (n, h, w) = (batch.images.shape[0], Float(batch.images.shape[1]), Float(batch.images.shape[2]))
        var labels = [[Detection]](repeating: [], count: n)
        for t in batch.targets {  // [image, class, x, y, w, h]
            let cx = t[2] * w, cy = t[3] * h, bw = t[4] * w, bh = t[5] * h
            labels[Int(t[0])].append(Detection(x1: cx - bw / 2, y1: cy - bh / 2, x2: cx + bw / 2, y2: cy + bh / 2,
                                               confidence: 1, classIndex: Int(t[1])))
        }
        return labels
    }

    /// Per level, the anchors in input pixels flattened [w0, h0, w1, h1, …] (decode's layout).
    static func anchorPixels(_ model: YOLOModel) -> [[Float]] {
        (0..<model.nl).map { level -> [Float] in
            let s = Float(model.strides[level])
            return model.levelAnchors(level).flatMap { pair -> [Float] in [pair[0] * s, pair[1] * s] }
        }
    }

    /// YOLOv5's results table: `Class Images Labels P R mAP@.5 mAP@.5:.95`, first row `all`.
    public func table(_ r: ValidationResult, verbose: Bool) -> String {
        func row(_ name: String, _ images: Int, _ labels: Int, _ p: Double, _ rr: Double, _ m50: Double, _ m: Double) -> String {
            rightAligned(name, 20) + String(format: "%12d%12d%12.3g%12.3g%12.3g%12.3g", images, labels, p, rr, m50, m)
        }
        var lines = [rightAligned("Class", 20) + ["Images", "Labels", "P", "R", "mAP@.5", "mAP@.5:.95"]
            .map { rightAligned($0, 12) }.joined()]
        let m = r.metrics
        lines.append(row("all", r.images, r.labels, m.mp, m.mr, m.map50, m.map))
        if verbose, names.count > 1 {
            for (i, c) in m.classes.enumerated() {
                lines.append(row(names[c], r.images, r.labelsPerClass[c], m.precision[i], m.recall[i], m.ap50[i], m.ap[i]))
            }
        }
        return lines.joined(separator: "\n")
    }
}

@inline(__always) func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
