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
        var out = Tensor(uninitializedChannels: w.outChannels, height: x.height, width: x.width)
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            runInt8(x, w) { scale, correction in
                denoise_vnni_output(planes: op.baseAddress!, halves: nil, residual: rp, scale: scale, correction: correction,
                                    preluSlope: preluSlope, rowLo: nil, rowHi: nil)
            }
        }}
        return out
    }

    /// PReLU(conv(x)) from a quantised input as half floats (11 significant bits, 8 more than a
    /// quantisation keeps; saturated at ±65504), half the bytes of floats to write and read back;
    /// with `ranges`, each channel's range of them (0 included), taken by the kernel row by row.
    func convInt8Halves(_ x: QuantizedInput, _ w: ConvWeight, preluSlope: Float,
                        ranges: Bool) -> (halves: [UInt16], lo: [Float], hi: [Float]) {
        let (C, H, W) = (w.outChannels, x.height, x.width)
        var lo = [Float](repeating: 0, count: C), hi = lo
        var rowLo = [Float](repeating: 0, count: ranges ? H * C : 0), rowHi = rowLo
        let halves = [UInt16](unsafeUninitializedCapacity: C * H * W) { buffer, n in
            rowLo.withUnsafeMutableBufferPointer { lp in
            rowHi.withUnsafeMutableBufferPointer { hp in
                runInt8(x, w) { scale, correction in
                    denoise_vnni_output(planes: nil, halves: buffer.baseAddress!, residual: nil, scale: scale,
                                        correction: correction, preluSlope: preluSlope,
                                        rowLo: ranges ? lp.baseAddress! : nil, rowHi: ranges ? hp.baseAddress! : nil)
                }
            }}
            n = C * H * W
        }
        if ranges {
            for y in 0..<H {
                for c in 0..<C {
                    lo[c] = min(lo[c], rowLo[y * C + c])
                    hi[c] = max(hi[c], rowHi[y * C + c])
                }
            }
        }
        return (halves, lo, hi)
    }

    /// PReLU(conv(x)) from a quantised input, quantised for the next int8 convolution over the exact
    /// range of its half floats (`convInt8Halves`): no float map, and no pass of its own for the ranges.
    func convInt8Quantized(_ x: QuantizedInput, _ w: ConvWeight, preluSlope: Float) -> QuantizedInput {
        let (C, H, W) = (w.outChannels, x.height, x.width)
        let (halves, lo, hi) = convInt8Halves(x, w, preluSlope: preluSlope, ranges: true)
        return QuantizedInput(channels: C, height: H, width: W, lo: lo, hi: hi, self) { q, bytes in
            halves.withUnsafeBufferPointer { xp in
            q.inverse.withUnsafeBufferPointer { ip in
            q.zero.withUnsafeBufferPointer { zp in
                let p = UncheckedSendable((xp.baseAddress!, ip.baseAddress!, zp.baseAddress!, bytes))
                let (Wp, stride, wide) = (Int32(q.paddedWidth), q.planeStride, int8Kernel! == .avx512)
                parallel(q.groups, work: 2 * C * H * W) { g in
                    let (x, i, z, b) = p.value
                    (wide ? denoise_vnni_quantize_halves : denoise_avx2_quantize_halves)(
                        x, Int32(C), Int32(H), Int32(W), i, z, b, Wp, stride, Int32(g.lowerBound), Int32(g.upperBound))
                }
            }}}
        }
    }

    /// The int8 kernel over x's rows, split among the threads, with the output `describe` gives for
    /// the weights' per-channel scales and corrections.
    private func runInt8(_ x: QuantizedInput, _ w: ConvWeight,
                         _ describe: (UnsafePointer<Float>, UnsafePointer<Int32>) -> denoise_vnni_output) {
        precondition(x.channels == w.inChannels && w.kernel == 3)
        let q = Int8Weights(w, input: x, self)
        let H = x.height, W = x.width
        x.bytes.withUnsafeBufferPointer { ip in
        q.packed.withUnsafeBufferPointer { wp in
        q.scale.withUnsafeBufferPointer { sp in
        q.correction.withUnsafeBufferPointer { cp in
            withUnsafePointer(to: describe(sp.baseAddress!, cp.baseAddress!)) { outp in
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
        }}}}
    }
}

