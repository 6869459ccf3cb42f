import ConvKernelsVNNI
import ImageCore
import CPlatform

/// The int8 3x3 kernels (conv_vnni.h): the same integer scheme and results in 512-bit registers
/// (AVX-512 VNNI) or 256-bit ones (AVX-VNNI).
enum Int8Kernel: Sendable, Equatable {
    case avx512
    /// `evex`: AVX512-VNNI's encoding of the 256-bit instruction, for an AVX-512 CPU running its
    /// AVX2 path; otherwise AVX-VNNI's (Intel Core since Alder Lake).
    case avx2(evex: Bool)

    static let hasAVX512VNNI = denoise_cpu_has_avx512_vnni() != 0
    static let hasAVXVNNI = denoise_cpu_has_avx_vnni() != 0

    /// The kernel of the width of the float `path`, if the CPU has it: AVX-512's (and AMX's fallback)
    /// VNNI in zmm registers, AVX2's in ymm ones.
    static func allowed(by path: KernelPath) -> Int8Kernel? {
        switch path {
        case .avx512, .amx: hasAVX512VNNI ? .avx512 : nil
        case .avx2: hasAVXVNNI ? .avx2(evex: false) : hasAVX512VNNI ? .avx2(evex: true) : nil
        case .baseline: nil
        }
    }
}

/// 3x3 convolutions in 8 bits (`Precision.int8`; the scheme is in conv_vnni.h).
/// Each call quantises its input from that input's own per-channel range, so no calibration travels
/// with the weights; the channel scales are folded into the weights, which are quantised per output
/// channel on the spot (cout x cin x 9 values, little beside the convolution).
extension Ops {
    /// Whether the CPU has an int8 kernel on its widest path.
    public static let vnniAvailable = Int8Kernel.allowed(by: ConvKernelSet.supported.last!.path) != nil

    /// Whether this 3x3 convolution runs in 8 bits: int8 on, and 8 channels or more on both sides
    /// (the convolutions from and to the 3-channel image stay float, where 8 bits cost most).
    func runsInt8(_ w: ConvWeight) -> Bool {
        useInt8 && w.kernel == 3 && w.inChannels >= 8 && w.outChannels >= 8
    }

    /// PReLU(conv(x)) + residual from a quantised input.
    func convInt8(_ x: QuantizedInput, _ w: ConvWeight, preluSlope: Float, residual: Tensor?) -> Tensor {
        precondition(x.channels == w.inChannels && w.kernel == 3)
        let q = Int8Weights(w, input: x)
        let H = x.height, W = x.width
        var out = Tensor(uninitializedChannels: w.outChannels, height: H, width: W)
        x.bytes.withUnsafeBufferPointer { ip in
        q.packed.withUnsafeBufferPointer { wp in
        q.scale.withUnsafeBufferPointer { sp in
        q.correction.withUnsafeBufferPointer { cp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let o = denoise_vnni_output(planes: op.baseAddress!, residual: rp, scale: sp.baseAddress!,
                                        correction: cp.baseAddress!, preluSlope: preluSlope)
            withUnsafePointer(to: o) { outp in
                let (i, w8, o) = (UncheckedSendable(ip.baseAddress!), UncheckedSendable(wp.baseAddress!), UncheckedSendable(outp))
                let (cin, cout, Wp) = (Int32(x.channels), Int32(w.outChannels), Int32(x.paddedWidth))
                parallel(H, work: w.inChannels * w.outChannels * H * W / 32) { rows in
                    let (begin, end) = (Int32(rows.lowerBound), Int32(rows.upperBound))
                    switch x.kernel {
                    case .avx512:
                        denoise_vnni_conv3x3_rows(i.value, cin, Int32(W), Int32(H), Wp, x.planeStride, w8.value, cout,
                                                  begin, end, o.value)
                    case .avx2(let evex):
                        denoise_vnni256_conv3x3_rows(Int32(evex ? DENOISE_VNNI256_EVEX : DENOISE_VNNI256_VEX), i.value,
                                                     cin, Int32(W), Int32(H), Wp, x.planeStride, w8.value, cout,
                                                     begin, end, o.value)
                    }
                }
            }
        }}}}}}
        return out
    }
}

/// A feature map in the int8 kernel's input layout (groups of 4 channels, zero points framing the
/// image), with the scale and zero point of each channel: s = (max - min) / 255 over the channel
/// and 0, z = round(-min / s).
struct QuantizedInput {
    let kernel: Int8Kernel
    let channels: Int, height: Int, width: Int
    let paddedWidth: Int, planeStride: Int
    let scale: [Float], zero: [Int32]
    let bytes: [UInt8]

