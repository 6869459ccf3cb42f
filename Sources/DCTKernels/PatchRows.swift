/// The inner loop of sliding-window DCT denoising: one row of patch positions, transformed,
/// shrunk, and aggregated (see `SlidingDCT` in DenoiseCore for the method).
///
/// This file is compiled twice: as DCTKernels for baseline x86-64, and, through a symbolic link, as
/// DCTKernelsAVX2 with `-target-cpu haswell` and `DENOISE_FMA`. DenoiseCore picks one at run time,
/// so the library runs on any x86-64 and uses AVX2 and FMA where the CPU has them.
///
/// Layout (all floats): `src` and `guide` are padded planes, `stride` floats per row, `plane` floats
/// per channel. A row's output goes to `sums` (channels planes of n rows, `sumsPlane` apart) and to
/// `weights` (n rows), both added to.
public typealias PatchRowFunction = (_ row: Int, _ src: UnsafePointer<Float>, _ guide: UnsafePointer<Float>?,
                                     _ sums: UnsafeMutablePointer<Float>, _ sumsPlane: Int,
                                     _ weights: UnsafeMutablePointer<Float>) -> Void

/// Returns the function that denoises one patch row, with its own scratch memory (use it from one
/// thread). `n` is 8 or 16; `positionColumns` patch positions per row; the Wiener step runs when
/// a guide is passed, hard thresholding at `3 sigma` otherwise. `sigmas` holds the noise level of
/// each channel (they differ for camera noise).
public func makePatchRowFunction(n: Int, channels: Int, stride: Int, plane: Int, positionColumns: Int,
                                 sigmas: [Float], adaptiveAggregation: Bool) -> PatchRowFunction {
    precondition(sigmas.count == channels)
    if n == 16 {
        let k = PatchRows<Patch16>(channels: channels, S: stride, plane: plane, positionColumns: positionColumns,
                                   sigmas: sigmas, adaptive: adaptiveAggregation)
        return { k.run($0, $1, $2, $3, $4, $5) }
    }
    let k = PatchRows<Patch8>(channels: channels, S: stride, plane: plane, positionColumns: positionColumns,
                              sigmas: sigmas, adaptive: adaptiveAggregation)
    return { k.run($0, $1, $2, $3, $4, $5) }
}

/// SIMD lanes: 16 patch positions are processed together.
public let patchLanes = 16
typealias Lanes = SIMD16<Float>

/// Patch sides as types, so loops have constant trip counts after specialisation.
protocol PatchSize { static var n: Int { get } }
enum Patch8: PatchSize { static var n: Int { 8 } }
enum Patch16: PatchSize { static var n: Int { 16 } }

/// `s + a * b`, fused where the build has FMA.
@inline(__always) func mac(_ s: Lanes, _ a: Float, _ b: Lanes) -> Lanes {
    #if DENOISE_FMA
    return s.addingProduct(Lanes(repeating: a), b)
    #else
    return s + a * b
    #endif
}

final class PatchRows<P: PatchSize> {
    let channels: Int, S: Int, plane: Int, positionColumns: Int
    let adaptive: Bool
    /// Per channel: the squared hard threshold (3 sigma)² and the noise variance.
    let threshold2: [Float], sigma2: [Float]
    let basis: UnsafeMutablePointer<Float>
    // Scratch. `spread` holds each block's inverse horizontal transform, one plane per column
    // offset j, so every block writes aligned vectors once; the offsets are summed when the
    // patch row is done (overlapping read-modify-writes would stall store forwarding).
    let vf: Scratch, gf: Scratch, spread: Scratch, wspread: Scratch
    let block: UnsafeMutablePointer<Lanes>, gblock: UnsafeMutablePointer<Lanes>, tmp: UnsafeMutablePointer<Lanes>

    init(channels: Int, S: Int, plane: Int, positionColumns: Int, sigmas: [Float], adaptive: Bool) {
        let n = P.n, L = patchLanes
        self.channels = channels
        self.S = S
        self.plane = plane
        self.positionColumns = positionColumns
        threshold2 = sigmas.map { (3 * $0) * (3 * $0) }
        // A floor keeps the Wiener gain g²/(g² + σ²) defined where both are 0.
        sigma2 = sigmas.map { max($0 * $0, Float.leastNormalMagnitude) }
        self.adaptive = adaptive
        basis = .allocate(capacity: n * n)
        basis.initialize(from: DCTBasis(n: n).c, count: n * n)
        vf = Scratch(channels * n * S)
        gf = Scratch(channels * n * S)
        spread = Scratch(channels * n * n * S + L, front: L)
        wspread = Scratch(S + L, front: L)
        block = .allocate(capacity: channels * n * n)
        gblock = .allocate(capacity: channels * n * n)
        tmp = .allocate(capacity: n)
    }

