// `DNNLBackend`: the closed kernel list on oneDNN (convolution, batch norm, activations,
// pooling, resampling), OpenBLAS (matmul) and SIMD Swift loops (element-wise, reductions,
// layout). Primitives are cached per shape; weight reorders per (storage, version).
import CBLAS
import CDNNL
import TensorCore

extension Conv2DParams {
    /// Strides and (symmetric) padding as oneDNN's dims arrays.
    var dnnlStrides: [Int64] { [Int64(strideH), Int64(strideW)] }
    var dnnlPadding: [Int64] { [Int64(padH), Int64(padW)] }
}

/// Cache keys: one primitive per kind and shape.
enum PrimitiveKey: Hashable {
    case convForward(Conv2DParams, bias: Bool)
    case convInference(Conv2DParams, bias: Bool, activation: Activation?)
    case convBackwardData(Conv2DParams)
    case convBackwardWeights(Conv2DParams, bias: Bool)
    case batchNorm(dims: [Int], epsilon: Float, mode: Int)
    case eltwise(Activation, count: Int, backward: Bool)
    case pool(Pool2DParams, backward: Bool)
    case resample(dims: [Int], scale: Int, backward: Bool)
    case weightsGradientReorder(Conv2DParams, bias: Bool)
}

/// Runs the kernel list on oneDNN and OpenBLAS; create one per process at start-up.
public final class DNNLBackend: Backend, @unchecked Sendable {
    public var name: String { "onednn" }
    let lock = PThreadMutex()
    private var primitives: [PrimitiveKey: DNNLPrimitive] = [:]
    /// Reordered weights: storage id → (version, primitive kind key, buffer).
    private var weights: [WeightKey: (version: Int, buffer: AlignedBuffer)] = [:]
    let simd = SIMDKernels()

    struct WeightKey: Hashable { let storage: Int; let use: PrimitiveKey }

    public init() { Allocator.keepLargeFreedBlocksInHeap() }

    // MARK: caches

    func primitive(_ key: PrimitiveKey, _ make: () -> DNNLPrimitive) -> DNNLPrimitive {
        if let p = lock.withLock({ primitives[key] }) { return p }
        // Made outside the lock: a backward primitive first makes its forward hint.
        let p = make()
        return lock.withLock {
            if let existing = primitives[key] { return existing }
            primitives[key] = p
            return p
        }
    }

    /// `weight` (plain layout `plain`) in the layout `wanted`, reordered once per version.
    func weightMemory(_ weight: Tensor, plain: dnnl_memory_desc_t, wanted: dnnl_memory_desc_t,
                      use: PrimitiveKey) -> (DNNLMemory, AnyObject?) {
        let raw = UnsafeMutableRawPointer(weight.storage.pointer)
        if descEqual(plain, wanted) { return (DNNLMemory(plain, raw), nil) }
        let key = WeightKey(storage: weight.storage.id, use: use)
        let version = weight.storage.version
        if let hit = lock.withLock({ weights[key] }), hit.version == version {
            return (DNNLMemory(wanted, hit.buffer.pointer), hit.buffer)
        }
        let buffer = AlignedBuffer(bytes: descBytes(wanted))
        let reorder = DNNLPrimitive(reorderFrom: plain, to: wanted)
        let dst = DNNLMemory(wanted, buffer.pointer)
        reorder.execute([(DNNL_ARG_FROM, DNNLMemory(plain, raw)), (DNNL_ARG_TO, dst)])
        lock.withLock {
            if weights.count > 512 { weights.removeAll() }  // bound the cache; stale ids die here
            weights[key] = (version, buffer)
        }
        return (dst, buffer)
    }

    // MARK: convolution

    func convDescs(_ p: Conv2DParams) -> (src: dnnl_memory_desc_t, plainWeights: dnnl_memory_desc_t,
                                           anyWeights: dnnl_memory_desc_t, dst: dnnl_memory_desc_t) {
        let src = memoryDesc([p.batch, p.inChannels, p.inHeight, p.inWidth], dnnl_nhwc)
        let dst = memoryDesc([p.batch, p.outChannels, p.outHeight, p.outWidth], dnnl_nhwc)
        let wdims = p.groups == 1
            ? [p.outChannels, p.inChannels, p.kernelHeight, p.kernelWidth]
            : [p.groups, p.outChannels / p.groups, p.inChannels / p.groups, p.kernelHeight, p.kernelWidth]
        return (src, memoryDesc(wdims, p.groups == 1 ? dnnl_oihw : dnnl_goihw), anyDesc(wdims), dst)
    }

