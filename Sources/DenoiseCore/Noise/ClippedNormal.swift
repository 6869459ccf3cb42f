import ImageCore
import Glibc

/// Moments of a Gaussian clipped to the 0...255 range, as 8-bit files hold noisy values: near
/// black and white the noise a file shows is smaller than the noise that was added.
enum ClippedNormal {
    static let low = 0.0, high = 255.0

    /// Mean and variance of clip(N(mu, s²), 0, 255).
    static func moments(mu: Double, s: Double) -> (mean: Double, variance: Double) {
        guard s > 0 else {
            let m = min(high, max(low, mu))
            return (m, 0)
        }
        let a = (low - mu) / s, b = (high - mu) / s
        let pa = density(a), pb = density(b), ca = cumulative(a), cb = cumulative(b)
        let inside = cb - ca
        let mean = low * ca + high * (1 - cb) + mu * inside + s * (pa - pb)
        let second = low * low * ca + high * high * (1 - cb) + (mu * mu + s * s) * inside
            + 2 * mu * s * (pa - pb) + s * s * (a * pa - b * pb)
        return (mean, max(0, second - mean * mean))
    }

    /// The noise variance a clipped observation of mean `observed` shows when the added noise has
    /// standard deviation `s`: solves the mean equation for the underlying level (the clipped mean
    /// rises with it at the rate P(inside), so Newton's steps, kept inside a bisection bracket,
    /// converge in a few evaluations).
    static func variance(observedMean observed: Double, s: Double) -> Double {
        // Eight standard deviations from both ends, clipping changes the moments by less than
        // 1e-14 (the normal's tail mass there): the variance is the added one.
        if observed - low > 8 * s && high - observed > 8 * s { return s * s }
        var lo = low - 4 * s - 1, hi = high + 4 * s + 1
        var mu = min(max(observed, lo), hi)
        for _ in 0..<60 {
            let m = moments(mu: mu, s: s).mean
            if m < observed { lo = mu } else { hi = mu }
            let slope = s > 0 ? cumulative((high - mu) / s) - cumulative((low - mu) / s) : 1
            var next = mu - (m - observed) / max(slope, 1e-300)
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            if abs(next - mu) < 1e-12 * (1 + abs(mu)) || hi - lo < 1e-12 * (1 + abs(mu)) { mu = next; break }
            mu = next
        }
        return moments(mu: mu, s: s).variance
    }

    static func density(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    static func cumulative(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
}
