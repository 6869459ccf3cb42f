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
    /// `channelAttention`. On AMX every block's hidden layer and output go straight into bfloat16
    /// pairs for the next convolution, and the channel means come from the convolution's stores.
    public static func attentionBlocks(_ x: Tensor, _ blocks: [AttentionBlockWeights]) -> Tensor {
        guard useAMX.load(ordering: .relaxed) else {
            return blocks.reduce(x) { x, b in
                let r = conv2d(conv2d(x, b.conv1, preluSlope: b.preluSlope), b.conv2)
                return channelAttention(r, down: b.down, up: b.up, plus: x)
            }
        }
        var x = x, packed: PairPlanes? = PairPlanes(packing: x)
        for (i, b) in blocks.enumerated() {
            let (r, mean) = attentionBlockConvsAMX(packed!, b.conv1, b.preluSlope, b.conv2)
            (x, packed) = scaleAddAMX(r, attentionScale(mean: mean, down: b.down, up: b.up), plus: x,
                                      packing: i + 1 < blocks.count)
        }
        return x
    }
}
