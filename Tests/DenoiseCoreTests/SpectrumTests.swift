import DCTKernels
import DenoiseCore
import ImageCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A smooth gray (or colour) test image: gentle gradients that stay far from 0 and 255, so
/// added noise is not clipped and the flattest blocks hold noise alone.
private func smooth(_ w: Int, _ h: Int, channels: Int = 1) -> PlanarImage {
    var img = PlanarImage(width: w, height: h, channels: channels)
    for c in 0..<channels {
        for y in 0..<h {
            for x in 0..<w {
                img[x, y, c] = Float(90 + 50 * Double(x) / Double(w) + 30 * Double(y) / Double(h) + 10 * Double(c))
            }
        }
    }
    return img
}

/// Unclipped white Gaussian noise of level `sigma` on every plane.
private func white(_ img: PlanarImage, _ sigma: Double, seed: UInt64) -> PlanarImage {
    var rng = Noise(state: seed)
    var out = img
    for i in out.samples.indices { out.samples[i] += Float(sigma * rng.gaussian()) }
    return out
}

/// The 3-tap binomial filter [1/4, 1/2, 1/4] along rows and columns (reflected edges), whose
/// frequency response is (1 + cos ω) / 2 per axis.
private func binomial(_ img: PlanarImage) -> PlanarImage {
    let w = img.width, h = img.height
    func pass(_ src: PlanarImage, horizontal: Bool) -> PlanarImage {
        var dst = src
        for c in 0..<src.channels {
            for y in 0..<h {
                for x in 0..<w {
                    let (a, b) = horizontal ? (src[max(x - 1, 0), y, c], src[min(x + 1, w - 1), y, c])
                                            : (src[x, max(y - 1, 0), c], src[x, min(y + 1, h - 1), c])
                    dst[x, y, c] = 0.25 * a + 0.5 * src[x, y, c] + 0.25 * b
                }
            }
        }
        return dst
    }
    return pass(pass(img, horizontal: true), horizontal: false)
}

private func spectrum(_ img: PlanarImage) throws -> NoiseSpectrum {
    var work = img.planes(0..<(img.channels >= 3 ? 3 : 1))
    if img.channels >= 3 { ColorTransform.forward(&work) }
    return try #require(SpectrumEstimator.estimate(decorrelated: work, patchSize: 8, layers: 4))
}

@Suite struct SpectrumTests {
    @Test(arguments: [4.0, 10.0, 25.0]) func whiteNoiseFollowsTheWhiteLaw(sigma: Double) throws {
        let s = try spectrum(white(smooth(384, 384), sigma, seed: 7))
        #expect(s.isWhite)
        for layer in 0..<3 {
            let want = sigma / Double(1 << layer), got = Double(s.level(layer: layer, channel: 0))
            #expect(abs(got - want) < 0.1 * want, "layer \(layer): \(got) for \(want)")
        }
        // Flat across frequencies: every measured coefficient of the finest layer within 25%.
        for u in 0..<8 {
            for v in 0..<8 where u + v > 3 {
                let got = Double(s.layers[0][u * 8 + v])
                #expect(abs(got - sigma) < 0.25 * sigma, "(\(u), \(v)): \(got)")
            }
        }
        #expect(NoiseModelDCT.spectrum(white(smooth(384, 384), sigma, seed: 7), patchSize: 8)?.isWhite == true)
    }

    @Test func filteredNoiseMatchesTheKernelResponse() throws {
        let sigma = 20.0
        var noise = white(PlanarImage(width: 384, height: 384, channels: 1), sigma, seed: 3)
        noise = binomial(noise)
        var img = smooth(384, 384)
        for i in img.samples.indices { img.samples[i] += noise.samples[i] }
        let s = try spectrum(img)
        #expect(!s.isWhite)
        // Layer 0, exactly: coefficient (u, v) is Σ b_u(y) b_v(x) n(x, y) with n = h * w, so its
        // level is σ ‖b_u * h‖ ‖b_v * h‖ (the basis convolved with the kernel).
        let basis = DCTBasis(n: 8), h: [Double] = [0.25, 0.5, 0.25]
        func gain(_ u: Int) -> Double {
            var g = [Double](repeating: 0, count: 10)
            for i in 0..<8 { for (k, t) in h.enumerated() { g[i + k] += Double(basis.c[u * 8 + i]) * t } }
            return g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        }
        for (u, v) in [(4, 0), (0, 4), (3, 2), (4, 3), (2, 5), (6, 1)] {
            let want = sigma * gain(u) * gain(v), got = Double(s.layers[0][u * 8 + v])
            #expect(abs(got - want) < 0.12 * want, "(\(u), \(v)): \(got) for \(want)")
        }
        // Layer 1 sees half the frequencies at half the level: (1 + cos(π u / 16)) / 2 per axis, / 2
        // (at the band centre: the basis's spectral leakage adds up to a fifth).
        let response = { (u: Int, v: Int) -> Double in
            let r = { (k: Int) in (1 + cos(Double.pi * Double(k) / 16)) / 2 }
            return sigma * r(u) * r(v) / 2
        }
        for (u, v) in [(4, 0), (3, 2), (2, 5)] {
            let want = response(u, v), got = Double(s.layers[1][u * 8 + v])
            #expect(abs(got - want) < 0.25 * want, "layer 1 (\(u), \(v)): \(got) for \(want)")
        }
        // The low frequencies of layer 0 come from the layer below: (1, 1) is (2, 2) of layer 1, doubled.
        let low = Double(s.layers[0][1 * 8 + 1]), below = 2 * response(2, 2)
        #expect(abs(low - below) < 0.2 * below, "(1, 1): \(low) for \(below)")
    }

