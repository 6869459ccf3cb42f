import ConvKernelsVNNI

/// Channel attention blocks whose convolutions run in 8 bits.
extension Ops {
    /// Whether every convolution of `blocks` runs in 8 bits.
    func runInt8(_ blocks: [AttentionBlockWeights]) -> Bool {
        !blocks.isEmpty && !useAMX && blocks.allSatisfy { runsInt8($0.conv1) && runsInt8($0.conv2) }
    }

    /// The blocks in turn, as `attentionBlocks`. A block's output x + a·r (a the attention weight, in
    /// (0, 1); r the second convolution's output) is the next block's first input, so it is quantised
    /// in the pass that computes it, over a bound on its range: a·range(r) + range(x), from r's range
    /// (taken with r's channel sums) and x's exact one (taken in x's own pass). No pass of its own
    /// takes the range of a block's output or quantises it. With `quantizedResult` the last block's
    /// output comes quantised too (for an int8 convolution), and not as floats.
    func attentionBlocksInt8(_ x: Tensor, _ blocks: [AttentionBlockWeights],
                             quantizedResult: Bool) -> (Tensor?, QuantizedInput?) {
        precondition(runInt8(blocks))
        let C = x.channels, H = x.height, W = x.width
        var x = x, q = QuantizedInput(x, self)
        var (lo, hi) = (q.lo, q.hi)
        for (i, b) in blocks.enumerated() {
            precondition(b.conv1.inChannels == C && b.conv2.outChannels == C, "attention block channels do not match its input")
            let hidden = convInt8(q, b.conv1, preluSlope: b.preluSlope, residual: nil)
            let r = convInt8(QuantizedInput(hidden, self), b.conv2, preluSlope: 1, residual: nil)
            let (sum, rLo, rHi) = channelStatistics(r)
            let scale = attentionScale(mean: sum.map { $0 / Float(r.plane) }, down: b.down, up: b.up)
            let last = i + 1 == blocks.count
            if last && !quantizedResult {
                var out = Tensor(uninitializedChannels: C, height: H, width: W)
                out.samples.withUnsafeMutableBufferPointer { op in
                    scaleAdd(r, scale, plus: (x.samples, .plain(height: H, width: W)), into: op.baseAddress!,
                             .plain(height: H, width: W))
                }
                return (out, nil)
            }
            var out = last ? nil : Tensor(uninitializedChannels: C, height: H, width: W)
            var outLo = [Float](repeating: 0, count: C), outHi = outLo
            let boundLo = (0..<C).map { scale[$0] * rLo[$0] + lo[$0] }, boundHi = (0..<C).map { scale[$0] * rHi[$0] + hi[$0] }
            q = QuantizedInput(channels: C, height: H, width: W, lo: boundLo, hi: boundHi, self) { layout, bytes in
                r.samples.withUnsafeBufferPointer { rp in
                x.samples.withUnsafeBufferPointer { xp in
                withOptionalSamples(&out) { op in
                outLo.withUnsafeMutableBufferPointer { lp in
                outHi.withUnsafeMutableBufferPointer { hp in
                scale.withUnsafeBufferPointer { sp in
                layout.inverse.withUnsafeBufferPointer { ip in
                layout.zero.withUnsafeBufferPointer { zp in
                    let p = UncheckedSendable((rp.baseAddress!, sp.baseAddress!, xp.baseAddress!, op, lp.baseAddress!,
                                               hp.baseAddress!, ip.baseAddress!, zp.baseAddress!, bytes))
                    parallel(layout.groups, work: 3 * C * H * W) { g in
                        let (r, s, x, o, l, h, i, z, b) = p.value
                        denoise_avx2_scale_add_quantize(r, s, x, o, l, h, Int32(C), Int32(H), Int32(W), i, z, b,
                                                        Int32(layout.paddedWidth), layout.planeStride,
                                                        Int32(g.lowerBound), Int32(g.upperBound))
                    }
                }}}}}}}}
            }
            if let out { x = out }
            (lo, hi) = (outLo, outHi)
        }
        return (nil, q)
    }

    /// Each channel's sum, and its range holding 0, in one pass.
    func channelStatistics(_ x: Tensor) -> (sum: [Float], lo: [Float], hi: [Float]) {
        let C = x.channels, P = x.plane
        var sum = [Float](repeating: 0, count: C), lo = sum, hi = sum
        x.samples.withUnsafeBufferPointer { xp in
        sum.withUnsafeMutableBufferPointer { sp in
        lo.withUnsafeMutableBufferPointer { lp in
        hi.withUnsafeMutableBufferPointer { hp in
            let p = UncheckedSendable((xp.baseAddress!, sp.baseAddress!, lp.baseAddress!, hp.baseAddress!))
            parallel(C, work: C * P) { c in
                let (x, s, l, h) = p.value
                denoise_avx2_channel_statistics(x, P, Int32(c.lowerBound), Int32(c.upperBound), s, l, h)
            }
        }}}}
        return (sum, lo, hi)
    }
}

/// The samples' base address, or nil for no tensor.
private func withOptionalSamples<R>(_ t: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard t != nil else { return body(nil) }
    return t!.samples.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