    func convForwardPrimitive(_ p: Conv2DParams, bias: Bool) -> DNNLPrimitive {
        primitive(.convForward(p, bias: bias)) {
            DNNLPrimitive(convForwardDesc(p, bias: bias, prop: dnnl_forward_training), "conv forward")
        }
    }

    /// The forward descriptor for `p` (NHWC data, weights in the layout oneDNN picks).
    func convForwardDesc(_ p: Conv2DParams, bias: Bool, prop: dnnl_prop_kind_t) -> dnnl_convolution_desc_t {
        let d = convDescs(p)
        var src = d.src, w = d.anyWeights, dst = d.dst
        var b = memoryDesc([p.outChannels], dnnl_a)
        var desc = dnnl_convolution_desc_t()
        let status = withOptionalPointer(to: &b, bias) { bp in
            dnnl_convolution_forward_desc_init(&desc, prop, dnnl_convolution_direct, &src, &w, bp, &dst,
                                               p.dnnlStrides, p.dnnlPadding, p.dnnlPadding)
        }
        dnnlCheck(status, "conv forward desc")
        return desc
    }

    public func conv2d(input: Tensor, weight: Tensor, bias: Tensor?, params p: Conv2DParams) -> Tensor {
        runConvForward(convForwardPrimitive(p, bias: bias != nil), use: .convForward(p, bias: bias != nil),
                       input: input, weight: weight, bias: bias, params: p)
    }

    /// Executes a forward convolution primitive made for `p` (training or inference flavour).
    private func runConvForward(_ prim: DNNLPrimitive, use: PrimitiveKey, input: Tensor, weight: Tensor,
                                bias: Tensor?, params p: Conv2DParams) -> Tensor {
        let d = convDescs(p)
        let out = Tensor(uninitializedShape: p.outputShape)
        let (wm, keep) = weightMemory(weight, plain: d.plainWeights, wanted: prim.md(dnnl_query_weights_md), use: use)
        var args: [(Int32, DNNLMemory)] = [
            (DNNL_ARG_SRC, DNNLMemory(d.src, UnsafeMutableRawPointer(input.storage.pointer))),
            (DNNL_ARG_WEIGHTS, wm),
            (DNNL_ARG_DST, DNNLMemory(d.dst, UnsafeMutableRawPointer(out.storage.pointer))),
        ]
        if let bias {
            args.append((DNNL_ARG_BIAS, DNNLMemory(memoryDesc([p.outChannels], dnnl_a),
                                                   UnsafeMutableRawPointer(bias.storage.pointer))))
        }
        prim.execute(args)
        withExtendedLifetime((input, weight, bias, keep)) {}
        return out
    }