    @Test func chromaNoiseIsMeasuredInItsChannel() throws {
        // Noise of level 8 in U only (the decorrelated space), none in Y and V.
        var yuv = smooth(320, 320, channels: 3)
        ColorTransform.forward(&yuv)
        var rng = Noise(state: 11)
        let n = yuv.pixelCount
        for i in 0..<n { yuv.samples[n + i] += Float(8 * rng.gaussian()) }
        ColorTransform.inverse(&yuv)
        let s = try spectrum(yuv)
        #expect(abs(Double(s.level(layer: 0, channel: 1)) - 8) < 0.8)
        #expect(s.level(layer: 0, channel: 0) < 0.5 && s.level(layer: 0, channel: 2) < 0.5)
        #expect(!s.isWhite)
        // The denoiser's levels: chroma never below luma, the finest layer doubled.
        let levels = s.cameraLevels
        #expect(levels[0][1] == 2 * s.level(layer: 0, channel: 1) && levels[0][2] >= levels[0][0])
    }

    @Test func photonNoiseIsWhiteSoAutoTakesThePoissonModel() throws {
        var rng = Noise(state: 5)
        var img = smooth(320, 320)
        let gain = 0.5
        for i in img.samples.indices {
            let x = Double(img.samples[i])
            img.samples[i] = Float(x + (gain * x).squareRoot() * rng.gaussian())
        }
        #expect(NoiseModelDCT.spectrum(img, patchSize: 8)?.isWhite == true)
        guard case .poissonGaussian(let g, _) = try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: img) else {
            Issue.record("photon noise not taken as Poisson")
            return
        }
        #expect(abs(g - gain) < 0.25 * gain, "\(g)")
    }

    @Test func cameraLevelsDenoiseAsWhiteWhenTheyHalve() throws {
        // levels σ, σ/2, ... are white noise's: the result equals the white-noise denoiser's to rounding
        // (white's levels follow the layers' pixel counts, equal to halving on these even sizes).
        let img = addNoise(smooth(128, 96, channels: 3), sigma: 15, seed: 2)
        let p = MultiScaleDCT.Parameters(sigma: 15)
        let a = try MultiScaleDCT.denoise(img, p, job: Job())
        let b = try MultiScaleDCT.denoise(img, levels: [[15, 15, 15]], p, job: Job())
        let worst = zip(a.samples, b.samples).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3, "\(worst)")
        #expect(throws: DenoiseError.self) { _ = try MultiScaleDCT.denoise(img, levels: [[15]], p, job: Job()) }
        #expect(throws: DenoiseError.self) { _ = try MultiScaleDCT.denoise(img, levels: [[15, .nan, 1]], p, job: Job()) }
    }

    @Test func awkwardImagesGetAClearResult() throws {
        let cases: [(String, PlanarImage)] = [
            ("flat", PlanarImage(width: 200, height: 150, channels: 3, value: 77)),
            ("saturated", PlanarImage(width: 200, height: 150, channels: 3, value: 255)),
            ("black", PlanarImage(width: 120, height: 90, channels: 1, value: 0)),
            ("tiny", addNoise(PlanarImage(width: 5, height: 5, channels: 3, value: 100), sigma: 10, seed: 1)),
            ("one pixel wide", addNoise(PlanarImage(width: 1, height: 500, channels: 3, value: 100), sigma: 10, seed: 1)),
            ("one row", addNoise(PlanarImage(width: 700, height: 1, channels: 1, value: 100), sigma: 10, seed: 1)),
        ]
        for (name, img) in cases {
            let model = try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: img)
            let out = try NoiseModelDCT.denoise(img, model, MultiScaleDCT.Parameters(sigma: 0), job: Job())
            #expect(out.samples.allSatisfy { $0.isFinite }, "\(name)")
            if name == "flat" || name == "saturated" || name == "black" {
                #expect(model == .gaussian(sigma: 0), "\(name): \(model)")
                #expect(out == img, "\(name) changed")
            }
            _ = try NoiseModelDCT.resolve(.camera, sigma: 0, gain: 0, image: img)
        }
    }
}
