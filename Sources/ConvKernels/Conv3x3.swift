/// Direct 3x3 convolution (zero padding 1, no bias) over a zero-framed input, for rows `rows`.
///
/// Compiled twice like the DCT kernels: as ConvKernels for baseline x86-64 and, through a symbolic
/// link, as ConvKernelsAVX2 with `-target-cpu haswell` and `CONV_FMA`; NeuralCore picks one at run
/// time. MPRNet's layers are thin (3 to 56 channels), where a GEMM spends its time packing; here
/// each input row segment is loaded once and feeds four output channels.
///
/// - `input`: `cin` planes of (height + 2) rows × `paddedWidth` (≥ width + 2, with the image at
///   row 1, column 1 and zeros around), `planeStride` floats apart.
/// - `weights`: PyTorch layout [cout][cin][3][3].
/// - `output`: `cout` planes of height × width. Only `rows` are written.
public func conv3x3Rows(input: UnsafePointer<Float>, cin: Int, width: Int, paddedWidth: Int, planeStride: Int,
                        weights: UnsafePointer<Float>, cout: Int, output: UnsafeMutablePointer<Float>, height: Int,
                        rows: Range<Int>, preluSlope: Float) {
    typealias V = SIMD16<Float>
    let lanes = 16, block = 4
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) func fma(_ acc: inout V, _ w: Float, _ v: V) {
        #if CONV_FMA
        acc.addProduct(V(repeating: w), v)
        #else
        acc += w * v
        #endif
    }
    @inline(__always) func finish(_ v: V) -> V {
        preluSlope == 1 ? v : v.replacing(with: v * preluSlope, where: v .< 0)
    }
    func store(_ v: V, _ o: UnsafeMutablePointer<Float>, _ count: Int) {
        let r = finish(v)
        if count == lanes {
            UnsafeMutableRawPointer(o).storeBytes(of: r, as: V.self)
        } else {
            for i in 0..<count { o[i] = r[i] }
        }
    }
    let plane = height * width, step = cin * 9
    for y in rows {
        var oc = 0
        // Four output channels at a time share every input load; the rest one at a time.
        while oc + block <= cout {
            for x0 in Swift.stride(from: 0, to: width, by: lanes) {
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
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
                        }
                    }
                }
                let count = min(lanes, width - x0)
                let o = output + (oc * height + y) * width + x0
                store(a0, o, count)
                store(a1, o + plane, count)
                store(a2, o + 2 * plane, count)
                store(a3, o + 3 * plane, count)
            }
            oc += block
        }
        while oc < cout {
            for x0 in Swift.stride(from: 0, to: width, by: lanes) {
                var a0 = V()
                for ic in 0..<cin {
                    let src = input + ic * planeStride + y * paddedWidth + x0
                    let w = weights + (oc * cin + ic) * 9
                    for ky in 0..<3 {
                        for kx in 0..<3 { fma(&a0, w[ky * 3 + kx], load(src + ky * paddedWidth + kx)) }
                    }
                }
                store(a0, output + (oc * height + y) * width + x0, min(lanes, width - x0))
            }
            oc += 1
        }
    }
}
