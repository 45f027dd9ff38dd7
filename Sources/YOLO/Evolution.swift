// Hyperparameter evolution (YOLOv5 7.0 `train.py --evolve`, `utils/general.py print_mutation`):
// the mutation table, parent selection and mutation, evolve.csv and hyp_evolve.yaml.
// Not the training of each generation, which the caller runs between `mutate` and `append`.
import Foundation
import TensorCore

/// One evolvable hyperparameter: mutation gain (0 = never mutated) and its [lower, upper] limits.
public struct MutationRange: Sendable, Equatable {
    public let key: String
    public let gain: Double
    public let lower: Double
    public let upper: Double
}

/// YOLOv5 7.0's hyperparameter evolution.
public enum Evolution {
    /// train.py's `meta`, in its order. `anchors` is evolved only when the base hyperparameters
    /// carry it (train.py sets 3 when the file lacks it and drops it under `--noautoanchor`).
    public static let meta: [MutationRange] = [
        .init(key: "lr0", gain: 1, lower: 1e-5, upper: 1e-1),
        .init(key: "lrf", gain: 1, lower: 0.01, upper: 1.0),
        .init(key: "momentum", gain: 0.3, lower: 0.6, upper: 0.98),
        .init(key: "weight_decay", gain: 1, lower: 0.0, upper: 0.001),
        .init(key: "warmup_epochs", gain: 1, lower: 0.0, upper: 5.0),
        .init(key: "warmup_momentum", gain: 1, lower: 0.0, upper: 0.95),
        .init(key: "warmup_bias_lr", gain: 1, lower: 0.0, upper: 0.2),
        .init(key: "box", gain: 1, lower: 0.02, upper: 0.2),
        .init(key: "cls", gain: 1, lower: 0.2, upper: 4.0),
        .init(key: "cls_pw", gain: 1, lower: 0.5, upper: 2.0),
        .init(key: "obj", gain: 1, lower: 0.2, upper: 4.0),
        .init(key: "obj_pw", gain: 1, lower: 0.5, upper: 2.0),
        .init(key: "iou_t", gain: 0, lower: 0.1, upper: 0.7),
        .init(key: "anchor_t", gain: 1, lower: 2.0, upper: 8.0),
        .init(key: "anchors", gain: 2, lower: 2.0, upper: 10.0),
        .init(key: "fl_gamma", gain: 0, lower: 0.0, upper: 2.0),
        .init(key: "hsv_h", gain: 1, lower: 0.0, upper: 0.1),
        .init(key: "hsv_s", gain: 1, lower: 0.0, upper: 0.9),
        .init(key: "hsv_v", gain: 1, lower: 0.0, upper: 0.9),
        .init(key: "degrees", gain: 1, lower: 0.0, upper: 45.0),
        .init(key: "translate", gain: 1, lower: 0.0, upper: 0.9),
        .init(key: "scale", gain: 1, lower: 0.0, upper: 0.9),
        .init(key: "shear", gain: 1, lower: 0.0, upper: 10.0),
        .init(key: "perspective", gain: 0, lower: 0.0, upper: 0.001),
        .init(key: "flipud", gain: 1, lower: 0.0, upper: 1.0),
        .init(key: "fliplr", gain: 0, lower: 0.0, upper: 1.0),
        .init(key: "mosaic", gain: 1, lower: 0.0, upper: 1.0),
        .init(key: "mixup", gain: 1, lower: 0.0, upper: 1.0),
        .init(key: "copy_paste", gain: 1, lower: 0.0, upper: 1.0),
    ]

    /// How the parent of a generation is chosen from the top 5 previous results.
    public enum ParentSelection: Sendable { case single, weighted }

    /// The evolved genes of `hyp` in evolve.csv column order: the hyp-file order (train.py's
    /// `hyp.keys()`), with `anchors` last, as train.py appends it, and only when present.
    public static func genes(for hyp: Hyperparameters) -> [MutationRange] {
        meta.filter { $0.key != "anchors" } + (hyp.anchors == nil ? [] : meta.filter { $0.key == "anchors" })
    }

    /// YOLOv5's fitness of a result row: 0.1·mAP@0.5 + 0.9·mAP@0.5:0.95 (P and R weigh 0).
    public static func fitness(_ results: [Double]) -> Double { 0.1 * results[2] + 0.9 * results[3] }

