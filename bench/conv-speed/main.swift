// The convolution kernels alone, one thread, per layer shape. 3x3 layers: GMAC/s of each build the
// CPU runs (multiply-adds of the direct definition, so Winograd shows as the speed it is worth), beside the
// direct kernel of the same build, and the share of the build's FMA peak measured on this core (also
// F(2x2) Winograd alone, the kernel before F(4x4) on row quads); on CPUs with VNNI, the int8 kernels
// too (their sums alone, inputs already quantised); the 1x1 layers' kernels in every build.
//
//     swift run -c release conv-speed            # the shapes of the shipped model
//     swift run -c release conv-speed 24 24 256  # cin cout size
//     swift run -c release conv-speed --peak     # only the peaks: "build GMAC/s" lines, FMA per float
//                                                # build, VPDPBUSD per int8 path (avx2+vnni, avx512+vnni)
import ConvArguments
import ConvKernels
import ConvKernelsAVX2
import ConvKernelsAVX512
import ConvKernelsVNNI
import CPlatform
import Foundation

struct Build {
    let name: String, lanes: Int
    let run: (Conv3x3Arguments, Range<Int>) -> Void
    let conv1x1: (Conv1x1Arguments, Range<Int>) -> Void
    let direct: (Conv3x3Arguments, Range<Int>) -> Void
    /// F(2x2) Winograd on every row pair, where the build also has F(4x4) on row quads.
    var pairs: ((Conv3x3Arguments, Range<Int>) -> Void)? = nil
    let peak: (() -> Double) -> Double
}

var builds = [Build(name: "baseline", lanes: ConvKernels.convLanes, run: ConvKernels.conv3x3Rows,
                    conv1x1: ConvKernels.conv1x1Columns,
                    direct: ConvKernels.conv3x3RowsDirect, peak: ConvKernels.measuredFMAPeak)]
