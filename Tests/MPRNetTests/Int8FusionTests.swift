import ConvArguments
import ConvKernelsVNNI
import Glibc
import Testing
@testable import NeuralCore

/// The fused passes around the convolutions: two 1x1 convolutions summed in one, int8 input
/// quantised from concatenated parts, and the int8 attention block chain.
extension OpsTests {
    /// conv(a, wa) + conv(b, wb) + residual in one pass equals the direct sums of the two, in every
    /// build: input channel counts below and above the 8 that make the kernel copy its inputs,
    /// a partial block of outputs, partial vectors, two threads' parts.
    @Test(arguments: [(5, 7, 3, 5, 11), (40, 301, 24, 24, 32), (9, 65, 16, 40, 8)])
    func summedOneByOneConvolutionsAreTheirDirectSums(shape: (Int, Int, Int, Int, Int)) {
        let (H, W, ca, cb, cout) = shape
        let a = Tensor(channels: ca, height: H, width: W, samples: (0..<ca * H * W).map { sin(Float($0) * 0.37) })
        let b = Tensor(channels: cb, height: H, width: W, samples: (0..<cb * H * W).map { cos(Float($0) * 0.11) * 2 })
        let wa = ConvWeight(outChannels: cout, inChannels: ca, kernel: 1, data: (0..<cout * ca).map { sin(Float($0) * 1.3) * 0.3 })
        let wb = ConvWeight(outChannels: cout, inChannels: cb, kernel: 1, data: (0..<cout * cb).map { cos(Float($0) * 0.7) * 0.3 })
        let residual = Tensor(channels: cout, height: H, width: W, samples: (0..<cout * H * W).map { Float($0 % 7) * 0.1 })
        for res in [nil, residual] {
            let want = directConv(b, wb, slope: nil, residual: directConv(a, wa, slope: nil, residual: res))
            for (i, set) in ConvKernelSet.supported.enumerated() {
                let got = ops.conv2d(a, wa, b, wb, plus: res, kernels: set)
                #expect(relativeL2(got, want) < 1e-6, "build \(i), \(shape): relative L2 \(relativeL2(got, want))")
            }
        }
    }

