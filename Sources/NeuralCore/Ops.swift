import CBLAS
import ConvKernels
import ConvKernelsAVX2
import CPlatform
import Dispatch
import Synchronization

/// The operations MPRNet needs, with PyTorch's semantics. 3x3 convolutions are direct (ConvKernels);
/// 1x1 convolutions are one OpenBLAS sgemm.
public enum Ops {
    /// Worker threads for convolutions. Each worker runs single-threaded sgemm on its own columns:
    /// OpenBLAS's own threads spin and yield badly on a busy machine.
    public static func setThreads(_ n: Int) {
        threadCount.store(max(1, n), ordering: .relaxed)
        openblas_set_num_threads(1)
    }

    static let threadCount = Atomic<Int>(1)

    /// Runs `body(range)` over `0..<n` split into one contiguous part per thread.
    static func parallelColumns(_ n: Int, minimum: Int = 4096, _ body: (Range<Int>) -> Void) {
        let t = min(threadCount.load(ordering: .relaxed), max(1, n / minimum))
        if t == 1 { return body(0..<n) }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: t) { i in work.value(n * i / t ..< n * (i + 1) / t) }
        }
    }

    /// Bias-free convolution, zero padding k/2; `preluSlope` applies PReLU to the result in the
    /// same pass (3x3 only).
    public static func conv2d(_ x: Tensor, _ w: ConvWeight, preluSlope: Float? = nil) -> Tensor {
        precondition(x.channels == w.inChannels, "conv input has \(x.channels) channels, weight expects \(w.inChannels)")
        precondition(preluSlope == nil || w.kernel == 3, "fused PReLU is for 3x3 convolutions")
        var out = Tensor(uninitializedChannels: w.outChannels, height: x.height, width: x.width)
        let H = x.height, W = x.width, Cin = x.channels, Cout = w.outChannels
        if w.kernel == 1 {
            w.data.withUnsafeBufferPointer { wp in
                x.data.withUnsafeBufferPointer { xp in
                    out.data.withUnsafeMutableBufferPointer { op in
                        let (a, b, o) = (wp.baseAddress!, xp.baseAddress!, op.baseAddress!)
                        parallelColumns(H * W) { r in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(Cout), Int32(r.count), Int32(Cin),
                                        1, a, Int32(Cin), b + r.lowerBound, Int32(H * W), 0, o + r.lowerBound, Int32(H * W))
                        }
                    }
                }
            }
            return out
        }
        precondition(w.kernel == 3, "only 1x1 and 3x3 convolutions are implemented")
        // Direct convolution over a zero-framed input, rows split across the threads.
        let Wp = W + 2 + 16, planeStride = (H + 2) * Wp
        let padded = zeroPad(x, paddedWidth: Wp)
        let slope = preluSlope ?? 1
        let kernel = conv3x3Kernel
        w.data.withUnsafeBufferPointer { wp in
        padded.withUnsafeBufferPointer { xp in
        out.data.withUnsafeMutableBufferPointer { op in
            let (a, b, o) = (wp.baseAddress!, xp.baseAddress!, op.baseAddress!)
            parallelColumns(H, minimum: 8) { rows in
                kernel(b, Cin, W, Wp, planeStride, a, Cout, o, H, rows, slope)
            }
        }}}
        return out
    }

    /// The 3x3 kernel for this CPU: AVX2 + FMA where available, baseline x86-64 otherwise.
    static let conv3x3Kernel = denoise_cpu_has_avx2() != 0 ? ConvKernelsAVX2.conv3x3Rows : ConvKernels.conv3x3Rows

    /// Each channel framed by zeros: (H+2) rows of `paddedWidth` (≥ W+2) with the image at (1, 1).
    /// The extra columns let 16-wide loads at the row end stay inside the buffer.
    static func zeroPad(_ x: Tensor, paddedWidth Wp: Int) -> [Float] {
        let planeStride = (x.height + 2) * Wp
        var out = [Float](repeating: 0, count: x.channels * planeStride)
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<x.channels {
                    for y in 0..<x.height {
                        (dst.baseAddress! + c * planeStride + (y + 1) * Wp + 1)
                            .update(from: src.baseAddress! + (c * x.height + y) * x.width, count: x.width)
                    }
                }
            }
        }
        return out
    }

    public static func relu(_ x: inout Tensor) {
        x.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = max(p[i], 0) } }
    }

    /// PReLU with one slope for all channels (MPRNet's `nn.PReLU()`).
    public static func prelu(_ x: inout Tensor, slope: Float) {
        x.data.withUnsafeMutableBufferPointer { p in for i in p.indices where p[i] < 0 { p[i] *= slope } }
    }

    public static func sigmoid(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

    public static func sigmoid(_ x: inout Tensor) {
        x.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = sigmoid(p[i]) } }
    }

    /// Channel attention: x · sigmoid(up(relu(down(mean_hw(x))))) per channel, down/up 1x1 convs,
    /// plus `residual` when given (the CAB's skip connection, fused into the same pass).
    public static func channelAttention(_ x: Tensor, down: ConvWeight, up: ConvWeight, plus residual: Tensor? = nil) -> Tensor {
        let n = Float(x.plane)
        let mean = (0..<x.channels).map { c in x.data[c * x.plane ..< (c + 1) * x.plane].reduce(0, +) / n }
        let hidden = matvec(down, mean).map { max($0, 0) }
        let scale = matvec(up, hidden).map(sigmoid)
        var out = x
        out.data.withUnsafeMutableBufferPointer { p in
            if let residual {
                precondition(residual.shape == x.shape)
                residual.data.withUnsafeBufferPointer { r in
                    for c in 0..<x.channels {
                        let k = scale[c]
                        for i in c * x.plane ..< (c + 1) * x.plane { p[i] = p[i] * k + r[i] }
                    }
                }
            } else {
                for c in 0..<x.channels {
                    for i in c * x.plane ..< (c + 1) * x.plane { p[i] *= scale[c] }
                }
            }
        }
        return out
    }

    static func matvec(_ w: ConvWeight, _ v: [Float]) -> [Float] {
        (0..<w.outChannels).map { o in
            var s: Float = 0
            for i in 0..<w.inChannels { s += w.data[o * w.inChannels + i] * v[i] }
            return s
        }
    }

    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        var out = a
        out.data.withUnsafeMutableBufferPointer { o in
            b.data.withUnsafeBufferPointer { q in for i in o.indices { o[i] += q[i] } }
        }
        return out
    }

    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "mul: shapes \(a.shape) and \(b.shape) differ")
        var out = a
        out.data.withUnsafeMutableBufferPointer { o in
            b.data.withUnsafeBufferPointer { q in for i in o.indices { o[i] *= q[i] } }
        }
        return out
    }

    /// Concatenation along channels (torch.cat dim 1).
    public static func concatChannels(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.height == b.height && a.width == b.width)
        return Tensor(channels: a.channels + b.channels, height: a.height, width: a.width, data: a.data + b.data)
    }

    /// Concatenation along height (torch.cat dim 2): `a` on top.
    public static func concatHeight(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.channels == b.channels && a.width == b.width)
        var data: [Float] = []
        data.reserveCapacity(a.data.count + b.data.count)
        for c in 0..<a.channels {
            data += a.data[c * a.plane ..< (c + 1) * a.plane]
            data += b.data[c * b.plane ..< (c + 1) * b.plane]
        }
        return Tensor(channels: a.channels, height: a.height + b.height, width: a.width, data: data)
    }

    /// Concatenation along width (torch.cat dim 3): `a` on the left.
    public static func concatWidth(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.channels == b.channels && a.height == b.height)
        var data: [Float] = []
        data.reserveCapacity(a.data.count + b.data.count)
        for c in 0..<a.channels {
            for y in 0..<a.height {
                data += a.data[(c * a.height + y) * a.width ..< (c * a.height + y + 1) * a.width]
                data += b.data[(c * b.height + y) * b.width ..< (c * b.height + y + 1) * b.width]
            }
        }
        return Tensor(channels: a.channels, height: a.height, width: a.width + b.width, data: data)
    }

    /// The window rows `ys`, columns `xs` of every channel.
    public static func crop(_ x: Tensor, rows ys: Range<Int>, columns xs: Range<Int>) -> Tensor {
        var data: [Float] = []
        data.reserveCapacity(x.channels * ys.count * xs.count)
        for c in 0..<x.channels {
            for y in ys {
                let row: Int = (c * x.height + y) * x.width
                data += x.data[row + xs.lowerBound ..< row + xs.upperBound]
            }
        }
        return Tensor(channels: x.channels, height: ys.count, width: xs.count, data: data)
    }

    /// Bilinear resize by 0.5 with align_corners=False: the source point of output pixel i is
    /// 2i + 0.5, so each output is the mean of a 2x2 block (sizes floor(h/2) x floor(w/2)).
    public static func downsample2(_ x: Tensor) -> Tensor {
        let h = x.height / 2, w = x.width / 2
        var out = Tensor(channels: x.channels, height: h, width: w)
        for c in 0..<x.channels {
            for y in 0..<h {
                for i in 0..<w {
                    out[c, y, i] = 0.25 * (x[c, 2 * y, 2 * i] + x[c, 2 * y, 2 * i + 1]
                                           + x[c, 2 * y + 1, 2 * i] + x[c, 2 * y + 1, 2 * i + 1])
                }
            }
        }
        return out
    }

    /// Bilinear resize by 2 with align_corners=False: output i samples the source at i/2 − 1/4,
    /// clamped to the edge (PyTorch's rule for negative coordinates and the last pixel).
    public static func upsample2(_ x: Tensor) -> Tensor {
        let H = x.height * 2, W = x.width * 2
        var out = Tensor(channels: x.channels, height: H, width: W)
        func taps(_ i: Int, _ size: Int) -> (Int, Int, Float) {
            let src = max(0, Float(i) * 0.5 - 0.25)
            let i0 = min(Int(src), size - 1)
            let i1 = min(i0 + 1, size - 1)
            return (i0, i1, src - Float(i0))
        }
        let xt = (0..<W).map { taps($0, x.width) }
        for c in 0..<x.channels {
            for y in 0..<H {
                let (y0, y1, fy) = taps(y, x.height)
                for i in 0..<W {
                    let (x0, x1, fx) = xt[i]
                    let top = x[c, y0, x0] * (1 - fx) + x[c, y0, x1] * fx
                    let bottom = x[c, y1, x0] * (1 - fx) + x[c, y1, x1] * fx
                    out[c, y, i] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }

    /// Reflect padding at the bottom and right (torch F.pad mode "reflect"): edge not repeated.
    public static func padReflect(_ x: Tensor, bottom: Int, right: Int) -> Tensor {
        precondition(bottom < x.height && right < x.width, "reflect padding must be smaller than the image")
        let H = x.height + bottom, W = x.width + right
        var out = Tensor(channels: x.channels, height: H, width: W)
        func reflect(_ i: Int, _ n: Int) -> Int { i < n ? i : 2 * n - 2 - i }
        for c in 0..<x.channels {
            for y in 0..<H {
                for i in 0..<W { out[c, y, i] = x[c, reflect(y, x.height), reflect(i, x.width)] }
            }
        }
        return out
    }
}

import Glibc

/// Lets a closure that only touches disjoint memory cross into Dispatch's workers.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
