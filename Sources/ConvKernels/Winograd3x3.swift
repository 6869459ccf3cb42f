import ConvArguments
import CPlatform

// Winograd F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 2x2 block of outputs comes from its 4x4 input tile with 16 multiplications per channel pair
// instead of 36, at the cost of transforming tiles in and out. In the AVX2 and AVX-512 builds, where
// the direct kernel runs at the FMA peak.
//
//   input tile  V = Bᵀ d B,  Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   weights     U = G g Gᵀ,  G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   output      Y = Aᵀ (Σ_ic U ⊙ V) A,  Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// One lane per tile: a block is two vectors of tiles (2 output rows × 4 lanes' worth of columns),
// and the sum over input channels is, for each of the 16 tile positions ξ, a small matrix product
// run in a register block of 6 channels × 2 vectors.

#if CONV_FMA
#if CONV_WIDE
typealias Tiles = SIMD16<Float>  // one zmm register
#else
typealias Tiles = SIMD8<Float>  // one ymm register
#endif
/// Tiles per block, and the output columns a block covers.
let blockTiles = 2 * Tiles.scalarCount
let winogradBlock = 2 * blockTiles
/// Input channels below which the direct kernel is faster (measured on AVX2: 3 channels run at a
/// third of its speed through Winograd, 24 at 1.4 times).
let winogradMinimumChannels = 8
/// Blocks transformed together, 128 columns: each pass then reads and writes runs the prefetchers
/// follow (one block at a time was no faster than direct on 512-column layers), and its scratch
/// stays in L2.
let winogradChunk = 128 / winogradBlock

/// Floats from one tile position's matrix (channels × blockTiles) to the next: one cache line more
/// than the matrix, so that the 16 positions do not share cache sets when it is a multiple of 4 KB
/// (32 channels on AVX-512 ran at 0.8x direct before).
@inline(__always) func positionStride(_ channels: Int) -> Int { channels * blockTiles + 16 }

@inline(__always) func loadTiles(_ p: UnsafePointer<Float>) -> Tiles { UnsafeRawPointer(p).loadUnaligned(as: Tiles.self) }
@inline(__always) func storeTiles(_ v: Tiles, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Tiles.self)
}

/// PReLU(`p`) plus the residual at offset `at`, its first `count` floats, stored at output offset
/// `out`: the output transforms' `store` (Tiles are half a Vector in the AVX-512 build).
@inline(__always) func storeOutputTiles(_ a: Conv3x3Arguments, _ p: Tiles, _ at: Int, _ out: Int,
                                        _ count: Int = Tiles.scalarCount) {
    // A blend, cheaper than a branch on the sign; none for the layers without PReLU.
    let r = a.preluSlope == 1 ? p : p.replacing(with: p * a.preluSlope, where: p .< 0)
    guard count == Tiles.scalarCount else { return storeOutputTilesPartial(a, r, at, out, count) }
    storeTiles(a.residual.map { r + loadTiles($0 + at) } ?? r, a.output + out)
}

@inline(never) func storeOutputTilesPartial(_ a: Conv3x3Arguments, _ r: Tiles, _ at: Int, _ out: Int, _ count: Int) {
    for i in 0..<count { a.output[out + i] = r[i] + (a.residual?[at + i] ?? 0) }
}

/// The even- and odd-indexed of the 2n floats at `p` (n = lanes).
@inline(__always) func evensAndOdds(_ p: UnsafePointer<Float>) -> (Tiles, Tiles) {
    #if CONV_WIDE
    let lo = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    let hi = UnsafeRawPointer(p).loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    return (Tiles(lowHalf: lo.evenHalf, highHalf: hi.evenHalf), Tiles(lowHalf: lo.oddHalf, highHalf: hi.oddHalf))
    #else
    // As 64-bit lanes, evens are the low halves and odds the high ones: a truncation and a shift
    // that LLVM keeps in vector registers (`evenHalf` on overlapping loads it scalarised).
    let pairs = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt64>.self)
    return (unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: pairs), to: Tiles.self),
            unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: pairs &>> 32), to: Tiles.self))
    #endif
}

