import ImageCore
import DCTKernels
import DCTKernelsAVX2
import Dispatch

/// Blind estimation of the noise level from the image alone (Ponomarenko et al. 2007, as analysed
/// by Colom & Buades, IPOL 2013), made aware of 8-bit clipping.
///
/// Every 8x8 block (stride 2, sparser on large images) of each colour plane goes through the DCT.
/// Its low frequencies measure how much structure it holds, its high frequencies how much noise:
/// for white Gaussian noise the two sets of coefficients are independent, so choosing the blocks
/// with the least low-frequency energy picks flat blocks without biasing their high-frequency
/// energy. Near black and white a file's noise was clipped; the noise level is the sigma whose
/// clipped variance, at each chosen block's mean, explains the high-frequency energy found there.
public enum NoiseEstimator {
    public struct Estimate: Sendable, Equatable {
        /// Gaussian noise standard deviation (0...255 scale).
        public var sigma: Double
        /// The noise curve: standard deviation at each intensity, from dark to bright.
        public var curve: [CurvePoint]
        /// Poisson-Gaussian fit of the curve: variance = gain * intensity + offset (both >= 0).
        public var gain: Double
        public var offset: Double

        /// True when the curve is clearly signal-dependent (photon noise): the fitted variance at
        /// intensity 200 is more than twice the one at 50.
        public var isSignalDependent: Bool {
            gain > 0 && gain * 200 + offset > 2 * (gain * 50 + offset)
        }
    }

    public struct CurvePoint: Sendable, Equatable {
        public var intensity: Double
        public var sigma: Double
    }

    /// Fraction of the blocks, the flattest, that measure the noise.
    static let flatFraction = 0.005
    static let minimumBlocks = 60
    static let curveBins = 8
    static let n = 8
    /// Coefficients (u, v) with 0 < u + v <= 3 measure structure; u + v >= 8 measure noise.
    static let lowLimit = 3, highLimit = 8

    struct Block {
        var mean: Float
        var lowEnergy: Float
        var highEnergy: Float
    }

    /// Estimates the noise of the colour planes (1 or 3; alpha is ignored). Images smaller than
    /// 8x8 get sigma 0.
    public static func estimate(_ image: PlanarImage) -> Estimate {
        let color = image.channels >= 3 ? 3 : 1
        guard image.width >= n && image.height >= n else {
            return Estimate(sigma: 0, curve: [], gain: 0, offset: 0)
        }
        // Large images are sampled more sparsely: about a million blocks per plane is plenty.
        let stride = 2 * max(1, Int((Double(image.pixelCount) / 4_000_000).squareRoot().rounded(.up)))
        let slots = ResultSlots<[Block]>(count: color)
        DispatchQueue.concurrentPerform(iterations: color) { slots[$0] = blocks(image, plane: $0, stride: stride) }
        let planes = slots.values
        let flat = planes.flatMap { flattest($0, fraction: flatFraction) }
        // Data beyond 0...255 (float files, unclipped synthetic noise) was not clipped.
        let clipped = !image.samples[0..<(color * image.pixelCount)].contains { $0 < -0.5 || $0 > 255.5 }
        let sigma = clippedSigma(flat, clipped: clipped)

        // The curve: each intensity bin (equal block counts) measured on its own flattest blocks.
        var curve: [CurvePoint] = []
        var all = planes.flatMap { $0 }
        let bins = min(curveBins, all.count / (minimumBlocks * 4))
        for b in 0..<bins {
            // Partition `all` so that bin b holds the next quantile range of block means.
            let lower = b * all.count / bins, upper = (b + 1) * all.count / bins
            partition(&all, lower..<all.count, kth: upper - 1) { $0.mean < $1.mean }
            let bin = Array(all[lower..<upper])
            let chosen = flattest(bin, fraction: flatFraction * Double(curveBins))
            let mean = chosen.reduce(0.0) { $0 + Double($1.mean) } / Double(chosen.count)
            curve.append(CurvePoint(intensity: mean, sigma: clippedSigma(chosen, clipped: clipped)))
        }
        // The fit trusts the points clipping barely touched (within 2 sigma of neither end), given
        // three or more of them.
        let trusted = curve.filter { !clipped || ($0.intensity > 2 * $0.sigma && $0.intensity + 2 * $0.sigma < 255) }
        let (gain, offset) = fitPoissonGaussian(trusted.count >= 3 ? trusted : curve)
        return Estimate(sigma: sigma, curve: curve, gain: gain, offset: offset)
    }

    static func blocks(_ image: PlanarImage, plane c: Int, stride: Int) -> [Block] {
        let w = image.width, h = image.height
        let bx = (w - n) / stride + 1, by = (h - n) / stride + 1, count = bx * by
        var mean = [Float](repeating: 0, count: count), low = mean, high = mean
        // The build the patch kernels use (DENOISE_KERNELS=baseline forces it here too).
        let avx2 = SlidingDCT.usesAVX2(try? KernelPath.fromEnvironment())
        let kernel = avx2 ? DCTKernelsAVX2.blockEnergies : DCTKernels.blockEnergies
        image.samples.withUnsafeBufferPointer { s in
            kernel(s.baseAddress! + c * image.pixelCount, w, h, stride, bx, by, lowLimit, highLimit,
                   &mean, &low, &high)
        }
        return (0..<count).map { Block(mean: mean[$0], lowEnergy: low[$0], highEnergy: high[$0]) }
    }