    public func conv2dInference(input: Tensor, weight: Tensor, bias: Tensor?, params p: Conv2DParams,
                                activation: Activation?) -> Tensor {
        let key = PrimitiveKey.convInference(p, bias: bias != nil, activation: activation)
        let prim = primitive(key) {
            let desc = convForwardDesc(p, bias: bias != nil, prop: dnnl_forward_inference)
            guard let activation else { return DNNLPrimitive(desc, "conv inference") }
            // The activation runs as a post-op on each output block while it is still in cache.
            var attr: dnnl_primitive_attr_t?, ops: dnnl_post_ops_t?
            dnnlCheck(dnnl_primitive_attr_create(&attr), "attr create")
            dnnlCheck(dnnl_post_ops_create(&ops), "post-ops create")
            defer { dnnl_post_ops_destroy(ops); dnnl_primitive_attr_destroy(attr) }
            let (alg, alpha) = eltwiseAlgorithm(activation)
            dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, alg, alpha, 0), "append eltwise")
            dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, ops), "set post-ops")
            return DNNLPrimitive(desc, attr: attr, "conv inference + \(activation)")
        }
        return runConvForward(prim, use: key, input: input, weight: weight, bias: bias, params: p)
    }

    public func conv2dBackwardData(gradOutput: Tensor, weight: Tensor, params p: Conv2DParams) -> Tensor {
        let hint = convForwardPrimitive(p, bias: false)
        let prim = primitive(.convBackwardData(p)) {
            let d = convDescs(p)
            var src = d.src, w = d.anyWeights, dst = d.dst
            var desc = dnnl_convolution_desc_t()
            let strides = p.dnnlStrides, pad = p.dnnlPadding
            dnnlCheck(dnnl_convolution_backward_data_desc_init(
                &desc, dnnl_convolution_direct, &src, &w, &dst, strides, pad, pad), "conv bwd-data desc")
            return DNNLPrimitive(desc, hint: hint, "conv backward data")
        }
        let d = convDescs(p)
        let gx = Tensor(uninitializedShape: p.inputShape)
        let (wm, keep) = weightMemory(weight, plain: d.plainWeights, wanted: prim.md(dnnl_query_weights_md),
                                      use: .convBackwardData(p))
        prim.execute([
            (DNNL_ARG_DIFF_DST, DNNLMemory(d.dst, UnsafeMutableRawPointer(gradOutput.storage.pointer))),
            (DNNL_ARG_WEIGHTS, wm),
            (DNNL_ARG_DIFF_SRC, DNNLMemory(d.src, UnsafeMutableRawPointer(gx.storage.pointer))),
        ])
        withExtendedLifetime((gradOutput, weight, keep)) {}
        return gx
    }

    public func conv2dBackwardWeights(input: Tensor, gradOutput: Tensor, params p: Conv2DParams,
                                      withBias: Bool) -> (weight: Tensor, bias: Tensor?) {
        let hint = convForwardPrimitive(p, bias: withBias)
        let prim = primitive(.convBackwardWeights(p, bias: withBias)) {
            let d = convDescs(p)
            var src = d.src, w = d.anyWeights, dst = d.dst
            var b = memoryDesc([p.outChannels], dnnl_a)
            var desc = dnnl_convolution_desc_t()
            let strides = p.dnnlStrides, pad = p.dnnlPadding
            let status = withOptionalPointer(to: &b, withBias) { bp in
                dnnl_convolution_backward_weights_desc_init(
                    &desc, dnnl_convolution_direct, &src, &w, bp, &dst, strides, pad, pad)
            }
            dnnlCheck(status, "conv bwd-weights desc")
            return DNNLPrimitive(desc, hint: hint, "conv backward weights")
        }
        let d = convDescs(p)
        let wanted = prim.md(dnnl_query_diff_weights_md)
        let gw = Tensor(uninitializedShape: p.weightShape)
        let gwPlain = DNNLMemory(d.plainWeights, UnsafeMutableRawPointer(gw.storage.pointer))
        let blocked = descEqual(wanted, d.plainWeights) ? nil : AlignedBuffer(bytes: descBytes(wanted))
        let gwMemory = blocked.map { DNNLMemory(wanted, $0.pointer) } ?? gwPlain
        let gb = withBias ? Tensor(uninitializedShape: [p.outChannels]) : nil
        var args: [(Int32, DNNLMemory)] = [
            (DNNL_ARG_SRC, DNNLMemory(d.src, UnsafeMutableRawPointer(input.storage.pointer))),
            (DNNL_ARG_DIFF_DST, DNNLMemory(d.dst, UnsafeMutableRawPointer(gradOutput.storage.pointer))),
            (DNNL_ARG_DIFF_WEIGHTS, gwMemory),
        ]
        if let gb {
            args.append((DNNL_ARG_DIFF_BIAS, DNNLMemory(memoryDesc([p.outChannels], dnnl_a),
                                                        UnsafeMutableRawPointer(gb.storage.pointer))))
        }
        prim.execute(args)
        if blocked != nil {
            let reorder = primitive(.weightsGradientReorder(p, bias: withBias)) {
                DNNLPrimitive(reorderFrom: wanted, to: d.plainWeights)
            }
            reorder.execute([(DNNL_ARG_FROM, gwMemory), (DNNL_ARG_TO, gwPlain)])
        }
        withExtendedLifetime((input, gradOutput, blocked)) {}
        return (gw, gb)
    }
}