/// even[0], odd[0], even[1], odd[1], ... as two vectors, written out lane by lane (on AVX2 LLVM makes
/// it four unpack and insert instructions; on AVX-512 a longer chain of permutes, a few % of a run).
@inline(__always) func interleave(_ e: Tiles, _ o: Tiles) -> (Tiles, Tiles) {
    #if CONV_WIDE
    (Tiles(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3], e[4], o[4], e[5], o[5], e[6], o[6], e[7], o[7]),
     Tiles(e[8], o[8], e[9], o[9], e[10], o[10], e[11], o[11], e[12], o[12], e[13], o[13], e[14], o[14], e[15], o[15]))
    #else
    (Tiles(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3]), Tiles(e[4], o[4], e[5], o[5], e[6], o[6], e[7], o[7]))
    #endif
}

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

/// Scratch floats `winogradRowPair` needs for `a`: the transformed input tiles, then the products.
func winogradScratch(_ a: Conv3x3Arguments) -> (tiles: Int, products: Int) {
    (winogradChunk * 16 * positionStride(a.cin), winogradChunk * 16 * positionStride(a.cout))
}

/// Output rows y and y + 1, columns `columns` (a whole number of `winogradBlock`s), all channels.
/// `u`: `winogradWeights(a)`; `v`, `m`: scratch of the sizes `winogradScratch(a)` gives.
func winogradRowPair(_ a: Conv3x3Arguments, _ y: Int, columns: Range<Int>, u: UnsafePointer<Float>,
                     v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
    let cin = a.cin, cout = a.cout
    let chunk = winogradChunk * winogradBlock
    for x0 in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: chunk) {
        let blocks = min(chunk, columns.upperBound - x0) / winogradBlock
        for ic in 0..<cin {
            for b in 0..<blocks { transformInput(a, y, x0 + b * winogradBlock, ic, v + b * 16 * positionStride(cin)) }
        }
        for b in 0..<blocks { multiply(a, u, v + b * 16 * positionStride(cin), m + b * 16 * positionStride(cout),
                                       positions: (16, positionStride(cout)), channels: 0..<cout, channelStride: blockTiles) }
        for oc in 0..<cout {
            for b in 0..<blocks { transformOutput(a, y, x0 + b * winogradBlock, oc, m + b * 16 * positionStride(cout)) }
        }
    }
}

