import Glibc

/// Activations and per-value arithmetic, each split across the threads.
extension Ops {
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
}
