// YOLOv5's training loss (utils/loss.py `ComputeLoss`, v7.0 = v5.0 behaviour): CIoU box loss,
// IoU-aware objectness and class BCE over the raw Detect outputs. Not the target assignment
// (TargetAssignment.swift) nor decoding for inference.
import TensorCore

/// YOLOv5's `ComputeLoss` for a model with `anchors.count` detection levels.
///
/// Anchors are in grid units (anchor pixels / stride, as YOLOv5's `Detect.anchors` after
/// `Model.__init__`). The loss is differentiable in the predictions when called while a tape
/// records. `autobalance` is not supported (YOLOv5 trains with it off).
public struct ComputeLoss: Sendable {
    public let nc: Int
    public let anchors: [[SIMD2<Float>]]
    public let strides: [Float]
    public let hyp: Hyperparameters
    /// Objectness weight per level: [4, 1, 0.4] for 3 levels, else [4, 1, 0.25, 0.06, 0.02].
    public let balance: [Float]
    /// Weight of the IoU in the objectness target: tobj = (1 − gr) + gr·IoU (YOLOv5: 1).
    public let gr: Float = 1
    let clsLoss: BCEWithLogits
    let objLoss: BCEWithLogits
    let classPositive: Float, classNegative: Float

    /// - Parameters:
    ///   - anchors: per level, (na) anchor sizes in grid units.
    ///   - strides: per level, the stride in pixels (e.g. [8, 16, 32]).
    ///   - hyp: hyperparameters already scaled as train.py scales them
    ///     (`Hyperparameters.scaledForTraining`).
    public init(nc: Int, anchors: [[SIMD2<Float>]], strides: [Float], hyp: Hyperparameters) {
        precondition(!anchors.isEmpty && anchors.count == strides.count, "one anchor set and stride per level")
        precondition(Set(anchors.map(\.count)).count == 1, "every level needs the same number of anchors")
        self.nc = nc
        self.anchors = anchors
        self.strides = strides
        self.hyp = hyp
        balance = anchors.count == 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02]
        precondition(anchors.count <= balance.count, "at most \(balance.count) levels")
        let gamma = Float(hyp.flGamma)
        clsLoss = BCEWithLogits(positiveWeight: Float(hyp.clsPW), focalGamma: gamma)
        objLoss = BCEWithLogits(positiveWeight: Float(hyp.objPW), focalGamma: gamma)
        (classPositive, classNegative) = smoothBCE(eps: Float(hyp.labelSmoothing ?? 0))
    }

    /// Same, with each level's anchors flattened `[w0, h0, w1, h1, …]` in grid units.
    public init(nc: Int, anchors: [[Float]], strides: [Float], hyp: Hyperparameters) {
        let pairs = anchors.map { level in
            precondition(level.count % 2 == 0, "anchors come in (w, h) pairs")
            return stride(from: 0, to: level.count, by: 2).map { SIMD2(level[$0], level[$0 + 1]) }
        }
        self.init(nc: nc, anchors: pairs, strides: strides, hyp: hyp)
    }

    /// Anchors in grid units from YOLOv5 YAML pixel anchors (`[w0, h0, w1, h1, …]` per level).
    public static func gridAnchors(pixels: [[Float]], strides: [Float]) -> [[SIMD2<Float>]] {
        zip(pixels, strides).map { level, s in
            stride(from: 0, to: level.count, by: 2).map { SIMD2(level[$0], level[$0 + 1]) / s }
        }
    }

    /// The loss for `targets` rows `[image, class, x, y, w, h]` (normalised).
    public func callAsFunction(_ predictions: [Tensor], targets: [[Float]]) -> (loss: Tensor, items: [Float]) {
        callAsFunction(predictions, targets: TargetBox.rows(targets))
    }

    /// The loss for an (N, 6) targets tensor.
    public func callAsFunction(_ predictions: [Tensor], targets: Tensor) -> (loss: Tensor, items: [Float]) {
        callAsFunction(predictions, targets: TargetBox.rows(targets))
    }

    /// The loss of raw Detect outputs, one (B, na, H, W, 5 + nc) tensor per level.
    ///
    /// Returns `(lbox·box + lobj·obj + lcls·cls)·B` (a scalar on the tape when recording) and the
    /// three weighted parts `[box, obj, cls]`, as YOLOv5's `ComputeLoss.__call__`.
    public func callAsFunction(_ predictions: [Tensor], targets: [TargetBox]) -> (loss: Tensor, items: [Float]) {
        precondition(predictions.count == anchors.count, "\(predictions.count) levels for \(anchors.count) anchor sets")
        let grids = predictions.map { p in
            precondition(p.rank == 5 && p.shape[1] == anchors[0].count && p.shape[4] == 5 + nc,
                         "prediction \(p.shape) is not (B, \(anchors[0].count), H, W, \(5 + nc))")
            return (height: p.shape[2], width: p.shape[3])
        }
        let assigned = buildTargets(targets, anchors: anchors, gridSizes: grids, anchorThreshold: Float(hyp.anchorT))

        var lbox = Tensor(0), lobj = Tensor(0), lcls = Tensor(0)
        for (i, p) in predictions.enumerated() {
            let parts = levelLoss(p, assigned[i])
            if let box = parts.box { lbox = lbox + box }
            if let cls = parts.cls { lcls = lcls + cls }
            lobj = lobj + parts.obj * balance[i]
        }
        lbox = lbox * Float(hyp.box)
        lobj = lobj * Float(hyp.obj)
        lcls = lcls * Float(hyp.cls)
        let batch = Float(predictions[0].shape[0])
        let total = (lbox + lobj + lcls) * batch
        return (total, [lbox.scalar, lobj.scalar, lcls.scalar])
    }

    /// Unweighted box, objectness and class losses of one level (box and class nil when no
    /// target landed on it; objectness always).
    private func levelLoss(_ p: Tensor, _ t: LevelTargets) -> (box: Tensor?, obj: Tensor, cls: Tensor?) {
        let (b, na, h, w, no) = (p.shape[0], p.shape[1], p.shape[2], p.shape[3], p.shape[4])
        let cells = b * na * h * w
        let flat = p.reshaped([cells, no])                               // (B·na·H·W, 5 + nc)
        var tobj = [Float](repeating: 0, count: cells)
        var box: Tensor?, cls: Tensor?

        let n = t.count
        if n > 0 {
            let rows = (0..<n).map { k in ((t.image[k] * na + t.anchor[k]) * h + t.gridY[k]) * w + t.gridX[k] }
            let ps = flat.gatherRows(rows)                               // (n, 5 + nc)

            // Box regression: xy = 2σ − 0.5 about the cell, wh = (2σ)²·anchor.
            let pxy = ps.sliced(axis: 1, 0..<2).sigmoid() * 2 - 0.5      // (n, 2)
            let s = ps.sliced(axis: 1, 2..<4).sigmoid() * 2
            let anchorWH = Tensor(shape: [n, 2], scalars: t.anchorSize.flatMap { [$0.x, $0.y] })
            let pwh = s * s * anchorWH                                   // (n, 2)
            let pbox = Tensor.concat([pxy, pwh], axis: 1)                // (n, 4)
            let tbox = Tensor(shape: [n, 4], scalars: t.box.flatMap { [$0.x, $0.y, $0.z, $0.w] })
            let iou = bboxIoU(pbox, tbox, kind: .ciou)                   // (n)
            box = (1 - iou).mean()

            // Objectness target: the detached, clamped IoU; a later duplicate cell overwrites
            // an earlier one, as torch's index assignment on the CPU.
            for (k, v) in zip(rows, iou.scalars) { tobj[k] = (1 - gr) + gr * Swift.max(v, 0) }

            // Classification, only with more than one class.
            if nc > 1 {
                var target = [Float](repeating: classNegative, count: n * nc)
                for k in 0..<n { target[k * nc + t.classIndex[k]] = classPositive }
                cls = clsLoss.mean(ps.sliced(axis: 1, 5..<(5 + nc)), targets: target)
            }
        }
        let obj = objLoss.mean(flat.sliced(axis: 1, 4..<5), targets: tobj)  // (B·na·H·W, 1)
        return (box, obj, cls)
    }
}
