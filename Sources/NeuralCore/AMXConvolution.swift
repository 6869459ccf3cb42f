import ConvKernelsAMX

/// Channel pairs as bfloat16 in a zero frame: the input layout of the AMX kernels (conv_amx.h).
struct PairPlanes {
    let channels: Int, height: Int, width: Int
    var data: [UInt32]

    /// Pairs per row and per plane for a height x width image: a row of zeros above and below, and
    /// 18 columns of zeros that keep a tile's 16-pixel loads at the row end inside the frame.
    static func strides(height: Int, width: Int) -> (paddedWidth: Int, planeStride: Int) {
        (width + 18, (height + 2) * (width + 18))
    }

    var paddedWidth: Int { Self.strides(height: height, width: width).paddedWidth }
    var planeStride: Int { Self.strides(height: height, width: width).planeStride }

    /// Planes of undefined values, as many as the kernels read for `channels`.
    private init(uninitializedChannels channels: Int, height: Int, width: Int) {
        (self.channels, self.height, self.width) = (channels, height, width)
        let count = Int(denoise_amx_input_planes(Int32(channels))) * Self.strides(height: height, width: width).planeStride
        data = [UInt32](unsafeUninitializedCapacity: count) { _, n in n = count }
    }

    /// Planes whose image the caller writes; the frame is zero.
    init(framedChannels channels: Int, height: Int, width: Int) {
        self.init(uninitializedChannels: channels, height: height, width: width)
        let (Wp, stride) = (paddedWidth, planeStride)
        data.withUnsafeMutableBufferPointer { p in
            denoise_amx_clear_frame(p.baseAddress!, Int32(channels), Int32(height), Int32(width), Int32(Wp), stride)
        }
    }

    /// `x` rounded to bfloat16 and packed, the planes split across the context's threads.
    init(packing x: Tensor, _ ops: Ops) { self.init(packing: [x], ops) }

    /// The channels of `parts` one after another (torch.cat along channels), rounded to bfloat16
    /// and packed; every part but the last has an even channel count, so each pair plane comes
    /// from one part.
    init(packing parts: [Tensor], _ ops: Ops) {
        let (C, H, W) = (parts.reduce(0) { $0 + $1.channels }, parts[0].height, parts[0].width)
        precondition(parts.allSatisfy { $0.height == H && $0.width == W }, "packed parts differ in size")
        precondition(parts.dropLast().allSatisfy { $0.channels % 2 == 0 }, "packed parts but the last need even channels")
        self.init(uninitializedChannels: C, height: H, width: W)
        let (Wp, stride, planes) = (paddedWidth, planeStride, data.count / planeStride)
        data.withUnsafeMutableBufferPointer { pp in
            var first = 0  // the part's first pair plane
            for (i, x) in parts.enumerated() {
                let count = i == parts.count - 1 ? planes - first : x.channels / 2  // the last clears the rest
                x.samples.withUnsafeBufferPointer { xp in
                    let (src, dst) = (xp.baseAddress!, pp.baseAddress! + first * stride)
                    ops.parallel(count, work: count * stride) { r in
                        denoise_amx_pack_input(src, Int32(x.channels), Int32(H), Int32(W), Int32(Wp), stride, dst,
                                               Int32(r.lowerBound), Int32(r.upperBound))
                    }
                }
                first += x.channels / 2
            }
        }
    }
}

extension Ops {
    /// Rows of conv(x) on AMX split across the threads, stored as `out` says (its pointers must
    /// stay valid for the call).
    func convRowsAMX(_ x: PairPlanes, _ w: ConvWeight, _ out: denoise_amx_output) {
        precondition(x.channels == w.inChannels, "conv input has \(x.channels) channels, weight expects \(w.inChannels)")
        let (H, W, Wp, stride) = (x.height, x.width, x.paddedWidth, x.planeStride)
        x.data.withUnsafeBufferPointer { xp in
        w.amx.withUnsafeBufferPointer { wp in
            let (a, b) = (wp.baseAddress!, xp.baseAddress!)
            parallel(H, work: x.channels * w.outChannels * H * W / 8) { rows in
                withUnsafePointer(to: out) { o in
                    denoise_amx_conv_rows(b, Int32(x.channels), Int32(W), Int32(Wp), stride, a, Int32(w.kernel),
                                          Int32(w.outChannels), Int32(H), Int32(rows.lowerBound),
                                          Int32(rows.upperBound), o)
                }
            }
        }}
    }

