import ImageCore
import Glibc

/// The generalised Anscombe transform for Poisson-Gaussian noise, variance = gain * x + sigma²
/// on the 0...255 scale: after `forward` the noise is close to unit-variance Gaussian whatever the
/// intensity, so a Gaussian denoiser can run at sigma 1.
///
/// Two inverses: the algebraic one, biased at low counts, and the closed-form approximation of
/// the exact unbiased inverse (Mäkitalo & Foi, IEEE TIP 2011 and 2013), which maps the denoised
/// value back to the intensity whose transform has that expectation.
public struct GeneralizedAnscombe: Sendable, Equatable {
    /// Variance added per unit of intensity (255 / peak for pure photon noise with `peak` counts at white).
    public let gain: Double
    /// Standard deviation of the signal-independent Gaussian part.
    public let sigma: Double

    public init(gain: Double, sigma: Double = 0) throws {
        guard gain.isFinite, gain > 0 else { throw DenoiseError.invalidArgument("Poisson gain must be positive, got \(gain)") }
        guard sigma.isFinite, sigma >= 0 else { throw DenoiseError.invalidArgument("sigma must be 0 or more, got \(sigma)") }
        self.gain = gain
        self.sigma = sigma
    }

    /// The Gaussian part in counts (units of `gain`).
    private var countSigma: Double { sigma / gain }

    public func forward(_ x: Double) -> Double {
        let t = x / gain + 3.0 / 8.0 + countSigma * countSigma
        return t > 0 ? 2 * t.squareRoot() : 0
    }

    public func inverseAlgebraic(_ d: Double) -> Double {
        max(0, (d / 2) * (d / 2) - 3.0 / 8.0 - countSigma * countSigma) * gain
    }

    /// Below about 0.87 the closed form turns back up (its negative powers take over) where the
    /// exact inverse is already 0.
    static let closedFormMinimum = 0.87

    public func inverseUnbiased(_ d: Double) -> Double {
        guard d > Self.closedFormMinimum else { return 0 }
        let r = (1.5).squareRoot(), d2 = d * d
        let counts = d2 / 4 + r / (4 * d) - 11 / (8 * d2) + 5 * r / (8 * d2 * d) - 1.0 / 8.0
            - countSigma * countSigma
        return max(0, counts) * gain
    }
}
