/// Sliding-window DCT denoising of one image (Yu & Sapiro, IPOL 2011; two-step variant of
/// Pierazzo & Facciolo): every n×n patch, at every position, is transformed, shrunk in the DCT
/// domain and transformed back; the overlapping estimates are averaged with adaptive weights.
///
/// - Hard thresholding: coefficients below 3σ are zeroed (DC kept); weight 1 / (1 + kept AC count).
/// - Wiener: each AC coefficient is scaled by G² / (G² + σ²), G the guide's coefficient;
///   weight 1 / (1 + Σ gain²).
///
/// Colour channels (already decorrelated) are thresholded separately but share one patch weight.
/// The image is extended by symmetric reflection: n/2 samples before and n − n/2 after.
///
/// Implementation: separable transforms, with the vertical pass shared by all patches of a row
/// (done once per patch row) and the horizontal pass done 16 patches at a time in SIMD lanes.
/// Aggregation stays in the vertical-frequency domain until the whole patch row is done.
struct SlidingDCT: Sendable {
    static let thresholdFactor: Float = 3

    let n: Int
    let sigma: Float
    let adaptiveAggregation: Bool

    typealias Lanes = SIMD16<Float>
    static let lanes = 16

    /// Denoises `noisy` (planes already in the decorrelated colour space). With a `guide`, runs the
    /// Wiener step; otherwise hard thresholding. `job.advance` gets one unit per image row.
    func denoise(_ noisy: PlanarImage, guide: PlanarImage?, job: Job) throws -> PlanarImage {
        let geo = Geometry(width: noisy.width, height: noisy.height, n: n)
        let src = geo.pad(noisy)
        let gsrc = guide.map { geo.pad($0) }
        let channels = noisy.channels
        let bandCount = min(job.threads * 2, geo.positionRows)
        let kernel = self
        let bands = try job.run(tasks: bandCount) { t in
            let rows = geo.positionRows * t / bandCount ..< geo.positionRows * (t + 1) / bandCount
            return kernel.n == 16
                ? kernel.band(Patch16.self, rows, src: src, guide: gsrc, channels: channels, geo: geo, job: job)
                : kernel.band(Patch8.self, rows, src: src, guide: gsrc, channels: channels, geo: geo, job: job)
        }
        return geo.merge(bands, channels: channels, width: noisy.width, height: noisy.height)
    }

