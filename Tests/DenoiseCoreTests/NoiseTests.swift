import Testing
@testable import DenoiseCore
import ImageCore

#if canImport(Glibc)
import Glibc
#endif

private func kodak(_ name: String = "kodim03.png") throws -> PlanarImage {
    try readImage(evalData + "/Kodak24/" + name)
}

private func gaussian(_ img: PlanarImage, _ sigma: Double, seed: UInt64) throws -> PlanarImage {
    try NoiseSynthesis.add(.gaussian(sigma: sigma), to: img, seed: seed)
}

@Suite struct NoiseEstimatorTests {
    // Clipped 8-bit noise of known level on real photos: within 1 of the truth (skimage's wavelet
    // MAD is off by 4 to 6 at sigma 50 on these sets).
    @Test(arguments: [5.0, 15.0, 30.0, 50.0]) func knownSigmaOnPhotos(sigma: Double) throws {
        for (i, name) in ["kodim03.png", "kodim13.png", "kodim23.png"].enumerated() {
            let e = NoiseEstimator.estimate(try gaussian(try kodak(name), sigma, seed: UInt64(i + 7)))
            #expect(abs(e.sigma - sigma) < 1.0, "\(name): \(e.sigma) for \(sigma)")
        }
    }

    @Test func flatAndCleanImages() throws {
        let flat = PlanarImage(width: 64, height: 48, channels: 1, value: 100)
        #expect(NoiseEstimator.estimate(flat).sigma == 0)
        #expect(abs(NoiseEstimator.estimate(try gaussian(flat, 20, seed: 3)).sigma - 20) < 1.0)
        for v: Float in [0, 255] {
            #expect(NoiseEstimator.estimate(PlanarImage(width: 40, height: 40, channels: 3, value: v)).sigma == 0)
        }
        #expect(NoiseEstimator.estimate(PlanarImage(width: 5, height: 7, channels: 3, value: 9)).sigma == 0)
        // A clean photo reports little noise (skimage: 2.5 to 3).
        #expect(NoiseEstimator.estimate(try kodak()).sigma < 1.5)
    }

    // Photon noise: the curve rises with intensity and the fit finds the gain.
    @Test func poissonCurve() throws {
        let peak = 40.0
        let noisy = try NoiseSynthesis.add(.poisson(peak: peak), to: try kodak(), seed: 5, quantize: false)
        let e = NoiseEstimator.estimate(noisy)
        #expect(e.isSignalDependent)
        #expect(abs(e.gain - 255 / peak) / (255 / peak) < 0.2, "gain \(e.gain)")
        #expect(e.curve.first!.sigma < e.curve.last!.sigma)
        #expect(try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: noisy) != .gaussian(sigma: e.sigma))
    }
}

@Suite struct ModelChoiceTests {
    // Clipped heavy Gaussian noise also makes extreme samples; it must not pass for salt and pepper.
    @Test func autoTellsTheModelsApart() throws {
        for name in ["kodim13.png", "kodim20.png"] {
            let clean = try kodak(name)
            let g = try gaussian(clean, 50, seed: 2)
            guard case .gaussian(let s) = try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: g) else {
                Issue.record("\(name): Gaussian noise not recognised")
                continue
            }
            #expect(abs(s - 50) < 1.5)
            for d in [0.02, 0.3] {
                let sp = try NoiseSynthesis.add(.saltAndPepper(density: d), to: clean, seed: 3)
                #expect(try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: sp) == .impulse, "\(name) \(d)")
            }
        }
    }
}

@Suite struct AnscombeTests {
    /// E[f(z)] for z ~ Poisson(lambda), summed over the probability mass function.
    static func expectedTransform(_ vst: GeneralizedAnscombe, lambda: Double) -> Double {
        var p = exp(-lambda), total = 0.0
        for k in 0..<Int(lambda * 4 + 60) {
            total += p * vst.forward(Double(k))
            p *= lambda / Double(k + 1)
        }
        return total
    }

    // The exact unbiased inverse undoes the expectation of the transform; the algebraic one does
    // not at low counts (Makitalo & Foi's point).
    @Test func unbiasedInverseRoundTrip() throws {
        let vst = try GeneralizedAnscombe(gain: 1)
        for lambda in [0.5, 1, 2, 5, 20, 100] {
            let d = Self.expectedTransform(vst, lambda: lambda)
            #expect(abs(vst.inverseUnbiased(d) - lambda) < 0.02 * lambda + 0.02, "lambda \(lambda)")
        }
        let d1 = Self.expectedTransform(vst, lambda: 1)
        #expect(abs(vst.inverseAlgebraic(d1) - 1) > 0.15)
        #expect(vst.inverseUnbiased(0.2) == 0 && vst.inverseUnbiased(-3) == 0)
    }

