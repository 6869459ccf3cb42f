import ImageCore
import Dispatch
/// The DCT denoiser for the noise users actually have: camera noise of a measured spectrum,
/// Gaussian of known or estimated level, photon (Poisson) and Poisson-Gaussian noise through
/// variance stabilisation, salt-and-pepper impulses (restored, then refined by DCT inpainting), or
/// whichever of these the image shows.
public enum NoiseModelDCT {
    public enum Kind: Int, Sendable, CaseIterable {
        case gaussian = 0, poisson, poissonGaussian, impulse, auto, camera
    }

    /// A fully specified model, after estimation filled in what the caller left at 0.
    public enum Model: Sendable, Equatable {
        case gaussian(sigma: Double)
        /// variance = gain * intensity + sigma² (0...255 scale).
        case poissonGaussian(gain: Double, sigma: Double)
        case impulse
        /// Camera noise: a level per pyramid scale (finest first) and colour channel (Y, U, V).
        case camera(levels: [[Float]])
    }

    /// Chooses the model. `sigma` (Gaussian, or the Gaussian part) and `gain` (Poisson) are used
    /// as given when positive and estimated when 0; `auto` with a sigma given is Gaussian of that
    /// level. `patchSize` is the denoiser's (camera noise is measured for it); `white` is the
    /// image's `NoiseEstimator` estimate when the caller has it already.
    public static func resolve(_ kind: Kind, sigma: Double, gain: Double, image: PlanarImage,
                               patchSize: Int = 8, white: NoiseEstimator.Estimate? = nil) throws -> Model {
        guard sigma.isFinite, sigma >= 0, sigma <= 255 else { throw DenoiseError.invalidArgument("sigma must be in 0...255, got \(sigma)") }
        guard gain.isFinite, gain >= 0 else { throw DenoiseError.invalidArgument("gain must be 0 or more, got \(gain)") }
        lazy var estimate = white ?? NoiseEstimator.estimate(image)
        switch kind {
        case .gaussian:
            return .gaussian(sigma: sigma > 0 ? sigma : estimate.sigma)
        case .poisson:
            return .poissonGaussian(gain: gain > 0 ? gain : poissonGain(estimate), sigma: 0)
        case .poissonGaussian:
            return .poissonGaussian(gain: gain > 0 ? gain : max(estimate.gain, 1e-3),
                                    sigma: sigma > 0 ? sigma : estimate.offset.squareRoot())
        case .impulse:
            return .impulse
        case .camera:
            return spectrum(image, patchSize: patchSize).map { .camera(levels: $0.cameraLevels) } ?? .gaussian(sigma: estimate.sigma)
        case .auto:
            if sigma > 0 { return .gaussian(sigma: sigma) }
            // The three surveys are independent: side by side, they take about the slowest's time.
            let impulsive = ResultSlots<Bool>(count: 1), measured = ResultSlots<NoiseSpectrum?>(count: 1)
            let whiteEstimate = ResultSlots<NoiseEstimator.Estimate>(count: 1)
            DispatchQueue.concurrentPerform(iterations: 3) { task in
                switch task {
                case 0: impulsive[0] = looksImpulsive(image)
                case 1: measured[0] = spectrum(image, patchSize: patchSize)
                default: whiteEstimate[0] = white ?? NoiseEstimator.estimate(image)
                }
            }
            if impulsive.values[0] { return .impulse }
            if let s = measured.values[0], !s.isWhite { return .camera(levels: s.cameraLevels) }
            let e = whiteEstimate.values[0]
            if e.isSignalDependent { return .poissonGaussian(gain: e.gain, sigma: e.offset.squareRoot()) }
            return .gaussian(sigma: e.sigma)
        }
    }

    /// The measured noise spectrum of `image`'s colour planes, for the default 4 scales (the
    /// denoiser extends or cuts it to the scales it runs).
    public static func spectrum(_ image: PlanarImage, patchSize: Int) -> NoiseSpectrum? {
        let color = image.channels >= 3 ? 3 : 1
        var work = image.planes(0..<color)
        if color == 3 { ColorTransform.forward(&work) }
        return SpectrumEstimator.estimate(decorrelated: work, patchSize: patchSize,
                                          layers: MultiScaleDCT.Parameters.scaleRange.upperBound)
    }

