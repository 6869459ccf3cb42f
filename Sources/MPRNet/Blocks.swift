import NeuralCore

/// Channel attention block: conv3x3, PReLU, conv3x3, channel attention, plus the input.
struct CAB {
    let weights: AttentionBlockWeights

    init(_ w: WeightReader, _ p: String, _ c: Int, _ reduction: Int) {
        weights = AttentionBlockWeights(conv1: w.conv(p + ".body.0", c, c, 3),
                                        preluSlope: w.slope(p + ".body.1.weight"),  // the one PReLU all CABs share
                                        conv2: w.conv(p + ".body.2", c, c, 3),
                                        down: w.conv(p + ".CA.conv_du.0", c / reduction, c, 1),
                                        up: w.conv(p + ".CA.conv_du.2", c, c / reduction, 1))
    }

    func callAsFunction(_ ops: Ops, _ x: Tensor) -> Tensor { ops.attentionBlocks(x, [weights]) }
}

func cabs(_ w: WeightReader, _ p: String, _ c: Int, _ count: Int, _ reduction: Int) -> [CAB] {
    (0..<count).map { CAB(w, "\(p).\($0)", c, reduction) }
}

func run(_ ops: Ops, _ blocks: [CAB], _ x: Tensor) -> Tensor { ops.attentionBlocks(x, blocks.map(\.weights)) }

/// Bilinear x0.5, then a 1x1 conv adding `s` channels.
func downSample(_ ops: Ops, _ x: Tensor, _ conv: ConvWeight) -> Tensor { ops.conv2d(ops.downsample2(x), conv) }

/// SkipUpSample: bilinear x2, a 1x1 conv removing `s` channels, plus `skip`. Both are linear and
/// act on different axes, so they commute: the conv runs first, on a quarter of the pixels, and
/// the upsampling then moves fewer channels.
func upSample(_ ops: Ops, _ x: Tensor, _ conv: ConvWeight, plus skip: Tensor) -> Tensor {
    ops.upsample2(ops.conv2d(x, conv), plus: skip)
}

struct Encoder {
    let levels: [[CAB]]
    let down12: ConvWeight, down23: ConvWeight
    /// Cross-stage feature fusion (stage 2 only): 1x1 convs of stage-1 encoder and decoder features.
    let csffEnc: [ConvWeight], csffDec: [ConvWeight]

    init(_ w: WeightReader, _ p: String, _ cfg: MPRNetConfig, csff: Bool) {
        let n = cfg.nFeat, s = cfg.scaleUnetFeats
        let widths = [n, n + s, n + 2 * s]
        levels = (0..<3).map { cabs(w, "\(p).encoder_level\($0 + 1)", widths[$0], 2, cfg.reduction) }
        down12 = w.conv(p + ".down12.down.1", n + s, n, 1)
        down23 = w.conv(p + ".down23.down.1", n + 2 * s, n + s, 1)
        csffEnc = csff ? (0..<3).map { w.conv("\(p).csff_enc\($0 + 1)", widths[$0], widths[$0], 1) } : []
        csffDec = csff ? (0..<3).map { w.conv("\(p).csff_dec\($0 + 1)", widths[$0], widths[$0], 1) } : []
    }

    func callAsFunction(_ ops: Ops, _ input: Tensor, enc: [Tensor]? = nil, dec: [Tensor]? = nil) -> [Tensor] {
        var x = input
        var outs: [Tensor] = []
        for i in 0..<3 {
            x = run(ops, levels[i], x)
            if let enc, let dec {
                x = ops.conv2d(enc[i], csffEnc[i], dec[i], csffDec[i], plus: x)
            }
            outs.append(x)
            if i < 2 { x = downSample(ops, x, i == 0 ? down12 : down23) }
        }
        return outs
    }
}

/// A level under the U-Net's bottom, at half its resolution: down, CABs, up, added to its input.
struct Context {
    let down: ConvWeight, blocks: [CAB], up: ConvWeight

    init(_ w: WeightReader, _ p: String, _ c: Int, _ s: Int, _ cfg: MPRNetConfig) {
        down = w.conv(p + ".down.down.1", c + s, c, 1)
        blocks = cabs(w, p + ".body", c + s, cfg.contextCabs, cfg.reduction)
        up = w.conv(p + ".up.up.1", c, c + s, 1)
    }

    func callAsFunction(_ ops: Ops, _ x: Tensor) -> Tensor {
        upSample(ops, run(ops, blocks, downSample(ops, x, down)), up, plus: x)
    }
}

struct Decoder {
    let levels: [[CAB]]
    let skip1: CAB, skip2: CAB
    let up21: ConvWeight, up32: ConvWeight
    let context: Context?

