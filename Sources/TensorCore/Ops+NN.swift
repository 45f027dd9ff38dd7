// Differentiable network ops on NHWC activations: convolution, batch norm, max-pool,
// nearest upsampling. Each backward calls the backend's backward kernel.

extension Tensor {
    /// 2-D convolution. `self` is NHWC, `weight` OIHW (PyTorch's layout), `bias` (O).
    /// No gradient is computed for an input that is not on the tape (e.g. images).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0), groups: Int = 1) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d wants NHWC input and OIHW weight")
        let p = Conv2DParams(batch: shape[0], inHeight: shape[1], inWidth: shape[2], inChannels: shape[3],
                             outChannels: weight.shape[0], kernel: (weight.shape[2], weight.shape[3]),
                             stride: stride, padding: padding, groups: groups)
        precondition(weight.shape == p.weightShape, "conv weight \(weight.shape) != \(p.weightShape)")
        let x = self
        let y = backend.conv2d(input: x, weight: weight, bias: bias, params: p)
        let wantsInput = x.requiresGradient
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return Tensor.record(y, inputs: inputs) { g in
            let be = Engine.backend
            let gx = wantsInput ? be.conv2dBackwardData(gradOutput: g, weight: weight, params: p) : nil
            let (gw, gb) = be.conv2dBackwardWeights(input: x, gradOutput: g, params: p, withBias: bias != nil)
            return bias == nil ? [gx, gw] : [gx, gw, gb]
        }
    }

    /// Inference convolution with the activation fused in (no gradient: never recorded).
    public func conv2dInference(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
                                padding: (Int, Int) = (0, 0), groups: Int = 1, activation: Activation?) -> Tensor {
        let p = Conv2DParams(batch: shape[0], inHeight: shape[1], inWidth: shape[2], inChannels: shape[3],
                             outChannels: weight.shape[0], kernel: (weight.shape[2], weight.shape[3]),
                             stride: stride, padding: padding, groups: groups)
        precondition(weight.shape == p.weightShape, "conv weight \(weight.shape) != \(p.weightShape)")
        return backend.conv2dInference(input: detached, weight: weight.detached, bias: bias?.detached, params: p,
                                       activation: activation)
    }

    /// Batch normalisation over every axis but the last with the batch's statistics.
    /// Returns the output and the batch mean and biased variance (for running statistics).
    public func batchNormTraining(scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let x = self
        let r = backend.batchNormTraining(input: x, scale: scale, shift: shift, epsilon: epsilon)
        let (mean, variance) = (r.mean, r.variance)
        let y = Tensor.record(r.output, inputs: [x, scale, shift]) { g in
            let b = Engine.backend.batchNormBackward(input: x, gradOutput: g, scale: scale, mean: mean,
                                                     variance: variance, epsilon: epsilon)
            return [b.input, b.scale, b.shift]
        }
        return (y, mean, variance)
    }

    /// `batchNormTraining` followed by SiLU as one op (one kernel each way on the fast backend,
    /// and only `self` is kept for the backward instead of the input and the normalised value).
    public func batchNormSiLUTraining(scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let x = self
        let r = backend.batchNormSiLUTraining(input: x, scale: scale, shift: shift, epsilon: epsilon)
        let (mean, variance) = (r.mean, r.variance)
        let y = Tensor.record(r.output, inputs: [x, scale, shift]) { g in
            let b = Engine.backend.batchNormSiLUBackward(input: x, gradOutput: g, scale: scale, shift: shift,
                                                         mean: mean, variance: variance, epsilon: epsilon)
            return [b.input, b.scale, b.shift]
        }
        return (y, mean, variance)
    }

    /// Batch normalisation with fixed statistics (eval mode): an affine map per channel.
    public func batchNormInference(scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                                   epsilon: Float) -> Tensor {
        let x = self
        let y = backend.batchNormInference(input: x, scale: scale, shift: shift, mean: mean,
                                           variance: variance, epsilon: epsilon)
        return Tensor.record(y, inputs: [x, scale, shift]) { g in
            // y = (x − μ)·γ/√(v+ε) + β
            let be = Engine.backend
            let invStd = be.unary(.powScalar(-0.5), be.unary(.affine(scale: 1, bias: epsilon), variance))
            let gx = be.binary(.mul, g, be.binary(.mul, scale, invStd))
            let xhat = be.binary(.mul, be.binary(.sub, x, mean), invStd)
            let axes = Array(0..<(x.rank - 1))
            let gs = be.reduce(.sum, be.binary(.mul, g, xhat), axes: axes).reshapedStorage(scale.shape)
            let gb = be.reduce(.sum, g, axes: axes).reshapedStorage(shift.shape)
            return [gx, gs, gb]
        }
    }

    /// Max-pool (PyTorch floor mode, -inf padding) over NHWC.
    public func maxPool2d(kernel: Int, stride: Int, padding: Int = 0) -> Tensor {
        let p = Pool2DParams(batch: shape[0], inHeight: shape[1], inWidth: shape[2], channels: shape[3],
                             kernel: kernel, stride: stride, padding: padding)
        let x = self
        let y = backend.maxPool2d(input: x, params: p)
        return Tensor.record(y, inputs: [x]) { g in
            [Engine.backend.maxPool2dBackward(input: x, gradOutput: g, params: p)]
        }
    }

    /// Nearest-neighbour upsampling of NHWC by an integer factor (`nn.Upsample(scale_factor:)`).
    public func upsampledNearest(scale: Int) -> Tensor {
        let y = backend.upsampleNearest(input: self, scale: scale)
        return Tensor.record(y, inputs: [self]) { g in
            [Engine.backend.upsampleNearestBackward(gradOutput: g, scale: scale)]
        }
    }
}
