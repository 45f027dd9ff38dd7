// Binary cross-entropy on logits, its focal-loss wrapper and label smoothing, as YOLOv5's
// utils/loss.py uses them (torch's BCEWithLogitsLoss, FocalLoss, smooth_BCE). Element-wise
// and differentiable in the logits; targets are constants.
import TensorCore

/// Positive and negative BCE targets for label smoothing `eps` (YOLOv5 `smooth_BCE`,
/// after arXiv:1902.04103 eq. 3): (1 − eps/2, eps/2).
public func smoothBCE(eps: Float) -> (positive: Float, negative: Float) {
    (1 - 0.5 * eps, 0.5 * eps)
}

/// BCE on logits as torch's `BCEWithLogitsLoss`, with a positive-class weight.
public struct BCEWithLogits: Sendable {
    /// torch's `pos_weight`: the weight of the positive term, w = 1 + (pos_weight − 1)·y.
    public var positiveWeight: Float
    /// Focal-loss γ; the loss is wrapped as YOLOv5's `FocalLoss` (α = 0.25) when > 0.
    public var focalGamma: Float
    public var focalAlpha: Float

    public init(positiveWeight: Float = 1, focalGamma: Float = 0, focalAlpha: Float = 0.25) {
        self.positiveWeight = positiveWeight
        self.focalGamma = focalGamma
        self.focalAlpha = focalAlpha
    }

    /// Mean loss of `logits` against constant `targets` of the same shape.
    public func mean(_ logits: Tensor, targets: [Float]) -> Tensor {
        elementwise(logits, targets: targets).mean()
    }

    /// Per-element loss.
    ///
    /// Stable form, torch's: ℓ = (1 − y)·x + w·(log(1 + e^(−|x|)) + max(−x, 0)), which is
    /// (1 − y)·x − w·log σ(x) without overflow for large |x|; the gradient is
    /// (1 − y) + w·(σ(x) − 1), also at x = 0.
    /// Focal: ℓ·(y·α + (1 − y)(1 − α))·(1 − p_t)^γ with p = σ(x), p_t = y·p + (1 − y)(1 − p).
    public func elementwise(_ logits: Tensor, targets: [Float]) -> Tensor {
        precondition(targets.count == logits.count, "targets \(targets.count) for logits \(logits.shape)")
        let shape = logits.shape
        let y = Tensor(shape: shape, scalars: targets)
        let oneMinusY = Tensor(shape: shape, scalars: targets.map { 1 - $0 })
        // log(1 + e^(−x)) = log(1 + e^(−|x|)) + max(−x, 0), with max(−x, 0) written (|x| − x)/2 so
        // the one-sided derivatives at x = 0 agree (−1/2 = σ(0) − 1, as torch's log_sigmoid).
        let magnitude = logits.abs()
        let softplusNeg = (1 + (-magnitude).exp()).log() + (magnitude - logits) * 0.5
        let weighted: Tensor
        if positiveWeight == 1 {
            weighted = softplusNeg
        } else {
            let pw = positiveWeight
            weighted = Tensor(shape: shape, scalars: targets.map { (pw - 1) * $0 + 1 }) * softplusNeg
        }
        let loss = oneMinusY * logits + weighted
        guard focalGamma > 0 else { return loss }

        let p = logits.sigmoid()
        let pT = y * p + oneMinusY * (1 - p)
        let alpha = focalAlpha
        let alphaFactor = Tensor(shape: shape, scalars: targets.map { $0 * alpha + (1 - $0) * (1 - alpha) })
        let modulating = (1 - pT).pow(focalGamma)
        return loss * (alphaFactor * modulating)
    }
}
