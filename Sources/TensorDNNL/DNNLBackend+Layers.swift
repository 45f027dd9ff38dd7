// Batch norm, activations, max-pool and nearest resampling on oneDNN primitives.
import CDNNL
import TensorCore

extension DNNLBackend {
    // MARK: batch norm (statistics over every axis but the last)

    /// NHWC 4-D tensors keep their spatial shape; other ranks are viewed as (M, C, 1, 1).
    private func bnDims(_ shape: [Int]) -> [Int] {
        shape.count == 4 ? [shape[0], shape[3], shape[1], shape[2]]
                         : [Tensor.elementCount(shape) / shape.last!, shape.last!, 1, 1]
    }

    private enum BNMode: Int { case training, inference, backward }

    private func bnPrimitive(_ dims: [Int], _ eps: Float, _ mode: BNMode) -> DNNLPrimitive {
        primitive(.batchNorm(dims: dims, epsilon: eps, mode: mode.rawValue)) {
            var md = memoryDesc(dims, dnnl_nhwc)
            let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
            var desc = dnnl_batch_normalization_desc_t()
            switch mode {
            case .training, .inference:
                let global = mode == .inference ? dnnl_use_global_stats.rawValue : 0
                dnnlCheck(dnnl_batch_normalization_forward_desc_init(
                    &desc, mode == .training ? dnnl_forward_training : dnnl_forward_inference, &md, eps,
                    flags | global), "bnorm forward desc")
                return DNNLPrimitive(desc, "bnorm forward")
            case .backward:
                let hint = bnPrimitive(dims, eps, .training)
                dnnlCheck(dnnl_batch_normalization_backward_desc_init(
                    &desc, dnnl_backward, &md, &md, eps, flags), "bnorm backward desc")
                return DNNLPrimitive(desc, hint: hint, "bnorm backward")
            }
        }
    }

    private func mem(_ md: dnnl_memory_desc_t, _ t: Tensor) -> DNNLMemory {
        DNNLMemory(md, UnsafeMutableRawPointer(t.storage.pointer))
    }

    public func batchNormTraining(input: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let dims = bnDims(input.shape), c = dims[1]
        let md = memoryDesc(dims, dnnl_nhwc), cmd = memoryDesc([c], dnnl_a)
        let y = Tensor(uninitializedShape: input.shape)
        let mean = Tensor(uninitializedShape: [c]), variance = Tensor(uninitializedShape: [c])
        bnPrimitive(dims, epsilon, .training).execute([
            (DNNL_ARG_SRC, mem(md, input)), (DNNL_ARG_DST, mem(md, y)),
            (DNNL_ARG_SCALE, mem(cmd, scale)), (DNNL_ARG_SHIFT, mem(cmd, shift)),
            (DNNL_ARG_MEAN, mem(cmd, mean)), (DNNL_ARG_VARIANCE, mem(cmd, variance)),
        ])
        withExtendedLifetime((input, scale, shift)) {}
        return (y, mean, variance)
    }

    public func batchNormInference(input: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                   variance: Tensor, epsilon: Float) -> Tensor {
        let dims = bnDims(input.shape), c = dims[1]
        let md = memoryDesc(dims, dnnl_nhwc), cmd = memoryDesc([c], dnnl_a)
        let y = Tensor(uninitializedShape: input.shape)
        bnPrimitive(dims, epsilon, .inference).execute([
            (DNNL_ARG_SRC, mem(md, input)), (DNNL_ARG_DST, mem(md, y)),
            (DNNL_ARG_SCALE, mem(cmd, scale)), (DNNL_ARG_SHIFT, mem(cmd, shift)),
            (DNNL_ARG_MEAN, mem(cmd, mean)), (DNNL_ARG_VARIANCE, mem(cmd, variance)),
        ])
        withExtendedLifetime((input, scale, shift, mean, variance)) {}
        return y
    }