    /// PReLU(conv(x)) + residual on AMX, as float planes.
    func convAMX(_ x: PairPlanes, _ w: ConvWeight, preluSlope: Float = 1, residual: Tensor? = nil) -> Tensor {
        precondition(residual == nil || residual!.shape == [w.outChannels, x.height, x.width],
                     "conv residual has the wrong shape")
        var out = Tensor(uninitializedChannels: w.outChannels, height: x.height, width: x.width)
        out.samples.withUnsafeMutableBufferPointer { op in
            withResidual(residual) { rp in
                convRowsAMX(x, w, denoise_amx_output(planes: op.baseAddress!, residual: rp, pairs: nil, rowSums: nil,
                                                     preluSlope: preluSlope))
            }
        }
        return out
    }

    /// The two convolutions of a channel attention block: conv2(PReLU(conv1(x))), both layers
    /// written straight into bfloat16 pairs, and each output channel's mean (of the float sums).
    /// bfloat16 is as much as the channel attention's scale-add needs (PyTorch's bfloat16 autocast
    /// rounds every convolution's output too), and half the memory traffic of floats.
    func attentionBlockConvsAMX(_ x: PairPlanes, _ conv1: ConvWeight, _ slope: Float,
                                       _ conv2: ConvWeight) -> (PairPlanes, mean: [Float]) {
        let (H, W, C) = (x.height, x.width, conv2.outChannels)
        var hidden = PairPlanes(framedChannels: conv1.outChannels, height: H, width: W)
        hidden.data.withUnsafeMutableBufferPointer { hp in
            convRowsAMX(x, conv1, denoise_amx_output(planes: nil, residual: nil, pairs: hp.baseAddress!, rowSums: nil,
                                                     preluSlope: slope))
        }
        var r = PairPlanes(framedChannels: C, height: H, width: W)
        var rowSums = [Float](repeating: 0, count: H * C)
        r.data.withUnsafeMutableBufferPointer { rp in
            rowSums.withUnsafeMutableBufferPointer { sp in
                convRowsAMX(hidden, conv2, denoise_amx_output(planes: nil, residual: nil, pairs: rp.baseAddress!,
                                                              rowSums: sp.baseAddress!, preluSlope: 1))
            }
        }
        let mean = (0..<C).map { c in
            Float((0..<H).reduce(0.0) { $0 + Double(rowSums[$1 * C + c]) } / Double(H * W))
        }
        return (r, mean)
    }

    /// x · scale[c] + residual per channel, x in bfloat16 pairs, the result as floats (when
    /// `storing`) and packed for the next convolution (when `packing`).
    func scaleAddAMX(_ x: PairPlanes, _ scale: [Float], plus residual: Tensor, packing: Bool,
                            storing: Bool = true) -> (Tensor?, PairPlanes?) {
        let (C, H, W) = (x.channels, x.height, x.width)
        precondition(residual.shape == [C, H, W] && scale.count == C && (packing || storing))
        var out = storing ? Tensor(uninitializedChannels: C, height: H, width: W) : nil
        var pairs = packing ? PairPlanes(framedChannels: C, height: H, width: W) : nil
        let (Wp, stride) = (x.paddedWidth, x.planeStride)
        x.data.withUnsafeBufferPointer { xp in
        residual.samples.withUnsafeBufferPointer { rp in
            let (src, res) = (xp.baseAddress!, rp.baseAddress!)
            func run(_ dst: UnsafeMutablePointer<Float>?, _ packed: UnsafeMutablePointer<UInt32>?) {
                parallel((C + 1) / 2, work: 3 * C * H * W) { r in
                    denoise_amx_scale_add(src, scale, res, Int32(C), Int32(H), Int32(W), dst, packed, Int32(Wp), stride,
                                          Int32(r.lowerBound), Int32(r.upperBound))
                }
            }
            func withPairs(_ dst: UnsafeMutablePointer<Float>?) {
                if pairs == nil { run(dst, nil) } else { pairs!.data.withUnsafeMutableBufferPointer { run(dst, $0.baseAddress!) } }
            }
            if out == nil { withPairs(nil) } else { out!.samples.withUnsafeMutableBufferPointer { withPairs($0.baseAddress!) } }
        }}
        return (out, pairs)
    }
}