/// A feature map in the int8 kernel's input layout (groups of 4 channels, zero points framing the
/// image), with the scale and zero point of each channel: s = (hi - lo) / 255 and z = round(-lo / s)
/// for a range [lo, hi] holding 0 and the channel's values (its exact range, or a bound on it).
struct QuantizedInput {
    let kernel: Int8Kernel
    let channels: Int, height: Int, width: Int
    let paddedWidth: Int, planeStride: Int
    let scale: [Float], zero: [Int32]
    /// The range each channel was quantised over.
    let lo: [Float], hi: [Float]
    let bytes: [UInt8]

    /// Quantises `x` over each channel's exact range.
    init(_ x: Tensor, _ ops: Ops) { self.init(concatenating: [x], ops) }

    /// Quantises the channels of `parts` one after another (torch.cat along channels) over each
    /// channel's exact range, each part straight from its own planes where every part before the
    /// last fills whole groups of 4 channels (otherwise through their concatenation).
    init(concatenating parts: [Tensor], _ ops: Ops) {
        guard parts.dropLast().allSatisfy({ $0.channels % 4 == 0 }) else {
            self.init(ops.concatChannels(parts), ops)
            return
        }
        let wide = ops.int8Kernel! == .avx512
        let (H, W) = (parts[0].height, parts[0].width)
        precondition(parts.allSatisfy { $0.height == H && $0.width == W }, "concatenated maps differ in size")
        let first = parts.reduce(into: [0]) { $0.append($0.last! + $1.channels) }, channels = first.last!
        var lo = [Float](repeating: 0, count: channels), hi = lo
        for (part, c0) in zip(parts, first) {
            part.samples.withUnsafeBufferPointer { xp in
            lo.withUnsafeMutableBufferPointer { l in
            hi.withUnsafeMutableBufferPointer { h in
                let p = UncheckedSendable((xp.baseAddress!, l.baseAddress! + c0, h.baseAddress! + c0))
                ops.parallel(part.channels, work: part.samples.count) { c in
                    let (x, l, h) = p.value
                    (wide ? denoise_vnni_channel_ranges : denoise_avx2_channel_ranges)(
                        x, H * W, Int32(c.lowerBound), Int32(c.upperBound), l, h)
                }
            }}}
        }
        self.init(channels: channels, height: H, width: W, lo: lo, hi: hi, ops) { q, bytes in
            for (part, c0) in zip(parts, first) {
                part.samples.withUnsafeBufferPointer { xp in
                q.inverse.withUnsafeBufferPointer { ip in
                q.zero.withUnsafeBufferPointer { zp in
                    // The part's groups start at group c0 / 4 of the layout.
                    let p = UncheckedSendable((xp.baseAddress!, ip.baseAddress! + c0, zp.baseAddress! + c0,
                                               bytes + c0 / 4 * q.planeStride * 4))
                    let (C, Wp, stride) = (Int32(part.channels), Int32(q.paddedWidth), q.planeStride)
                    ops.parallel(Int(denoise_vnni_groups(C)), work: 2 * part.samples.count) { g in
                        let (x, i, z, b) = p.value
                        (wide ? denoise_vnni_quantize_input : denoise_avx2_quantize_input)(
                            x, C, Int32(H), Int32(W), i, z, b, Wp, stride, Int32(g.lowerBound), Int32(g.upperBound))
                    }
                }}}
            }
        }
    }