    /// Processes patch rows `rows`; returns the weighted sums and weights for image rows
    /// `rows.lowerBound ..< rows.upperBound + n - 1` of the padded image.
    ///
    /// Generic over the patch size so that every transform loop has a constant trip count.
    private func band<P: PatchSize>(_: P.Type, _ rows: Range<Int>, src: [Float], guide: [Float]?,
                                    channels: Int, geo: Geometry, job: Job) -> Band {
        let n = P.n, S = geo.stride, L = Self.lanes
        let outRows = rows.count + n - 1
        var sums = [Float](repeating: 0, count: channels * outRows * S)
        var weights = [Float](repeating: 0, count: outRows * S)
        let basis = DCTBasis(n: n).c
        let threshold = Self.thresholdFactor * sigma
        let sigma2 = sigma * sigma
        let plane = geo.paddedHeight * S

        // Scratch. `spread` holds each block's inverse horizontal transform, one plane per column
        // offset j, so every block writes aligned vectors once; the offsets are summed when the
        // patch row is done (overlapping read-modify-writes would stall store forwarding).
        let vf = Scratch(channels * n * S), gf = Scratch(channels * n * S)
        let spread = Scratch(channels * n * n * S + L, front: L)
        let wspread = Scratch(S + L, front: L)
        let block = UnsafeMutablePointer<Lanes>.allocate(capacity: channels * n * n)
        let gblock = UnsafeMutablePointer<Lanes>.allocate(capacity: channels * n * n)
        let tmp = UnsafeMutablePointer<Lanes>.allocate(capacity: n)
        defer { [vf, gf, spread, wspread].forEach { $0.free() }; block.deallocate(); gblock.deallocate(); tmp.deallocate() }

        basis.withUnsafeBufferPointer { cb in
        src.withUnsafeBufferPointer { sp in
        sums.withUnsafeMutableBufferPointer { outp in
        weights.withUnsafeMutableBufferPointer { wp in
            let c = cb.baseAddress!
            for pr in rows {
                if job.isCancelled { return }
                verticalForward(P.self, sp.baseAddress!, plane: plane, row: pr, channels: channels, S: S, c: c, into: vf.p)
                if let guide {
                    guide.withUnsafeBufferPointer {
                        verticalForward(P.self, $0.baseAddress!, plane: plane, row: pr, channels: channels, S: S, c: c, into: gf.p)
                    }
                }
                for pc0 in Swift.stride(from: 0, to: geo.positionColumns, by: L) {
                    horizontalForward(P.self, vf.p, at: pc0, channels: channels, S: S, c: c, tmp: tmp, into: block)
                    var weight: Lanes
                    if guide != nil {
                        horizontalForward(P.self, gf.p, at: pc0, channels: channels, S: S, c: c, tmp: tmp, into: gblock)
                        weight = wiener(P.self, block, guide: gblock, channels: channels, sigma2: sigma2)
                    } else {
                        weight = hardThreshold(P.self, block, channels: channels, threshold: threshold)
                    }
                    if !adaptiveAggregation { weight = Lanes(repeating: 1) }
                    let valid = geo.positionColumns - pc0
                    if valid < L {
                        for l in valid..<L { weight[l] = 0 }
                    }
                    horizontalInverse(P.self, block, weight: weight, at: pc0, channels: channels, S: S, c: c, tmp: tmp,
                                      into: spread.p)
                    store(weight, wspread.p, pc0)
                }
                verticalInverse(P.self, spread.p, wspread: wspread.p, channels: channels, S: S, c: c,
                                sums: outp.baseAddress! + (pr - rows.lowerBound) * S, sumsPlane: outRows * S,
                                weights: wp.baseAddress! + (pr - rows.lowerBound) * S)
                job.advance(1)
            }
        }}}}
        return Band(firstRow: rows.lowerBound, rows: outRows, sums: sums, weights: weights)
    }

    // MARK: kernels

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
    private func verticalForward<P: PatchSize>(_: P.Type, _ src: UnsafePointer<Float>, plane: Int, row: Int,
                                               channels: Int, S: Int, c: UnsafePointer<Float>,
                                               into out: UnsafeMutablePointer<Float>) {
        let n = P.n
        for ch in 0..<channels {
            let base = src + ch * plane + row * S
            for x in Swift.stride(from: 0, to: S, by: Self.lanes) {
                for u in 0..<n {
                    var s = Lanes(repeating: 0)
                    for i in 0..<n { s += c[u * n + i] * load(base, i * S + x) }
                    store(s, out, (ch * n + u) * S + x)
                }
            }
        }
    }

    /// block[ch][u][v] (lanes = patches pc0 ..< pc0+16) = Σ_j c[v,j] · vf[ch][u][pc0 + lane + j]
    private func horizontalForward<P: PatchSize>(_: P.Type, _ vf: UnsafeMutablePointer<Float>, at pc0: Int,
                                                 channels: Int, S: Int, c: UnsafePointer<Float>,
                                                 tmp: UnsafeMutablePointer<Lanes>, into block: UnsafeMutablePointer<Lanes>) {
        let n = P.n
        for chu in 0..<channels * n {
            let row = vf + chu * S + pc0
            for j in 0..<n { tmp[j] = load(row, j) }
            Self.forward1D(P.self, tmp, c, into: block + chu * n)
        }
    }

