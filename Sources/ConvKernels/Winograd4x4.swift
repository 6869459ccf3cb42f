import ConvArguments
import CPlatform

// Winograd F(4x4, 3x3) (Lavin & Gray, 2016; interpolation points 0, ±1, ±2, ∞): each 4x4 block of
// outputs from its 6x6 input tile with 36 multiplications per channel pair instead of 144, 2.25 per
// output against F(2x2, 3x3)'s 4. In the AVX2 and AVX-512 builds, where the products are most of a
// Winograd layer's time.
//
//   Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G  = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//
// The layout is F(2x2)'s (Winograd3x3.swift): one lane per tile, blocks of two vectors of tiles,
// the transformed tiles [ξ][channel][tile] with ξ one of the 36 tile positions; the products, one
// block's at a time, [channel][ξ][tile].

#if CONV_FMA
/// Output columns a block covers: 16 tiles of 4 (32 in the AVX-512 build).
let winograd4Block = 4 * blockTiles
/// Blocks transformed together (128 columns, as F(2x2)'s chunks; one block on AVX-512).
let winograd4Chunk = 128 / winograd4Block

/// The transformed weights, [ξ][ic][oc] (ξ = 6 × row + column of the 6x6 tile position).
func winograd4Weights(_ a: Conv3x3Arguments) -> [Float] {
    let cin = a.cin, cout = a.cout
    var u = [Float](repeating: 0, count: 36 * cin * cout)
    typealias Six = (Float, Float, Float, Float, Float, Float)
    // G times a column (c0, c1, c2) of the kernel.
    @inline(__always) func g(_ c0: Float, _ c1: Float, _ c2: Float) -> Six {
        (c0 / 4, -(c0 + c1 + c2) / 6, -(c0 - c1 + c2) / 6, c0 / 24 + c1 / 12 + c2 / 6, c0 / 24 - c1 / 12 + c2 / 6, c2)
    }
    @inline(__always) func at(_ t: Six, _ i: Int) -> Float {
        switch i { case 0: t.0; case 1: t.1; case 2: t.2; case 3: t.3; case 4: t.4; default: t.5 }
    }
    for oc in 0..<cout {
        for ic in 0..<cin {
            let w = a.weights + (oc * cin + ic) * 9
            let c0 = g(w[0], w[3], w[6]), c1 = g(w[1], w[4], w[7]), c2 = g(w[2], w[5], w[8])  // G g, by column
            for r in 0..<6 {
                let row = g(at(c0, r), at(c1, r), at(c2, r))  // (G g Gᵀ)[r]
                for c in 0..<6 { u[((6 * r + c) * cin + ic) * cout + oc] = at(row, c) }
            }
        }
    }
    return u
}

/// Floats from one output channel's 36 products to the next's (the products of a block are
/// [channel][ξ][tile], ξ `blockTiles` apart).
let winograd4ChannelStride = 36 * blockTiles

/// Scratch floats `winograd4RowQuad` needs for `a`: the transformed input tiles, then the products
/// of one block.
func winograd4Scratch(_ a: Conv3x3Arguments) -> (tiles: Int, products: Int) {
    (winograd4Chunk * 36 * positionStride(a.cin), a.cout * winograd4ChannelStride)
}

/// Output rows y ..< y + 4, columns `columns` (a whole number of `winograd4Block`s, the last of which
/// may run past the image into a zero frame that wide), all channels. `u`: `winograd4Weights(a)`;
/// `v`, `m`: scratch of the sizes `winograd4Scratch(a)` gives.
func winograd4RowQuad(_ a: Conv3x3Arguments, _ y: Int, columns: Range<Int>, u: UnsafePointer<Float>,
                      v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
    let cin = a.cin, cout = a.cout, chunk = winograd4Chunk * winograd4Block
    for x0 in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: chunk) {
        let blocks = min(chunk, columns.upperBound - x0) / winograd4Block
        for ic in 0..<cin {
            for b in 0..<blocks { transformInput4(a, y, x0 + b * winograd4Block, ic, v + b * 36 * positionStride(cin)) }
        }
        // Six output channels at a time, their products transformed while they are in L1.
        for b in 0..<blocks {
            let x = x0 + b * winograd4Block, vb = v + b * 36 * positionStride(cin)
            for oc0 in Swift.stride(from: 0, to: cout, by: 6) {
                let channels = oc0..<min(oc0 + 6, cout)
                multiply(a, u, vb, m, positions: (36, blockTiles), channels: channels, channelStride: winograd4ChannelStride)
                for oc in channels {
                    transformOutput4(a, y, x, oc, m + oc * winograd4ChannelStride, valid: min(winograd4Block, a.width - x))
                }
            }
        }
    }
}