    static let highCount: Double = {
        var c = 0
        for v in 0..<n { for u in 0..<n where u + v >= highLimit { c += 1 } }
        return Double(c)
    }()

    /// The `fraction` of `blocks` with the least low-frequency energy (at least `minimumBlocks`).
    static func flattest(_ blocks: [Block], fraction: Double) -> [Block] {
        let k = min(blocks.count, max(minimumBlocks, Int(Double(blocks.count) * fraction)))
        var b = blocks
        partition(&b, 0..<b.count, kth: k - 1) { $0.lowEnergy < $1.lowEnergy }
        return Array(b.prefix(k))
    }

    /// Reorders `range` of `a` so that its element `kth` is the one a full sort would put there,
    /// with no greater element before it and no smaller one after (quickselect, linear on average).
    static func partition<T>(_ a: inout [T], _ range: Range<Int>, kth: Int, by less: (T, T) -> Bool) {
        var lo = range.lowerBound, hi = range.upperBound - 1
        guard lo <= kth && kth <= hi else { return }
        while lo < hi {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while less(a[i], pivot) { i += 1 }
                while less(pivot, a[j]) { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if kth <= j { hi = j } else if kth >= i { lo = i } else { return }
        }
    }

    /// The sigma at which the clipped-noise variance predicted at each block's mean explains, on
    /// average, the blocks' high-frequency energy (the plain mean energy for unclipped data). Blocks at pure black or white carry no
    /// information and are left out; if nothing else is left the noise is 0.
    static func clippedSigma(_ blocks: [Block], clipped: Bool = true) -> Double {
        let usable = blocks.filter { $0.mean > 0.5 && $0.mean < 254.5 }
        guard !usable.isEmpty else { return 0 }
        if !clipped {
            let energy = usable.reduce(0.0) { $0 + Double($1.highEnergy) }
            return (energy / (highCount * Double(usable.count))).squareRoot()
        }
        // Blocks quantised to quarter levels share one clipped-variance evaluation.
        // A block's mean is itself noisy (variance v / 64) and v is concave in it near the clip
        // points, so v(mean) under-predicts on average; the second-order term corrects that.
        func explained(_ s: Double) -> Double {
            // Keys are quarter levels, 0...1020 and 8 beyond either end; NaN: not computed yet.
            var table = [Double](repeating: .nan, count: 1020 + 1 + 2 * 8)
            func v(_ key: Int) -> Double {
                let k = min(max(key, -8), 1028) + 8
                if !table[k].isNaN { return table[k] }
                let v = ClippedNormal.variance(observedMean: min(255, max(0, Double(key) / 4)), s: s)
                table[k] = v
                return v
            }
            var total = 0.0
            for b in usable {
                let key = Int((b.mean * 4).rounded())
                let v0 = v(key), curvature = (v(key + 8) - 2 * v0 + v(key - 8)) / 4
                let predicted = max(v0 - 0.5 * curvature * v0 / Double(n * n), 0.5 * v0)
                total += Double(b.highEnergy) / (highCount * max(predicted, 1e-6))
            }
            return total / Double(usable.count)
        }
        // explained(s) falls with s (about as 1/s²): the level where it is 1, by regula falsi with
        // the Illinois halving, which takes a handful of evaluations where bisection took 40.
        var lo = 1e-3, hi = 200.0
        var fLo = explained(lo) - 1, fHi = explained(hi) - 1
        if fLo <= 0 { return 0 }
        if fHi >= 0 { return hi }
        var side = 0
        for _ in 0..<100 {
            let mid = (lo * fHi - hi * fLo) / (fHi - fLo)
            let f = explained(mid) - 1
            if f > 0 {
                (lo, fLo) = (mid, f)
                if side == -1 { fHi /= 2 }
                side = -1
            } else {
                (hi, fHi) = (mid, f)
                if side == 1 { fLo /= 2 }
                side = 1
            }
            if hi - lo <= 1e-10 * hi || f == 0 { return mid }
        }
        return (lo + hi) / 2
    }

    /// Least squares of variance = gain * intensity + offset over the curve, both kept >= 0.
    static func fitPoissonGaussian(_ curve: [CurvePoint]) -> (Double, Double) {
        guard curve.count >= 2 else { return (0, curve.first.map { $0.sigma * $0.sigma } ?? 0) }
        let xs = curve.map(\.intensity), ys = curve.map { $0.sigma * $0.sigma }
        let m = Double(curve.count)
        let mx = xs.reduce(0, +) / m, my = ys.reduce(0, +) / m
        var sxy = 0.0, sxx = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
        }
        var gain = sxx > 0 ? sxy / sxx : 0, offset = my - gain * mx
        if gain < 0 { (gain, offset) = (0, my) }
        if offset < 0 {
            offset = 0
            gain = zip(xs, ys).reduce(0) { $0 + $1.0 * $1.1 } / max(xs.reduce(0) { $0 + $1 * $1 }, 1e-12)
        }
        return (gain, offset)
    }
}
