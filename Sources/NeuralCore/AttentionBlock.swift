import ConvArguments

/// The weights of a channel attention block (MPRNet's CAB): conv3x3, PReLU, conv3x3, channel
/// attention (1x1 convs `down` and `up`), plus the input.
public struct AttentionBlockWeights: Sendable {
    public let conv1: ConvWeight, preluSlope: Float, conv2: ConvWeight, down: ConvWeight, up: ConvWeight

    public init(conv1: ConvWeight, preluSlope: Float, conv2: ConvWeight, down: ConvWeight, up: ConvWeight) {
        precondition(conv1.kernel == 3 && conv2.kernel == 3 && down.kernel == 1 && up.kernel == 1)
        (self.conv1, self.preluSlope, self.conv2, self.down, self.up) = (conv1, preluSlope, conv2, down, up)
    }
}

extension Ops {
    /// Channel attention blocks applied in turn: x ← x + CA(conv2(PReLU(conv1(x)))), CA as in
    /// `channelAttention`. On AMX both convolutions store bfloat16 pairs, the channel means come
    /// from the second one's stores, and the scale-add packs each block's output for the next; in
    /// int8 the scale-add quantises it for the next (`attentionBlocksInt8`).
    public func attentionBlocks(_ x: Tensor, _ blocks: [AttentionBlockWeights]) -> Tensor {
        if useAMX && !blocks.isEmpty { return attentionBlocksAMX(x, blocks, floatResult: true).0! }
        if runInt8(blocks) { return attentionBlocksInt8(x, blocks, quantizedResult: false).0! }
        guard !blocks.isEmpty, runOnFloatKernels(blocks) else {
            return blocks.reduce(x) { x, b in
                let r = conv3x3Pair(x, b.conv1, preluSlope: b.preluSlope, b.conv2)
                return channelAttention(r, down: b.down, up: b.up, plus: x)
            }
        }
        let H = x.height, W = x.width, Wp = conv3x3PaddedWidth(W, lanes: kernels.lanes)
        return Tensor(channels: x.channels, height: H, width: W,
                      samples: attentionBlocksFramed(x, blocks, paddedWidth: Wp, framedResult: false, kernels: kernels))
    }

    /// Whether every convolution of `blocks` runs on the float kernels (neither AMX nor int8).
    func runOnFloatKernels(_ blocks: [AttentionBlockWeights]) -> Bool {
        !useAMX && blocks.allSatisfy { !runsInt8($0.conv1) && !runsInt8($0.conv2) }
    }

    /// The blocks on the float kernels, each block's input kept zero-framed: it is the first
    /// convolution's input and the block's residual, and the previous block's channel attention
    /// writes it, so that only the chain's input is framed by a copy. The result is planes of
    /// height × width, or (`framedResult`) framed to `paddedWidth` for a following 3x3 layer.
    func attentionBlocksFramed(_ x: Tensor, _ blocks: [AttentionBlockWeights], paddedWidth Wp: Int, framedResult: Bool,
                               kernels k: ConvKernelSet) -> [Float] {
        let H = x.height, W = x.width, framed = PlaneLayout.framed(height: H, paddedWidth: Wp)
        var input = zeroPad(x, paddedWidth: Wp)
        for (i, b) in blocks.enumerated() {
            precondition(b.conv1.inChannels == x.channels && b.conv2.outChannels == x.channels,
                         "attention block channels do not match its input")
            let r = conv3x3Pair(framed: input, height: H, width: W, paddedWidth: Wp, b.conv1, preluSlope: b.preluSlope,
                                b.conv2, kernels: k)
            let scale = attentionScale(mean: channelMeans(r), down: b.down, up: b.up)
            let last = i + 1 == blocks.count, toFrame = !last || framedResult
            let count = toFrame ? input.count : r.samples.count
            var next = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
            next.withUnsafeMutableBufferPointer { np in
                if toFrame { zeroFrames(np.baseAddress!, channels: r.channels, height: H, width: W, paddedWidth: Wp) }
                scaleAdd(r, scale, plus: (input, framed), into: np.baseAddress!,
                         toFrame ? framed : .plain(height: H, width: W))
            }
            input = next
        }
        return input
    }

    /// conv(attentionBlocks(x, blocks), w) + residual (MPRNet's ORB); on AMX the convolution reads
    /// the last block's packed output, and the blocks' float result is never stored (in int8 it
    /// reads the last block's output as quantised by its scale-add); on the float kernels it reads
    /// the last block's output zero-framed.
    public func attentionBlocks(_ x: Tensor, _ blocks: [AttentionBlockWeights], thenConv w: ConvWeight,
                                       plus residual: Tensor) -> Tensor {
        if useAMX && !blocks.isEmpty { return convAMX(attentionBlocksAMX(x, blocks, floatResult: false).1!, w, residual: residual) }
        if runInt8(blocks) && runsInt8(w) {
            precondition(residual.shape == [w.outChannels, x.height, x.width], "attention blocks' tail convolution does not match")
            return convInt8(attentionBlocksInt8(x, blocks, quantizedResult: true).1!, w, preluSlope: 1, residual: residual)
        }
        guard !blocks.isEmpty, w.kernel == 3, !runsInt8(w), runOnFloatKernels(blocks) else {
            return conv2d(attentionBlocks(x, blocks), w, plus: residual)
        }
        precondition(w.inChannels == x.channels && residual.shape == [w.outChannels, x.height, x.width],
                     "attention blocks' tail convolution does not match")
        let H = x.height, W = x.width, Wp = conv3x3PaddedWidth(W, lanes: kernels.lanes)
        let framed = attentionBlocksFramed(x, blocks, paddedWidth: Wp, framedResult: true, kernels: kernels)
        return Tensor(channels: w.outChannels, height: H, width: W,
                      samples: conv3x3(framed: framed, height: H, width: W, paddedWidth: Wp, w, preluSlope: 1,
                                       plus: residual, framedOutput: false, kernels: kernels))
    }

    /// The blocks on AMX: the result as floats (when `floatResult`) and packed (when not).
    private func attentionBlocksAMX(_ x: Tensor, _ blocks: [AttentionBlockWeights],
                                           floatResult: Bool) -> (Tensor?, PairPlanes?) {
        var x = x, packed = PairPlanes(packing: x, self)
        for (i, b) in blocks.enumerated() {
            let (r, mean) = attentionBlockConvsAMX(packed, b.conv1, b.preluSlope, b.conv2)
            let last = i + 1 == blocks.count, scale = attentionScale(mean: mean, down: b.down, up: b.up)
            if last && floatResult { return (scaleAddAMX(r, scale, plus: x, packing: false).0, nil) }
            let (next, pairs) = scaleAddAMX(r, scale, plus: x, packing: true, storing: !last)
            (x, packed) = (next ?? x, pairs!)
        }
        return (nil, packed)
    }
}
