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
    /// takes the range of a block's output or quantises it. Inside a block, the first convolution's
    /// output goes straight to the second's input (`convInt8Quantized`) and r is kept in half floats
    /// (`convInt8Halves`). With `quantizedResult` the last block's output comes quantised too (for
    /// an int8 convolution), and not as floats.
    func attentionBlocksInt8(_ x: Tensor, _ blocks: [AttentionBlockWeights],
                             quantizedResult: Bool) -> (Tensor?, QuantizedInput?) {
        precondition(runInt8(blocks))
        let C = x.channels, H = x.height, W = x.width
        var x = x, q = QuantizedInput(x, self)
        var (lo, hi) = (q.lo, q.hi)
        for (i, b) in blocks.enumerated() {
            precondition(b.conv1.inChannels == C && b.conv2.outChannels == C, "attention block channels do not match its input")
            let hidden = convInt8Quantized(q, b.conv1, preluSlope: b.preluSlope)
            let r = convInt8Halves(hidden, b.conv2, preluSlope: 1, ranges: false).halves
            let (sum, rLo, rHi) = channelStatistics(r, channels: C, plane: H * W)
            let scale = attentionScale(mean: sum.map { $0 / Float(H * W) }, down: b.down, up: b.up)
            let last = i + 1 == blocks.count
            var out = last && quantizedResult ? nil : Tensor(uninitializedChannels: C, height: H, width: W)
            var outLo = [Float](repeating: 0, count: C), outHi = outLo
            if last && !quantizedResult {
                scaleAdd(r, scale, plus: x, into: &out, lo: &outLo, hi: &outHi, quantized: nil)
                return (out, nil)
            }
            let boundLo = (0..<C).map { scale[$0] * rLo[$0] + lo[$0] }, boundHi = (0..<C).map { scale[$0] * rHi[$0] + hi[$0] }
            q = QuantizedInput(channels: C, height: H, width: W, lo: boundLo, hi: boundHi, self) { layout, bytes in
                scaleAdd(r, scale, plus: x, into: &out, lo: &outLo, hi: &outHi, quantized: (layout, bytes))
            }
            if let out { x = out }
            (lo, hi) = (outLo, outHi)
        }
        return (nil, q)
    }

    /// out = r·scale + x per channel (r in half floats; out not written when nil), each channel's range
    /// of out (0 included) into lo and hi, and out quantised into `quantized`'s layout and bytes, in
    /// one pass split among the threads by groups of four channels.
    private func scaleAdd(_ r: [UInt16], _ scale: [Float], plus x: Tensor, into out: inout Tensor?,
                          lo: inout [Float], hi: inout [Float],
                          quantized: (layout: QuantizedInput.Layout, bytes: UnsafeMutablePointer<UInt8>)?) {
        let (C, H, W) = (x.channels, x.height, x.width)
        let (inverse, zero) = (quantized?.layout.inverse ?? [], quantized?.layout.zero ?? [])
        let (Wp, stride) = (Int32(quantized?.layout.paddedWidth ?? 0), quantized?.layout.planeStride ?? 0)
        r.withUnsafeBufferPointer { rp in
        x.samples.withUnsafeBufferPointer { xp in
        withOptionalSamples(&out) { op in
        lo.withUnsafeMutableBufferPointer { lp in
        hi.withUnsafeMutableBufferPointer { hp in
        scale.withUnsafeBufferPointer { sp in
        inverse.withUnsafeBufferPointer { ip in
        zero.withUnsafeBufferPointer { zp in
            let p = UncheckedSendable((rp.baseAddress!, sp.baseAddress!, xp.baseAddress!, op, lp.baseAddress!,
                                       hp.baseAddress!, ip.baseAddress, zp.baseAddress, quantized?.bytes))
            parallel(Int(denoise_vnni_groups(Int32(C))), work: 3 * C * H * W) { g in
                let (r, s, x, o, l, h, i, z, b) = p.value
                denoise_avx2_scale_add_quantize(r, s, x, o, l, h, Int32(C), Int32(H), Int32(W), i, z, b, Wp, stride,
                                                Int32(g.lowerBound), Int32(g.upperBound))
            }
        }}}}}}}}
    }

    /// Each channel's sum, and its range holding 0, of half float planes, in one pass.
    func channelStatistics(_ x: [UInt16], channels C: Int, plane P: Int) -> (sum: [Float], lo: [Float], hi: [Float]) {
        var sum = [Float](repeating: 0, count: C), lo = sum, hi = sum
        x.withUnsafeBufferPointer { xp in
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