if denoise_cpu_has_avx2() != 0 {
    builds.append(Build(name: "avx2", lanes: ConvKernelsAVX2.convLanes, run: ConvKernelsAVX2.conv3x3Rows,
                        conv1x1: ConvKernelsAVX2.conv1x1Columns,
                        direct: ConvKernelsAVX2.conv3x3RowsDirect, pairs: ConvKernelsAVX2.conv3x3RowsPairs,
                        peak: ConvKernelsAVX2.measuredFMAPeak))
}
if denoise_cpu_has_avx512() != 0 {
    builds.append(Build(name: "avx512", lanes: ConvKernelsAVX512.convLanes, run: ConvKernelsAVX512.conv3x3Rows,
                        conv1x1: ConvKernelsAVX512.conv1x1Columns,
                        direct: ConvKernelsAVX512.conv3x3RowsDirect, pairs: ConvKernelsAVX512.conv3x3RowsPairs,
                        peak: ConvKernelsAVX512.measuredFMAPeak))
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// The CPU's model name from /proc/cpuinfo.
func cpu() -> String {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    return info.split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
}

/// Best of five runs, in seconds, of `kernel` over all rows.
func time(_ a: Conv3x3Arguments, _ kernel: (Conv3x3Arguments, Range<Int>) -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<5 {
        let t = now()
        kernel(a, 0..<a.height)
        best = min(best, now() - t)
    }
    return best
}

// The int8 kernels this CPU runs: AVX-512 VNNI's, and the 256-bit one (AVX-VNNI's encoding, or on
// AVX-512 CPUs the EVEX one of the same code, what their forced AVX2 path runs), each named as
// `denoise kernels` names the path, with its VPDPBUSD peak (12 independent ones in a loop).
struct Int8Kernel {
    let name: String, path: String
    let run: (UnsafePointer<UInt8>, Int32, Int32, Int32, Int32, Int, UnsafePointer<Int8>, Int32,
              UnsafePointer<denoise_vnni_output>) -> Void
    /// Multiply-adds per VPDPBUSD, and the loop of `rounds` rounds of 12.
    let macs: Int, loop: (Int) -> Int32

    func peak() -> Double {
        let rounds = 20_000_000, start = now()
        let sink = loop(rounds)
        return Double(rounds * 12 * macs) / (now() - start) / 1e9 + 0 * Double(sink)
    }
}
var int8Kernels: [Int8Kernel] = []
if denoise_cpu_has_avx512_vnni() != 0 {
    int8Kernels.append(Int8Kernel(name: "avx512 vnni", path: "avx512+vnni",
                                  run: { denoise_vnni_conv3x3_rows($0, $1, $2, $3, $4, $5, $6, $7, 0, $3, $8) },
                                  macs: 64, loop: { denoise_vnni_peak_loop($0) }))
}
if denoise_cpu_has_avx_vnni() != 0 || denoise_cpu_has_avx512_vnni() != 0 {
    let encoding = Int32(denoise_cpu_has_avx_vnni() == 0 ? DENOISE_VNNI256_EVEX : DENOISE_VNNI256_VEX)
    int8Kernels.append(Int8Kernel(name: encoding == DENOISE_VNNI256_EVEX ? "256-bit vnni (evex)" : "256-bit vnni (avx-vnni)",
                                  path: "avx2+vnni",
                                  run: { denoise_vnni256_conv3x3_rows(encoding, $0, $1, $2, $3, $4, $5, $6, $7, 0, $3, $8) },
                                  macs: 32, loop: { denoise_vnni256_peak_loop(encoding, $0) }))
}

if CommandLine.arguments.contains("--peak") {
    for build in builds { print(build.name, String(format: "%.1f", build.peak(now))) }
    for kernel in int8Kernels { print(kernel.path, String(format: "%.1f", kernel.peak())) }
    exit(0)
}

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
// The shipped model's 3x3 layers (compact config: 24 features, encoder 24/40/56, the ORSNet 32) at
// the sizes a 512x512 tile gives them, and its first layer (3 channels).
let shapes = args.count == 3 ? [(args[0], args[1], args[2])]
    : [(3, 24, 512), (24, 24, 256), (40, 40, 128), (56, 56, 64), (32, 32, 512)]
print("\(cpu()), one thread; GMAC/s counted as the direct definition's multiply-adds (Winograd does fewer),")
print("beside the build's measured FMA peak (12 independent vector FMAs in a loop)")
let peaks = builds.map { $0.peak(now) }
for (build, peak) in zip(builds, peaks) {
    print("\n\(build.name)" + String(format: " (FMA peak %.1f GMAC/s)", peak))
    print("   cin  cout   size |  kernel  direct  ratio | of peak" + (build.pairs == nil ? "" : " | F(2x2) only"))
    for (cin, cout, size) in shapes {
        let H = size, W = size, Wp = conv3x3PaddedWidth(W, lanes: build.lanes), planeStride = (H + 2) * Wp
        var input = [Float](repeating: 0, count: cin * planeStride)
        var seed: UInt64 = 1
        func random() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(seed >> 40) / Float(1 << 24) - 0.5
        }
        for c in 0..<cin { for y in 0..<H { for x in 0..<W { input[c * planeStride + (y + 1) * Wp + x + 1] = random() } } }
        let weights = (0..<cout * cin * 9).map { _ in random() * 0.2 }
        var output = [Float](repeating: 0, count: cout * H * W)
        let macs = Double(cin * cout * 9 * H * W)
        input.withUnsafeBufferPointer { ip in
            weights.withUnsafeBufferPointer { wp in
                output.withUnsafeMutableBufferPointer { op in
                    let a = Conv3x3Arguments(input: ip.baseAddress!, cin: cin, width: W, height: H, paddedWidth: Wp,
                                             planeStride: planeStride, weights: wp.baseAddress!, cout: cout,
                                             output: op.baseAddress!, residual: nil, preluSlope: 1)
                    let kernel = macs / time(a, build.run) / 1e9, direct = macs / time(a, build.direct) / 1e9
                    let share = String(format: "%6.0f%%", 100 * kernel / peak)
                    let pairs = build.pairs.map { String(format: " | %7.1f", macs / time(a, $0) / 1e9) } ?? ""
                    print(String(format: "  %4d  %4d  %5d | %7.1f %7.1f  %4.2fx | ", cin, cout, size, kernel, direct, kernel / direct)
                          + share + pairs)
                }
            }
        }
    }
}

// The 1x1 convolutions of the shipped model at a 512x512 tile's sizes (SAM, cross-stage fusion and
// ORSNet's lateral maps at full size, the U-Nets' down- and up-sampling maps below it), float in
// every build (the int8 path runs them in float too).
let shapes1x1 = args.count == 3 ? [(args[0], args[1], args[2])]
    : [(24, 24, 512), (24, 32, 512), (24, 3, 512), (3, 24, 512), (24, 40, 256), (56, 40, 128)]
