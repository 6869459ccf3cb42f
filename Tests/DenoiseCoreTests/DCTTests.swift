import Testing
import DCTKernels
@testable import DenoiseCore
import ImageCore

@Suite struct DCTBasisTests {
    @Test(arguments: [8, 16]) func orthonormal(n: Int) {
        let c = DCTBasis(n: n).c
        for a in 0..<n {
            for b in 0..<n {
                let dot = (0..<n).reduce(Float(0)) { $0 + c[a * n + $1] * c[b * n + $1] }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-5)
            }
        }
    }

    @Test func closedForm() {
        // A constant signal has only a DC term, equal to sqrt(n) times the value.
        let y = DCTBasis(n: 8).forward([Float](repeating: 3, count: 8))
        #expect(abs(y[0] - 3 * Float(8).squareRoot()) < 1e-5)
        #expect(y.dropFirst().allSatisfy { abs($0) < 1e-5 })
        // The basis vector u=1 transforms to the unit vector e1.
        let b = DCTBasis(n: 8)
        let e1 = b.forward((0..<8).map { b.c[8 + $0] })
        #expect(abs(e1[1] - 1) < 1e-5 && abs(e1[0]) < 1e-5 && abs(e1[2]) < 1e-5)
    }

    @Test func exactReconstruction() {
        let b = DCTBasis(n: 16)
        let x: [Float] = (0..<16).map { Float(($0 * 37) % 11) - 5 }
        let back = b.inverse(b.forward(x))
        #expect(zip(x, back).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}

@Suite struct ColorTransformTests {
    @Test func roundTripAndLuma() {
        var img = PlanarImage(width: 2, height: 1, channels: 3, samples: [10, 200, 30, 40, 50, 60])
        let orig = img
        ColorTransform.forward(&img)
        // Y of a pixel is (r+g+b)/sqrt(3).
        #expect(abs(img[0, 0, 0] - (10 + 30 + 50) / Float(3).squareRoot()) < 1e-4)
        ColorTransform.inverse(&img)
        #expect(zip(img.samples, orig.samples).allSatisfy { abs($0 - $1) < 1e-3 })
    }
}

@Suite struct PyramidTests {
    @Test func dctRoundTripOddSizes() {
        var img = PlanarImage(width: 37, height: 23, channels: 2,
                              samples: (0..<(37 * 23 * 2)).map { Float(($0 * 7919) % 255) })
        let orig = img
        DCTPyramid.forward(&img)
        // Orthonormal: energy is preserved (Parseval).
        let e0 = orig.samples.reduce(0) { $0 + Double($1 * $1) }, e1 = img.samples.reduce(0) { $0 + Double($1 * $1) }
        #expect(abs(e0 - e1) / e0 < 1e-5)
        DCTPyramid.inverse(&img)
        #expect(zip(img.samples, orig.samples).allSatisfy { abs($0 - $1) < 1e-2 })
    }

    @Test func decomposeRecomposeIsIdentity() {
        let img = PlanarImage(width: 64, height: 48, channels: 1,
                              samples: (0..<(64 * 48)).map { Float(($0 * 31) % 97) })
        let layers = DCTPyramid.decompose(img, levels: 3)
        #expect(layers.map(\.width) == [64, 32, 16] && layers.map(\.height) == [48, 24, 12])
        // A constant image keeps its value at every scale (the scaling keeps intensities).
        let flat = DCTPyramid.decompose(PlanarImage(width: 40, height: 40, channels: 1, value: 100), levels: 3)
        #expect(flat[2].samples.allSatisfy { abs($0 - 100) < 1e-3 })
        let back = DCTPyramid.recompose(layers, factor: 0.5)
        #expect(zip(back.samples, img.samples).allSatisfy { abs($0 - $1) < 1e-2 })
    }

    @Test func noiseLevelHalvesPerScale() {
        var rng = Noise(state: 7)
        let img = PlanarImage(width: 256, height: 256, channels: 1,
                              samples: (0..<(256 * 256)).map { _ in Float(10 * rng.gaussian()) })
        let layers = DCTPyramid.decompose(img, levels: 3)
        for (i, l) in layers.enumerated() {
            let sd = (l.samples.reduce(0) { $0 + Double($1 * $1) } / Double(l.samples.count)).squareRoot()
            #expect(abs(sd - 10 / Double(1 << i)) < 0.3, "scale \(i): sd \(sd)")
        }
    }
}

@Suite struct SlidingDCTTests {
    @Test func thresholdKeepsLargeRemovesSmall() {
        // Flat image: every patch has only DC, nothing to remove; it must come back unchanged.
        let flat = PlanarImage(width: 20, height: 20, channels: 1, value: 77)
        let out = try! SlidingDCT(n: 8, sigma: 10, adaptiveAggregation: true).denoise(flat, guide: nil, job: Job(threads: 2))
        #expect(out.samples.allSatisfy { abs($0 - 77) < 1e-3 })
        // A strong edge (step of 200 >> 3 sigma) survives with little blur.
        var edge = PlanarImage(width: 32, height: 32, channels: 1, value: 20)
        for y in 0..<32 { for x in 16..<32 { edge[x, y, 0] = 220 } }
        let e = try! SlidingDCT(n: 8, sigma: 5, adaptiveAggregation: true).denoise(edge, guide: nil, job: Job(threads: 1))
        #expect(abs(e[10, 10, 0] - 20) < 2 && abs(e[22, 10, 0] - 220) < 2)
    }

    @Test func aggregationWeightsAverageEstimates() {
        // With sigma tiny nothing is thresholded: each estimate equals the input, so does the average.
        var rng = Noise(state: 3)
        let img = PlanarImage(width: 29, height: 17, channels: 3,
                              samples: (0..<(29 * 17 * 3)).map { _ in Float(128 + 50 * rng.gaussian()) })
        let out = try! SlidingDCT(n: 8, sigma: 1e-6, adaptiveAggregation: true).denoise(img, guide: nil, job: Job(threads: 2))
        #expect(zip(out.samples, img.samples).allSatisfy { abs($0 - $1) < 1e-2 })
        // And the Wiener step guided by the clean image itself also leaves it almost unchanged.
        let w = try! SlidingDCT(n: 8, sigma: 1e-3, adaptiveAggregation: true).denoise(img, guide: img, job: Job(threads: 2))
        #expect(zip(w.samples, img.samples).allSatisfy { abs($0 - $1) < 1e-2 })
    }

    @Test func pureNoiseVarianceDrops() {
        var rng = Noise(state: 11)
        let img = PlanarImage(width: 96, height: 96, channels: 1,
                              samples: (0..<(96 * 96)).map { _ in Float(100 + 20 * rng.gaussian()) })
        let out = try! SlidingDCT(n: 8, sigma: 20, adaptiveAggregation: true).denoise(img, guide: nil, job: Job())
        let mean = out.samples.reduce(0, +) / Float(out.samples.count)
        let sd = (out.samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(out.samples.count)).squareRoot()
        #expect(abs(mean - 100) < 1 && sd < 4, "mean \(mean) sd \(sd)")
    }
}

@Suite struct JobTests {
    @Test func cancelStopsAndThrows() {
        let img = PlanarImage(width: 300, height: 300, channels: 3, value: 50)
        let job = Job(threads: 2, workUnits: 10, progress: { _ in false })
        #expect(throws: DenoiseError.cancelled) {
            _ = try MultiScaleDCT.denoise(addNoise(img, sigma: 10, seed: 1), .init(sigma: 10), job: job)
        }
    }

    @Test func parametersValidate() {
        #expect(throws: (any Error).self) { try MultiScaleDCT.Parameters(sigma: -1).validate() }
        #expect(throws: (any Error).self) { try MultiScaleDCT.Parameters(sigma: 10, patchSize: 12).validate() }
        #expect(throws: (any Error).self) { try MultiScaleDCT.Parameters(sigma: 10, scales: 0).validate() }
        #expect(MultiScaleDCT.Parameters(sigma: 10).effectiveScales(width: 500, height: 500) == 4)
        #expect(MultiScaleDCT.Parameters(sigma: 10).effectiveScales(width: 40, height: 500) == 2)
    }
}

