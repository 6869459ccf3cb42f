import ConvArguments

/// The channel attention of MPRNet's CABs: global means, two 1x1 layers, a per-channel scale.
extension Ops {
    /// Channel attention: x · sigmoid(up(relu(down(mean_hw(x))))) per channel, down/up 1x1 convs,
    /// plus `residual` when given (the CAB's skip connection, fused into the same pass).
    public func channelAttention(_ x: Tensor, down: ConvWeight, up: ConvWeight, plus residual: Tensor? = nil) -> Tensor {
        precondition(residual == nil || residual!.shape == x.shape, "channel attention residual has the wrong shape")
        let scale = attentionScale(mean: channelMeans(x), down: down, up: up)
        let plain = PlaneLayout.plain(height: x.height, width: x.width)
        var out = Tensor(uninitializedChannels: x.channels, height: x.height, width: x.width)
        out.samples.withUnsafeMutableBufferPointer { op in
            scaleAdd(x, scale, plus: residual.map { ($0.samples, plain) }, into: op.baseAddress!, plain)
        }
        return out
    }

    /// The mean of each channel of `x`.
    func channelMeans(_ x: Tensor) -> [Float] {
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
        return mean
    }

    /// output = x · scale[channel] + residual, the residual and the output each in its own layout
    /// (plain planes or a 3x3 layer's zero-framed ones); only the image's pixels are written.
    func scaleAdd(_ x: Tensor, _ scale: [Float], plus residual: ([Float], PlaneLayout)?,
                  into output: UnsafeMutablePointer<Float>, _ layout: PlaneLayout) {
        let H = x.height, W = x.width
        x.samples.withUnsafeBufferPointer { xp in
        withSamples(residual?.0) { rp in
            let (src, dst) = (xp.baseAddress!, output), r = residual?.1
            parallel(x.channels, work: 2 * x.samples.count) { channels in
                for c in channels {
                    let k = scale[c]
                    for y in 0..<H {
                        let s = src + (c * H + y) * W, d = dst + layout.offset(c, y)
                        if let rp, let r {
                            let q = rp + r.offset(c, y)
                            for i in 0..<W { d[i] = s[i] * k + q[i] }
                        } else {
                            for i in 0..<W { d[i] = s[i] * k }
                        }
                    }
                }
            }
        }}
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
