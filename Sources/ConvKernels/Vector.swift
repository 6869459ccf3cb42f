// The vector type and the load/FMA/store steps shared by the convolution kernels. A kernel keeps
// eight to twelve accumulators of `Vector`: 16 of AVX-512's 32 zmm registers, 12 of AVX2's 16 ymm.

#if CONV_WIDE
/// 32 floats in two zmm registers (Swift's SIMD32 does not lower to them).
struct Vector {
    var lo = SIMD16<Float>(), hi = SIMD16<Float>()
    static var scalarCount: Int { 32 }
}

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector {
    let raw = UnsafeRawPointer(p)
    return Vector(lo: raw.loadUnaligned(as: SIMD16<Float>.self), hi: raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
}

@inline(__always) func fma(_ acc: inout Vector, _ w: Float, _ v: Vector) {
    let b = SIMD16<Float>(repeating: w)
    acc.lo.addProduct(b, v.lo)
    acc.hi.addProduct(b, v.hi)
}

@inline(__always) func prelu(_ v: Vector, _ slope: Float) -> Vector {
    Vector(lo: v.lo.replacing(with: v.lo * slope, where: v.lo .< 0), hi: v.hi.replacing(with: v.hi * slope, where: v.hi .< 0))
}

@inline(__always) func + (a: Vector, b: Vector) -> Vector { Vector(lo: a.lo + b.lo, hi: a.hi + b.hi) }

@inline(__always) func storeFull(_ v: Vector, _ o: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(o).storeBytes(of: v.lo, as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(o).storeBytes(of: v.hi, toByteOffset: 64, as: SIMD16<Float>.self)
}
#else
typealias Vector = SIMD8<Float>  // one ymm register (two xmm in the baseline build)

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

@inline(__always) func fma(_ acc: inout Vector, _ w: Float, _ v: Vector) {
    #if CONV_FMA
    acc.addProduct(Vector(repeating: w), v)
    #else
    acc += w * v
    #endif
}

@inline(__always) func prelu(_ v: Vector, _ slope: Float) -> Vector {
    v.replacing(with: v * slope, where: v .< 0)
}

@inline(__always) func storeFull(_ v: Vector, _ o: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(o).storeBytes(of: v, as: Vector.self)
}
#endif

#if CONV_FMA
/// A register block of 6 output channels × 2 vectors (12 accumulators: 12 of AVX2's 16 ymm
/// registers, or 12 zmm for Winograd's tiles on AVX-512), so each step's 2 input loads and 6
/// weight broadcasts feed 12 FMAs. Kept in registers once inlined.
struct SixByTwo<V: SIMD> where V.Scalar == Float {
    var p0 = V(), p1 = V(), p2 = V(), p3 = V(), p4 = V(), p5 = V()
    var q0 = V(), q1 = V(), q2 = V(), q3 = V(), q4 = V(), q5 = V()

    /// Adds weight(j) × (u, v) to channel j's pair of accumulators.
    @inline(__always) mutating func add(_ u: V, _ v: V, _ weight: (Int) -> Float) {
        var b = V(repeating: weight(0))
        p0.addProduct(b, u); q0.addProduct(b, v)
        b = V(repeating: weight(1))
        p1.addProduct(b, u); q1.addProduct(b, v)
        b = V(repeating: weight(2))
        p2.addProduct(b, u); q2.addProduct(b, v)
        b = V(repeating: weight(3))
        p3.addProduct(b, u); q3.addProduct(b, v)
        b = V(repeating: weight(4))
        p4.addProduct(b, u); q4.addProduct(b, v)
        b = V(repeating: weight(5))
        p5.addProduct(b, u); q5.addProduct(b, v)
    }

    /// Hands each of the first `valid` channels' pair to `put`.
    @inline(__always) func forEach(valid: Int, _ put: (Int, V, V) -> Void) {
        put(0, p0, q0)
        if valid > 1 { put(1, p1, q1) }
        if valid > 2 { put(2, p2, q2) }
        if valid > 3 { put(3, p3, q3) }
        if valid > 4 { put(4, p4, q4) }
        if valid > 5 { put(5, p5, q5) }
    }
}
#endif

/// Pixels per vector. The 3x3 kernel reads up to this many floats past a row's last pixel.
public let convLanes = Vector.scalarCount

/// The first `count` floats at `p`, zeros after; reads nothing past them.
@inline(__always) func load(_ p: UnsafePointer<Float>, _ count: Int) -> Vector {
    if count == convLanes { return load(p) }
    var v = Vector()
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.assumingMemoryBound(to: Float.self).update(from: p, count: count) }
    return v
}

/// Writes PReLU(`v`) (slope 1: identity) plus `residual` at the same offset, if any, to the first
/// `count` floats at `o`.
@inline(__always) func store(_ v: Vector, slope: Float, residual: UnsafePointer<Float>?,
                             _ o: UnsafeMutablePointer<Float>, _ count: Int) {
    let r = prelu(v, slope)  // a blend, cheaper than a branch on the slope
    guard count == convLanes else { return storePartial(r, residual: residual, o, count) }
    storeFull(residual.map { r + load($0) } ?? r, o)
}

/// `store` for a row's last, partial vector.
@inline(never) func storePartial(_ v: Vector, residual: UnsafePointer<Float>?, _ o: UnsafeMutablePointer<Float>, _ count: Int) {
    let r = residual.map { v + load($0, count) } ?? v
    withUnsafeBytes(of: r) { o.update(from: $0.baseAddress!.assumingMemoryBound(to: Float.self), count: count) }
}

/// Multiply-adds per second (in units of 1e9) this build's vector FMA reaches on one core: 12
/// independent accumulators, as the kernels keep, over about 2e8 operations. For benchmarks.
package func measuredFMAPeak(seconds: () -> Double) -> Double {
    var a = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector())
    var b = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector())
    let x = load([Float](repeating: 1.000001, count: convLanes), convLanes), w: Float = 0.999999
    let iterations = 200_000_000 / (12 * convLanes)
    let start = seconds()
    for _ in 0..<iterations {
        fma(&a.0, w, x); fma(&a.1, w, x); fma(&a.2, w, x); fma(&a.3, w, x); fma(&a.4, w, x); fma(&a.5, w, x)
        fma(&b.0, w, x); fma(&b.1, w, x); fma(&b.2, w, x); fma(&b.3, w, x); fma(&b.4, w, x); fma(&b.5, w, x)
    }
    let elapsed = seconds() - start
    // The sums feed the result, so the loop cannot be dropped (0 × a float is not folded away).
    var sink = [Float](repeating: 0, count: convLanes)
    storeFull(a.0 + a.1 + a.2 + a.3 + a.4 + a.5 + b.0 + b.1 + b.2 + b.3 + b.4 + b.5, &sink)
    return Double(iterations * 12 * convLanes) / elapsed / 1e9 + 0 * Double(sink[0])
}
