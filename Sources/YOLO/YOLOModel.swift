// A YOLOv5 detection model built from a `ModelSpec` (YOLOv5's `parse_model` + `DetectionModel`):
// the `model.{i}` blocks, the routing of saved outputs, strides, anchors and the bias prior.
// Summary and FLOPs are in YOLOModel+Summary.swift. Inputs are NHWC images in [0, 1].
import NN
import TensorCore

/// A YOLOv5 detector. `model(x, training:)` returns the raw Detect maps, one per level,
/// each (B, na, H, W, 5 + nc).
public final class YOLOModel: Layer, @unchecked Sendable {
    public let spec: ModelSpec
    /// The layers `model.0 … model.{L-2}`; the last layer is `detect`.
    public let blocks: [any YOLOBlock]
    public let detect: Detect
    /// Per layer: input layer indices (-1 = the previous layer's output).
    public let from: [[Int]]
    /// Layers whose outputs later layers read (YOLOv5's `save` list), sorted.
    public let save: [Int]
    /// Per layer: the repeat count after the depth gain, and the arguments as the table prints them.
    let tableRows: [(n: Int, args: String)]
    /// Output stride of each level (8, 16, 32[, 64]).
    public private(set) var strides: [Int] = []
    /// Whether Conv+BN pairs have been folded (`fuse()`).
    public private(set) var isFused = false

    public var nc: Int { detect.nc }
    public var na: Int { detect.na }
    public var nl: Int { detect.nl }
    /// Input channels (3).
    public let inputChannels = 3

    /// Builds the model for `spec` (with `nc` overriding the YAML's when given). Convolutions
    /// get PyTorch's default initialisation drawn from `generator` in construction order; then
    /// strides, anchor order and the Detect bias prior are set as YOLOv5 does.
    public init(spec: ModelSpec, nc: Int? = nil, using generator: inout some RandomNumberGenerator) {
        let spec = nc.map { spec.with(nc: $0) } ?? spec
        self.spec = spec
        let rows = spec.layers
        let anchorLevels = spec.anchors.pairs(levels: rows.last.map { $0.from.count } ?? 3)
        let no = anchorLevels[0].count / 2 * (spec.nc + 5)
        var ch: [Int] = []
        var blocks: [any YOLOBlock] = []
        var from: [[Int]] = []
        var table: [(n: Int, args: String)] = []
        var detect: Detect?
        for (i, row) in rows.enumerated() {
            let f = row.resolvedFrom(index: i)
            let inCh = f.map { $0 == -1 ? (i == 0 ? 3 : ch[i - 1]) : ch[$0] }
            let n = spec.scaledRepeats(row.number)
            let name = "model.\(i)"
            from.append(f)
            if case let .detect(dnc, danchors) = row.module {
                let levels = (danchors ?? spec.anchors).pairs(levels: f.count)
                detect = Detect(name, nc: dnc ?? spec.nc, anchorPixels: levels, channels: inCh, using: &generator)
                table.append((n, YOLOModel.detectArgs(nc: dnc ?? spec.nc, anchors: levels, channels: inCh)))
                ch.append(0)
                continue
            }
            let built = YOLOModel.buildLayer(row, name: name, inChannels: inCh, repeats: n, spec: spec,
                                             detectOutputs: no, using: &generator)
            blocks.append(built.block)
            table.append((n, built.args))
            ch.append(built.outChannels)
        }
        guard let detect else { preconditionFailure("ModelSpec.validate guarantees a final Detect") }
        self.blocks = blocks
        self.detect = detect
        self.from = from
        self.tableRows = table
        self.save = Array(Set(from.enumerated().flatMap { i, f in f.filter { $0 != -1 }.map { $0 % i } })).sorted()
        let strides = computeStrides()
        detect.checkAnchorOrder(strides: strides)
        detect.divideAnchors(by: strides)
        detect.initializeBiases(strides: strides)
        self.strides = strides
    }

    /// One `parse_model` row other than Detect: output channels (width gain except for an
    /// output of `detectOutputs` channels; Concat sums its inputs), the block (repeated in an
    /// `nn.Sequential` unless C3/BottleneckCSP take the repeats) and the table's arguments.
    static func buildLayer(_ row: LayerSpec, name: String, inChannels inCh: [Int], repeats n: Int, spec: ModelSpec,
                           detectOutputs no: Int, using generator: inout some RandomNumberGenerator)
        -> (block: any YOLOBlock, outChannels: Int, args: String) {
        var c2 = inCh[0]
        if let c = row.module.scaledChannels { c2 = c == no ? c : spec.scaledChannels(c) }
        if case .concat = row.module { c2 = inCh.reduce(0, +) }
        let inner = row.module.takesRepeats ? n : 1
        let copies = row.module.takesRepeats ? 1 : n
        let made = (0..<copies).map { k in
            makeBlock(row.module, name: copies > 1 ? "\(name).\(k)" : name, c1: inCh[0], c2: c2, repeats: inner,
                      using: &generator)
        }
        return (copies > 1 ? RepeatedBlock(made) : made[0], c2, tableArgs(row, c1: inCh[0], c2: c2, repeats: inner))
    }