    /// Quantising parts straight from their planes gives the bytes, scales and zero points of
    /// quantising their concatenation, including a last part that leaves a partial group of four;
    /// a part before the last that does not fill whole groups goes through the concatenation.
    @Test(.enabled(if: Ops.vnniAvailable)) func quantizingPartsEqualsQuantizingTheirConcatenation() {
        func random(_ c: Int, _ seed: Int) -> Tensor {
            Tensor(channels: c, height: 7, width: 37, samples: (0..<c * 259).map {
                sin(Float($0 * seed) * 0.013) * Float(seed) + Float($0 / 259 % 5) - 2  // offset per channel
            })
        }
        for int8 in int8Ops() {
            for parts in [[random(8, 1), random(12, 2), random(5, 3)], [random(6, 4), random(8, 5)]] {
                let whole = QuantizedInput(ops.concatChannels(parts), int8)
                let got = QuantizedInput(concatenating: parts, int8)
                #expect(got.bytes == whole.bytes && got.scale == whole.scale && got.zero == whole.zero,
                        "\(int8.kernelName), parts of \(parts.map(\.channels)) channels")
                #expect(Set(whole.zero).count > 3)
            }
        }
    }

    /// Each channel's sum and range of half floats in one pass: sums against Double sums, ranges
    /// exact and holding 0.
    @Test(.enabled(if: Ops.vnniAvailable)) func channelStatisticsAreSumsAndRanges() {
        let (C, P) = (5, 1037)
        let x = (0..<C * P).map { Float16(sin(Float($0) * 0.31) * 3 + Float($0 % C) - 1) }
        let (sum, lo, hi) = ops.channelStatistics(x.map(\.bitPattern), channels: C, plane: P)
        for c in 0..<C {
            let values = x[c * P ..< (c + 1) * P].map { Float($0) }
            let exact = values.reduce(0.0) { $0 + Double($1) }
            #expect(abs(Double(sum[c]) - exact) < 1e-5 * values.reduce(0.0) { $0 + abs(Double($1)) }, "channel \(c)")
            #expect(lo[c] == min(0, values.min()!) && hi[c] == max(0, values.max()!), "channel \(c)")
        }
    }

    /// A convolution into half floats is the float one rounded to nearest even (saturated at ±65504,
    /// where a float output would pass it), with each row's range exact and holding 0, in every int8
    /// kernel: partial vectors and tails of one to three vectors, a partial block of outputs and two
    /// threads' bands.
    @Test(.enabled(if: Ops.vnniAvailable), arguments: [(5, 7, 8, 8, Float(0.2)), (6, 70, 19, 20, 0.2),
                                                        (48, 101, 16, 12, 0.2), (4, 17, 12, 10, 3e4)])
    func int8ConvolutionIntoHalvesIsItsRoundedFloats(shape: (Int, Int, Int, Int, Float)) {
        let (H, W, cin, cout, gain) = shape
        let x = Tensor(channels: cin, height: H, width: W, samples: (0..<cin * H * W).map { sin(Float($0) * 0.37) + Float($0 % 3) * 0.2 })
        let w = ConvWeight(outChannels: cout, inChannels: cin, kernel: 3, data: (0..<cout * cin * 9).map { cos(Float($0) * 0.71) * gain })
        for int8 in int8Ops() {
            let q = QuantizedInput(x, int8)
            let float = int8.convInt8(q, w, preluSlope: 0.25, residual: nil)
            let (halves, lo, hi) = int8.convInt8Halves(q, w, preluSlope: 0.25, ranges: true)
            let want = float.samples.map { Float16(min(max($0, -65504), 65504)) }
            #expect(halves == want.map(\.bitPattern), "\(shape), \(int8.kernelName)")
            let plane = H * W
            for c in 0..<cout {
                let values = want[c * plane ..< (c + 1) * plane].map { Float($0) }
                #expect(lo[c] == min(0, values.min()!) && hi[c] == max(0, values.max()!), "\(shape), \(int8.kernelName), channel \(c)")
            }
            if gain > 1 { #expect(want.contains(65504) && float.samples.contains { $0 > 65504 }) }
        }
    }

    /// The int8 chain is its scheme written out: each block's convolutions in int8 with their outputs
    /// rounded to half floats (the first one's quantised over its exact range), the attention
    /// weights from the second one's channel sums, out = r·a + x in float, and the next block's input
    /// quantised over the bound a·range(r) + range(x) (x's range exact), bit for bit, for chains of
    /// one to three blocks with a partial group of channels, as floats and as the tail convolution's
    /// input. Against float32 the bound may cost at most half as much error again as exact ranges.
    @Test(.enabled(if: Ops.vnniAvailable), arguments: [(5, 7, 1, 8), (40, 61, 2, 10), (9, 65, 3, 12)])
    func int8AttentionChainIsItsBoundedScheme(shape: (Int, Int, Int, Int)) {
        let (H, W, count, C) = shape
        let x = Tensor(channels: C, height: H, width: W, samples: (0..<C * H * W).map { sin(Float($0) * 0.37) + Float($0 % 3) * 0.2 })
        func weight(_ o: Int, _ i: Int, _ k: Int, _ seed: Int) -> ConvWeight {
            ConvWeight(outChannels: o, inChannels: i, kernel: k, data: (0..<o * i * k * k).map { sin(Float($0 * seed)) * 0.2 })
        }
        let blocks = (0..<count).map { b in
            AttentionBlockWeights(conv1: weight(C, C, 3, 3 + b), preluSlope: 0.25, conv2: weight(C, C, 3, 7 + b),
                                  down: weight(2, C, 1, 11 + b), up: weight(C, 2, 1, 13 + b))
        }
        let tail = weight(C, C, 3, 17), residual = Tensor(channels: C, height: H, width: W, value: 0.5)
        let float = blocks.reduce(x) { x, b in
            ops.channelAttention(ops.conv3x3Pair(x, b.conv1, preluSlope: b.preluSlope, b.conv2), down: b.down, up: b.up, plus: x)
        }
        /// The map rounded to half floats.
        func halved(_ t: Tensor) -> Tensor {
            Tensor(channels: t.channels, height: t.height, width: t.width, samples: t.samples.map { Float(Float16($0)) })
        }
        for int8 in int8Ops() {
            var want = x, q = QuantizedInput(x, int8)
            for b in blocks {
                let hidden = halved(int8.convInt8(q, b.conv1, preluSlope: b.preluSlope, residual: nil))
                let r = halved(int8.convInt8(QuantizedInput(hidden, int8), b.conv2, preluSlope: 1, residual: nil))
                let (sum, rLo, rHi) = int8.channelStatistics(r.samples.map { Float16($0).bitPattern }, channels: C, plane: H * W)
                let a = int8.attentionScale(mean: sum.map { $0 / Float(H * W) }, down: b.down, up: b.up)
                var out = r
                for c in 0..<C { for i in 0..<H * W { out.samples[c * H * W + i] = r.samples[c * H * W + i] * a[c] + want.samples[c * H * W + i] } }
                let range = { (c: Int) in want.samples[c * H * W ..< (c + 1) * H * W] }
                let lo = (0..<C).map { a[$0] * rLo[$0] + min(0, range($0).min()!) }
                let hi = (0..<C).map { a[$0] * rHi[$0] + max(0, range($0).max()!) }
                q = QuantizedInput(channels: C, height: H, width: W, lo: lo, hi: hi, int8) { layout, bytes in
                    denoise_avx2_quantize_input(out.samples, Int32(C), Int32(H), Int32(W), layout.inverse, layout.zero, bytes,
                                                Int32(layout.paddedWidth), layout.planeStride, 0, Int32(layout.groups))
                }
                want = out
            }
            let got = int8.attentionBlocks(x, blocks)
            #expect(got.samples == want.samples, "\(int8.kernelName), \(count) blocks")
            let tailed = int8.attentionBlocks(x, blocks, thenConv: tail, plus: residual)
            #expect(tailed.samples == int8.convInt8(q, tail, preluSlope: 1, residual: residual).samples)
            // Exact ranges per block: the unfused int8 path, block by block.
            let unfused = blocks.reduce(x) { x, b in
                int8.channelAttention(int8.conv2d(int8.conv2d(x, b.conv1, preluSlope: b.preluSlope), b.conv2),
                                      down: b.down, up: b.up, plus: x)
            }
            let (boundError, exactError) = (relativeL2(got, float), relativeL2(unfused, float))
            #expect(boundError > 0 && boundError < 1.5 * exactError + 1e-4,
                    "\(int8.kernelName): error \(boundError) with the bound, \(exactError) with exact ranges")
        }
    }
}