    /// train.py's generation step. With no parents, `base` clamped to the limits and rounded (the
    /// first generation). Otherwise: the top min(5, n) parents by fitness, weights
    /// `f − min f + 1e-6`; one parent drawn by weight (`.single`, or when there is one) or their
    /// weighted mean (`.weighted`); each gene multiplied by
    /// `v = (gain · mask(p=0.8) · N(0,1) · U · 0.2 + 1).clip(0.3, 3)` (one U per attempt), clamped to
    /// [lower, upper] and rounded to 5 decimals. Unlike upstream, which only redraws an all-ones v,
    /// this redraws until the clamped, rounded result differs from the parent (at most 1000 draws).
    public static func mutate(parents: [(fitness: Double, hyp: Hyperparameters)], base: Hyperparameters,
                              selection: ParentSelection = .single,
                              using g: inout some RandomNumberGenerator) -> Hyperparameters {
        let genes = genes(for: base)
        guard !parents.isEmpty else { return constrained(base, genes) }
        let top = Array(parents.enumerated().sorted { ($0.element.fitness, -$0.offset) > ($1.element.fitness, -$1.offset) }
            .prefix(5).map(\.element))
        let low = top.map(\.fitness).min()!
        let w = top.map { $0.fitness - low + 1e-6 }
        let rows = top.map { p in genes.map { p.hyp[evolvable: $0.key] ?? 0 } }
        let x: [Double]
        if selection == .single || top.count == 1 {
            x = rows[weightedIndex(w, using: &g)]
        } else {
            let total = w.reduce(0, +)
            x = genes.indices.map { j in zip(rows, w).reduce(0.0) { $0 + $1.0[j] * $1.1 } / total }
        }
        var parent = base
        for (gene, value) in zip(genes, x) { parent[evolvable: gene.key] = value }
        parent = constrained(parent, genes)
        var child = parent
        for _ in 0..<1000 {
            let v = mutationFactors(gains: genes.map(\.gain), using: &g)
            child = base
            for (j, gene) in genes.enumerated() { child[evolvable: gene.key] = x[j] * v[j] }
            child = constrained(child, genes)
            if child != parent { break }
        }
        return child
    }

    /// `v = (gain · (U_i < 0.8) · N_i · U · 0.2 + 1).clip(0.3, 3.0)`, redrawn until some v ≠ 1.
    static func mutationFactors(gains: [Double], using g: inout some RandomNumberGenerator) -> [Double] {
        let (mp, sigma) = (0.8, 0.2)
        var v = [Double](repeating: 1, count: gains.count)
        while v.allSatisfy({ $0 == 1 }) && gains.contains(where: { $0 != 0 }) {
            let mask = gains.map { _ in Double.random(in: 0..<1, using: &g) < mp ? 1.0 : 0 }
            let z = gains.map { _ in Double(g.nextNormal()) }
            let u = Double.random(in: 0..<1, using: &g)
            v = gains.indices.map { min(max(gains[$0] * mask[$0] * z[$0] * u * sigma + 1, 0.3), 3.0) }
        }
        return v
    }

    /// `random.choices(range(n), weights=w)`: index i with probability w_i / Σw.
    static func weightedIndex(_ w: [Double], using g: inout some RandomNumberGenerator) -> Int {
        let r = Double.random(in: 0..<1, using: &g) * w.reduce(0, +)
        var acc = 0.0
        for (i, wi) in w.enumerated() {
            acc += wi
            if r < acc { return i }
        }
        return w.count - 1
    }

    /// Clamp every gene to its limits and round to 5 decimals (`round(x, 5)`).
    static func constrained(_ hyp: Hyperparameters, _ genes: [MutationRange]) -> Hyperparameters {
        var h = hyp
        for gene in genes {
            guard let v = h[evolvable: gene.key] else { continue }
            h[evolvable: gene.key] = roundDecimals(min(max(v, gene.lower), gene.upper))
        }
        return h
    }

    /// Python's `round(x, 5)`: the double nearest the correctly rounded 5-decimal value.
    static func roundDecimals(_ x: Double) -> Double { Double(String(format: "%.5f", x)) ?? x }
}

extension Hyperparameters {
    /// A hyperparameter by its YOLOv5 key; nil for an unknown key or an absent optional.
    /// Setting nil or an unknown key is ignored for required values.
    public subscript(evolvable key: String) -> Double? {
        get {
            guard let k = CodingKeys(rawValue: key) else { return nil }
            switch k {
            case .anchors: return anchors
            case .labelSmoothing: return labelSmoothing
            default: return self[required: k]
            }
        }
        set {
            guard let k = CodingKeys(rawValue: key) else { return }
            switch k {
            case .anchors: anchors = newValue
            case .labelSmoothing: labelSmoothing = newValue
            default: if let v = newValue { self[required: k] = v }
            }
        }
    }

    private subscript(required k: CodingKeys) -> Double {
        get { self[keyPath: Self.path(k)] }
        set { self[keyPath: Self.path(k)] = newValue }
    }

    private static func path(_ k: CodingKeys) -> WritableKeyPath<Hyperparameters, Double> {
        switch k {
        case .lr0: \.lr0
        case .lrf: \.lrf
        case .momentum: \.momentum
        case .weightDecay: \.weightDecay
        case .warmupEpochs: \.warmupEpochs
        case .warmupMomentum: \.warmupMomentum
        case .warmupBiasLR: \.warmupBiasLR
        case .box: \.box
        case .cls: \.cls
        case .clsPW: \.clsPW
        case .obj: \.obj
        case .objPW: \.objPW
        case .iouT: \.iouT
        case .anchorT: \.anchorT
        case .flGamma: \.flGamma
        case .hsvH: \.hsvH
        case .hsvS: \.hsvS
        case .hsvV: \.hsvV
        case .degrees: \.degrees
        case .translate: \.translate
        case .scale: \.scale
        case .shear: \.shear
        case .perspective: \.perspective
        case .flipud: \.flipud
        case .fliplr: \.fliplr
        case .mosaic: \.mosaic
        case .mixup: \.mixup
        case .copyPaste: \.copyPaste
        case .anchors, .labelSmoothing: preconditionFailure("optional key \(k.rawValue)")
        }
    }
}
