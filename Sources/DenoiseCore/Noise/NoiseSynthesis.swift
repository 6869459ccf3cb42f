import ImageCore
/// Synthetic noise of the three kinds the denoisers handle, as an 8-bit (or 16-bit) file would
/// hold it when `quantize` is set: values rounded and clipped to 0...255.
public enum NoiseSynthesis {
    public enum Kind: Sendable, Equatable {
        /// Additive white Gaussian noise of this standard deviation (0...255 scale).
        case gaussian(sigma: Double)
        /// Photon noise: `peak` counts at white, `Poisson(x / 255 * peak) / peak * 255`.
        case poisson(peak: Double)
        /// Impulses: each pixel becomes black or white (all colour channels) with probability
        /// `density`, either with equal odds.
        case saltAndPepper(density: Double)
    }

    /// Adds noise to the colour planes of `image` (alpha is left as it was).
    public static func add(_ kind: Kind, to image: PlanarImage, seed: UInt64, quantize: Bool = true) throws -> PlanarImage {
        var rng = RandomSource(seed: seed)
        var out = image
        let color = image.channels >= 3 ? 3 : 1, n = image.pixelCount
        switch kind {
        case .gaussian(let sigma):
            guard sigma.isFinite, sigma >= 0 else { throw DenoiseError.invalidArgument("sigma must be 0 or more, got \(sigma)") }
            for i in 0..<(color * n) { out.samples[i] = Float(Double(image.samples[i]) + sigma * rng.normal()) }
        case .poisson(let peak):
            guard peak.isFinite, peak > 0 else { throw DenoiseError.invalidArgument("peak must be positive, got \(peak)") }
            for i in 0..<(color * n) {
                let counts = rng.poisson(max(0, Double(image.samples[i])) / 255 * peak)
                out.samples[i] = Float(counts / peak * 255)
            }
        case .saltAndPepper(let density):
            guard density.isFinite, (0...1).contains(density) else {
                throw DenoiseError.invalidArgument("density must be in 0...1, got \(density)")
            }
            for p in 0..<n where rng.uniform() < density {
                let v: Float = rng.uniform() < 0.5 ? 0 : 255
                for c in 0..<color { out.samples[c * n + p] = v }
            }
        }
        if quantize {
            for i in 0..<(color * n) { out.samples[i] = min(255, max(0, out.samples[i].rounded())) }
        }
        return out
    }
}