/// `Ops.parallel` on its thread team: every index exactly once, region after region (the workers
/// spinning between them and sleeping after), with a part asking for a region of its own and with
/// two callers sharing one context (the second runs on Dispatch's threads).
@Suite struct TeamTests {
    @Test(arguments: [2, 3, 5]) func parallelRunsEveryIndexOnce(threads: Int) async {
        let ops = Ops(threads: threads)
        #expect(ops.team != nil)
        func check(_ n: Int, align: Int) -> Bool {
            var seen = [Int](repeating: 0, count: n)
            seen.withUnsafeMutableBufferPointer { p in
                let p = UncheckedSendable(p.baseAddress!)
                ops.parallel(n, work: 1 << 20, align: align) { r in
                    #expect(r.lowerBound % align == 0)
                    for i in r { p.value[i] += 1 }
                    // A part's own region runs on Dispatch's threads, the team being busy.
                    ops.parallel(4, work: 1 << 20) { _ in }
                }
            }
            return seen.allSatisfy { $0 == 1 }
        }
        #expect((0..<2000).allSatisfy { check(1 + $0 % 97, align: 1 + $0 % 4) })
        usleep(2000)  // past the spin: the workers sleep, and the next region wakes them
        #expect(check(1000, align: 16))
        let shared = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { (0..<300).allSatisfy { _ in check(333, align: 1) } } }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(shared)
    }
}