    /// spread[ch][u][j][pc0 + lane] = weight · Σ_v c[v,j] · block[ch][u][v]
    private func horizontalInverse<P: PatchSize>(_: P.Type, _ block: UnsafeMutablePointer<Lanes>, weight: Lanes,
                                                 at pc0: Int, channels: Int, S: Int, c: UnsafePointer<Float>,
                                                 tmp: UnsafeMutablePointer<Lanes>, into spread: UnsafeMutablePointer<Float>) {
        let n = P.n
        for chu in 0..<channels * n {
            Self.inverse1D(P.self, block + chu * n, c, into: tmp)
            for j in 0..<n { store(weight * tmp[j], spread, (chu * n + j) * S + pc0) }
        }
    }

    /// The 1-D DCT of x (n vectors) into out, by one even/odd butterfly: the symmetric sums give
    /// the even coefficients, the differences the odd ones, each an (n/2)² product — half the work
    /// of the full matrix. `c` is the basis matrix; its rows 2m and 2m+1 restricted to the first n/2
    /// samples are the two half-size matrices.
    @inline(__always)
    static func forward1D<P: PatchSize>(_: P.Type, _ x: UnsafeMutablePointer<Lanes>, _ c: UnsafePointer<Float>,
                                        into out: UnsafeMutablePointer<Lanes>) {
        let n = P.n, h = n / 2
        for k in 0..<h {
            let a = x[k], b = x[n - 1 - k]
            x[k] = a + b
            x[n - 1 - k] = a - b
        }
        for m in 0..<h {
            var even = Lanes(repeating: 0), odd = Lanes(repeating: 0)
            for k in 0..<h {
                even += c[2 * m * n + k] * x[k]
                odd += c[(2 * m + 1) * n + k] * x[n - 1 - k]
            }
            out[2 * m] = even
            out[2 * m + 1] = odd
        }
    }

    /// The inverse of `forward1D`: x[k] = E[k] + O[k], x[n−1−k] = E[k] − O[k].
    @inline(__always)
    static func inverse1D<P: PatchSize>(_: P.Type, _ y: UnsafeMutablePointer<Lanes>, _ c: UnsafePointer<Float>,
                                        into out: UnsafeMutablePointer<Lanes>) {
        let n = P.n, h = n / 2
        for k in 0..<h {
            var even = Lanes(repeating: 0), odd = Lanes(repeating: 0)
            for m in 0..<h {
                even += c[2 * m * n + k] * y[2 * m]
                odd += c[(2 * m + 1) * n + k] * y[2 * m + 1]
            }
            out[k] = even + odd
            out[n - 1 - k] = even - odd
        }
    }

    /// sums[ch][i][x] += Σ_u c[u,i] · Σ_j spread[ch][u][j][x − j];  weights[i][x] += Σ_j wspread[x − j]
    private func verticalInverse<P: PatchSize>(_: P.Type, _ spread: UnsafeMutablePointer<Float>,
                                               wspread: UnsafeMutablePointer<Float>, channels: Int, S: Int,
                                               c: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>,
                                               sumsPlane: Int, weights: UnsafeMutablePointer<Float>) {
        let n = P.n
        var a = [Lanes](repeating: Lanes(repeating: 0), count: n)
        for x in Swift.stride(from: 0, to: S, by: Self.lanes) {
            var w = Lanes(repeating: 0)
            for j in 0..<n { w += load(wspread, x - j) }
            for i in 0..<n { store(load(weights, i * S + x) + w, weights, i * S + x) }
            for ch in 0..<channels {
                for u in 0..<n {
                    let base = spread + (ch * n + u) * n * S + x
                    var s = Lanes(repeating: 0)
                    for j in 0..<n { s += load(base, j * S - j) }
                    a[u] = s
                }
                let out = sums + ch * sumsPlane + x
                for i in 0..<n {
                    var s = Lanes(repeating: 0)
                    for u in 0..<n { s += c[u * n + i] * a[u] }
                    store(load(out, i * S) + s, out, i * S)
                }
            }
        }
    }

