import ConvKernelsAMX
import CPlatform
import Dispatch
import Synchronization

/// How convolutions compute.
public enum Precision: String, Sendable, CaseIterable {
    /// Float throughout: matches PyTorch to float rounding.
    case float32
    /// Convolutions with bfloat16 inputs and weights and float sums on Intel AMX tiles, where the
    /// CPU has them (float32 elsewhere): about twice as fast, within a few hundredths of a dB.
    case bfloat16
}

/// The operations MPRNet needs, with PyTorch's semantics, under one execution context: a value
/// passed down every call (never process state), so that calls on different threads with
/// different settings do not see each other's. Convolutions are direct (ConvKernels), built for
/// baseline x86-64, AVX2 + FMA and AVX-512 and chosen for the CPU at run time, or on AMX
/// (ConvKernelsAMX, driven from AMXConvolution.swift) in `Precision.bfloat16`; the other
/// operations are plain loops. Everything large is split across `threads` workers.
public struct Ops: Sendable {
    /// Worker threads for every operation (at least 1).
    public let threads: Int
    /// What the convolutions compute in.
    public let precision: Precision
    /// The float convolution kernels: the fastest build this CPU runs unless a path is forced.
    let kernels: ConvKernelSet
    /// Whether bfloat16 may run on AMX (not when a float path is forced).
    let amxAllowed: Bool

    /// `path` (e.g. from `KernelPath.fromEnvironment()`, checked there) forces a kernel build;
    /// nil takes the fastest this CPU has.
    public init(threads: Int = 1, precision: Precision = .float32, path: KernelPath? = nil) {
        self.init(threads: threads, precision: precision, kernels: path?.floatKernels ?? ConvKernelSet.supported.last!,
                  amxAllowed: path == nil || path == .amx)
    }

    init(threads: Int, precision: Precision, kernels: ConvKernelSet, amxAllowed: Bool = true) {
        self.threads = max(1, threads)
        self.precision = precision
        self.kernels = kernels
        self.amxAllowed = amxAllowed
    }

    /// Whether the convolutions run on AMX tiles: bfloat16 asked for, allowed, and the CPU has them.
    var useAMX: Bool { precision == .bfloat16 && amxAllowed && Self.amxAvailable }

    /// Whether `Precision.bfloat16` runs on AMX on this CPU (otherwise it is float32).
    public static let amxAvailable = denoise_amx_available() != 0