    public func batchNormBackward(input: Tensor, gradOutput: Tensor, scale: Tensor, mean: Tensor,
                                  variance: Tensor, epsilon: Float)
        -> (input: Tensor, scale: Tensor, shift: Tensor) {
        let dims = bnDims(input.shape), c = dims[1]
        let md = memoryDesc(dims, dnnl_nhwc), cmd = memoryDesc([c], dnnl_a)
        let gx = Tensor(uninitializedShape: input.shape)
        let gs = Tensor(uninitializedShape: [c]), gb = Tensor(uninitializedShape: [c])
        // oneDNN 2.6 answers invalid_arguments to a backward without a SHIFT argument, though
        // it does not read it.
        let unusedShift = Tensor(zeros: [c])
        bnPrimitive(dims, epsilon, .backward).execute([
            (DNNL_ARG_SRC, mem(md, input)), (DNNL_ARG_DIFF_DST, mem(md, gradOutput)),
            (DNNL_ARG_SCALE, mem(cmd, scale)), (DNNL_ARG_SHIFT, mem(cmd, unusedShift)), (DNNL_ARG_MEAN, mem(cmd, mean)),
            (DNNL_ARG_VARIANCE, mem(cmd, variance)), (DNNL_ARG_DIFF_SRC, mem(md, gx)),
            (DNNL_ARG_DIFF_SCALE, mem(cmd, gs)), (DNNL_ARG_DIFF_SHIFT, mem(cmd, gb)),
        ])
        withExtendedLifetime((input, gradOutput, scale, mean, variance)) {}
        return (gx, gs, gb)
    }

    // MARK: activations

    func eltwiseAlgorithm(_ kind: Activation) -> (dnnl_alg_kind_t, Float) {
        switch kind {
        case .silu: return (dnnl_eltwise_swish, 1)          // x·σ(αx), α = 1
        case .sigmoid: return (dnnl_eltwise_logistic, 0)
        case .relu: return (dnnl_eltwise_relu, 0)
        case let .leakyRelu(slope): return (dnnl_eltwise_relu, slope)  // α = negative slope
        case .hardswish: return (dnnl_eltwise_hardswish, 0)
        }
    }