print("\n1x1 convolutions, GMAC/s (share of the build's FMA peak)")
print("   cin  cout   size | " + builds.map { $0.name.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined(separator: " "))
for (cin, cout, size) in shapes1x1 {
    let plane = size * size
    let input = (0..<cin * plane).map { Float($0 % 251) / 251 - 0.5 }
    let weights = (0..<cout * cin).map { Float($0 % 13) / 13 - 0.5 }
    var output = [Float](repeating: 0, count: cout * plane)
    var line = String(format: "  %4d  %4d  %5d | ", cin, cout, size)
    for (build, peak) in zip(builds, peaks) {
        var best = Double.infinity
        input.withUnsafeBufferPointer { ip in
        weights.withUnsafeBufferPointer { wp in
        output.withUnsafeMutableBufferPointer { op in
            let a = Conv1x1Arguments(input: ip.baseAddress!, cin: cin, plane: plane, weights: wp.baseAddress!, cout: cout,
                                     output: op.baseAddress!, residual: nil)
            for _ in 0..<5 {
                let t = now()
                build.conv1x1(a, 0..<plane)
                best = min(best, now() - t)
            }
        }}}
        let gmacs = Double(cin * cout * plane) / best / 1e9
        line += String(format: "%6.1f (%3.0f%%)", gmacs, 100 * gmacs / peak).padding(toLength: 17, withPad: " ", startingAt: 0)
    }
    print(line)
}

// Each int8 kernel three ways, as the network calls it: float outputs; half floats (an attention
// block's second convolution); half floats with PReLU and each row's range (its first).
if !int8Kernels.isEmpty {
    let int8Peaks = int8Kernels.map { $0.peak() }
    print("\nint8 (VPDPBUSD does 4x the multiply-adds of a float FMA of its width; inputs already quantised),"
          + " GMAC/s and share of each kernel's VPDPBUSD peak measured now ("
          + zip(int8Kernels, int8Peaks).map { String(format: "%@ %.1f", $0.name, $1) }.joined(separator: ", ")
          + "); outputs as floats | as half floats | as half floats with PReLU and row ranges")
    print("   cin  cout   size | " + int8Kernels.map { $0.name.padding(toLength: 50, withPad: " ", startingAt: 0) }.joined(separator: " | "))
    for (cin, cout, size) in shapes where cin >= 8 {
        let H = size, W = size, Wp = Int(denoise_vnni_padded_width(Int32(W))), planeStride = (H + 2) * Wp
        let groups = Int(denoise_vnni_groups(Int32(cin)))
        let input = (0..<groups * planeStride * 4).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        let weights = (0..<cout * cin * 9).map { Int8(truncatingIfNeeded: ($0 * 37) % 255 - 127) }
        var packed = [Int8](repeating: 0, count: Int(denoise_vnni_weights_bytes(Int32(cout), Int32(cin))))
        denoise_vnni_pack_weights(weights, Int32(cout), Int32(cin), &packed)
        let scale = [Float](repeating: 1e-3, count: cout), correction = [Int32](repeating: 0, count: cout)
        var output = [Float](repeating: 0, count: cout * H * W)
        var halves = [UInt16](repeating: 0, count: cout * H * W)
        var lo = [Float](repeating: 0, count: cout * H), hi = lo
        var line = String(format: "  %4d  %4d  %5d |", cin, cout, size)
        for (kernel, peak) in zip(int8Kernels, int8Peaks) {
            for way in 0..<3 {
                var best = Double.infinity
                output.withUnsafeMutableBufferPointer { op in
                halves.withUnsafeMutableBufferPointer { hp in
                lo.withUnsafeMutableBufferPointer { lp in
                hi.withUnsafeMutableBufferPointer { up in
                scale.withUnsafeBufferPointer { sp in
                correction.withUnsafeBufferPointer { cp in
                    var out = denoise_vnni_output(planes: way == 0 ? op.baseAddress! : nil, halves: way == 0 ? nil : hp.baseAddress!,
                                                  residual: nil, scale: sp.baseAddress!, correction: cp.baseAddress!,
                                                  preluSlope: way == 2 ? 0.25 : 1, rowLo: way == 2 ? lp.baseAddress! : nil,
                                                  rowHi: way == 2 ? up.baseAddress! : nil)
                    for _ in 0..<5 {
                        let t = now()
                        kernel.run(input, Int32(cin), Int32(W), Int32(H), Int32(Wp), planeStride, packed, Int32(cout), &out)
                        best = min(best, now() - t)
                    }
                }}}}}}
                let gmacs = Double(cin * cout * 9 * H * W) / best / 1e9
                line += String(format: " %6.1f (%3.0f%%)", gmacs, 100 * gmacs / peak).padding(toLength: 16, withPad: " ", startingAt: 0)
            }
            line += " |"
        }
        print(line)
    }
}