    /// The scales and layout of a map with channel ranges [lo, hi] (each holding 0), whose bytes
    /// `fill` writes: every group plane, frame included.
    init(channels: Int, height: Int, width: Int, lo: [Float], hi: [Float], _ ops: Ops,
         fill: (Layout, UnsafeMutablePointer<UInt8>) -> Void) {
        kernel = ops.int8Kernel!
        (self.channels, self.height, self.width) = (channels, height, width)
        paddedWidth = Int(denoise_vnni_padded_width(Int32(width)))
        planeStride = (height + 2) * paddedWidth
        (self.lo, self.hi) = (lo, hi)
        scale = zip(lo, hi).map { max(($1 - $0) / 255, 1e-8) }
        zero = zip(lo, scale).map { Int32((-$0 / $1).rounded(.toNearestOrEven)) }
        let layout = Layout(channels: channels, height: height, width: width, paddedWidth: paddedWidth,
                            planeStride: planeStride, inverse: scale.map { 1 / $0 }, zero: zero)
        let count = layout.groups * planeStride * 4
        bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, n in
            fill(layout, buffer.baseAddress!)
            n = count
        }
    }

    /// What a producer needs to write the bytes.
    struct Layout {
        let channels: Int, height: Int, width: Int, paddedWidth: Int, planeStride: Int
        let inverse: [Float], zero: [Int32]
        var groups: Int { Int(denoise_vnni_groups(Int32(channels))) }
        var plane: Int { height * width }
    }
}

/// A convolution's weights for one quantised input: w s_c quantised per output channel o to
/// [-127, 127] with scale t_o = max |w s_c| / 127, packed for the kernel, and corr_o = sum w_q z_c.
struct Int8Weights {
    let packed: [Int8], scale: [Float], correction: [Int32]

    /// Output channels split among `ops`' threads: every call quantises its weights anew, and on the
    /// calling thread alone that would leave the others waiting.
    init(_ w: ConvWeight, input x: QuantizedInput, _ ops: Ops) {
        let (cout, cin) = (w.outChannels, w.inChannels)
        var quantized = [Int8](repeating: 0, count: w.data.count)
        var scale = [Float](repeating: 0, count: cout), correction = [Int32](repeating: 0, count: cout)
        w.data.withUnsafeBufferPointer { wp in
        x.scale.withUnsafeBufferPointer { sp in
        x.zero.withUnsafeBufferPointer { zp in
        quantized.withUnsafeMutableBufferPointer { qp in
        scale.withUnsafeMutableBufferPointer { tp in
        correction.withUnsafeMutableBufferPointer { cp in
            let (data, s, z) = (UncheckedSendable(wp), UncheckedSendable(sp), UncheckedSendable(zp))
            let (q, ts, corrs) = (UncheckedSendable(qp), UncheckedSendable(tp), UncheckedSendable(cp))
            ops.parallel(cout, work: 16 * cout * cin * 9) { outputs in
                let (data, s, z, q) = (data.value, s.value, z.value, q.value)
                for o in outputs {
                    let row = o * cin * 9
                    var largest: Float = 0
                    for c in 0..<cin { for t in 0..<9 { largest = max(largest, abs(data[row + c * 9 + t] * s[c])) } }
                    let t = max(largest / 127, 1e-12)
                    var corr: Int32 = 0
                    for c in 0..<cin {
                        for k in 0..<9 {
                            let v = min(max((data[row + c * 9 + k] * s[c] / t).rounded(.toNearestOrEven), -127), 127)
                            q[row + c * 9 + k] = Int8(v)
                            corr += Int32(v) * z[c]
                        }
                    }
                    ts.value[o] = t
                    corrs.value[o] = corr
                }
            }
        }}}}}}
        let count = Int(denoise_vnni_weights_bytes(Int32(cout), Int32(cin)))
        packed = [Int8](unsafeUninitializedCapacity: count) { buf, n in
            denoise_vnni_pack_weights(quantized, Int32(cout), Int32(cin), buf.baseAddress!)
            n = count
        }
        self.scale = scale
        self.correction = correction
    }
}