/// Bᵀ d B for the tiles of channel `ic` in the block at column x0 (tile t reads padded rows y..y+3,
/// columns x0+2t ..< x0+2t+4): v[ξ × positionStride(cin) + ic × blockTiles + t].
@inline(__always) func transformInput(_ a: Conv3x3Arguments, _ y: Int, _ x0: Int, _ ic: Int, _ v: UnsafeMutablePointer<Float>) {
    let P = a.paddedWidth, n = Tiles.scalarCount, T = blockTiles, stride = positionStride(a.cin)
    let src = a.input + ic * a.planeStride + y * P + x0
    for half in 0..<2 {
        // The two rows the next row pair adds, which the prefetchers miss: each block visits a
        // channel's rows for only a few cache lines before the next channel.
        denoise_prefetch(src + 4 * P + 2 * n * half)
        denoise_prefetch(src + 5 * P + 2 * n * half)
        let out = v + ic * T + n * half
        // d B along each of the 4 rows, then Bᵀ down the columns.
        @inline(__always) func columns(_ row: Int) -> (Tiles, Tiles, Tiles, Tiles) {
            let at = src + row * P + 2 * n * half
            let (d0, d1) = evensAndOdds(at), (d2, d3) = evensAndOdds(at + 2)
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        let (a0, a1, a2, a3) = columns(0), (b0, b1, b2, b3) = columns(1)
        let (c0, c1, c2, c3) = columns(2), (e0, e1, e2, e3) = columns(3)
        @inline(__always) func put(_ r0: Tiles, _ r1: Tiles, _ r2: Tiles, _ r3: Tiles, _ c: Int) {
            storeTiles(r0 - r2, out + c * stride)
            storeTiles(r1 + r2, out + (4 + c) * stride)
            storeTiles(r2 - r1, out + (8 + c) * stride)
            storeTiles(r1 - r3, out + (12 + c) * stride)
        }
        put(a0, b0, c0, e0, 0); put(a1, b1, c1, e1, 1); put(a2, b2, c2, e2, 2); put(a3, b3, c3, e3, 3)
    }
}

/// m[ξ × positions.stride + oc × channelStride + t] = Σ_ic u[(ξ × cin + ic) × cout + oc] v[ξ ×
/// positionStride(cin) + ic × T + t] (T = blockTiles), ξ < `positions.count` (16 for F(2x2), 36 for
/// F(4x4)), oc in `channels`: for each ξ a small matrix product, 6 output channels × 2 vectors of
/// tiles per pass. F(2x2) keeps the products position-major (channelStride T); F(4x4) channel-major,
/// so that its output transform reads a channel's 36 positions at fixed offsets.
@inline(__always) func multiply(_ a: Conv3x3Arguments, _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                                _ m: UnsafeMutablePointer<Float>, positions: (count: Int, stride: Int),
                                channels: Range<Int>, channelStride: Int) {
    let cin = a.cin, cout = a.cout, n = Tiles.scalarCount, T = blockTiles
    for xi in 0..<positions.count {
        let vx = v + xi * positionStride(cin), ux = u + xi * cin * cout, mx = m + xi * positions.stride
        for oc in Swift.stride(from: channels.lowerBound, to: channels.upperBound, by: 6) {
            // A last block of fewer channels computes its last one in the missing places.
            let valid = min(6, channels.upperBound - oc), last = oc + valid - 1
            var acc = SixByTwo<Tiles>()
            for ic in 0..<cin {
                let k = ux + ic * cout
                acc.add(loadTiles(vx + ic * T), loadTiles(vx + ic * T + n)) { k[min(oc + $0, last)] }
            }
            acc.forEach(valid: valid) { j, p, q in
                storeTiles(p, mx + (oc + j) * channelStride)
                storeTiles(q, mx + (oc + j) * channelStride + n)
            }
        }
    }
}

/// Aᵀ M A for output channel `oc` of the block at column x0, then PReLU and the residual.
@inline(__always) func transformOutput(_ a: Conv3x3Arguments, _ y: Int, _ x0: Int, _ oc: Int, _ m: UnsafePointer<Float>) {
    let n = Tiles.scalarCount, T = blockTiles, stride = positionStride(a.cout)
    for half in 0..<2 {
        let base = m + oc * T + n * half
        @inline(__always) func at(_ xi: Int) -> Tiles { loadTiles(base + xi * stride) }
        // Aᵀ along the columns of each tile row, then along the rows.
        @inline(__always) func row(_ i: Int) -> (Tiles, Tiles) {
            let (m0, m1, m2, m3) = (at(4 * i), at(4 * i + 1), at(4 * i + 2), at(4 * i + 3))
            return (m0 + m1 + m2, m1 - m2 - m3)
        }
        let (s0, t0) = row(0), (s1, t1) = row(1), (s2, t2) = row(2), (s3, t3) = row(3)
        // Lane t holds tile t: its left pixels in `even`, its right ones in `odd`.
        @inline(__always) func emit(_ dy: Int, _ even: Tiles, _ odd: Tiles) {
            let x = x0 + 2 * n * half, o = (oc * a.height + y + dy) * a.width + x, out = a.outputOffset(oc, y + dy, x)
            let (lo, hi) = interleave(even, odd)
            storeOutputTiles(a, lo, o, out)
            storeOutputTiles(a, hi, o + n, out + n)
        }
        emit(0, s0 + s1 + s2, t0 + t1 + t2)
        emit(1, s1 - s2 - s3, t1 - t2 - t3)
    }
}
#endif