    /// Runs `body(range)` over `0..<n` split into one contiguous part per thread, each part a
    /// multiple of `align` except the last; one part when `work` (floats touched) is small.
    func parallel(_ n: Int, work: Int, align: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = min(threads, max(1, work / 32768), (n + align - 1) / align)
        if t <= 1 { return body(0..<n) }
        let units = (n + align - 1) / align
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: t) { i in
                work.value(min(n, units * i / t * align) ..< min(n, units * (i + 1) / t * align))
            }
        }
    }

    /// Bias-free convolution, zero padding k/2: PReLU(conv(x)) + residual, PReLU (3x3 only) and
    /// residual optional and computed in the same pass.
    public func conv2d(_ x: Tensor, _ w: ConvWeight, preluSlope: Float? = nil, plus residual: Tensor? = nil) -> Tensor {
        conv2d(x, w, preluSlope: preluSlope, plus: residual, kernels: kernels)
    }

    /// conv2d of the channels of `parts` one after another (torch.cat along channels), without
    /// the concatenated copy where the kernels can read the parts as they are.
    public func conv2d(concatenating parts: [Tensor], _ w: ConvWeight) -> Tensor {
        guard useAMX, parts.dropLast().allSatisfy({ $0.channels % 2 == 0 }) else {
            return conv2d(parts.dropFirst().reduce(parts[0], concatChannels), w)
        }
        precondition(w.kernel == 1 || w.kernel == 3, "only 1x1 and 3x3 convolutions are implemented")
        return convAMX(PairPlanes(packing: parts, self), w)
    }

    /// Several convolutions of one input, each plus its residual (if any); on AMX the input is
    /// packed once for all of them.
    public func conv2d(_ x: Tensor, _ weights: [ConvWeight], plus residuals: [Tensor?]) -> [Tensor] {
        precondition(weights.count == residuals.count, "one residual (or nil) per convolution")
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
        var out = Tensor(uninitializedChannels: Cout, height: H, width: W)
        let padded = w.kernel == 3 ? zeroPad(x, paddedWidth: W + 2 + k.lanes) : []
        w.data.withUnsafeBufferPointer { wp in
        x.samples.withUnsafeBufferPointer { xp in
        padded.withUnsafeBufferPointer { pp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let (a, o) = (wp.baseAddress!, op.baseAddress!)
            if w.kernel == 1 {
                let b = xp.baseAddress!
                parallel(H * W, work: (Cin + Cout) * H * W, align: k.lanes) { columns in
                    k.conv1x1(b, Cin, H * W, a, Cout, o, rp, columns)
                }
            } else {
                let b = pp.baseAddress!, Wp = W + 2 + k.lanes
                parallel(H, work: Cin * Cout * H * W / 8) { rows in
                    k.conv3x3(b, Cin, W, Wp, (H + 2) * Wp, a, Cout, o, rp, H, rows, preluSlope ?? 1)
                }
            }
        }}}}}
        return out
    }

    func withResidual<R>(_ r: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let r else { return body(nil) }
        return r.samples.withUnsafeBufferPointer { body($0.baseAddress!) }
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
                        p.update(repeating: 0, count: Wp + 1)
                        for y in 0..<H {
                            let row = p + (y + 1) * Wp
                            (row + 1).update(from: s + (c * H + y) * W, count: W)
                            (row + W + 1).update(repeating: 0, count: Wp - W)  // and column 0 of the next row
                        }
                        (p + (H + 1) * Wp + 1).update(repeating: 0, count: Wp - 1)
                    }
                }
            }
        }
        return out
    }

    public func relu(_ x: inout Tensor) {
        x.samples.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = max(p[i], 0) } }
    }

    /// PReLU with one slope for all channels (MPRNet's `nn.PReLU()`).
    public func prelu(_ x: inout Tensor, slope: Float) {
        x.samples.withUnsafeMutableBufferPointer { p in for i in p.indices where p[i] < 0 { p[i] *= slope } }
    }

    public func sigmoid(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

    /// 1 / (1 + e^−v) for every value, 16 at a time (`exp`), the tensor split across the threads.
    public func sigmoid(_ x: inout Tensor) {
        x.samples.withUnsafeMutableBufferPointer { p in
            let b = UnsafeMutableRawPointer(p.baseAddress!), n = p.count
            parallel(n, work: 4 * n, align: 16) { r in
                var i = r.lowerBound
                while i < r.upperBound {
                    var v = SIMD16<Float>(repeating: 0)
                    let count = min(16, r.upperBound - i)
                    if count == 16 {
                        v = b.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                    } else {
                        for k in 0..<count { v[k] = p[i + k] }
                    }
                    v = 1 / (1 + exp(-v))
                    if count == 16 {
                        b.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD16<Float>.self)
                    } else {
                        for k in 0..<count { p[i + k] = v[k] }
                    }
                    i += 16
                }
            }
        }
    }

    /// e^x in 16 lanes, within a few ulp of `expf`: x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r from
    /// Cephes' degree-6 polynomial, 2^n built in the exponent bits; x clamped to [−87.3, 88.3].
    @inline(__always) func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let (lo, hi) = (SIMD16<Float>(repeating: -87.3), SIMD16<Float>(repeating: 88.3))
        let x = x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
        // Adding 1.5 · 2^23 rounds to an integer n, which then sits in the low mantissa bits.
        let magic = SIMD16<Float>(repeating: 12582912)
        let shifted = x * 1.44269504 + magic, n = shifted - magic
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var q = SIMD16<Float>(repeating: 1.9875691500e-4)
        q = q * r + 1.3981999507e-3
        q = q * r + 8.3334519073e-3
        q = q * r + 4.1665795894e-2
        q = q * r + 1.6666665459e-1
        q = q * r + 5.0000001201e-1
        let bits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        return (q * r * r + r + 1) * unsafeBitCast((bits &+ 127) &<< 23, to: SIMD16<Float>.self)
    }

    /// Channel attention: x · sigmoid(up(relu(down(mean_hw(x))))) per channel, down/up 1x1 convs,
    /// plus `residual` when given (the CAB's skip connection, fused into the same pass).
    public func channelAttention(_ x: Tensor, down: ConvWeight, up: ConvWeight, plus residual: Tensor? = nil) -> Tensor {
        precondition(residual == nil || residual!.shape == x.shape, "channel attention residual has the wrong shape")
        let P = x.plane
        var mean = [Float](repeating: 0, count: x.channels)
        x.samples.withUnsafeBufferPointer { xp in
            mean.withUnsafeMutableBufferPointer { m in
                let (src, dst) = (xp.baseAddress!, m.baseAddress!)
                parallel(x.channels, work: x.samples.count) { channels in
                    for c in channels { dst[c] = sum(src + c * P, P) / Float(P) }
                }
            }
        }
        let scale = attentionScale(mean: mean, down: down, up: up)
        var out = Tensor(uninitializedChannels: x.channels, height: x.height, width: x.width)
        x.samples.withUnsafeBufferPointer { xp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let (src, dst) = (xp.baseAddress!, op.baseAddress!)
            parallel(x.channels, work: 2 * x.samples.count) { channels in
                for c in channels {
                    let k = scale[c], at = c * P
                    if let rp {
                        for i in at ..< at + P { dst[i] = src[i] * k + rp[i] }
                    } else {
                        for i in at ..< at + P { dst[i] = src[i] * k }
                    }
                }
            }
        }}}
        return out
    }

    /// Each channel's attention weight: sigmoid(up(relu(down(mean)))).
    func attentionScale(mean: [Float], down: ConvWeight, up: ConvWeight) -> [Float] {
        matvec(up, matvec(down, mean).map { max($0, 0) }).map(sigmoid)
    }

    /// The sum of `n` floats, in 16 interleaved partial sums (vectorizable; close to PyTorch's
    /// pairwise order, far from a long serial chain's rounding).
    func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    func matvec(_ w: ConvWeight, _ v: [Float]) -> [Float] {
        (0..<w.outChannels).map { o in
            var s: Float = 0
            for i in 0..<w.inChannels { s += w.data[o * w.inChannels + i] * v[i] }
            return s
        }
    }

    /// a · b + c for every value in one pass (the tensors of one shape), split across the threads.
    public func multiplyAdd(_ a: Tensor, _ b: Tensor, plus c: Tensor) -> Tensor {
        precondition(a.shape == b.shape && a.shape == c.shape, "multiplyAdd: shapes \(a.shape), \(b.shape), \(c.shape) differ")
        var out = Tensor(uninitializedChannels: a.channels, height: a.height, width: a.width)
        a.samples.withUnsafeBufferPointer { ap in
        b.samples.withUnsafeBufferPointer { bp in
        c.samples.withUnsafeBufferPointer { cp in
        out.samples.withUnsafeMutableBufferPointer { op in
            let (x, y, z, o) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!, op.baseAddress!)
            parallel(op.count, work: 4 * op.count) { r in for i in r { o[i] = x[i] * y[i] + z[i] } }
        }}}}
        return out
    }

    /// Copies rows of `source` into `out`: `count` rows of `width` floats; row r of source starts at
    /// `from(r)`, of out at `to(r)`. Split across the threads.
    func copyRows(_ source: Tensor, into out: inout Tensor, count: Int, width: Int,
                         from: (Int) -> Int, to: (Int) -> Int) {
        source.samples.withUnsafeBufferPointer { sp in
            out.samples.withUnsafeMutableBufferPointer { op in
                let (s, o) = (sp.baseAddress!, op.baseAddress!)
                parallel(count, work: 2 * count * width) { rows in
                    for r in rows { (o + to(r)).update(from: s + from(r), count: width) }
                }
            }
        }
    }

    /// Concatenation along channels (torch.cat dim 1).
    public func concatChannels(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.height == b.height && a.width == b.width)
        return Tensor(channels: a.channels + b.channels, height: a.height, width: a.width, samples: a.samples + b.samples)
    }

    /// Concatenation along height (torch.cat dim 2): `a` on top.
    public func concatHeight(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.channels == b.channels && a.width == b.width)
        var out = Tensor(uninitializedChannels: a.channels, height: a.height + b.height, width: a.width)
        let P = a.plane + b.plane
        copyRows(a, into: &out, count: a.channels, width: a.plane, from: { $0 * a.plane }, to: { $0 * P })
        copyRows(b, into: &out, count: b.channels, width: b.plane, from: { $0 * b.plane }, to: { $0 * P + a.plane })
        return out
    }

    /// Concatenation along width (torch.cat dim 3): `a` on the left.
    public func concatWidth(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.channels == b.channels && a.height == b.height)
        let W = a.width + b.width
        var out = Tensor(uninitializedChannels: a.channels, height: a.height, width: W)
        let rows = a.channels * a.height
        copyRows(a, into: &out, count: rows, width: a.width, from: { $0 * a.width }, to: { $0 * W })
        copyRows(b, into: &out, count: rows, width: b.width, from: { $0 * b.width }, to: { $0 * W + a.width })
        return out
    }

    /// The window rows `ys`, columns `xs` of every channel.
    public func crop(_ x: Tensor, rows ys: Range<Int>, columns xs: Range<Int>) -> Tensor {
        precondition(ys.lowerBound >= 0 && ys.upperBound <= x.height && xs.lowerBound >= 0 && xs.upperBound <= x.width,
                     "crop window outside the tensor")
        var out = Tensor(uninitializedChannels: x.channels, height: ys.count, width: xs.count)
        let h = ys.count
        copyRows(x, into: &out, count: x.channels * h, width: xs.count,
                 from: { r in ((r / h) * x.height + ys.lowerBound + r % h) * x.width + xs.lowerBound },
                 to: { $0 * xs.count })
        return out
    }

    /// Bilinear resize by 0.5 with align_corners=False: the source point of output pixel i is
    /// 2i + 0.5, so each output is the mean of a 2x2 block (sizes floor(h/2) x floor(w/2)).
    public func downsample2(_ x: Tensor) -> Tensor {
        let h = x.height / 2, w = x.width / 2, W = x.width
        var out = Tensor(uninitializedChannels: x.channels, height: h, width: w)
        x.samples.withUnsafeBufferPointer { xp in
            out.samples.withUnsafeMutableBufferPointer { op in
                let (s, o) = (xp.baseAddress!, op.baseAddress!)
                parallel(x.channels * h, work: x.samples.count) { rows in
                    for r in rows {
                        let top = s + ((r / h) * x.height + 2 * (r % h)) * W, bottom = top + W, dst = o + r * w
                        for i in 0..<w {
                            dst[i] = 0.25 * (top[2 * i] + top[2 * i + 1] + bottom[2 * i] + bottom[2 * i + 1])
                        }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear resize by 2 with align_corners=False: output i samples the source at i/2 − 1/4,
    /// clamped to the edge (PyTorch's rule for negative coordinates and the last pixel); plus
    /// `residual` (same shape as the output) when given, in the same pass.
    public func upsample2(_ x: Tensor, plus residual: Tensor? = nil) -> Tensor {
        let h = x.height, w = x.width, H = 2 * h, W = 2 * w
        precondition(residual == nil || residual!.shape == [x.channels, H, W], "upsample residual has the wrong shape")
        var out = Tensor(uninitializedChannels: x.channels, height: H, width: W)
        x.samples.withUnsafeBufferPointer { xp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let (s, o) = (xp.baseAddress!, op.baseAddress!)
            parallel(x.channels * H, work: 2 * op.count) { rows in
                // The output row blended vertically at source resolution, then horizontally, where
                // output 2i samples i − 1/4 (weights 1/4, 3/4) and 2i + 1 samples i + 1/4 (3/4, 1/4).
                var blend = [Float](repeating: 0, count: w + 2)
                blend.withUnsafeMutableBufferPointer { bp in
                    let b = bp.baseAddress! + 1  // b[-1] and b[w] repeat the edges
                    for r in rows {
                        let c = r / H, y = r % H
                        let src = max(0, Float(y) * 0.5 - 0.25), y0 = min(Int(src), h - 1), y1 = min(y0 + 1, h - 1)
                        let fy = src - Float(y0)
                        let top = s + (c * h + y0) * w, bottom = s + (c * h + y1) * w
                        for i in 0..<w { b[i] = top[i] * (1 - fy) + bottom[i] * fy }
                        b[-1] = b[0]
                        b[w] = b[w - 1]
                        let (dst, add) = (o + r * W, rp.map { $0 + r * W })
                        var i = 0
                        while i + 4 <= w {  // 4 source pixels to 8 outputs, interleaved
                            let left = UnsafeRawPointer(b + i - 1).loadUnaligned(as: SIMD4<Float>.self)
                            let mid = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD4<Float>.self)
                            let right = UnsafeRawPointer(b + i + 1).loadUnaligned(as: SIMD4<Float>.self)
                            let even = left * 0.25 + mid * 0.75, odd = mid * 0.75 + right * 0.25
                            var v = SIMD8(even[0], odd[0], even[1], odd[1], even[2], odd[2], even[3], odd[3])
                            if let add { v += UnsafeRawPointer(add + 2 * i).loadUnaligned(as: SIMD8<Float>.self) }
                            UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD8<Float>.self)
                            i += 4
                        }
                        for i in i..<w {
                            dst[2 * i] = b[i - 1] * 0.25 + b[i] * 0.75 + (add?[2 * i] ?? 0)
                            dst[2 * i + 1] = b[i] * 0.75 + b[i + 1] * 0.25 + (add?[2 * i + 1] ?? 0)
                        }
                    }
                }
            }
        }}}
        return out
    }

    /// Reflect padding at the bottom and right (torch F.pad mode "reflect"): edge not repeated.
    /// Padding as large as the image or larger (which torch refuses) reflects again at each edge,
    /// as numpy's "reflect" does; a side of one pixel repeats it.
    public func padReflect(_ x: Tensor, bottom: Int, right: Int) -> Tensor {
        let H = x.height + bottom, W = x.width + right
        var out = Tensor(channels: x.channels, height: H, width: W)
        func reflect(_ i: Int, _ n: Int) -> Int {
            guard n > 1 else { return 0 }
            let j = i % (2 * n - 2)
            return j < n ? j : 2 * n - 2 - j
        }
        for c in 0..<x.channels {
            for y in 0..<H {
                for i in 0..<W { out[i, y, c] = x[reflect(i, x.width), reflect(y, x.height), c] }
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
