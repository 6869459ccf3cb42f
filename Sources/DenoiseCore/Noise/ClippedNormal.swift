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
    /// standard deviation `s`: solves the mean equation for the underlying level by bisection.
    static func variance(observedMean observed: Double, s: Double) -> Double {
        var lo = low - 4 * s - 1, hi = high + 4 * s + 1
        for _ in 0..<48 {
            let mid = (lo + hi) / 2
            if moments(mu: mid, s: s).mean < observed { lo = mid } else { hi = mid }
        }
        return moments(mu: (lo + hi) / 2, s: s).variance
    }

    static func density(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    static func cumulative(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
}
