import ConvArguments
import Glibc
import ImageCore
import Testing
import MPRNet
@testable import NeuralCore

let fixtureRoot: String = {
    let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(2)  // Tests/
    return parts.joined(separator: "/") + "/Fixtures/"
}()
let fixtures = fixtureRoot + "mprnet"

func tensor(_ e: SafeTensors.Entry) -> Tensor {
    Tensor(channels: e.shape[0], height: e.shape[1], width: e.shape[2], samples: e.data)
}

/// ||a − b|| / ||b||
func relativeL2(_ a: Tensor, _ b: Tensor) -> Double {
    #expect(a.shape == b.shape)
    var num = 0.0, den = 0.0
    for i in a.samples.indices {
        let d = Double(a.samples[i]) - Double(b.samples[i])
        num += d * d
        den += Double(b.samples[i]) * Double(b.samples[i])
    }
    return (num / den).squareRoot()
}

/// Stage outputs against PyTorch's (Training/export_parity_fixtures.py), within relative L2 1e-5:
/// the official three-level network, and one with a context level under each decoder.
/// The execution context of the tests: two threads (images large enough are split), float32.
let ops = Ops(threads: 2)

@Suite struct ParityTests {
    static let fixtureSets = ["mprnet", "mprnet-context"]

    func load(_ set: String) throws -> (MPRNet, SafeTensors) {
        (try MPRNet(weights: try SafeTensors(path: fixtureRoot + set + "/weights.safetensors")),
         try SafeTensors(path: fixtureRoot + set + "/io.safetensors"))
    }

    @Test(arguments: fixtureSets, ["even", "odd"]) func stages(set: String, kind: String) throws {
        let (model, io) = try load(set)
        let input = tensor(io.tensors[kind == "even" ? "even_input" : "odd_padded"]!)
        let out = model.forward(input, ops)
        for (name, mine) in [("stage1", out.stage1), ("stage2", out.stage2), ("stage3", out.stage3)] {
            let err = relativeL2(mine, tensor(io.tensors["\(kind)_\(name)"]!))
            #expect(err < 1e-5, "\(set) \(kind) \(name): relative L2 \(err)")
        }
    }

    @Test(arguments: fixtureSets) func oddSizeIsPaddedAndCroppedBack(set: String) throws {
        let (model, io) = try load(set)
        let y = model.denoise(tensor(io.tensors["odd_input"]!), ops)
        #expect(y.height == 37 && y.width == 45)
        #expect(relativeL2(y, tensor(io.tensors["odd_output"]!)) < 1e-5)
    }

    @Test func configComesFromMetadata() throws {
        let plain = MPRNetConfig(nFeat: 8, scaleUnetFeats: 4, scaleOrsnetFeats: 4, numCab: 2, reduction: 4)
        #expect(try load("mprnet").0.config == plain)
        #expect(plain.multiple == 8)
        var context = plain
        context.contextCabs = 1
        #expect(try load("mprnet-context").0.config == context)
        #expect(context.multiple == 16)
    }
}

