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
    /// from the second one's stores, and the scale-add packs each block's output for the next.
    public func attentionBlocks(_ x: Tensor, _ blocks: [AttentionBlockWeights]) -> Tensor {
        guard useAMX, !blocks.isEmpty else {
            return blocks.reduce(x) { x, b in
                let r = conv3x3Pair(x, b.conv1, preluSlope: b.preluSlope, b.conv2)
                return channelAttention(r, down: b.down, up: b.up, plus: x)
            }
        }
        return attentionBlocksAMX(x, blocks, floatResult: true).0!
    }

    /// conv(attentionBlocks(x, blocks), w) + residual (MPRNet's ORB); on AMX the convolution reads
    /// the last block's packed output, and the blocks' float result is never stored.
    public func attentionBlocks(_ x: Tensor, _ blocks: [AttentionBlockWeights], thenConv w: ConvWeight,
                                       plus residual: Tensor) -> Tensor {
        guard useAMX, !blocks.isEmpty else {
            return conv2d(attentionBlocks(x, blocks), w, plus: residual)
        }
        return convAMX(attentionBlocksAMX(x, blocks, floatResult: false).1!, w, residual: residual)
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