#if CONV_WIDE
typealias TwoTiles = SIMD32<Float>
typealias TilePairs = SIMD16<UInt64>
typealias TileWords = SIMD16<UInt32>
#else
typealias TwoTiles = SIMD16<Float>
typealias TilePairs = SIMD8<UInt64>
typealias TileWords = SIMD8<UInt32>
#endif

/// The first and second floats of the pairs that `lo` then `hi` hold.
@inline(__always) func pairHalves(_ lo: Tiles, _ hi: Tiles) -> (Tiles, Tiles) {
    let pairs = unsafeBitCast(TwoTiles(lowHalf: lo, highHalf: hi), to: TilePairs.self)
    return (unsafeBitCast(TileWords(truncatingIfNeeded: pairs), to: Tiles.self),
            unsafeBitCast(TileWords(truncatingIfNeeded: pairs &>> 32), to: Tiles.self))
}

/// p[4t + j] for the lanes t, j = 0 ..< 4.
@inline(__always) func quarters(_ p: UnsafePointer<Float>) -> (Tiles, Tiles, Tiles, Tiles) {
    let (e0, o0) = evensAndOdds(p), (e1, o1) = evensAndOdds(p + 2 * Tiles.scalarCount)
    let (q0, q2) = pairHalves(e0, e1), (q1, q3) = pairHalves(o0, o1)
    return (q0, q1, q2, q3)
}

/// a + b × c in one rounding: the transforms' constant multiplies go to the FMA units, idle outside
/// the products, instead of the adders.
@inline(__always) func fma(_ a: Tiles, _ b: Float, _ c: Tiles) -> Tiles { a.addingProduct(b, c) }

/// Bᵀ applied to six values (a row or a column of a tile).
@inline(__always) func bT(_ d0: Tiles, _ d1: Tiles, _ d2: Tiles, _ d3: Tiles, _ d4: Tiles, _ d5: Tiles)
    -> (Tiles, Tiles, Tiles, Tiles, Tiles, Tiles) {
    let s12 = d1 + d2, s34 = d3 + d4, t12 = d1 - d2, t34 = d4 - d3, t31 = d3 - d1, t42 = d4 - d2
    return (fma(fma(d4, -5, d2), 4, d0), fma(s34, -4, s12), fma(t34, 4, t12), fma(t42, 2, t31), fma(t42, -2, t31),
            fma(fma(d5, -5, d3), 4, d1))
}

/// Bᵀ d B for the tiles of channel `ic` in the block at column x0 (tile t reads padded rows y ..< y+6,
/// columns x0+4t ..< x0+4t+6): v[ξ × positionStride(cin) + ic × blockTiles + t]. The rows' transforms
/// go to v first, and the columns' replace them there.
@inline(__always) func transformInput4(_ a: Conv3x3Arguments, _ y: Int, _ x0: Int, _ ic: Int, _ v: UnsafeMutablePointer<Float>) {
    let P = a.paddedWidth, n = Tiles.scalarCount, stride = positionStride(a.cin)
    let src = a.input + ic * a.planeStride + y * P + x0
    for half in 0..<2 {
        // The next row quad's four new rows (see F(2x2)'s transformInput).
        for r in 6..<10 {
            for line in Swift.stride(from: 0, to: 4 * n, by: 16) { denoise_prefetch(src + r * P + 4 * n * half + line) }
        }
        let out = v + ic * blockTiles + n * half
        @inline(__always) func put(_ xi: Int, _ t: Tiles) { storeTiles(t, out + xi * stride) }
        @inline(__always) func get(_ xi: Int) -> Tiles { loadTiles(out + xi * stride) }
        for r in 0..<6 {
            let at = src + r * P + 4 * n * half
            let (d0, d1, d2, d3) = quarters(at), (d4, d5, _, _) = quarters(at + 4)
            let (e0, e1, e2, e3, e4, e5) = bT(d0, d1, d2, d3, d4, d5)
            put(6 * r, e0); put(6 * r + 1, e1); put(6 * r + 2, e2); put(6 * r + 3, e3); put(6 * r + 4, e4); put(6 * r + 5, e5)
        }
        for c in 0..<6 {
            let (e0, e1, e2, e3, e4, e5) = bT(get(c), get(6 + c), get(12 + c), get(18 + c), get(24 + c), get(30 + c))
            put(c, e0); put(6 + c, e1); put(12 + c, e2); put(18 + c, e3); put(24 + c, e4); put(30 + c, e5)
        }
    }
}