@Suite struct OpsTests {
    /// PReLU(conv(x)) + residual summed directly in Double, PyTorch's definition.
    func directConv(_ x: Tensor, _ w: ConvWeight, slope: Float?, residual: Tensor?) -> Tensor {
        let k = w.kernel, r = k / 2
        var y = Tensor(channels: w.outChannels, height: x.height, width: x.width)
        for o in 0..<w.outChannels {
            for yy in 0..<x.height {
                for xx in 0..<x.width {
                    var s = 0.0
                    for c in 0..<x.channels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let sy = yy + ky - r, sx = xx + kx - r
                                if sy >= 0 && sy < x.height && sx >= 0 && sx < x.width {
                                    s += Double(w.data[((o * x.channels + c) * k + ky) * k + kx]) * Double(x[sx, sy, c])
                                }
                            }
                        }
                    }
                    if let slope, s < 0 { s *= Double(slope) }
                    y[xx, yy, o] = Float(s + Double(residual?[xx, yy, o] ?? 0))
                }
            }
        }
        return y
    }

    /// Every kernel build this CPU runs, 1x1 and 3x3, with and without PReLU and residual, on sizes
    /// that leave partial vectors, channel counts that leave a partial block of eight (and of six),
    /// and an image large enough to be split across two threads. With 9 input channels the 3x3 goes
    /// through Winograd: F(4x4) on row quads over several blocks (64 columns in the AVX2 build, 128
    /// in the AVX-512 one), the last one partly past the image (301 and 100 columns); on AVX-512, F(2x2)
    /// on the 64 columns after the last whole F(4x4) block where the zero frame is too narrow for
    /// one more (320); F(2x2) on the rows after the last quad of a band (42 rows in two bands: 20 and
    /// 22), direct on their remaining columns and an odd last row (41).
    @Test(arguments: [(5, 7, 3), (3, 37, 3), (40, 301, 3), (3, 37, 9), (41, 301, 9), (42, 100, 9), (12, 320, 9)])
    func convolutionsMatchDirectSums(size: (Int, Int, Int)) {
        let (H, W, cin) = size, cout = 11
        let x = Tensor(channels: cin, height: H, width: W, samples: (0..<cin * H * W).map { Float(($0 * 37) % 11) - 5 })
        let residual = Tensor(channels: cout, height: H, width: W, samples: (0..<cout * H * W).map { Float($0 % 7) })
        for k in [1, 3] {
            let w = ConvWeight(outChannels: cout, inChannels: cin, kernel: k,
                               data: (0..<cout * cin * k * k).map { Float(($0 * 13) % 7) - 3 })
            for slope in k == 3 ? [nil, 0.25] : [nil] as [Float?] {
                for res in [nil, residual] {
                    let want = directConv(x, w, slope: slope, residual: res)
                    for (i, set) in ConvKernelSet.supported.enumerated() {
                        let got = ops.conv2d(x, w, preluSlope: slope, plus: res, kernels: set)
                        let worst = zip(got.samples, want.samples).map { abs($0 - $1) }.max()!
                        // Small integers: direct sums and F(2x2) Winograd are exact; F(4x4)'s
                        // transforms (sixths, 24ths) round, at about 1e-6 of the largest output.
                        let scale = want.samples.map(abs).max()!
                        #expect(worst < 1e-4 + 1e-5 * scale, "build \(i), \(k)x\(k), \(H)x\(W), slope \(String(describing: slope)): off by \(worst)")
                    }
                }
            }
        }
    }

    /// A CAB's two 3x3 convolutions with the first writing straight into the second's framed input
    /// are the two convolutions one after the other, bit for bit, in every build: the output
    /// offsets of every kernel (direct, F(2x2), F(4x4) with its last block past the image) and the
    /// frame left around them (the second reads it; nonzero there would change its border).
    @Test(arguments: [(5, 7, 3), (40, 301, 9), (42, 100, 9), (12, 320, 9), (9, 65, 16)])
    func convolutionPairWritesTheSecondsFramedInput(size: (Int, Int, Int)) {
        let (H, W, cin) = size, hidden = 11, cout = 7
        let x = Tensor(channels: cin, height: H, width: W, samples: (0..<cin * H * W).map { Float(($0 * 37) % 11) - 5 })
        let w1 = ConvWeight(outChannels: hidden, inChannels: cin, kernel: 3,
                            data: (0..<hidden * cin * 9).map { Float(($0 * 13) % 7) - 3 })
        let w2 = ConvWeight(outChannels: cout, inChannels: hidden, kernel: 3,
                            data: (0..<cout * hidden * 9).map { Float(($0 * 5) % 9) - 4 })
        for (i, set) in ConvKernelSet.supported.enumerated() {
            let want = ops.conv2d(ops.conv2d(x, w1, preluSlope: 0.25, plus: nil, kernels: set), w2, preluSlope: nil,
                                  plus: nil, kernels: set)
            let got = ops.conv3x3Pair(x, w1, preluSlope: 0.25, w2, kernels: set)
            #expect(got.shape == want.shape && got.samples == want.samples, "build \(i), \(H)x\(W)x\(cin)")
            #expect(want.samples.contains { $0 != 0 })
        }
    }

    /// A chain of attention blocks keeps each block's input zero-framed (written by the previous
    /// block's channel attention, read as the next one's residual): bit for bit the blocks applied
    /// one by one, in every build, for chains of one to three blocks.
    @Test(arguments: [(5, 7, 1), (40, 301, 2), (9, 65, 3)])
    func attentionBlockChainEqualsItsBlocksOneByOne(shape: (Int, Int, Int)) {
        let (H, W, count) = shape, C = 8
        let x = Tensor(channels: C, height: H, width: W, samples: (0..<C * H * W).map { Float(($0 * 37) % 11) / 4 - 1 })
        func weight(_ o: Int, _ i: Int, _ k: Int, _ seed: Int) -> ConvWeight {
            ConvWeight(outChannels: o, inChannels: i, kernel: k, data: (0..<o * i * k * k).map { sin(Float($0 * seed)) * 0.2 })
        }
        let blocks = (0..<count).map { b in
            AttentionBlockWeights(conv1: weight(C, C, 3, 3 + b), preluSlope: 0.25, conv2: weight(C, C, 3, 7 + b),
                                  down: weight(2, C, 1, 11 + b), up: weight(C, 2, 1, 13 + b))
        }
        for (i, set) in ConvKernelSet.supported.enumerated() {
            let want = blocks.reduce(x) { x, b in
                ops.channelAttention(ops.conv3x3Pair(x, b.conv1, preluSlope: b.preluSlope, b.conv2, kernels: set),
                                     down: b.down, up: b.up, plus: x)
            }
            let Wp = conv3x3PaddedWidth(W, lanes: set.lanes)
            let got = Tensor(channels: C, height: H, width: W,
                             samples: ops.attentionBlocksFramed(x, blocks, paddedWidth: Wp, framedResult: false, kernels: set))
            #expect(got.shape == want.shape && got.samples == want.samples, "build \(i), \(H)x\(W), \(count) blocks")
            #expect(Set(want.samples).count > 10)
        }
        // The ORB's form, the chain's last block framed for the tail convolution (the fastest build).
        let tail = weight(C, C, 3, 17), residual = Tensor(channels: C, height: H, width: W, value: 0.5)
        let want = ops.conv2d(blocks.reduce(x) { x, b in
            ops.channelAttention(ops.conv3x3Pair(x, b.conv1, preluSlope: b.preluSlope, b.conv2), down: b.down, up: b.up, plus: x)
        }, tail, plus: residual)
        #expect(ops.attentionBlocks(x, blocks, thenConv: tail, plus: residual).samples == want.samples)
    }

    /// The int8 kernel is the integer scheme of conv_vnni.h, written out here from its definition:
    /// per-channel ranges with 0, zero points, weights folded and quantised per output channel, sums
    /// of w_q (q - z) over the taps inside the image, exact, then t_o, PReLU and residual in float;
    /// so it equals it bit for bit. Shapes leave a partial group of four input channels (9, 19), a
    /// partial block of eight outputs (12, 20), partial vectors of 16 pixels and a tail of one or two
    /// vectors after blocks of 48 columns (37, 70, 101), and two threads' bands (48 x 101); for the
    /// 256-bit kernel, 24-column blocks with tails of one to three vectors of 8 and a partial half
    /// block of four outputs (10). Every int8 kernel this CPU runs (AVX-512, and the 256-bit one
    /// through the AVX2 path).
    @Test(.enabled(if: Ops.vnniAvailable), arguments: [(5, 7, 8, 8), (3, 37, 9, 12), (6, 70, 19, 20), (48, 101, 16, 24), (4, 17, 12, 10)])
    func int8ConvolutionIsItsIntegerScheme(shape: (Int, Int, Int, Int)) {
        let (H, W, cin, cout) = shape
        let x = Tensor(channels: cin, height: H, width: W, samples: (0..<cin * H * W).map {
            sin(Float($0) * 0.37) * Float($0 % cin + 1) * 0.3 + ($0 % 3 == 0 ? 0.5 : 0)
        })
        let w = ConvWeight(outChannels: cout, inChannels: cin, kernel: 3, data: (0..<cout * cin * 9).map { cos(Float($0) * 0.71) * 0.2 })
        let residual = Tensor(channels: cout, height: H, width: W, samples: (0..<cout * H * W).map { Float($0 % 7) * 0.1 })
        let plane = H * W
        var scale = [Float](), zero = [Int](), q = [Int](repeating: 0, count: cin * plane)
        for c in 0..<cin {
            let values = x.samples[c * plane ..< (c + 1) * plane]
            let lo = min(0, values.min()!), hi = max(0, values.max()!)
            let s = max((hi - lo) / 255, 1e-8), z = Int((-lo / s).rounded(.toNearestOrEven))
            for i in 0..<plane { q[c * plane + i] = min(max(Int((values[c * plane + i] * (1 / s)).rounded(.toNearestOrEven)) + z, 0), 255) }
            scale.append(s)
            zero.append(z)
        }
        for (int8, (slope, res)) in product(int8Ops(), [(Float(1), nil), (0.25, residual)] as [(Float, Tensor?)]) {
            let got = int8.conv2d(x, w, preluSlope: slope == 1 ? nil : slope, plus: res)
            var want = Tensor(channels: cout, height: H, width: W)
            for o in 0..<cout {
                let folded = (0..<cin * 9).map { w.data[o * cin * 9 + $0] * scale[$0 / 9] }
                let t = max(folded.map(abs).max()! / 127, 1e-12)
                let wq = folded.map { Int(min(max(($0 / t).rounded(.toNearestOrEven), -127), 127)) }
                for yy in 0..<H {
                    for xx in 0..<W {
                        var sum = 0
                        for c in 0..<cin {
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let sy = yy + ky - 1, sx = xx + kx - 1
                                    if sy >= 0 && sy < H && sx >= 0 && sx < W {
                                        sum += wq[c * 9 + ky * 3 + kx] * (q[c * plane + sy * W + sx] - zero[c])
                                    }
                                }
                            }
                        }
                        var v = Float(sum) * t
                        if v < 0 { v *= slope }
                        want[xx, yy, o] = v + (res?[xx, yy, o] ?? 0)
                    }
                }
            }
            let differing = zip(got.samples, want.samples).filter { $0 != $1 }.count
            #expect(differing == 0, "\(shape), \(int8.kernelName), slope \(slope): \(differing) values differ")
        }
    }

    /// Int8 contexts for every int8 kernel this CPU runs, each through the float path of its width.
    func int8Ops() -> [Ops] {
        [KernelPath.avx512, .avx2].filter { $0.isSupported && Int8Kernel.allowed(by: $0) != nil }
            .map { Ops(threads: 2, precision: .int8, path: $0) }
    }

    func product<A, B>(_ a: [A], _ b: [B]) -> [(A, B)] { a.flatMap { x in b.map { (x, $0) } } }

    /// Int8 against float32 on one convolution, away from the border: rounding to steps of s_c
    /// (activations) and t_o / s_c (weights) adds independent uniform errors, so the RMS difference
    /// is sqrt(sum over taps of w^2 s_c^2 / 12 + mean(x_c^2) (t_o / s_c)^2 / 12), averaged over outputs.
    /// The measured RMS must be that closed form within 25%: a wrong scale or a float fallback fails.
    @Test(.enabled(if: Ops.vnniAvailable)) func int8ConvolutionErrorIsItsRoundingError() {
        let (H, W, C) = (40, 90, 24)
        let x = Tensor(channels: C, height: H, width: W, samples: (0..<C * H * W).map { sin(Float($0) * 0.0137) + cos(Float($0) * 0.29) * 0.3 })
        let w = ConvWeight(outChannels: C, inChannels: C, kernel: 3, data: (0..<C * C * 9).map { sin(Float($0) * 1.7) * 0.1 })
        let plane = H * W
        let s = (0..<C).map { c in
            let values = x.samples[c * plane ..< (c + 1) * plane]
            return Double(max(0, values.max()!) - min(0, values.min()!)) / 255
        }
        let meanSquare = (0..<C).map { c in x.samples[c * plane ..< (c + 1) * plane].reduce(0.0) { $0 + Double($1 * $1) } / Double(plane) }
        var predicted = 0.0
        for o in 0..<C {
            let taps = (0..<C * 9).map { Double(w.data[o * C * 9 + $0]) }
            let t = (0..<C * 9).map { abs(taps[$0]) * s[$0 / 9] }.max()! / 127
            for (i, v) in taps.enumerated() {
                predicted += v * v * s[i / 9] * s[i / 9] / 12 + meanSquare[i / 9] * (t / s[i / 9]) * (t / s[i / 9]) / 12
            }
        }
        predicted = (predicted / Double(C)).squareRoot()
        let want = ops.conv2d(x, w)
        for int8 in int8Ops() {
            let got = int8.conv2d(x, w)
            var sum = 0.0
            for o in 0..<C { for yy in 1..<H - 1 { for xx in 1..<W - 1 { sum += pow(Double(got[xx, yy, o] - want[xx, yy, o]), 2) } } }
            let measured = (sum / Double(C * (H - 2) * (W - 2))).squareRoot()
            #expect(measured > 0.75 * predicted && measured < 1.25 * predicted,
                    "\(int8.kernelName): RMS \(measured), closed form \(predicted)")
        }
    }

    /// The AMX kernels (3x3 and 1x1) against direct sums of the bfloat16-rounded inputs and weights,
    /// to float rounding: layouts, padding to blocks of 16 channels, PReLU and residual. On small
    /// integers, which bfloat16 holds exactly, that is the float convolution itself. Channel counts
    /// leave partial blocks of 16 (2 and 19 input pairs, 11 and 20 outputs).
    @Test(.enabled(if: Ops.amxAvailable), arguments: [(5, 7, 3, 11), (3, 37, 37, 20), (40, 301, 24, 24)])
    func amxConvolutionMatchesDirectSums(shape: (Int, Int, Int, Int)) {
        let (H, W, cin, cout) = shape
        let residual = Tensor(channels: cout, height: H, width: W, samples: (0..<cout * H * W).map { Float($0 % 7) })
        for integers in [true, false] {
            let x = Tensor(channels: cin, height: H, width: W, samples: (0..<cin * H * W).map {
                integers ? Float(($0 * 37) % 11) - 5 : sin(Float($0) * 0.37) * 2
            })
            for k in [1, 3] {
                let w = ConvWeight(outChannels: cout, inChannels: cin, kernel: k, data: (0..<cout * cin * k * k).map {
                    integers ? Float(($0 * 13) % 7) - 3 : cos(Float($0) * 0.71)
                })
                let xr = Tensor(channels: cin, height: H, width: W, samples: x.samples.map(bfloat16))
                let wr = ConvWeight(outChannels: cout, inChannels: cin, kernel: k, data: w.data.map(bfloat16))
                #expect(integers == (xr == x && wr.data == w.data))
                for (slope, res) in [(Float(1), nil), (0.25, residual)] as [(Float, Tensor?)] {
                    let want = directConv(xr, wr, slope: slope == 1 ? nil : slope, residual: res)
                    let got = ops.convAMX(PairPlanes(packing: x, ops), w, preluSlope: slope, residual: res)
                    #expect(relativeL2(got, want) < 1e-5, "\(shape) \(k)x\(k): relative L2 \(relativeL2(got, want))")
                }
            }
        }
    }

    /// The fused convolutions of a channel attention block on AMX (both layers stored straight as
    /// bfloat16 pairs, channel means from the stores) equal the two convolutions run one by one and
    /// packed, bit for bit: the same roundings in the same order. An odd channel count leaves a half pair.
    @Test(.enabled(if: Ops.amxAvailable), arguments: [(37, 45, 19), (8, 300, 16)])
    func fusedAttentionBlockConvsMatchSeparateOnes(shape: (Int, Int, Int)) {
        let (H, W, C) = shape
        let x = Tensor(channels: C, height: H, width: W, samples: (0..<C * H * W).map { sin(Float($0) * 0.37) * 2 })
        func weight(_ f: Float) -> ConvWeight {
            ConvWeight(outChannels: C, inChannels: C, kernel: 3, data: (0..<C * C * 9).map { cos(Float($0) * f) * 0.2 })
        }
        let (conv1, conv2) = (weight(0.71), weight(0.53))
        let hidden = ops.convAMX(PairPlanes(packing: x, ops), conv1, preluSlope: 0.25)
        let want = ops.convAMX(PairPlanes(packing: hidden, ops), conv2)
        let (got, mean) = ops.attentionBlockConvsAMX(PairPlanes(packing: x, ops), conv1, 0.25, conv2)
        #expect(got.data == PairPlanes(packing: want, ops).data)
        for c in 0..<C {
            let exact = want.samples[c * H * W ..< (c + 1) * H * W].reduce(0.0) { $0 + Double($1) } / Double(H * W)
            #expect(abs(Double(mean[c]) - exact) < 1e-5 * max(1, abs(exact)), "channel \(c): mean \(mean[c]), want \(exact)")
        }
    }

    /// Channel attention's last step on AMX, x · scale + residual with x in bfloat16 pairs, and its
    /// result packed in the same pass: the packed planes equal packing the result afterwards, frame
    /// and all.
    @Test(.enabled(if: Ops.amxAvailable)) func scaleAddPacksItsResult() {
        let (C, H, W) = (19, 9, 37)
        let values = Tensor(channels: C, height: H, width: W, samples: (0..<C * H * W).map { sin(Float($0) * 0.37) * 2 })
        let x = PairPlanes(packing: values, ops)
        let residual = Tensor(channels: C, height: H, width: W, samples: (0..<C * H * W).map { cos(Float($0) * 0.11) })
        let scale = (0..<C).map { Float($0) / Float(C) }
        let (stored, pairs) = ops.scaleAddAMX(x, scale, plus: residual, packing: true)
        let out = stored!
        for i in out.samples.indices {
            let want = bfloat16(values.samples[i]) * scale[i / (H * W)] + residual.samples[i]
            #expect(abs(out.samples[i] - want) <= 1e-6 * max(1, abs(want)))
        }
        #expect(pairs?.data == PairPlanes(packing: out, ops).data)
        let unpacked = ops.scaleAddAMX(x, scale, plus: residual, packing: false)
        #expect(unpacked.0 == out && unpacked.1 == nil)
        let packedOnly = ops.scaleAddAMX(x, scale, plus: residual, packing: true, storing: false)
        #expect(packedOnly.0 == nil && packedOnly.1?.data == pairs?.data)
    }

    /// Packing parts side by side (conv2d(concatenating:)) equals packing their concatenation,
    /// including the zero planes that pad 19 channels to the kernel's block of pairs.
    @Test(.enabled(if: Ops.amxAvailable)) func packingPartsEqualsPackingTheirConcatenation() {
        func random(_ c: Int, _ seed: Int) -> Tensor {
            Tensor(channels: c, height: 5, width: 19, samples: (0..<c * 95).map { Float(($0 * 7919 + seed) % 1013) / 97 - 5 })
        }
        let (a, b, c) = (random(8, 1), random(6, 2), random(5, 3))
        let whole = ops.concatChannels([a, b, c])
        #expect(PairPlanes(packing: [a, b, c], ops).data == PairPlanes(packing: whole, ops).data)
        #expect(PairPlanes(packing: [a, c], ops).data == PairPlanes(packing: ops.concatChannels([a, c]), ops).data)
    }

    /// Float to bfloat16 and back, rounding to nearest even.
    func bfloat16(_ v: Float) -> Float {
        let u = v.bitPattern
        return Float(bitPattern: (u &+ 0x7fff &+ ((u >> 16) & 1)) & 0xffff_0000)
    }

    @Test func cropsConcatenateBack() {
        let x = Tensor(channels: 2, height: 6, width: 10, samples: (0..<120).map(Float.init))
        let left = ops.crop(x, rows: 0..<6, columns: 0..<3), right = ops.crop(x, rows: 0..<6, columns: 3..<10)
        #expect(left[1, 2, 1] == x[1, 2, 1] && right[0, 2, 1] == x[3, 2, 1])
        #expect(ops.concatWidth(left, right) == x)
        #expect(ops.concatHeight(ops.crop(x, rows: 0..<4, columns: 0..<10), ops.crop(x, rows: 4..<6, columns: 0..<10)) == x)
    }

    @Test func bilinearClosedForms() {
        let x = Tensor(channels: 1, height: 2, width: 4, samples: [0, 4, 8, 12, 2, 6, 10, 14])
        #expect(ops.downsample2(x).samples == [3, 11])  // means of 2x2 blocks
        let up = ops.upsample2(Tensor(channels: 1, height: 1, width: 2, samples: [0, 8]))
        // Output i samples i/2 - 1/4: 0 → clamped 0, 1 → 0.25, 2 → 0.75, 3 → 1.25 clamped to the edge.
        #expect(up.width == 4 && up.height == 2)
        #expect(up.samples[0..<4] == [0, 2, 6, 8])
        #expect(up.samples[4..<8] == [0, 2, 6, 8])
        let residual = Tensor(channels: 1, height: 2, width: 4, samples: [1, 1, 1, 1, -1, -1, -1, -1])
        #expect(ops.upsample2(Tensor(channels: 1, height: 1, width: 2, samples: [0, 8]), plus: residual).samples
                == [1, 3, 7, 9, -1, 1, 5, 7])
    }

    /// What the decoder and ORSNet rely on to run their 1x1 convs before upsampling: composed 1x1
    /// convs are one matrix product, and a 1x1 conv commutes with bilinear upsampling.
    @Test func pointwiseConvsComposeAndCommuteWithUpsampling() {
        let a = ConvWeight(outChannels: 2, inChannels: 3, kernel: 1, data: [1, 2, 3, -1, 0, 1])
        let b = ConvWeight(outChannels: 3, inChannels: 1, kernel: 1, data: [1, 10, 100])
        #expect(a.after(b).data == [321, 99])
        let x = Tensor(channels: 3, height: 3, width: 5, samples: (0..<45).map { Float(($0 * 37) % 11) - 5 })
        let before = ops.conv2d(ops.upsample2(x), a), after = ops.upsample2(ops.conv2d(x, a))
        #expect(relativeL2(before, after) < 1e-6)
    }

    @Test func channelAttentionAndActivations() {
        var x = Tensor(channels: 1, height: 1, width: 3, samples: [-2, 0, 3])
        ops.prelu(&x, slope: 0.25)
        #expect(x.samples == [-0.5, 0, 3])
        ops.relu(&x)
        #expect(x.samples == [0, 0, 3])
        // Mean 1; down weight 2 → relu 2; up weight 0 → sigmoid(0) = 0.5: output halves.
        let a = ops.channelAttention(x, down: ConvWeight(outChannels: 1, inChannels: 1, kernel: 1, data: [2]),
                                     up: ConvWeight(outChannels: 1, inChannels: 1, kernel: 1, data: [0]))
        #expect(a.samples == [0, 0, 1.5])
    }

    @Test func vectorSigmoidMatchesLibm() {
        // −105 ... 105, not a multiple of 16; below −87 both are 0 to float precision.
        let values = (0..<1001).map { Float($0 - 500) * 0.21 }
        var x = Tensor(channels: 1, height: 7, width: 143, samples: values)
        ops.sigmoid(&x)
        for (v, got) in zip(values, x.samples) {
            let want = 1 / (1 + Glibc.exp(-Double(v)))
            #expect(abs(Double(got) - want) <= 4e-7 * want + 1e-37, "sigmoid(\(v)) = \(got), want \(want)")
        }
        let a = Tensor(channels: 1, height: 1, width: 3, samples: [1, 2, 3])
        #expect(ops.multiplyAdd(a, a, plus: Tensor(channels: 1, height: 1, width: 3, samples: [-1, 0, 1])).samples == [0, 4, 10])
    }

    @Test func reflectPadding() {
        let x = Tensor(channels: 1, height: 1 + 2, width: 3, samples: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let p = ops.padReflect(x, bottom: 2, right: 1)
        #expect(p.width == 4 && p.height == 5)
        #expect(p.samples[0..<4] == [1, 2, 3, 2])
        #expect(p.samples[12..<16] == [4, 5, 6, 5])  // row 3 reflects row 1
        // Sides smaller than the padding (MPRNet pads to multiples of 8) reflect again, as numpy's
        // "reflect" does: np.pad([1, 2], (0, 6), "reflect") and np.pad([1, 2, 3], (0, 7), "reflect").
        let two = Tensor(channels: 1, height: 1, width: 2, samples: [1, 2]), three = Tensor(channels: 1, height: 1, width: 3, samples: [1, 2, 3])
        #expect(ops.padReflect(two, bottom: 0, right: 6).samples == [1, 2, 1, 2, 1, 2, 1, 2])
        #expect(ops.padReflect(three, bottom: 0, right: 7).samples == [1, 2, 3, 2, 1, 2, 3, 2, 1, 2])
        #expect(ops.padReflect(Tensor(channels: 1, height: 1, width: 1, samples: [5]), bottom: 7, right: 7).samples
            == [Float](repeating: 5, count: 64))
    }
}