/// PSNR on real photographs from ../shared/data/eval, against floors set below what the IPOL
/// reference reaches on these images (its figures: Kodak24 mean 30.69 dB at sigma 25).
@Suite struct RealImageTests {
    @Test(arguments: [(15.0, 33.0), (25.0, 30.3), (50.0, 26.5)])
    func kodakGain(sigma: Double, floor: Double) throws {
        let clean = try readImage(evalData + "/Kodak24/kodim03.png")
        let noisy = addNoise(clean, sigma: sigma, seed: 42)
        let out = try MultiScaleDCT.denoise(noisy, .init(sigma: Float(sigma)), job: Job())
        let before = psnr8(noisy, clean), after = psnr8(out, clean)
        #expect(after > floor, "sigma \(sigma): \(before) -> \(after) dB")
    }

    @Test func multiScaleAndWienerEachHelp() throws {
        let clean = try readImage(evalData + "/Kodak24/kodim01.png")
        let noisy = addNoise(clean, sigma: 25, seed: 5)
        func run(_ scales: Int, _ wiener: Bool) throws -> Double {
            psnr8(try MultiScaleDCT.denoise(noisy, .init(sigma: 25, scales: scales, wiener: wiener), job: Job()), clean)
        }
        let single = try run(1, false), wiener = try run(1, true), full = try run(4, true)
        #expect(wiener > single + 0.2 && full > wiener, "\(single) \(wiener) \(full)")
    }

