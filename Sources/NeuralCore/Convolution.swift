import ConvArguments

/// Convolutions: the direct float kernels (ConvKernelSet), AMX or int8 (Int8Convolution.swift), and the
/// zero-framed planes the float kernels read.
extension Ops {
    /// Bias-free convolution, zero padding k/2: PReLU(conv(x)) + residual, PReLU (3x3 only) and
    /// residual optional and computed in the same pass.
    public func conv2d(_ x: Tensor, _ w: ConvWeight, preluSlope: Float? = nil, plus residual: Tensor? = nil) -> Tensor {
        conv2d(x, w, preluSlope: preluSlope, plus: residual, kernels: kernels)
    }

    /// conv2d of the channels of `parts` one after another (torch.cat along channels), without
    /// the concatenated copy where the kernels can read the parts as they are.
    public func conv2d(concatenating parts: [Tensor], _ w: ConvWeight) -> Tensor {
        if runsInt8(w) { return convInt8(QuantizedInput(concatenating: parts, self), w, preluSlope: 1, residual: nil) }
        guard useAMX, parts.dropLast().allSatisfy({ $0.channels % 2 == 0 }) else { return conv2d(concatChannels(parts), w) }
        precondition(w.kernel == 1 || w.kernel == 3, "only 1x1 and 3x3 convolutions are implemented")
        return convAMX(PairPlanes(packing: parts, self), w)
    }

    /// conv(a, wa) + conv(b, wb) + residual, both 1x1 (MPRNet's cross-stage fusions): on the float
    /// kernels one pass over both inputs, as a convolution of their concatenation.
    public func conv2d(_ a: Tensor, _ wa: ConvWeight, _ b: Tensor, _ wb: ConvWeight, plus residual: Tensor?) -> Tensor {
        conv2d(a, wa, b, wb, plus: residual, kernels: kernels)
    }

