// The baseline for `yolo benchmark ops`: one convolution's forward, backward-data and
// backward-weights called on oneDNN directly — primitives made once, buffers allocated once,
// weights left in whatever layout oneDNN prefers (no reorders) — so the engine's overhead
// (tape, caches, allocation, reorders) can be measured against the bare library.
import CDNNL
import TensorCore

public final class DirectConvolution {
    private let forward: DNNLPrimitive, backwardData: DNNLPrimitive, backwardWeights: DNNLPrimitive
    private let buffers: [AlignedBuffer]
    private let fwdArgs: [(Int32, DNNLMemory)], bwdDataArgs: [(Int32, DNNLMemory)]
    private let bwdWeightsArgs: [(Int32, DNNLMemory)]

    /// Sets up the three primitives for `p` with random data.
    public init(_ p: Conv2DParams) {
        let backend = DNNLBackend()
        let d = backend.convDescs(p)
        forward = backend.convForwardPrimitive(p, bias: false)
        var src = d.src, w = d.anyWeights, dst = d.dst
        let strides = p.dnnlStrides, pad = p.dnnlPadding
        var bd = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &src, &w, &dst,
                                                           strides, pad, pad), "bwd-data desc")
        backwardData = DNNLPrimitive(bd, hint: forward, "direct bwd-data")
        var bw = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_backward_weights_desc_init(&bw, dnnl_convolution_direct, &src, &w, nil, &dst,
                                                              strides, pad, pad), "bwd-weights desc")
        backwardWeights = DNNLPrimitive(bw, hint: forward, "direct bwd-weights")

        func buffer(_ md: dnnl_memory_desc_t) -> (AlignedBuffer, DNNLMemory) {
            let b = AlignedBuffer(bytes: descBytes(md))
            let floats = b.bytes / 4
            let f = b.pointer.bindMemory(to: Float.self, capacity: floats)
            var g = SeededGenerator(seed: UInt64(floats))
            for i in 0..<floats { f[i] = g.nextUniform() - 0.5 }
            return (b, DNNLMemory(md, b.pointer))
        }
        let (xb, x) = buffer(d.src), (yb, y) = buffer(d.dst), (gyb, gy) = buffer(d.dst), (gxb, gx) = buffer(d.src)
        let (wfb, wf) = buffer(forward.md(dnnl_query_weights_md))
        let (wdb, wd) = buffer(backwardData.md(dnnl_query_weights_md))
        let (gwb, gw) = buffer(backwardWeights.md(dnnl_query_diff_weights_md))
        buffers = [xb, yb, gyb, gxb, wfb, wdb, gwb]
        fwdArgs = [(DNNL_ARG_SRC, x), (DNNL_ARG_WEIGHTS, wf), (DNNL_ARG_DST, y)]
        bwdDataArgs = [(DNNL_ARG_DIFF_DST, gy), (DNNL_ARG_WEIGHTS, wd), (DNNL_ARG_DIFF_SRC, gx)]
        bwdWeightsArgs = [(DNNL_ARG_SRC, x), (DNNL_ARG_DIFF_DST, gy), (DNNL_ARG_DIFF_WEIGHTS, gw)]
    }

    /// Forward, backward-data and backward-weights once each.
    public func runAll() {
        forward.execute(fwdArgs)
        backwardData.execute(bwdDataArgs)
        backwardWeights.execute(bwdWeightsArgs)
        withExtendedLifetime(buffers) {}
    }
}
