import ImageCore
import CPlatform
import DCTKernels
import DCTKernelsAVX2

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
/// This type splits the patch rows into bands for the workers and merges their sums; the patch
/// transforms themselves are in DCTKernels.
struct SlidingDCT: Sendable {
    static let thresholdFactor: Float = 3

    let n: Int
    /// Noise standard deviation of each channel, or one value for all of them.
    let sigmas: [Float]
    let adaptiveAggregation: Bool
    /// The patch-row kernels of one build.
    let patchRow: PatchRowFactory

    /// `kernels`: baseline, or AVX2 + FMA for every wider path; nil: the fastest this CPU runs.
    init(n: Int, sigmas: [Float], adaptiveAggregation: Bool, kernels: KernelPath? = nil) {
        self.n = n
        self.sigmas = sigmas
        self.adaptiveAggregation = adaptiveAggregation
        patchRow = Self.build(kernels)
    }

    /// White Gaussian noise: one level for every channel.
    init(n: Int, sigma: Float, adaptiveAggregation: Bool, kernels: KernelPath? = nil) {
        self.init(n: n, sigmas: [sigma], adaptiveAggregation: adaptiveAggregation, kernels: kernels)
    }

    static let lanes = DCTKernels.patchLanes

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
            return kernel.band(rows, src: src, guide: gsrc, channels: channels, geo: geo, job: job)
        }
        return geo.merge(bands, channels: channels, width: noisy.width, height: noisy.height)
    }

    /// Processes patch rows `rows`; returns the weighted sums and weights for image rows
    /// `rows.lowerBound ..< rows.upperBound + n - 1` of the padded image.
    private func band(_ rows: Range<Int>, src: [Float], guide: [Float]?, channels: Int, geo: Geometry,
                      job: Job) -> Band {
        let S = geo.stride
        let outRows = rows.count + n - 1
        var sums = [Float](repeating: 0, count: channels * outRows * S)
        var weights = [Float](repeating: 0, count: outRows * S)
        let levels = sigmas.count == 1 ? [Float](repeating: sigmas[0], count: channels) : sigmas
        let patchRow = self.patchRow(n, channels, S, geo.paddedHeight * S, geo.positionColumns, levels, adaptiveAggregation)
        src.withUnsafeBufferPointer { sp in
        sums.withUnsafeMutableBufferPointer { outp in
        weights.withUnsafeMutableBufferPointer { wp in
            for pr in rows {
                if job.isCancelled { return }
                let o = (pr - rows.lowerBound) * S
                if let guide {
                    guide.withUnsafeBufferPointer {
                        patchRow(pr, sp.baseAddress!, $0.baseAddress!, outp.baseAddress! + o, outRows * S, wp.baseAddress! + o)
                    }
                } else {
                    patchRow(pr, sp.baseAddress!, nil, outp.baseAddress! + o, outRows * S, wp.baseAddress! + o)
                }
                job.advance(1)
            }
        }}}
        return Band(firstRow: rows.lowerBound, rows: outRows, sums: sums, weights: weights)
    }

    typealias PatchRowFactory = @Sendable (Int, Int, Int, Int, Int, [Float], Bool)
        -> (Int, UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void

    /// The build for `path`: baseline x86-64 when asked (or on CPUs without AVX2), AVX2 + FMA
    /// otherwise (the DCT has no wider build). The rule every DCT kernel follows.
    static func usesAVX2(_ path: KernelPath?) -> Bool { path != .baseline && denoise_cpu_has_avx2() != 0 }

    static func build(_ path: KernelPath?) -> PatchRowFactory {
        usesAVX2(path) ? DCTKernelsAVX2.makePatchRowFunction : DCTKernels.makePatchRowFunction
    }
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