    private func eltwisePrimitive(_ kind: Activation, count: Int, backward: Bool) -> DNNLPrimitive {
        primitive(.eltwise(kind, count: count, backward: backward)) {
            var md = memoryDesc([count], dnnl_a)
            let (alg, alpha) = eltwiseAlgorithm(kind)
            var desc = dnnl_eltwise_desc_t()
            if backward {
                let hint = eltwisePrimitive(kind, count: count, backward: false)
                dnnlCheck(dnnl_eltwise_backward_desc_init(&desc, alg, &md, &md, alpha, 0), "eltwise bwd desc")
                return DNNLPrimitive(desc, hint: hint, "eltwise backward")
            }
            dnnlCheck(dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_training, alg, &md, alpha, 0),
                      "eltwise fwd desc")
            return DNNLPrimitive(desc, "eltwise forward")
        }
    }

    public func activation(_ kind: Activation, _ x: Tensor) -> Tensor {
        let y = Tensor(uninitializedShape: x.shape)
        guard x.count > 0 else { return y }
        let md = memoryDesc([x.count], dnnl_a)
        eltwisePrimitive(kind, count: x.count, backward: false)
            .execute([(DNNL_ARG_SRC, mem(md, x)), (DNNL_ARG_DST, mem(md, y))])
        withExtendedLifetime(x) {}
        return y
    }

    public func activationBackward(_ kind: Activation, input: Tensor, gradOutput: Tensor) -> Tensor {
        let gx = Tensor(uninitializedShape: input.shape)
        guard input.count > 0 else { return gx }
        let md = memoryDesc([input.count], dnnl_a)
        eltwisePrimitive(kind, count: input.count, backward: true).execute([
            (DNNL_ARG_SRC, mem(md, input)), (DNNL_ARG_DIFF_DST, mem(md, gradOutput)),
            (DNNL_ARG_DIFF_SRC, mem(md, gx)),
        ])
        withExtendedLifetime((input, gradOutput)) {}
        return gx
    }

    // MARK: max-pool

    private func poolDescs(_ p: Pool2DParams) -> (dnnl_memory_desc_t, dnnl_memory_desc_t) {
        (memoryDesc([p.batch, p.channels, p.inHeight, p.inWidth], dnnl_nhwc),
         memoryDesc([p.batch, p.channels, p.outHeight, p.outWidth], dnnl_nhwc))
    }

    private func poolPrimitive(_ p: Pool2DParams, backward: Bool) -> DNNLPrimitive {
        primitive(.pool(p, backward: backward)) {
            var (src, dst) = poolDescs(p)
            let strides: [Int64] = [Int64(p.stride), Int64(p.stride)]
            let kernel: [Int64] = [Int64(p.kernel), Int64(p.kernel)]
            let dilation: [Int64] = [0, 0]
            let pad: [Int64] = [Int64(p.padding), Int64(p.padding)]
            var desc = dnnl_pooling_v2_desc_t()
            if backward {
                let hint = poolPrimitive(p, backward: false)
                dnnlCheck(dnnl_pooling_v2_backward_desc_init(
                    &desc, dnnl_pooling_max, &src, &dst, strides, kernel, dilation, pad, pad), "pool bwd desc")
                return DNNLPrimitive(desc, hint: hint, "pool backward")
            }
            dnnlCheck(dnnl_pooling_v2_forward_desc_init(
                &desc, dnnl_forward_training, dnnl_pooling_max, &src, &dst, strides, kernel, dilation, pad, pad),
                "pool fwd desc")
            return DNNLPrimitive(desc, "pool forward")
        }
    }

    /// Runs the forward pool, filling `workspace` (argmax positions) when given.
    private func poolForward(_ input: Tensor, _ p: Pool2DParams, into y: Tensor) -> AlignedBuffer {
        let prim = poolPrimitive(p, backward: false)
        let (src, dst) = poolDescs(p)
        let wsMD = prim.md(dnnl_query_workspace_md)
        let ws = AlignedBuffer(bytes: descBytes(wsMD))
        prim.execute([(DNNL_ARG_SRC, mem(src, input)), (DNNL_ARG_DST, mem(dst, y)),
                      (DNNL_ARG_WORKSPACE, DNNLMemory(wsMD, ws.pointer))])
        withExtendedLifetime(input) {}
        return ws
    }

    public func maxPool2d(input: Tensor, params p: Pool2DParams) -> Tensor {
        let y = Tensor(uninitializedShape: p.outputShape)
        _ = poolForward(input, p, into: y)
        return y
    }

    public func maxPool2dBackward(input: Tensor, gradOutput: Tensor, params p: Pool2DParams) -> Tensor {
        // The argmax workspace is recomputed here: pools are cheap next to convolutions and the
        // kernel list passes only the input.
        let scratch = Tensor(uninitializedShape: p.outputShape)
        let ws = poolForward(input, p, into: scratch)
        let prim = poolPrimitive(p, backward: true)
        let (src, dst) = poolDescs(p)
        let gx = Tensor(uninitializedShape: input.shape)
        prim.execute([(DNNL_ARG_DIFF_DST, mem(dst, gradOutput)), (DNNL_ARG_DIFF_SRC, mem(src, gx)),
                      (DNNL_ARG_WORKSPACE, DNNLMemory(prim.md(dnnl_query_workspace_md), ws.pointer))])
        withExtendedLifetime(gradOutput) {}
        return gx
    }

    // MARK: nearest resampling

    private func resamplePrimitive(_ dims: [Int], _ s: Int, backward: Bool) -> DNNLPrimitive {
        primitive(.resample(dims: dims, scale: s, backward: backward)) {
            var src = memoryDesc(dims, dnnl_nhwc)
            var dst = memoryDesc([dims[0], dims[1], dims[2] * s, dims[3] * s], dnnl_nhwc)
            let factors: [Float] = [Float(s), Float(s)]
            var desc = dnnl_resampling_desc_t()
            if backward {
                let hint = resamplePrimitive(dims, s, backward: false)
                dnnlCheck(dnnl_resampling_backward_desc_init(&desc, dnnl_resampling_nearest, factors, &src, &dst),
                          "resample bwd desc")
                return DNNLPrimitive(desc, hint: hint, "resample backward")
            }
            dnnlCheck(dnnl_resampling_forward_desc_init(&desc, dnnl_forward_training, dnnl_resampling_nearest,
                                                        factors, &src, &dst), "resample fwd desc")
            return DNNLPrimitive(desc, "resample forward")
        }
    }

    public func upsampleNearest(input: Tensor, scale s: Int) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let dims = [n, c, h, w]
        let y = Tensor(uninitializedShape: [n, h * s, w * s, c])
        resamplePrimitive(dims, s, backward: false).execute([
            (DNNL_ARG_SRC, mem(memoryDesc(dims, dnnl_nhwc), input)),
            (DNNL_ARG_DST, mem(memoryDesc([n, c, h * s, w * s], dnnl_nhwc), y)),
        ])
        withExtendedLifetime(input) {}
        return y
    }

    public func upsampleNearestBackward(gradOutput: Tensor, scale s: Int) -> Tensor {
        let (n, hs, ws, c) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2], gradOutput.shape[3])
        let dims = [n, c, hs / s, ws / s]
        let gx = Tensor(uninitializedShape: [n, hs / s, ws / s, c])
        resamplePrimitive(dims, s, backward: true).execute([
            (DNNL_ARG_DIFF_DST, mem(memoryDesc([n, c, hs, ws], dnnl_nhwc), gradOutput)),
            (DNNL_ARG_DIFF_SRC, mem(memoryDesc(dims, dnnl_nhwc), gx)),
        ])
        withExtendedLifetime(gradOutput) {}
        return gx
    }
}