    @Test func stabilisesVariance() throws {
        let vst = try GeneralizedAnscombe(gain: 255 / 30.0)
        var rng = RandomSource(seed: 11)
        for level in [60.0, 128, 230] {
            var s = 0.0, s2 = 0.0
            let count = 20000
            for _ in 0..<count {
                let x = rng.poisson(level / vst.gain) * vst.gain
                let f = vst.forward(x)
                s += f
                s2 += f * f
            }
            let variance = s2 / Double(count) - (s / Double(count)) * (s / Double(count))
            #expect(abs(variance - 1) < 0.06, "level \(level): \(variance)")
        }
        #expect(throws: DenoiseError.self) { try GeneralizedAnscombe(gain: 0) }
    }
}

@Suite struct ImpulseTests {
    @Test func detectsOnlyImpulses() throws {
        let clean = try kodak()
        let noisy = try NoiseSynthesis.add(.saltAndPepper(density: 0.2), to: clean, seed: 9)
        let n = clean.pixelCount
        var tp = 0, fp = 0, fn = 0
        let mask = ImpulseFilter.detect(noisy)
        for i in 0..<(3 * n) {
            let hit = noisy.samples[i] != clean.samples[i]
            if mask[i] && hit { tp += 1 } else if mask[i] { fp += 1 } else if hit { fn += 1 }
        }
        #expect(Double(tp) / Double(tp + fp) > 0.99)
        #expect(Double(tp) / Double(tp + fn) > 0.95)

        let restored = try ImpulseFilter.restore(noisy, job: Job()).image
        #expect(zip(mask, zip(restored.samples, noisy.samples)).allSatisfy { $0 || $1.0 == $1.1 })
        #expect(Metrics.psnr(clean, restored) > Metrics.psnr(clean, noisy) + 15)
        // Through the model, refined by DCT inpainting: still only the impulses change, and better.
        let refined = try NoiseModelDCT.denoise(noisy, .impulse, MultiScaleDCT.Parameters(sigma: 0), job: Job())
        #expect(zip(mask, zip(refined.samples, noisy.samples)).allSatisfy { $0 || $1.0 == $1.1 })
        #expect(Metrics.psnr(clean, refined) > Metrics.psnr(clean, restored) + 1)
    }

    // A saturated highlight is not salt.
    @Test func keepsSaturatedRegions() throws {
        var img = PlanarImage(width: 40, height: 40, channels: 1, value: 90)
        for y in 10..<30 { for x in 10..<30 { img[x, y, 0] = 255 } }
        img[20, 20, 0] = 0
        img[3, 3, 0] = 255
        let out = try ImpulseFilter.restore(img, job: Job()).image
        #expect(out[15, 15, 0] == 255 && out[10, 20, 0] == 255 && out[20, 29, 0] == 255)
        #expect(out[20, 20, 0] == 255 && out[3, 3, 0] == 90)
    }

    // Pixel-wise salt and pepper: a colour with one channel at 0 is not an impulse.
    @Test func channelAtZeroIsNotAnImpulse() throws {
        var img = try NoiseSynthesis.add(.saltAndPepper(density: 0.1), to: try kodak(), seed: 4)
        for (x, y) in [(100, 100), (101, 100), (250, 300)] {
            img[x, y, 0] = 120; img[x, y, 1] = 20; img[x, y, 2] = 0
        }
        let out = try ImpulseFilter.restore(img, job: Job()).image
        for (x, y) in [(100, 100), (101, 100), (250, 300)] { #expect(out[x, y, 2] == 0) }
    }
}

@Suite struct MetricsTests {
    @Test func psnrClosedForm() {
        let a = PlanarImage(width: 20, height: 20, channels: 3, value: 100)
        let b = PlanarImage(width: 20, height: 20, channels: 3, value: 105)
        #expect(abs(Metrics.psnr(a, b) - 10 * log10(255.0 * 255 / 25)) < 1e-9)
        #expect(Metrics.psnr(a, a) == .infinity)
        #expect(abs(Metrics.ssim(a, a) - 1) < 1e-12)
    }