    deinit {
        [vf, gf, spread, wspread].forEach { $0.free() }
        basis.deallocate()
        block.deallocate()
        gblock.deallocate()
        tmp.deallocate()
    }

    func run(_ pr: Int, _ src: UnsafePointer<Float>, _ guide: UnsafePointer<Float>?,
             _ sums: UnsafeMutablePointer<Float>, _ sumsPlane: Int, _ weights: UnsafeMutablePointer<Float>) {
        let L = patchLanes, c = UnsafePointer(basis)
        verticalForward(src, row: pr, into: vf.p)
        if let guide { verticalForward(guide, row: pr, into: gf.p) }
        for pc0 in Swift.stride(from: 0, to: positionColumns, by: L) {
            horizontalForward(vf.p, at: pc0, c: c, into: block)
            var weight: Lanes
            if guide != nil {
                horizontalForward(gf.p, at: pc0, c: c, into: gblock)
                weight = wiener()
            } else {
                weight = hardThreshold()
            }
            if !adaptive { weight = Lanes(repeating: 1) }
            let valid = positionColumns - pc0
            if valid < L {
                for l in valid..<L { weight[l] = 0 }
            }
            horizontalInverse(weight: weight, at: pc0, c: c)
            store(weight, wspread.p, pc0)
        }
        verticalInverse(c: c, sums: sums, sumsPlane: sumsPlane, weights: weights)
    }

