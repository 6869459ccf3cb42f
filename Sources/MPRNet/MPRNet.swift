import NeuralCore

/// The denoising MPRNet of Zamir et al. (CVPR 2021), as the official `Denoising/MPRNet.py` defines
/// it: stage 1 on four quarters, stage 2 on two halves, stage 3 at full resolution, with supervised
/// attention modules and cross-stage feature fusion between them. Weights use the official
/// state_dict names, so converted official checkpoints load as they are.
public struct MPRNet: Sendable {
    public let config: MPRNetConfig
    let shallow: [(ConvWeight, CAB)]
    let encoder1: Encoder, decoder1: Decoder, encoder2: Encoder, decoder2: Decoder
    let orsnet: ORSNet
    let sam12: SAM, sam23: SAM
    let concat12: ConvWeight, concat23: ConvWeight, tail: ConvWeight

    /// The outputs of one forward pass on an image whose sides are multiples of `config.multiple`.
    public struct Outputs: Sendable {
        public var stage1: Tensor, stage2: Tensor, stage3: Tensor
        /// The supervised attention maps (n_feat channels) of stages 1 (by halves) and 2.
        public var attention1: Tensor, attention2: Tensor
    }

    /// Builds the model from a safetensors file's tensors, validating every name and shape.
    public init(weights: SafeTensors) throws {
        let cfg = try MPRNetConfig(metadata: weights.metadata)
        try self.init(config: cfg, tensors: weights.tensors)
    }

    public init(config cfg: MPRNetConfig, tensors: [String: SafeTensors.Entry]) throws {
        let w = WeightReader(tensors)
        let n = cfg.nFeat, r = cfg.reduction
        config = cfg
        shallow = (1...3).map { (w.conv("shallow_feat\($0).0", n, 3, 3), CAB(w, "shallow_feat\($0).1", n, r)) }
        encoder1 = Encoder(w, "stage1_encoder", cfg, csff: false)
        decoder1 = Decoder(w, "stage1_decoder", cfg)
        encoder2 = Encoder(w, "stage2_encoder", cfg, csff: true)
        decoder2 = Decoder(w, "stage2_decoder", cfg)
        orsnet = ORSNet(w, "stage3_orsnet", cfg)
        sam12 = SAM(w, "sam12", n)
        sam23 = SAM(w, "sam23", n)
        concat12 = w.conv("concat12", n, 2 * n, 3)
        concat23 = w.conv("concat23", n + cfg.scaleOrsnetFeats, 2 * n, 3)
        tail = w.conv("tail", 3, n + cfg.scaleOrsnetFeats, 3)
        try w.finish()
    }

    private func shallowFeatures(_ ops: Ops, _ i: Int, _ x: Tensor) -> Tensor { shallow[i].1(ops, ops.conv2d(x, shallow[i].0)) }

    /// One forward pass; `x` is 3 × H × W in 0...1 with H and W multiples of `config.multiple`.
    public func forward(_ x: Tensor, _ ops: Ops) -> Outputs {
        let m = config.multiple
        precondition(x.channels == 3 && x.height % m == 0 && x.width % m == 0, "MPRNet needs 3 x \(m)k x \(m)k input")
        let H = x.height, W = x.width, h = H / 2, w = W / 2
        let top = ops.crop(x, rows: 0..<h, columns: 0..<W), bottom = ops.crop(x, rows: h..<H, columns: 0..<W)
        let quarters = [top, bottom].flatMap {
            [ops.crop($0, rows: 0..<h, columns: 0..<w), ops.crop($0, rows: 0..<h, columns: w..<W)]
        }

        // Stage 1: the four quarters, features joined side by side into two halves.
        let f1 = quarters.map { encoder1(ops, shallowFeatures(ops, 0, $0)) }
        let feat1Top = (0..<3).map { ops.concatWidth(f1[0][$0], f1[1][$0]) }
        let feat1Bottom = (0..<3).map { ops.concatWidth(f1[2][$0], f1[3][$0]) }
        let res1Top = decoder1(ops, feat1Top), res1Bottom = decoder1(ops, feat1Bottom)
        let (samTop, img1Top, att1Top) = sam12(ops, res1Top[0], top)
        let (samBottom, img1Bottom, att1Bottom) = sam12(ops, res1Bottom[0], bottom)

        // Stage 2: the two halves.
        let x2Top = ops.conv2d(concatenating: [shallowFeatures(ops, 1, top), samTop], concat12)
        let x2Bottom = ops.conv2d(concatenating: [shallowFeatures(ops, 1, bottom), samBottom], concat12)
        let feat2Top = encoder2(ops, x2Top, enc: feat1Top, dec: res1Top)
        let feat2Bottom = encoder2(ops, x2Bottom, enc: feat1Bottom, dec: res1Bottom)
        let feat2 = (0..<3).map { ops.concatHeight(feat2Top[$0], feat2Bottom[$0]) }
        let res2 = decoder2(ops, feat2)
        let (sam3, img2, att2) = sam23(ops, res2[0], x)

        // Stage 3: full resolution.
        let x3 = ops.conv2d(concatenating: [shallowFeatures(ops, 2, x), sam3], concat23)
        let out = ops.conv2d(orsnet(ops, x3, enc: feat2, dec: res2), tail, plus: x)
        return Outputs(stage1: ops.concatHeight(img1Top, img1Bottom), stage2: img2, stage3: out,
                       attention1: ops.concatHeight(att1Top, att1Bottom), attention2: att2)
    }

    /// `x` reflect-padded at the bottom and right to multiples of `config.multiple`, what `forward` takes.
    public func padded(_ x: Tensor, _ ops: Ops) -> Tensor {
        let m = config.multiple, ph = (m - x.height % m) % m, pw = (m - x.width % m) % m
        return ph + pw > 0 ? ops.padReflect(x, bottom: ph, right: pw) : x
    }

    /// Denoises an image of any size: pads (`padded`), runs, crops back.
    public func denoise(_ x: Tensor, _ ops: Ops) -> Tensor {
        let y = forward(padded(x, ops), ops).stage3
        return y.height == x.height && y.width == x.width ? y : ops.crop(y, rows: 0..<x.height, columns: 0..<x.width)
    }
}