/// Aᵀ applied to six values.
@inline(__always) func aT(_ m0: Tiles, _ m1: Tiles, _ m2: Tiles, _ m3: Tiles, _ m4: Tiles, _ m5: Tiles)
    -> (Tiles, Tiles, Tiles, Tiles) {
    let s12 = m1 + m2, s34 = m3 + m4, t12 = m1 - m2, t34 = m3 - m4
    return (m0 + s12 + s34, fma(t12, 2, t34), fma(s12, 4, s34), fma(t12 + m5, 8, t34))
}

#if CONV_WIDE
typealias HalfPairs = SIMD8<UInt64>  // one vector of tiles as pairs of floats
#else
typealias HalfPairs = SIMD4<UInt64>
#endif

/// y0[0] y1[0] y2[0] y3[0] y0[1] ... : the four vectors' lanes interleaved, as four vectors.
@inline(__always) func interleave4(_ y0: Tiles, _ y1: Tiles, _ y2: Tiles, _ y3: Tiles) -> (Tiles, Tiles, Tiles, Tiles) {
    let (a0, a1) = interleave(y0, y1), (b0, b1) = interleave(y2, y3)
    // The 64-bit lanes (pairs of floats) of a and b interleaved.
    @inline(__always) func pairs(_ a: Tiles, _ b: Tiles) -> (Tiles, Tiles) {
        let p = unsafeBitCast(a, to: HalfPairs.self), q = unsafeBitCast(b, to: HalfPairs.self)
        #if CONV_WIDE
        return (unsafeBitCast(HalfPairs(p[0], q[0], p[1], q[1], p[2], q[2], p[3], q[3]), to: Tiles.self),
                unsafeBitCast(HalfPairs(p[4], q[4], p[5], q[5], p[6], q[6], p[7], q[7]), to: Tiles.self))
        #else
        return (unsafeBitCast(HalfPairs(p[0], q[0], p[1], q[1]), to: Tiles.self),
                unsafeBitCast(HalfPairs(p[2], q[2], p[3], q[3]), to: Tiles.self))
        #endif
    }
    let (r0, r1) = pairs(a0, b0), (r2, r3) = pairs(a1, b1)
    return (r0, r1, r2, r3)
}

/// Aᵀ M A for output channel `oc` of the block at column x0 (`m`: its 36 products, `blockTiles`
/// apart), then PReLU and the residual, for the block's first `valid` columns.
@inline(__always) func transformOutput4(_ a: Conv3x3Arguments, _ y: Int, _ x0: Int, _ oc: Int, _ m: UnsafePointer<Float>,
                                        valid: Int) {
    let n = Tiles.scalarCount
    for half in 0..<2 where valid > 4 * n * half {
        let base = m + n * half
        @inline(__always) func get(_ r: Int, _ c: Int) -> Tiles { loadTiles(base + (6 * r + c) * blockTiles) }
        // Two rows of Aᵀ M at a time, column by column from the products: loads only (storing all
        // four rows and reading them back ran at the store port's pace).
        for r in Swift.stride(from: 0, to: 4, by: 2) {
            @inline(__always) func column(_ c: Int) -> (Tiles, Tiles) {
                let t = aT(get(0, c), get(1, c), get(2, c), get(3, c), get(4, c), get(5, c))
                return r == 0 ? (t.0, t.1) : (t.2, t.3)
            }
            let (a0, b0) = column(0), (a1, b1) = column(1), (a2, b2) = column(2)
            let (a3, b3) = column(3), (a4, b4) = column(4), (a5, b5) = column(5)
            let x = x0 + 4 * n * half, o = (oc * a.height + y + r) * a.width + x, count = valid - 4 * n * half
            emitRow(a, aT(a0, a1, a2, a3, a4, a5), o, a.outputOffset(oc, y + r, x), count)
            emitRow(a, aT(b0, b1, b2, b3, b4, b5), o + a.width, a.outputOffset(oc, y + r + 1, x), count)
        }
    }
}

/// A row's 4 pixels of each tile of a vector (y0...y3, lane t tile t), PReLU and the residual at
/// offset o, stored at output offset `out`: its first `count` pixels.
@inline(__always) func emitRow(_ a: Conv3x3Arguments, _ y: (Tiles, Tiles, Tiles, Tiles), _ o: Int, _ out: Int, _ count: Int) {
    let n = Tiles.scalarCount
    let (p0, p1, p2, p3) = interleave4(y.0, y.1, y.2, y.3)
    @inline(__always) func put(_ p: Tiles, _ k: Int) {
        let c = min(n, count - k * n)
        if c > 0 { storeOutputTiles(a, p, o + k * n, out + k * n, c) }
    }
    put(p0, 0); put(p1, 1); put(p2, 2); put(p3, 3)
}

#endif
