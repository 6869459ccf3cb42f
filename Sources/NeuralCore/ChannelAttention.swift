/// The channel attention of MPRNet's CABs: global means, two 1x1 layers, a per-channel scale.
extension Ops {
    /// Channel attention: x · sigmoid(up(relu(down(mean_hw(x))))) per channel, down/up 1x1 convs,
    /// plus `residual` when given (the CAB's skip connection, fused into the same pass).
    public func channelAttention(_ x: Tensor, down: ConvWeight, up: ConvWeight, plus residual: Tensor? = nil) -> Tensor {
        precondition(residual == nil || residual!.shape == x.shape, "channel attention residual has the wrong shape")
        let P = x.plane
        var mean = [Float](repeating: 0, count: x.channels)
        x.samples.withUnsafeBufferPointer { xp in
            mean.withUnsafeMutableBufferPointer { m in
                let (src, dst) = (xp.baseAddress!, m.baseAddress!)
                parallel(x.channels, work: x.samples.count) { channels in
                    for c in channels { dst[c] = sum(src + c * P, P) / Float(P) }
                }
            }
        }
        let scale = attentionScale(mean: mean, down: down, up: up)
        var out = Tensor(uninitializedChannels: x.channels, height: x.height, width: x.width)
        x.samples.withUnsafeBufferPointer { xp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let (src, dst) = (xp.baseAddress!, op.baseAddress!)
            parallel(x.channels, work: 2 * x.samples.count) { channels in
                for c in channels {
                    let k = scale[c], at = c * P
                    if let rp {
                        for i in at ..< at + P { dst[i] = src[i] * k + rp[i] }
                    } else {
                        for i in at ..< at + P { dst[i] = src[i] * k }
                    }
                }
            }
        }}}
        return out
    }

    /// Each channel's attention weight: sigmoid(up(relu(down(mean)))).
    func attentionScale(mean: [Float], down: ConvWeight, up: ConvWeight) -> [Float] {
        matvec(up, matvec(down, mean).map { max($0, 0) }).map(sigmoid)
    }

    /// The sum of `n` floats, in 16 interleaved partial sums (vectorizable; close to PyTorch's
    /// pairwise order, far from a long serial chain's rounding).
    func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    func matvec(_ w: ConvWeight, _ v: [Float]) -> [Float] {
        (0..<w.outChannels).map { o in
            var s: Float = 0
            for i in 0..<w.inChannels { s += w.data[o * w.inChannels + i] * v[i] }
            return s
        }
    }
}