    /// The sum of two 1x1 convolutions with the kernels of a given build.
    func conv2d(_ a: Tensor, _ wa: ConvWeight, _ b: Tensor, _ wb: ConvWeight, plus residual: Tensor?,
                kernels k: ConvKernelSet) -> Tensor {
        guard !useAMX, wa.kernel == 1, wb.kernel == 1 else { return conv2d(b, wb, plus: conv2d(a, wa, plus: residual)) }
        precondition(a.channels == wa.inChannels && b.channels == wb.inChannels && wa.outChannels == wb.outChannels
                     && a.height == b.height && a.width == b.width, "summed convolutions do not match")
        let H = a.height, W = a.width, Cout = wa.outChannels
        precondition(residual == nil || residual!.shape == [Cout, H, W], "conv residual has the wrong shape")
        let w = wa.beside(wb)
        var out = Tensor(uninitializedChannels: Cout, height: H, width: W)
        w.data.withUnsafeBufferPointer { wp in
        a.samples.withUnsafeBufferPointer { ap in
        b.samples.withUnsafeBufferPointer { bp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let args = Conv1x1Arguments(input: ap.baseAddress!, cin: w.inChannels, plane: H * W, weights: wp.baseAddress!,
                                        cout: Cout, output: op.baseAddress!, residual: rp,
                                        secondInput: bp.baseAddress!, firstChannels: a.channels)
            parallel(H * W, work: (w.inChannels + Cout) * H * W, align: k.lanes) { k.conv1x1(args, $0) }
        }}}}}
        return out
    }

    /// Several convolutions of one input, each plus its residual (if any); on AMX the input is
    /// packed once for all of them.
    public func conv2d(_ x: Tensor, _ weights: [ConvWeight], plus residuals: [Tensor?]) -> [Tensor] {
        precondition(weights.count == residuals.count, "one residual (or nil) per convolution")
        if useInt8, weights.allSatisfy(runsInt8) {
            let q = QuantizedInput(x, self)
            return zip(weights, residuals).map { convInt8(q, $0, preluSlope: 1, residual: $1) }
        }
        guard useAMX else { return zip(weights, residuals).map { conv2d(x, $0, plus: $1) } }
        let packed = PairPlanes(packing: x, self)
        return zip(weights, residuals).map { convAMX(packed, $0, residual: $1) }
    }

    /// `conv2d` with the kernels of a given build (the tests run every build the CPU can).
    func conv2d(_ x: Tensor, _ w: ConvWeight, preluSlope: Float?, plus residual: Tensor?, kernels k: ConvKernelSet) -> Tensor {
        precondition(x.channels == w.inChannels, "conv input has \(x.channels) channels, weight expects \(w.inChannels)")
        precondition(preluSlope == nil || w.kernel == 3, "fused PReLU is for 3x3 convolutions")
        precondition(w.kernel == 1 || w.kernel == 3, "only 1x1 and 3x3 convolutions are implemented")
        let H = x.height, W = x.width, Cin = x.channels, Cout = w.outChannels
        precondition(residual == nil || residual!.shape == [Cout, H, W], "conv residual has the wrong shape")
        if useAMX {
            return convAMX(PairPlanes(packing: x, self), w, preluSlope: preluSlope ?? 1, residual: residual)
        }
        if runsInt8(w) { return convInt8(QuantizedInput(x, self), w, preluSlope: preluSlope ?? 1, residual: residual) }
        if w.kernel == 3 {
            let Wp = conv3x3PaddedWidth(W, lanes: k.lanes)
            let out = conv3x3(framed: zeroPad(x, paddedWidth: Wp), height: H, width: W, paddedWidth: Wp, w,
                              preluSlope: preluSlope ?? 1, plus: residual, framedOutput: false, kernels: k)
            return Tensor(channels: Cout, height: H, width: W, samples: out)
        }
        var out = Tensor(uninitializedChannels: Cout, height: H, width: W)
        w.data.withUnsafeBufferPointer { wp in
        x.samples.withUnsafeBufferPointer { xp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let args = Conv1x1Arguments(input: xp.baseAddress!, cin: Cin, plane: H * W, weights: wp.baseAddress!,
                                        cout: Cout, output: op.baseAddress!, residual: rp)
            parallel(H * W, work: (Cin + Cout) * H * W, align: k.lanes) { k.conv1x1(args, $0) }
        }}}}
        return out
    }

    /// conv(PReLU(conv(x, first)), second), both 3x3 (the CAB's pair): on the float kernels the
    /// first writes straight into the second's zero-framed input, which saves the framing copy.
    public func conv3x3Pair(_ x: Tensor, _ first: ConvWeight, preluSlope: Float, _ second: ConvWeight) -> Tensor {
        conv3x3Pair(x, first, preluSlope: preluSlope, second, kernels: kernels)
    }

    /// `conv3x3Pair` with the kernels of a given build.
    func conv3x3Pair(_ x: Tensor, _ first: ConvWeight, preluSlope: Float, _ second: ConvWeight,
                     kernels k: ConvKernelSet) -> Tensor {
        precondition(first.kernel == 3 && second.kernel == 3 && second.inChannels == first.outChannels)
        guard !useAMX, !runsInt8(first), !runsInt8(second) else {
            return conv2d(conv2d(x, first, preluSlope: preluSlope, plus: nil, kernels: k), second, preluSlope: nil,
                          plus: nil, kernels: k)
        }
        precondition(x.channels == first.inChannels, "conv input has \(x.channels) channels, weight expects \(first.inChannels)")
        let Wp = conv3x3PaddedWidth(x.width, lanes: k.lanes)
        return conv3x3Pair(framed: zeroPad(x, paddedWidth: Wp), height: x.height, width: x.width, paddedWidth: Wp,
                           first, preluSlope: preluSlope, second, kernels: k)
    }

    /// `conv3x3Pair` on the float kernels of an input already zero-framed (`zeroPad`'s layout).
    func conv3x3Pair(framed input: [Float], height H: Int, width W: Int, paddedWidth Wp: Int, _ first: ConvWeight,
                     preluSlope: Float, _ second: ConvWeight, kernels k: ConvKernelSet) -> Tensor {
        let hidden = conv3x3(framed: input, height: H, width: W, paddedWidth: Wp, first,
                             preluSlope: preluSlope, plus: nil, framedOutput: true, kernels: k)
        let out = conv3x3(framed: hidden, height: H, width: W, paddedWidth: Wp, second,
                          preluSlope: 1, plus: nil, framedOutput: false, kernels: k)
        return Tensor(channels: second.outChannels, height: H, width: W, samples: out)
    }

    /// The float kernels' 3x3 convolution of zero-framed planes (`zeroPad`'s layout): its output as
    /// planes of height × width, or (`framedOutput`) in the same framed layout, ready for another.
    func conv3x3(framed input: [Float], height H: Int, width W: Int, paddedWidth Wp: Int, _ w: ConvWeight,
                 preluSlope: Float, plus residual: Tensor?, framedOutput: Bool, kernels k: ConvKernelSet) -> [Float] {
        let Cin = w.inChannels, Cout = w.outChannels, planeStride = (H + 2) * Wp
        precondition(input.count == Cin * planeStride)
        let count = framedOutput ? Cout * planeStride : Cout * H * W
        var out = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        w.data.withUnsafeBufferPointer { wp in
        input.withUnsafeBufferPointer { ip in
        out.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            var args = Conv3x3Arguments(input: ip.baseAddress!, cin: Cin, width: W, height: H, paddedWidth: Wp,
                                        planeStride: planeStride, weights: wp.baseAddress!, cout: Cout,
                                        output: op.baseAddress!, residual: rp, preluSlope: preluSlope)
            if framedOutput {
                args = args.framed(paddedWidth: Wp)
                zeroFrames(op.baseAddress!, channels: Cout, height: H, width: W, paddedWidth: Wp)
            }
            // Bands of whole row quads: the Winograd kernels compute four rows at a time.
            parallel(H, work: Cin * Cout * H * W / 8, align: 4) { k.conv3x3(args, $0) }
        }}}}
        return out
    }

    func withResidual<R>(_ r: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R { withSamples(r?.samples, body) }

    /// `body` on the floats of `a`, or on nil.
    func withSamples<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let a else { return body(nil) }
        return a.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Each channel framed by zeros: (H+2) rows of `paddedWidth` (≥ W+2) with the image at (1, 1).
    /// The extra columns let vector loads at the row end stay inside the buffer.
    func zeroPad(_ x: Tensor, paddedWidth Wp: Int) -> [Float] {
        let H = x.height, W = x.width, planeStride = (H + 2) * Wp
        let count = x.channels * planeStride
        var out = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        x.samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let (s, d) = (src.baseAddress!, dst.baseAddress!)
                parallel(x.channels, work: count) { channels in
                    for c in channels {
                        let p = d + c * planeStride
                        zeroFrame(p, height: H, width: W, paddedWidth: Wp)
                        for y in 0..<H { (p + (y + 1) * Wp + 1).update(from: s + (c * H + y) * W, count: W) }
                    }
                }
            }
        }
        return out
    }

    /// `zeroFrame` for each of `channels` framed planes from `p`: a buffer that a 3x3 layer's
    /// output or a channel attention fills as the next layer's framed input.
    func zeroFrames(_ p: UnsafeMutablePointer<Float>, channels: Int, height H: Int, width W: Int, paddedWidth Wp: Int) {
        let planes = UncheckedSendable(p), planeStride = (H + 2) * Wp
        parallel(channels, work: channels * (2 * Wp + 2 * H)) { range in
            for c in range { zeroFrame(planes.value + c * planeStride, height: H, width: W, paddedWidth: Wp) }
        }
    }

    /// Zeros around the image of one framed plane: rows 0 and height + 1, column 0 and the columns
    /// past the image.
    func zeroFrame(_ p: UnsafeMutablePointer<Float>, height H: Int, width W: Int, paddedWidth Wp: Int) {
        p.update(repeating: 0, count: Wp + 1)
        for y in 0..<H { (p + (y + 1) * Wp + W + 1).update(repeating: 0, count: Wp - W) }  // and column 0 of the next row
        (p + (H + 1) * Wp + 1).update(repeating: 0, count: Wp - 1)
    }
}