    @inline(__always) private func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lanes {
        UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
    }
    @inline(__always) private func load(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> Lanes {
        UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
    }
    @inline(__always) private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lanes.self)
    }

    /// out[ch][u][x] = Σ_i c[u,i] · src[ch][row+i][x]
    private func verticalForward(_ src: UnsafePointer<Float>, row: Int, into out: UnsafeMutablePointer<Float>) {
        let n = P.n, c = basis
        for ch in 0..<channels {
            let base = src + ch * plane + row * S
            for x in Swift.stride(from: 0, to: S, by: patchLanes) {
                for i in 0..<n { tmp[i] = load(base, i * S + x) }
                forward1D(tmp, c, into: tmp + 0, stride: 0, out: out + ch * n * S + x)
            }
        }
    }

    /// block[ch][u][v] (lanes = patches pc0 ..< pc0+16) = Σ_j c[v,j] · vf[ch][u][pc0 + lane + j]
    private func horizontalForward(_ vf: UnsafeMutablePointer<Float>, at pc0: Int, c: UnsafePointer<Float>,
                                   into block: UnsafeMutablePointer<Lanes>) {
        let n = P.n
        for chu in 0..<channels * n {
            let row = vf + chu * S + pc0
            for j in 0..<n { tmp[j] = load(row, j) }
            forward1D(tmp, c, into: block + chu * n, stride: 1, out: nil)
        }
    }

    /// spread[ch][u][j][pc0 + lane] = weight · Σ_v c[v,j] · block[ch][u][v]
    private func horizontalInverse(weight: Lanes, at pc0: Int, c: UnsafePointer<Float>) {
        let n = P.n
        for chu in 0..<channels * n {
            inverse1D(block + chu * n, c, into: tmp)
            for j in 0..<n { store(weight * tmp[j], spread.p, (chu * n + j) * S + pc0) }
        }
    }

    /// sums[ch][i][x] += Σ_u c[u,i] · Σ_j spread[ch][u][j][x − j];  weights[i][x] += Σ_j wspread[x − j]
    private func verticalInverse(c: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>, sumsPlane: Int,
                                 weights: UnsafeMutablePointer<Float>) {
        let n = P.n
        for x in Swift.stride(from: 0, to: S, by: patchLanes) {
            var w = Lanes(repeating: 0)
            for j in 0..<n { w += load(wspread.p, x - j) }
            for i in 0..<n { store(load(weights, i * S + x) + w, weights, i * S + x) }
            for ch in 0..<channels {
                for u in 0..<n {
                    let base = spread.p + (ch * n + u) * n * S + x
                    var s = Lanes(repeating: 0)
                    for j in 0..<n { s += load(base, j * S - j) }
                    gblock[u] = s
                }
                inverse1D(gblock, c, into: tmp)
                let out = sums + ch * sumsPlane + x
                for i in 0..<n { store(load(out, i * S) + tmp[i], out, i * S) }
            }
        }
    }

    /// The 1-D DCT of x (n vectors, overwritten) by one even/odd butterfly: the symmetric sums give
    /// the even coefficients, the differences the odd ones, each an (n/2)² product, half the work
    /// of the full matrix. Results go to `into[k * stride]`, or to memory rows `out + k * S` when
    /// `out` is given.
    @inline(__always)
    private func forward1D(_ x: UnsafeMutablePointer<Lanes>, _ c: UnsafePointer<Float>,
                           into: UnsafeMutablePointer<Lanes>, stride: Int, out: UnsafeMutablePointer<Float>?) {
        let n = P.n, h = n / 2
        for k in 0..<h {
            let a = x[k], b = x[n - 1 - k]
            x[k] = a + b
            x[n - 1 - k] = a - b
        }
        for m in 0..<h {
            var even = Lanes(repeating: 0), odd = Lanes(repeating: 0)
            for k in 0..<h {
                even = mac(even, c[2 * m * n + k], x[k])
                odd = mac(odd, c[(2 * m + 1) * n + k], x[n - 1 - k])
            }
            if let out {
                store(even, out, 2 * m * S)
                store(odd, out, (2 * m + 1) * S)
            } else {
                into[2 * m * stride] = even
                into[(2 * m + 1) * stride] = odd
            }
        }
    }

    /// The inverse of `forward1D`: x[k] = E[k] + O[k], x[n−1−k] = E[k] − O[k].
    @inline(__always)
    private func inverse1D(_ y: UnsafeMutablePointer<Lanes>, _ c: UnsafePointer<Float>,
                           into out: UnsafeMutablePointer<Lanes>) {
        let n = P.n, h = n / 2
        for k in 0..<h {
            var even = Lanes(repeating: 0), odd = Lanes(repeating: 0)
            for m in 0..<h {
                even = mac(even, c[2 * m * n + k], y[2 * m])
                odd = mac(odd, c[(2 * m + 1) * n + k], y[2 * m + 1])
            }
            out[k] = even + odd
            out[n - 1 - k] = even - odd
        }
    }

    /// Zeroes AC coefficients below the threshold; returns the patch weight 1 / (1 + kept AC count).
    private func hardThreshold() -> Lanes {
        let n = P.n
        var kept = Lanes(repeating: 0)
        let zero = Lanes(repeating: 0), one = Lanes(repeating: 1)
        for ch in 0..<channels {
            let b = block + ch * n * n, t2 = Lanes(repeating: threshold2[ch])
            for k in 1..<n * n {  // the DC coefficient is always kept
                let keep = b[k] * b[k] .>= t2
                b[k] = zero.replacing(with: b[k], where: keep)
                kept += zero.replacing(with: one, where: keep)
            }
        }
        return one / (one + kept)
    }

    /// Empirical Wiener shrinkage with the guide's coefficients; returns 1 / (1 + Σ gain²).
    private func wiener() -> Lanes {
        let n = P.n
        var energy = Lanes(repeating: 0)
        let one = Lanes(repeating: 1)
        for ch in 0..<channels {
            let b = block + ch * n * n, g = gblock + ch * n * n, s2 = Lanes(repeating: sigma2[ch])
            for k in 1..<n * n {
                let g2 = g[k] * g[k]
                let w = g2 / (g2 + s2)
                b[k] *= w
                energy += w * w
            }
        }
        return one / (one + energy)
    }
}

/// A zero-filled, 64-byte aligned float buffer with `front` readable zeros before `p`.
struct Scratch {
    let raw: UnsafeMutableRawPointer
    let p: UnsafeMutablePointer<Float>

    init(_ count: Int, front: Int = 0) {
        raw = UnsafeMutableRawPointer.allocate(byteCount: (count + front) * 4, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: count + front)
        p = raw.assumingMemoryBound(to: Float.self) + front
    }

    func free() { raw.deallocate() }
}