    // scikit-image's values, written by Tests/Fixtures/metrics/make_fixtures.py.
    @Test func matchesScikitImage() throws {
        let path = #filePath.split(separator: "/").dropLast(2).joined(separator: "/")
        let text = try readText("/" + path + "/Fixtures/metrics/metrics.txt")
        let lines = text.split(separator: "\n")
        #expect(lines.count == 12)
        for k in stride(from: 0, to: lines.count, by: 3) {
            let h = lines[k].split(separator: " ")
            let (w, ht, c) = (Int(h[1])!, Int(h[2])!, Int(h[3])!)
            func image(_ line: Substring) -> PlanarImage {
                let v = line.split(separator: " ").map { Float($0)! }
                var img = PlanarImage(width: w, height: ht, channels: c)
                for y in 0..<ht { for x in 0..<w { for ch in 0..<c { img[x, y, ch] = v[(y * w + x) * c + ch] } } }
                return img
            }
            let a = image(lines[k + 1]), b = image(lines[k + 2])
            #expect(abs(Metrics.psnr(a, b) - Double(h[4])!) < 1e-6, "\(h[0])")
            #expect(abs(Metrics.ssim(a, b) - Double(h[5])!) < 1e-4, "\(h[0])")
        }
    }
}

@Suite struct NoiseSynthesisTests {
    @Test func statistics() throws {
        let gray = PlanarImage(width: 200, height: 200, channels: 1, value: 128)
        func moments(_ img: PlanarImage) -> (Double, Double) {
            let m = img.samples.reduce(0.0) { $0 + Double($1) } / Double(img.samples.count)
            let v = img.samples.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(img.samples.count)
            return (m, v)
        }
        let (gm, gv) = moments(try NoiseSynthesis.add(.gaussian(sigma: 20), to: gray, seed: 1, quantize: false))
        #expect(abs(gm - 128) < 0.3 && abs(gv.squareRoot() - 20) < 0.3)
        for peak in [6.0, 200.0] {  // both Poisson samplers: product method and PTRS
            let (pm, pv) = moments(try NoiseSynthesis.add(.poisson(peak: peak), to: gray, seed: 2, quantize: false))
            let gain = 255 / peak
            #expect(abs(pm - 128) < 0.02 * 128 && abs(pv - gain * 128) < 0.05 * gain * 128, "peak \(peak)")
        }
        let sp = try NoiseSynthesis.add(.saltAndPepper(density: 0.3), to: gray, seed: 3)
        let hits = sp.samples.filter { $0 != 128 }.count
        #expect(abs(Double(hits) / 40000 - 0.3) < 0.01)
        #expect(throws: DenoiseError.self) { try NoiseSynthesis.add(.poisson(peak: 0), to: gray, seed: 1) }
    }
}

func readText(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else { throw TestError.io(path) }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite struct ClippedNormalTests {
    /// The variance solver inverts the closed-form clipped mean: for an underlying level mu, the
    /// clipped moments' mean handed back gives their variance, near black, mid-grey and white, for
    /// small and large noise. And the clipped moments match a numerical integration.
    @Test func varianceInvertsTheClippedMean() {
        for s in [0.5, 3.0, 12.0, 40.0, 90.0] {
            for mu in [-30.0, -2.0, 0.0, 1.5, 10.0, 128.0, 240.0, 254.0, 260.0] {
                let (mean, variance) = ClippedNormal.moments(mu: mu, s: s)
                guard mean > 0.01 && mean < 254.99 else { continue }  // all clipped: the mean says nothing
                let solved = ClippedNormal.variance(observedMean: mean, s: s)
                #expect(abs(solved - variance) <= 1e-7 * max(1, variance), "s \(s), mu \(mu): \(solved) vs \(variance)")
                // Riemann sum of clip(x)² and clip(x) over N(mu, s²), 20001 points over ±10 s.
                var m1 = 0.0, m2 = 0.0, total = 0.0
                for i in -10000...10000 {
                    let x = mu + Double(i) * s / 1000, w = exp(-Double(i * i) / 2e6)
                    let c = min(255, max(0, x))
                    m1 += w * c; m2 += w * c * c; total += w
                }
                let numeric = m2 / total - (m1 / total) * (m1 / total)
                #expect(abs(numeric - variance) <= 1e-3 * max(1, variance), "s \(s), mu \(mu): integral \(numeric)")
            }
        }
    }
}