    init(_ w: WeightReader, _ p: String, _ cfg: MPRNetConfig) {
        let n = cfg.nFeat, s = cfg.scaleUnetFeats
        let widths = [n, n + s, n + 2 * s]
        levels = (0..<3).map { cabs(w, "\(p).decoder_level\($0 + 1)", widths[$0], 2, cfg.reduction) }
        skip1 = CAB(w, p + ".skip_attn1", n, cfg.reduction)
        skip2 = CAB(w, p + ".skip_attn2", n + s, cfg.reduction)
        up21 = w.conv(p + ".up21.up.1", n, n + s, 1)
        up32 = w.conv(p + ".up32.up.1", n + s, n + 2 * s, 1)
        context = cfg.contextCabs > 0 ? Context(w, p + ".context3", n + 2 * s, s, cfg) : nil
    }

    func callAsFunction(_ ops: Ops, _ enc: [Tensor]) -> [Tensor] {
        let dec3 = run(ops, levels[2], context.map { $0(ops, enc[2]) } ?? enc[2])
        let dec2 = run(ops, levels[1], upSample(ops, dec3, up32, plus: skip2(ops, enc[1])))
        let dec1 = run(ops, levels[0], upSample(ops, dec2, up21, plus: skip1(ops, enc[0])))
        return [dec1, dec2, dec3]
    }
}

/// Supervised attention module: the stage's image (conv2(x) + input) and attention-gated features.
struct SAM {
    let conv1: ConvWeight, conv2: ConvWeight, conv3: ConvWeight

    init(_ w: WeightReader, _ p: String, _ n: Int) {
        conv1 = w.conv(p + ".conv1", n, n, 1)
        conv2 = w.conv(p + ".conv2", 3, n, 1)
        conv3 = w.conv(p + ".conv3", n, 3, 1)
    }

    /// Returns (features, image, attention): attention = sigmoid(conv3(image)), n channels.
    func callAsFunction(_ ops: Ops, _ x: Tensor, _ image: Tensor) -> (Tensor, Tensor, Tensor) {
        let convs = ops.conv2d(x, [conv1, conv2], plus: [nil, image])
        let img = convs[1]
        var attention = ops.conv2d(img, conv3)
        ops.sigmoid(&attention)
        return (ops.multiplyAdd(convs[0], attention, plus: x), img, attention)
    }
}

/// Original-resolution block: CABs and a 3x3 conv, plus the input.
struct ORB {
    let blocks: [CAB]
    let tail: ConvWeight

    init(_ w: WeightReader, _ p: String, _ c: Int, _ cfg: MPRNetConfig) {
        blocks = cabs(w, p + ".body", c, cfg.numCab, cfg.reduction)
        tail = w.conv("\(p).body.\(cfg.numCab)", c, c, 3)
    }

    /// tail(CABs(x)) + `residual`, which holds the block's skip connection x.
    func callAsFunction(_ ops: Ops, _ x: Tensor, plus residual: Tensor) -> Tensor {
        ops.attentionBlocks(x, blocks.map(\.weights), thenConv: tail, plus: residual)
    }
}

struct ORSNet {
    let orbs: [ORB]
    /// Per level, the encoder's and the decoder's features to ORSNet's channels. Levels 1 and 2
    /// are UpSample (bilinear x2, 1x1 conv), once or twice, then conv_enc/conv_dec (1x1): the 1x1
    /// convs compose into one and, being linear per pixel, commute with the upsampling, so they run
    /// at the features' own resolution and only the sum is brought up to full size.
    let fromEnc: [ConvWeight], fromDec: [ConvWeight]

    init(_ w: WeightReader, _ p: String, _ cfg: MPRNetConfig) {
        let n = cfg.nFeat, s = cfg.scaleUnetFeats, c = n + cfg.scaleOrsnetFeats
        orbs = (1...3).map { ORB(w, "\(p).orb\($0)", c, cfg) }
        func lateral(_ side: String) -> [ConvWeight] {
            let up1 = w.conv("\(p).up_\(side)1.up.1", n, n + s, 1)
            let up2 = [w.conv("\(p).up_\(side)2.0.up.1", n + s, n + 2 * s, 1), w.conv("\(p).up_\(side)2.1.up.1", n, n + s, 1)]
            let conv = (1...3).map { w.conv("\(p).conv_\(side)\($0)", c, n, 1) }
            guard w.problems.isEmpty else { return conv }  // a model that will not load: skip the products
            return [conv[0], conv[1].after(up1), conv[2].after(up2[1]).after(up2[0])]
        }
        fromEnc = lateral("enc")
        fromDec = lateral("dec")
    }

    func callAsFunction(_ ops: Ops, _ input: Tensor, enc: [Tensor], dec: [Tensor]) -> Tensor {
        var x = input
        for i in 0..<3 {
            // x ← ORB(x) + conv_enc(up(enc)) + conv_dec(up(dec)), the last two summed at level i's size.
            let lateral = ops.conv2d(enc[i], fromEnc[i], dec[i], fromDec[i], plus: i == 0 ? x : nil)
            let residual = i == 0 ? lateral
                : (1...i).reduce(lateral) { t, k in ops.upsample2(t, plus: k == i ? x : nil) }
            x = orbs[i](ops, x, plus: residual)
        }
        return x
    }
}
