import ConvArguments

/// Direct 3x3 convolution (zero padding 1, no bias) over a zero-framed input, for rows `rows`:
/// output = PReLU(conv(input)) + residual.
///
/// Compiled three times like the DCT kernels: as ConvKernels for baseline x86-64 and, through
/// symbolic links, as ConvKernelsAVX2 (`-target-cpu haswell`, `CONV_FMA`) and ConvKernelsAVX512
/// (`skylake-avx512`, `CONV_FMA`, `CONV_WIDE`); NeuralCore picks one at run time. MPRNet's layers
/// are thin (3 to 176 channels), where a GEMM spends its time packing; here each input vector is
/// loaded once and feeds eight output channels: eight accumulators (16 zmm registers in the AVX-512
/// build, 8 ymm in the AVX2 one), enough to keep two FMA units busy.
///
/// Only the output rows `rows` are written.
public func conv3x3Rows(_ a: Conv3x3Arguments, rows: Range<Int>) {
    let (input, cin, width, height, paddedWidth, planeStride) = (a.input, a.cin, a.width, a.height, a.paddedWidth, a.planeStride)
    let (weights, cout, output, residual, preluSlope) = (a.weights, a.cout, a.output, a.residual, a.preluSlope)
    let lanes = convLanes, block = 8
    let plane = height * width, step = cin * 9
    for y in rows {
        var oc = 0
        // Eight output channels at a time share every input load; the rest one at a time.
        while oc + block <= cout {
            for x0 in Swift.stride(from: 0, to: width, by: lanes) {
                var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
                var a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
                for ic in 0..<cin {
                    let src = input + ic * planeStride + y * paddedWidth + x0
                    let w = weights + (oc * cin + ic) * 9
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let v = load(src + ky * paddedWidth + kx), t = ky * 3 + kx
                            fma(&a0, w[t], v)
                            fma(&a1, w[step + t], v)
                            fma(&a2, w[2 * step + t], v)
                            fma(&a3, w[3 * step + t], v)
                            fma(&a4, w[4 * step + t], v)
                            fma(&a5, w[5 * step + t], v)
                            fma(&a6, w[6 * step + t], v)
                            fma(&a7, w[7 * step + t], v)
                        }
                    }
                }
                let count = min(lanes, width - x0), at = (oc * height + y) * width + x0
                @inline(__always) func put(_ a: Vector, _ j: Int) {
                    store(a, slope: preluSlope, residual: residual.map { $0 + at + j * plane }, output + at + j * plane, count)
                }
                put(a0, 0); put(a1, 1); put(a2, 2); put(a3, 3); put(a4, 4); put(a5, 5); put(a6, 6); put(a7, 7)
            }
            oc += block
        }
        while oc < cout {
            for x0 in Swift.stride(from: 0, to: width, by: lanes) {
                var a0 = Vector()
                for ic in 0..<cin {
                    let src = input + ic * planeStride + y * paddedWidth + x0
                    let w = weights + (oc * cin + ic) * 9
                    for ky in 0..<3 {
                        for kx in 0..<3 { fma(&a0, w[ky * 3 + kx], load(src + ky * paddedWidth + kx)) }
                    }
                }
                let at = (oc * height + y) * width + x0
                store(a0, slope: preluSlope, residual: residual.map { $0 + at }, output + at, min(lanes, width - x0))
            }
            oc += 1
        }
    }
}