@Suite struct LoaderTests {
    func bytes() throws -> [UInt8] {
        var out: [UInt8] = []
        let f = fopen(fixtures + "/weights.safetensors", "rb")!
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            out += buf[0..<n]
            if n < buf.count { break }
        }
        return out
    }

    @Test func truncatedFileIsReported() throws {
        let b = try bytes()
        for cut in [4, 100, b.count - 10] {
            #expect(throws: SafeTensors.Failure.self) { _ = try SafeTensors(bytes: Array(b[0..<cut])) }
        }
    }

    @Test func corruptHeaderIsReported() throws {
        var b = try bytes()
        b[8] = UInt8(ascii: "#")  // the header's opening brace
        #expect(throws: SafeTensors.Failure.self) { _ = try SafeTensors(bytes: b) }
    }

    /// A safetensors file with this JSON header and `data` bytes after it.
    func crafted(_ header: String, data: Int) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h + [UInt8](repeating: 0, count: data)
    }

    func loadError(_ bytes: [UInt8]) -> String? {
        do { _ = try SafeTensors(bytes: bytes); return nil } catch { return "\(error)" }
    }

    @Test func craftedHeadersAreRejectedNotRead() throws {
        let t = #""dtype":"F32","shape":[24,48,3,3]"#
        // A negative range of the right length once read 100 MB before the buffer (signal 11).
        #expect(loadError(crafted(#"{"w":{\#(t),"data_offsets":[-100000000,-99958528]}}"#, data: 41472))?
            .contains("outside the data section") == true)
        #expect(loadError(crafted(#"{"w":{\#(t),"data_offsets":[0,41472]}}"#, data: 41472)) == nil)
        #expect(loadError(crafted(#"{"w":{\#(t),"data_offsets":[8,41480]}}"#, data: 41472))?
            .contains("truncated") == true)
        // A second definition once replaced the first silently.
        #expect(loadError(crafted(#"{"w":{\#(t),"data_offsets":[0,41472]},"w":{\#(t),"data_offsets":[0,41472]}}"#,
                                  data: 41472))?.contains("repeated") == true)
        #expect(loadError(crafted(#"{"a":{\#(t),"data_offsets":[0,41472]},"b":{\#(t),"data_offsets":[40000,81472]}}"#,
                                  data: 81472))?.contains("overlap") == true)
        // Shape products that overflow Int, or exceed the file, before any allocation.
        #expect(loadError(crafted(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}"#,
                                  data: 0))?.contains("larger than the file") == true)
        #expect(loadError(crafted(#"{"w":{"dtype":"F16","shape":[0,7],"data_offsets":[0,0]}}"#, data: 0)) == nil)
        // Nesting deep enough to overflow a recursive parser's stack.
        let deep = "{\"__metadata__\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(loadError(crafted(deep, data: 0))?.contains("nested deeper") == true)
    }

    @Test func metadataCannotAskForAHugeModel() throws {
        let base = ["n_feat": "24", "scale_unetfeats": "16", "scale_orsnetfeats": "8", "num_cab": "2", "reduction": "4"]
        #expect(throws: Never.self) { _ = try MPRNetConfig(metadata: base) }
        for (k, v) in [("n_feat", "100000"), ("num_cab", "1000"), ("reduction", "0"), ("scale_unetfeats", "-3")] {
            #expect(throws: MPRNetError.self) { _ = try MPRNetConfig(metadata: base.merging([k: v]) { $1 }) }
        }
        // A wide, deep config with no tensors is reported, not allocated tensor by tensor.
        let widest = MPRNetConfig(nFeat: 512, scaleUnetFeats: 64, scaleOrsnetFeats: 64, numCab: 64, reduction: 4)
        do {
            _ = try MPRNet(config: widest, tensors: [:])
            Issue.record("loaded a model without weights")
        } catch let MPRNetError.badWeights(problems) {
            #expect(problems.count > 100 && problems.allSatisfy { $0.hasPrefix("missing ") })
        }
    }

    @Test func missingExtraAndMisshapedTensorsAreAllListed() throws {
        let file = try SafeTensors(bytes: try bytes())
        var t = file.tensors
        t.removeValue(forKey: "tail.weight")
        t["bogus.weight"] = SafeTensors.Entry(shape: [1], data: [0])
        t["concat12.weight"] = SafeTensors.Entry(shape: [1, 1, 1, 1], data: [0])
        let cfg = try MPRNetConfig(metadata: file.metadata)
        do {
            _ = try MPRNet(config: cfg, tensors: t)
            Issue.record("loaded bad weights")
        } catch let MPRNetError.badWeights(problems) {
            #expect(problems.contains { $0.hasPrefix("missing tail.weight") })
            #expect(problems.contains("unexpected tensor bogus.weight"))
            #expect(problems.contains { $0.hasPrefix("concat12.weight has shape [1, 1, 1, 1]") })
        }
        // The same tensors under another config do not fit either.
        #expect(throws: MPRNetError.self) {
            _ = try MPRNet(config: MPRNetConfig(nFeat: 16, scaleUnetFeats: 4, scaleOrsnetFeats: 4, numCab: 2, reduction: 4),
                           tensors: file.tensors)
        }
    }
}