    /// Pure photon noise: the gain that best explains the curve alone (variance ∝ intensity), on
    /// the points that clipping barely touched when there are any.
    static func poissonGain(_ e: NoiseEstimator.Estimate) -> Double {
        let trusted = e.curve.filter { $0.intensity > 2 * $0.sigma && $0.intensity + 2 * $0.sigma < 255 }
        var num = 0.0, den = 0.0
        for p in trusted.isEmpty ? e.curve : trusted {
            num += p.intensity * p.sigma * p.sigma
            den += p.intensity * p.intensity
        }
        return den > 0 && num > 0 ? num / den : max(e.sigma * e.sigma / 128, 1e-3)
    }

    /// Salt and pepper: more than 1% of the samples are impulses, at both ends, and a fifth of
    /// them far from their neighbours' tone (clipped Gaussian noise makes extremes only near them).
    static func looksImpulsive(_ image: PlanarImage) -> Bool {
        let color = image.channels >= 3 ? 3 : 1, count = color * image.pixelCount
        // Impulses are extreme samples: too few of those settles it without the survey.
        var extremes = 0
        for i in 0..<count where ImpulseFilter.isExtreme(image.samples[i]) { extremes += 1 }
        guard Double(extremes) > 0.01 * Double(count) else { return false }
        let survey = ImpulseFilter.survey(image)
        let total = survey.salt + survey.pepper
        return Double(total) > 0.01 * Double(count) && min(survey.salt, survey.pepper) * 4 >= total
            && survey.far() * 5 >= total
    }

    /// Noise levels of the passes that refine restored impulses: DCT-sparsity inpainting, each pass
    /// denoising the whole image and keeping its values at the impulses only (worth 1 to 3 dB over
    /// the median restoration alone on Kodak24).
    static let impulseRefinement: [Float] = [40, 25, 15, 10, 6]

    /// Progress units of `denoise` for `model`.
    public static func workUnits(width: Int, height: Int, channels: Int, model: Model, _ p: MultiScaleDCT.Parameters) -> Int {
        let dct = MultiScaleDCT.workUnits(width: width, height: height, p)
        if model == .impulse { return height * (channels >= 3 ? 3 : 1) + impulseRefinement.count * dct }
        return dct
    }

    /// Denoises under `model`; `p` gives the DCT settings (its sigma is ignored; its strength
    /// multiplies the model's levels, except for impulses). Unbiased inverse of the Anscombe
    /// transform unless `algebraicInverse`.
    public static func denoise(_ image: PlanarImage, _ model: Model, _ p: MultiScaleDCT.Parameters,
                               algebraicInverse: Bool = false, job: Job) throws -> PlanarImage {
        switch model {
        case .gaussian(let sigma):
            var q = p
            q.sigma = min(Float(sigma) * p.strength, MultiScaleDCT.Parameters.maximumSigma)
            return try MultiScaleDCT.denoise(image, q, job: job)
        case .camera(let levels):
            return try MultiScaleDCT.denoise(image, levels: levels.map { $0.map { $0 * p.strength } }, p, job: job)
        case .impulse:
            let restored = try ImpulseFilter.restore(image, job: job)
            var work = restored.image
            guard restored.mask.contains(true) else { return work }
            for sigma in impulseRefinement {
                var q = p
                q.sigma = sigma
                let smooth = try MultiScaleDCT.denoise(work, q, job: job)
                for (i, hit) in restored.mask.enumerated() where hit { work.samples[i] = smooth.samples[i] }
            }
            return work
        case .poissonGaussian(let gain, let sigma):
            let vst = try GeneralizedAnscombe(gain: gain, sigma: sigma)
            let color = image.channels >= 3 ? 3 : 1, count = color * image.pixelCount
            // Stabilised noise has unit variance; scaled to sigma 10 the DCT sees familiar values.
            let scale = 10.0
            var work = image
            for i in 0..<count { work.samples[i] = Float(scale * vst.forward(Double(image.samples[i]))) }
            var q = p
            q.sigma = Float(scale) * p.strength
            work = try MultiScaleDCT.denoise(work, q, job: job)
            for i in 0..<count {
                let d = Double(work.samples[i]) / scale
                work.samples[i] = Float(algebraicInverse ? vst.inverseAlgebraic(d) : vst.inverseUnbiased(d))
            }
            return work
        }
    }
}
