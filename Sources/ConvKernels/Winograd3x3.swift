import ConvArguments

// Winograd F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 2x2 block of outputs comes from its 4x4 input tile with 16 multiplications per channel pair
// instead of 36, at the cost of transforming tiles in and out. Built into the AVX2 kernels only:
// there the FMA rate, not memory, bounds the direct kernel (measured at AVX2's FMA peak), while
// AVX-512's direct kernel gains nothing from it.
//
//   input tile  V = Bᵀ d B,  Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   weights     U = G g Gᵀ,  G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   output      Y = Aᵀ (Σ_ic U ⊙ V) A,  Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// Tiles are processed 16 at a time (two vectors of 8, one lane per tile: 2 output rows × 32
// columns), so the sum over input channels is, for each of the 16 tile positions ξ, a small matrix
// product that the register-blocked loop of the direct kernel runs (6 channels × 2 vectors).

#if CONV_FMA && !CONV_WIDE
/// Output columns one block of 16 tiles covers.
let winogradBlock = 32
/// Input channels below which the direct kernel is faster (measured: 3 channels run at a third of
/// its speed through Winograd, 24 at 1.4 times).
let winogradMinimumChannels = 8

/// The transformed weights, [ξ][ic][oc] (ξ = 4 × row + column of the 4x4 tile position).
func winogradWeights(_ a: Conv3x3Arguments) -> [Float] {
    let cin = a.cin, cout = a.cout
    var u = [Float](repeating: 0, count: 16 * cin * cout)
    for oc in 0..<cout {
        for ic in 0..<cin {
            let g = a.weights + (oc * cin + ic) * 9
            // G g (4 rows × 3 columns), then (G g) Gᵀ, one row at a time.
            @inline(__always) func gRow(_ c0: Float, _ c1: Float, _ c2: Float) -> (Float, Float, Float, Float) {
                (c0, (c0 + c1 + c2) / 2, (c0 - c1 + c2) / 2, c2)
            }
            let (a0, a1, a2, a3) = gRow(g[0], g[3], g[6])  // column 0 of G g, rows 0...3
            let (b0, b1, b2, b3) = gRow(g[1], g[4], g[7])
            let (c0, c1, c2, c3) = gRow(g[2], g[5], g[8])
            @inline(__always) func put(_ r: Int, _ h0: Float, _ h1: Float, _ h2: Float) {
                let (u0, u1, u2, u3) = gRow(h0, h1, h2), at = (4 * r * cin + ic) * cout + oc, step = cin * cout
                u[at] = u0
                u[at + step] = u1
                u[at + 2 * step] = u2
                u[at + 3 * step] = u3
            }
            put(0, a0, b0, c0); put(1, a1, b1, c1); put(2, a2, b2, c2); put(3, a3, b3, c3)
        }
    }
    return u
}

/// Blocks of 16 tiles transformed together: each pass then reads and writes runs of 128 columns,
/// which the prefetchers follow, and its scratch stays in L2.
let winogradChunk = 4

/// Scratch floats `winogradRowPair` needs for `a`: the transformed input tiles, then the products.
func winogradScratch(_ a: Conv3x3Arguments) -> (tiles: Int, products: Int) {
    (winogradChunk * 16 * a.cin * 16, winogradChunk * 16 * a.cout * 16)
}

/// Output rows y and y + 1, columns 0..<`columns` (a multiple of `winogradBlock`), all channels.
/// `u`: `winogradWeights(a)`; `v`, `m`: scratch of the sizes `winogradScratch(a)` gives.
func winogradRowPair(_ a: Conv3x3Arguments, _ y: Int, columns: Int, u: UnsafePointer<Float>,
                     v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
    let cin = a.cin, cout = a.cout
    let chunk = winogradChunk * winogradBlock
    for x0 in Swift.stride(from: 0, to: columns, by: chunk) {
        let blocks = min(chunk, columns - x0) / winogradBlock
        for ic in 0..<cin {
            for b in 0..<blocks { transformInput(a, y, x0 + b * winogradBlock, ic, v + b * 16 * cin * 16) }
        }
        for b in 0..<blocks { multiply(a, u, v + b * 16 * cin * 16, m + b * 16 * cout * 16) }
        for oc in 0..<cout {
            for b in 0..<blocks { transformOutput(a, y, x0 + b * winogradBlock, oc, m + b * 16 * cout * 16) }
        }
    }
}

