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
    let r = slope == 1 ? v : prelu(v, slope)
    guard count == convLanes else { return storePartial(r, residual: residual, o, count) }
    storeFull(residual.map { r + load($0) } ?? r, o)
}

/// `store` for a row's last, partial vector.
@inline(never) func storePartial(_ v: Vector, residual: UnsafePointer<Float>?, _ o: UnsafeMutablePointer<Float>, _ count: Int) {
    let r = residual.map { v + load($0, count) } ?? v
    withUnsafeBytes(of: r) { o.update(from: $0.baseAddress!.assumingMemoryBound(to: Float.self), count: count) }
}