    init(_ x: Tensor, _ ops: Ops) {
        kernel = ops.int8Kernel!
        let wide = kernel == .avx512
        let (channels, height, width) = (x.channels, x.height, x.width)
        let paddedWidth = Int(denoise_vnni_padded_width(Int32(width))), planeStride = (height + 2) * paddedWidth
        (self.channels, self.height, self.width) = (channels, height, width)
        (self.paddedWidth, self.planeStride) = (paddedWidth, planeStride)
        let groups = Int(denoise_vnni_groups(Int32(channels)))
        var lo = [Float](repeating: 0, count: channels), hi = lo
        x.samples.withUnsafeBufferPointer { xp in
            lo.withUnsafeMutableBufferPointer { l in
            hi.withUnsafeMutableBufferPointer { h in
                let (x, l, h) = (UncheckedSendable(xp.baseAddress!), UncheckedSendable(l.baseAddress!),
                                 UncheckedSendable(h.baseAddress!))
                ops.parallel(channels, work: channels * height * width) { c in
                    (wide ? denoise_vnni_channel_ranges : denoise_avx2_channel_ranges)(
                        x.value, height * width, Int32(c.lowerBound), Int32(c.upperBound), l.value, h.value)
                }
            }}
        }
        let scale = zip(lo, hi).map { max(($1 - $0) / 255, 1e-8) }
        let zero = zip(lo, scale).map { Int32((-$0 / $1).rounded(.toNearestOrEven)) }
        let inverse = scale.map { 1 / $0 }
        let count = groups * planeStride * 4
        var bytes = [UInt8](unsafeUninitializedCapacity: count) { _, n in n = count }
        x.samples.withUnsafeBufferPointer { xp in
        inverse.withUnsafeBufferPointer { ip in
        zero.withUnsafeBufferPointer { zp in
        bytes.withUnsafeMutableBufferPointer { bp in
            let (x, i, z, b) = (UncheckedSendable(xp.baseAddress!), UncheckedSendable(ip.baseAddress!),
                                UncheckedSendable(zp.baseAddress!), UncheckedSendable(bp.baseAddress!))
            let (C, H, W, Wp, stride) = (Int32(channels), Int32(height), Int32(width), Int32(paddedWidth), planeStride)
            ops.parallel(groups, work: 2 * channels * height * width) { g in
                (wide ? denoise_vnni_quantize_input : denoise_avx2_quantize_input)(
                    x.value, C, H, W, i.value, z.value, b.value, Wp, stride, Int32(g.lowerBound), Int32(g.upperBound))
            }
        }}}}
        self.scale = scale
        self.zero = zero
        self.bytes = bytes
    }
}

/// A convolution's weights for one quantised input: w s_c quantised per output channel o to
/// [-127, 127] with scale t_o = max |w s_c| / 127, packed for the kernel, and corr_o = sum w_q z_c.
struct Int8Weights {
    let packed: [Int8], scale: [Float], correction: [Int32]

    init(_ w: ConvWeight, input x: QuantizedInput) {
        let (cout, cin) = (w.outChannels, w.inChannels)
        var quantized = [Int8](repeating: 0, count: w.data.count)
        var scale = [Float](repeating: 0, count: cout), correction = [Int32](repeating: 0, count: cout)
        for o in 0..<cout {
            let row = o * cin * 9
            var largest: Float = 0
            for c in 0..<cin { for t in 0..<9 { largest = max(largest, abs(w.data[row + c * 9 + t] * x.scale[c])) } }
            let t = max(largest / 127, 1e-12)
            var corr: Int32 = 0
            for c in 0..<cin {
                for k in 0..<9 {
                    let v = min(max((w.data[row + c * 9 + k] * x.scale[c] / t).rounded(.toNearestOrEven), -127), 127)
                    quantized[row + c * 9 + k] = Int8(v)
                    corr += Int32(v) * x.zero[c]
                }
            }
            scale[o] = t
            correction[o] = corr
        }
        let count = Int(denoise_vnni_weights_bytes(Int32(cout), Int32(cin)))
        packed = [Int8](unsafeUninitializedCapacity: count) { buf, n in
            denoise_vnni_pack_weights(quantized, Int32(cout), Int32(cin), buf.baseAddress!)
            n = count
        }
        self.scale = scale
        self.correction = correction
    }
}