/// Bᵀ d B for the 16 tiles of channel `ic` at columns x0..<x0+32 (tile t reads padded rows y..y+3,
/// columns x0+2t ..< x0+2t+4): v[(ξ × cin + ic) × 16 + t].
@inline(__always) func transformInput(_ a: Conv3x3Arguments, _ y: Int, _ x0: Int, _ ic: Int, _ v: UnsafeMutablePointer<Float>) {
    let cin = a.cin, P = a.paddedWidth, L = convLanes
    let src = a.input + ic * a.planeStride + y * P + x0
    for half in 0..<2 {
        let out = v + ic * 16 + L * half
        // d B along each of the 4 rows, then Bᵀ down the columns.
        @inline(__always) func columns(_ row: Int) -> (Vector, Vector, Vector, Vector) {
            let at = UnsafeRawPointer(src + row * P + 16 * half)
            let s = at.loadUnaligned(as: SIMD16<Float>.self)
            let s2 = at.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
            let d0 = s.evenHalf, d1 = s.oddHalf, d2 = s2.evenHalf, d3 = s2.oddHalf
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        let (a0, a1, a2, a3) = columns(0), (b0, b1, b2, b3) = columns(1)
        let (c0, c1, c2, c3) = columns(2), (e0, e1, e2, e3) = columns(3)
        @inline(__always) func put(_ r0: Vector, _ r1: Vector, _ r2: Vector, _ r3: Vector, _ c: Int) {
            storeFull(r0 - r2, out + c * cin * 16)
            storeFull(r1 + r2, out + (4 + c) * cin * 16)
            storeFull(r2 - r1, out + (8 + c) * cin * 16)
            storeFull(r1 - r3, out + (12 + c) * cin * 16)
        }
        put(a0, b0, c0, e0, 0); put(a1, b1, c1, e1, 1); put(a2, b2, c2, e2, 2); put(a3, b3, c3, e3, 3)
    }
}

/// m[(ξ × cout + oc) × 16 + t] = Σ_ic u[(ξ × cin + ic) × cout + oc] v[(ξ × cin + ic) × 16 + t]: for each
/// ξ a small matrix product, 6 output channels × 16 tiles per pass (12 accumulators).
@inline(__always) func multiply(_ a: Conv3x3Arguments, _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                                _ m: UnsafeMutablePointer<Float>) {
    let cin = a.cin, cout = a.cout, L = convLanes
    for xi in 0..<16 {
        let vx = v + xi * cin * 16, ux = u + xi * cin * cout, mx = m + xi * cout * 16
        for oc in Swift.stride(from: 0, to: cout, by: 6) {
            // A last block of fewer channels computes its last one in the missing places.
            let valid = min(6, cout - oc), last = oc + valid - 1
            var acc = SixByTwo()
            for ic in 0..<cin {
                let k = ux + ic * cout
                acc.add(load(vx + ic * 16), load(vx + ic * 16 + L)) { k[min(oc + $0, last)] }
            }
            acc.forEach(valid: valid) { j, p, q in
                storeFull(p, mx + (oc + j) * 16)
                storeFull(q, mx + (oc + j) * 16 + L)
            }
        }
    }
}

/// Aᵀ M A for output channel `oc` of the 16 tiles at columns x0..<x0+32, then PReLU and the residual
/// through the direct kernel's store.
@inline(__always) func transformOutput(_ a: Conv3x3Arguments, _ y: Int, _ x0: Int, _ oc: Int, _ m: UnsafePointer<Float>) {
    let cout = a.cout, L = convLanes
    for half in 0..<2 {
        let base = m + oc * 16 + L * half
        @inline(__always) func at(_ xi: Int) -> Vector { load(base + xi * cout * 16) }
        // Aᵀ along the columns of each tile row, then along the rows.
        @inline(__always) func row(_ i: Int) -> (Vector, Vector) {
            let (m0, m1, m2, m3) = (at(4 * i), at(4 * i + 1), at(4 * i + 2), at(4 * i + 3))
            return (m0 + m1 + m2, m1 - m2 - m3)
        }
        let (s0, t0) = row(0), (s1, t1) = row(1), (s2, t2) = row(2), (s3, t3) = row(3)
        // Lane t holds tile t: its left pixels in `even`, its right ones in `odd`.
        @inline(__always) func emit(_ dy: Int, _ even: Vector, _ odd: Vector) {
            let o = (oc * a.height + y + dy) * a.width + x0 + 16 * half
            let lo = Vector(even[0], odd[0], even[1], odd[1], even[2], odd[2], even[3], odd[3])
            let hi = Vector(even[4], odd[4], even[5], odd[5], even[6], odd[6], even[7], odd[7])
            store(lo, slope: a.preluSlope, residual: a.residual.map { $0 + o }, a.output + o, L)
            store(hi, slope: a.preluSlope, residual: a.residual.map { $0 + o + L }, a.output + o + L, L)
        }
        emit(0, s0 + s1 + s2, t0 + t1 + t2)
        emit(1, s1 - s2 - s3, t1 - t2 - t3)
    }
}
#endif
