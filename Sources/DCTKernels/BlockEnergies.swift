/// The white-noise estimator's inner loop: for every 8x8 block on a grid, its mean and the energies
/// of its low (0 < u + v <= `lowLimit`) and high (u + v >= `highLimit`) DCT bands.
///
/// Compiled twice, like PatchRows.swift (baseline and AVX2 + FMA), picked at run time.
///
/// `plane`: `height` rows of `width` floats. Blocks start every `step` samples in both directions,
/// `columns` x `rows` of them; results go to `mean`, `low` and `high`, block (i, j) at i * columns + j.
public func blockEnergies(plane: UnsafePointer<Float>, width: Int, height: Int, step: Int, columns: Int, rows: Int,
                          lowLimit: Int, highLimit: Int, mean: UnsafeMutablePointer<Float>,
                          low: UnsafeMutablePointer<Float>, high: UnsafeMutablePointer<Float>) {
    let n = 8
    let basis = DCTBasis(n: n).c
    // basisByInput[i][u] = basis[u * n + i]: one FMA of a sample into the 8 frequencies.
    var basisByInput = [SIMD8<Float>](repeating: .zero, count: n)
    var lowMask = basisByInput, highMask = basisByInput
    for u in 0..<n {
        for i in 0..<n { basisByInput[i][u] = basis[u * n + i] }
    }
    for v in 0..<n {
        for u in 0..<n {
            lowMask[v][u] = u + v > 0 && u + v <= lowLimit ? 1 : 0
            highMask[v][u] = u + v >= highLimit ? 1 : 0
        }
    }
    // Horizontal transforms of every 8-sample segment at a block column, shared by the blocks
    // that overlap vertically.
    var segments = [SIMD8<Float>](repeating: .zero, count: height * columns)
    segments.withUnsafeMutableBufferPointer { seg in
        for y in 0..<height {
            for j in 0..<columns {
                let src = plane + y * width + j * step
                var acc = SIMD8<Float>.zero
                for i in 0..<n { acc += src[i] * basisByInput[i] }
                seg[y * columns + j] = acc
            }
        }
        // Vertical pass: coefficient row v (all u) = sum over r of basis[v][r] * segment row r.
        for i in 0..<rows {
            for j in 0..<columns {
                var c0 = SIMD8<Float>.zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
                for r in 0..<n {
                    let s = seg[(i * step + r) * columns + j], w = basisByInput[r]
                    c0 += w[0] * s; c1 += w[1] * s; c2 += w[2] * s; c3 += w[3] * s
                    c4 += w[4] * s; c5 += w[5] * s; c6 += w[6] * s; c7 += w[7] * s
                }
                var l = SIMD8<Float>.zero, h = SIMD8<Float>.zero
                func add(_ c: SIMD8<Float>, _ v: Int) {
                    let e = c * c
                    l += e * lowMask[v]
                    h += e * highMask[v]
                }
                add(c0, 0); add(c1, 1); add(c2, 2); add(c3, 3); add(c4, 4); add(c5, 5); add(c6, 6); add(c7, 7)
                let k = i * columns + j
                mean[k] = c0[0] / Float(n)
                low[k] = l.sum()
                high[k] = h.sum()
            }
        }
    }
}