    /// Zeroes AC coefficients below the threshold; returns the per-patch aggregation weight.
    private func hardThreshold<P: PatchSize>(_: P.Type, _ block: UnsafeMutablePointer<Lanes>, channels: Int,
                                             threshold: Float) -> Lanes {
        let n = P.n
        var kept = Lanes(repeating: 0)
        let t2 = Lanes(repeating: threshold * threshold)
        let zero = Lanes(repeating: 0), one = Lanes(repeating: 1)
        for ch in 0..<channels {
            let b = block + ch * n * n
            for k in 1..<n * n {  // the DC coefficient is always kept
                let keep = b[k] * b[k] .>= t2
                b[k] = zero.replacing(with: b[k], where: keep)
                kept += zero.replacing(with: one, where: keep)
            }
        }
        return one / (one + kept)
    }

    /// Empirical Wiener shrinkage with the guide's coefficients; returns the aggregation weight.
    private func wiener<P: PatchSize>(_: P.Type, _ block: UnsafeMutablePointer<Lanes>,
                                      guide: UnsafeMutablePointer<Lanes>, channels: Int, sigma2: Float) -> Lanes {
        let n = P.n
        var energy = Lanes(repeating: 0)
        let s2 = Lanes(repeating: sigma2), one = Lanes(repeating: 1)
        for ch in 0..<channels {
            let b = block + ch * n * n, g = guide + ch * n * n
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

/// Patch sides as types, so kernels specialise to constant loop bounds.
protocol PatchSize { static var n: Int { get } }
enum Patch8: PatchSize { static var n: Int { 8 } }
enum Patch16: PatchSize { static var n: Int { 16 } }

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

/// The partial result of one band of patch rows.
struct Band: Sendable {
    let firstRow: Int
    let rows: Int
    let sums: [Float]
    let weights: [Float]
}

/// Sizes of the symmetric-padded working image and of its patch grid.
struct Geometry: Sendable {
    let width: Int, height: Int, n: Int
    var before: Int { n / 2 }
    var paddedHeight: Int { height + n }
    var positionRows: Int { height + 1 }
    var positionColumns: Int { width + 1 }
    /// Row stride: room for the last 16-lane block and its n-wide reach, a multiple of 16.
    var stride: Int { ((positionColumns + SlidingDCT.lanes - 1) / SlidingDCT.lanes + 1) * SlidingDCT.lanes + (n > 16 ? n : 0) }

    /// Symmetric reflection: ... 2 1 0 | 0 1 2 ... size-1 | size-1 size-2 ...
    static func reflect(_ i: Int, _ size: Int) -> Int {
        var p = i < 0 ? -i - 1 : i
        p %= 2 * size
        return p >= size ? 2 * size - 1 - p : p
    }

    func pad(_ img: PlanarImage) -> [Float] {
        let S = stride, H = paddedHeight, Wp = width + n
        var out = [Float](repeating: 0, count: img.channels * H * S)
        let cols = (0..<Wp).map { Geometry.reflect($0 - before, width) }
        img.samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for ch in 0..<img.channels {
                    for y in 0..<H {
                        let sy = Geometry.reflect(y - before, height)
                        let srow = (ch * height + sy) * width
                        let orow = (ch * H + y) * S
                        for x in 0..<Wp { o[orow + x] = s[srow + cols[x]] }
                    }
                }
            }
        }
        return out
    }

    /// Adds the bands together and divides by the weights, keeping the unpadded region.
    func merge(_ bands: [Band], channels: Int, width: Int, height: Int) -> PlanarImage {
        let S = stride, H = paddedHeight
        var sums = [Float](repeating: 0, count: channels * H * S)
        var weights = [Float](repeating: 0, count: H * S)
        for b in bands {
            for y in 0..<b.rows where b.firstRow + y < H {
                let dst = (b.firstRow + y) * S
                for x in 0..<S { weights[dst + x] += b.weights[y * S + x] }
                for ch in 0..<channels {
                    let d = ch * H * S + dst, s = (ch * b.rows + y) * S
                    for x in 0..<S { sums[d + x] += b.sums[s + x] }
                }
            }
        }
        var out = PlanarImage(width: width, height: height, channels: channels)
        for ch in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let i = (y + before) * S + x + before
                    out[x, y, ch] = sums[ch * H * S + i] / weights[i]
                }
            }
        }
        return out
    }
}