    @Test func grayImage() throws {
        let clean = try readImage(evalData + "/Set12/01.png")
        #expect(clean.channels == 1)
        let noisy = addNoise(clean, sigma: 25, seed: 9)
        let out = try MultiScaleDCT.denoise(noisy, .init(sigma: 25), job: Job())
        #expect(psnr8(out, clean) > psnr8(noisy, clean) + 7)
    }
}

@Suite struct ParameterDeclarationTests {
    /// The declarations are what validation enforces: defaults pass, the edges pass, one step
    /// past them fails with a message naming the parameter.
    @Test func validationFollowsTheDeclarations() throws {
        try DCTFilter.Settings().validate()
        let p = MultiScaleDCT.Parameters.self
        for (spec, set) in [(p.sigmaParameter, { (s: inout DCTFilter.Settings, v: Double) in s.parameters.sigma = Float(v) }),
                            (p.scalesParameter, { $0.parameters.scales = Int($1) }),
                            (p.strengthParameter, { $0.parameters.strength = Float($1) }),
                            (DCTFilter.threadsParameter, { $0.threads = Int($1) })] {
            for v in [spec.range.lowerBound, spec.range.upperBound] {
                var s = DCTFilter.Settings()
                set(&s, v)
                try s.validate()
            }
            let step = spec.isInteger ? 1.0 : spec.range.lowerBound > 0 ? spec.range.lowerBound / 2 : 1
            for v in [spec.range.lowerBound - step, spec.range.upperBound + 1] {
                var s = DCTFilter.Settings()
                set(&s, v)
                let error = #expect(throws: DenoiseError.self) { try s.validate() }
                #expect(error?.description.hasPrefix("\(spec.words) must be \(spec.allowed), got ") == true, "\(String(describing: error))")
            }
        }
        var s = DCTFilter.Settings()
        s.parameters.patchSize = 12
        #expect(throws: DenoiseError.invalidArgument("patch size must be 8 or 16, got 12")) { try s.validate() }
        #expect(MultiScaleDCT.Parameters(patchSize: 16, scales: 3).contextMargin == 64)
    }
}

@Suite struct KernelBuildTests {
    /// Every patch-kernel build this CPU runs gives the same denoised image to float rounding (the
    /// AVX2 build fuses multiply-adds) and the same PSNR.
    @Test func everyBuildAgrees() throws {
        let clean = try readImage(evalData + "/Kodak24/kodim03.png")
        let noisy = addNoise(clean, sigma: 20, seed: 3)
        var results: [(KernelPath, PlanarImage)] = []
        for path in [KernelPath.baseline, .avx2] where path.isSupported {
            var p = MultiScaleDCT.Parameters(sigma: 20)
            p.kernels = path
            results.append((path, try MultiScaleDCT.denoise(noisy, p, job: Job(threads: 2))))
        }
        #expect(results.count >= 1)
        let reference = results[0].1
        for (path, image) in results {
            let worst = zip(image.samples, reference.samples).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 0.05, "\(path.rawValue) differs from baseline by \(worst)")
            // Fused multiply-adds round differently: a zero difference means the forced build did not run.
            if path != .baseline { #expect(worst > 0, "\(path.rawValue) gave baseline's exact bits") }
            #expect(abs(Metrics.psnr(clean, image) - Metrics.psnr(clean, reference)) < 0.005)
        }
        #expect(Metrics.psnr(clean, reference) > Metrics.psnr(clean, noisy) + 6)
    }
}