    static func makeBlock(_ m: ModuleSpec, name: String, c1: Int, c2: Int, repeats n: Int,
                          using g: inout some RandomNumberGenerator) -> any YOLOBlock {
        switch m {
        case let .conv(_, k, s, p): return Conv(name, c1, c2, kernel: k, stride: s, padding: p, using: &g)
        case let .focus(_, k, s, p): return Focus(name, c1, c2, kernel: k, stride: s, padding: p, using: &g)
        case let .bottleneck(_, sc): return Bottleneck(name, c1, c2, shortcut: sc, using: &g)
        case let .bottleneckCSP(_, sc): return BottleneckCSP(name, c1, c2, repeats: n, shortcut: sc, using: &g)
        case let .c3(_, sc): return C3(name, c1, c2, repeats: n, shortcut: sc, using: &g)
        case let .spp(_, ks): return SPP(name, c1, c2, kernels: ks, using: &g)
        case let .sppf(_, k): return SPPF(name, c1, c2, kernel: k, using: &g)
        case .concat: return ConcatBlock()
        case let .upsample(s): return UpsampleBlock(scale: s)
        case .detect: preconditionFailure("Detect is built separately")
        }
    }

    /// Strides from the feature sizes a 256×256 input gives at each Detect input (YOLOv5 runs
    /// a forward pass of a zero image; the shapes alone decide, so shapes are propagated).
    func computeStrides() -> [Int] {
        let s = 256
        let inputs = propagateShapes(input: [1, s, s, inputChannels]).detectInputs
        return inputs.map { s / $0[1] }
    }

    /// Layer output shapes and thop operation counts for an NHWC input shape.
    func propagateShapes(input: [Int]) -> (detectInputs: [[Int]], ops: Double) {
        var shapes: [[Int]] = []
        var ops = 0.0
        func gather(_ i: Int) -> [[Int]] { from[i].map { $0 == -1 ? (i == 0 ? input : shapes[i - 1]) : shapes[$0] } }
        for (i, b) in blocks.enumerated() {
            let r = b.profile(gather(i))
            shapes.append(r.shape)
            ops += r.ops
        }
        let detIn = gather(blocks.count)
        return (detIn, ops + detect.profile(detIn))
    }

    /// Every trainable parameter, in PyTorch's `model.parameters()` order.
    public var parameters: [Parameter] { blocks.flatMap(\.parameters) + detect.parameters }
    /// BatchNorm statistics and the Detect anchors.
    public var buffers: [Buffer] { blocks.flatMap(\.buffers) + detect.buffers }
    /// Every BatchNorm2d, in model order (e.g. to change momentum or freeze statistics).
    public var batchNorms: [BatchNorm2d] { blocks.flatMap(\.batchNorms) }
    /// (name, value) pairs in PyTorch's `state_dict()` order.
    public var namedState: [(name: String, value: Tensor)] { blocks.flatMap(\.namedState) + detect.namedState }

    /// Runs the network on NHWC images (B, H, W, 3) with H and W multiples of the largest
    /// stride. `training` selects batch statistics (updating the running ones) or running
    /// statistics. Returns per level the raw map (B, na, H/s, W/s, 5 + nc).
    public func callAsFunction(_ x: Tensor, training: Bool) -> [Tensor] {
        precondition(x.rank == 4 && x.shape[3] == inputChannels, "YOLOModel wants NHWC (B, H, W, 3), got \(x.shape)")
        var outputs = [Tensor?](repeating: nil, count: blocks.count)
        let keep = Set(save)
        var last = x
        func gather(_ i: Int) -> [Tensor] { from[i].map { $0 == -1 ? last : outputs[$0]! } }
        for (i, b) in blocks.enumerated() {
            last = b.forward(gather(i), training: training)
            if keep.contains(i) { outputs[i] = last }
        }
        return detect(gather(blocks.count))
    }

    /// The anchors of one level in grid units, (na) rows of [w, h].
    public func levelAnchors(_ level: Int) -> [[Float]] {
        let a = detect.anchors.value.scalars
        return (0..<na).map { k in [a[(level * na + k) * 2], a[(level * na + k) * 2 + 1]] }
    }

    /// Anchors in grid units, (nl, na, 2) (the `model.{L}.anchors` buffer).
    public var anchors: Tensor { detect.anchors.value }

    /// Folds every Conv's BatchNorm into its convolution (YOLOv5's `fuse()`); for inference.
    /// Eval outputs are unchanged up to rounding; training a fused model is not meaningful.
    public func fuse() {
        blocks.forEach { $0.fuse() }
        isFused = true
    }
}
