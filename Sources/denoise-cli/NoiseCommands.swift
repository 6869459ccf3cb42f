import ArgumentParser
import DenoiseCore
import ImageCore

struct Estimate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Estimates the noise level of an image from the image alone.",
        discussion: "Prints the model `denoise dct` picks by default (camera noise with its level at "
            + "each scale of the DCT pyramid and in each colour channel Y, U, V; white Gaussian; "
            + "Poisson; salt and pepper), then the white-noise estimate: Gaussian sigma (0-255 "
            + "scale), the noise curve (sigma against intensity) and its Poisson-Gaussian fit, "
            + "variance = gain * intensity + offset.")

    @Argument(help: "Image (PNG, JPEG or TIFF).") var image: String
    @Flag(help: "Print a JSON object.") var json = false

    func run() throws {
        let img = try ImageFile(path: image).image
        let e = NoiseEstimator.estimate(img)
        let model = try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: img, white: e)
        if json {
            let curve = e.curve.map { "{\"intensity\": \(jsonNumber($0.intensity)), \"sigma\": \(jsonNumber($0.sigma))}" }
            print("{\"model\": \(jsonObject(model)), \"sigma\": \(jsonNumber(e.sigma)), \"gain\": \(jsonNumber(e.gain)), \"offset\": \(jsonNumber(e.offset)), "
                  + "\"signal_dependent\": \(e.isSignalDependent), \"curve\": [\(curve.joined(separator: ", "))]}")
        } else {
            print("model: \(describe(model))")
            print("sigma \(format(e.sigma))")
            print("noise curve (intensity: sigma): " + e.curve.map { "\(format($0.intensity)): \(format($0.sigma))" }.joined(separator: ", "))
            print("variance = \(format4(e.gain)) * intensity + \(format(e.offset))"
                  + (e.isSignalDependent ? " (signal-dependent: try --noise poisson)" : ""))
        }
    }
}

/// The model as JSON: {"kind": "camera", "levels": [[Y, U, V] per scale]} and the like.
private func jsonObject(_ model: NoiseModelDCT.Model) -> String {
    switch model {
    case .gaussian(let s): "{\"kind\": \"gaussian\", \"sigma\": \(jsonNumber(s))}"
    case .poissonGaussian(let g, let s): "{\"kind\": \"poisson-gaussian\", \"gain\": \(jsonNumber(g)), \"sigma\": \(jsonNumber(s))}"
    case .impulse: "{\"kind\": \"impulse\"}"
    case .camera(let levels):
        "{\"kind\": \"camera\", \"channels\": \(levels.first?.count ?? 0), \"levels\": ["
            + levels.map { "[" + $0.map { jsonNumber(Double($0)) }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]}"
    }
}

struct AddNoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-noise",
        abstract: "Adds synthetic noise to an image, for testing denoisers.",
        discussion: "Exactly one of --gaussian, --poisson and --salt-pepper. The same seed gives the same noise.")

    @Argument(help: "Clean input image.") var input: String
    @Argument(help: "Noisy output image.") var output: String
    @Option(help: "Gaussian noise of this standard deviation (0-255 scale).") var gaussian: Double?
    @Option(help: "Poisson (photon) noise with this many counts at white.") var poisson: Double?
    @Option(name: .customLong("salt-pepper"), help: "Salt-and-pepper noise: this fraction of pixels (0-1) set to black or white.")
    var saltPepper: Double?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @OptionGroup var out: OutputOptions

    func validate() throws {
        try out.check(output)
        guard [gaussian, poisson, saltPepper].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --gaussian, --poisson, --salt-pepper")
        }
    }

    func run() throws {
        let file = try ImageFile(path: input)
        let kind: NoiseSynthesis.Kind = if let gaussian { .gaussian(sigma: gaussian) }
            else if let poisson { .poisson(peak: poisson) } else { .saltAndPepper(density: saltPepper!) }
        let noisy = try NoiseSynthesis.add(kind, to: file.image, seed: seed, quantize: true)
        try ImageFile(image: noisy, bits: file.bits, metadata: file.metadata).write(to: output, out)
    }
}

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "PSNR (peak 255) and SSIM (Wang et al. 2004) of an image against a reference.",
        discussion: "Colour channels only (alpha is ignored); SSIM is the mean over channels.")

    @Argument(help: "Reference (clean) image.") var reference: String
    @Argument(help: "Image to score, the same size.") var test: String
    @Flag(help: "Print a JSON object.") var json = false

    func run() throws {
        let a = try ImageFile(path: reference).image, b = try ImageFile(path: test).image
        let psnr = try Metrics.psnr(reference: a, test: b), ssim = try Metrics.ssim(reference: a, test: b)
        if json {
            print("{\"psnr\": \(jsonNumber(psnr)), \"ssim\": \(jsonNumber(ssim))}")
        } else {
            print("PSNR \(psnr.isFinite ? format(psnr) + " dB" : "infinite (identical)")  SSIM \(format4(ssim))")
        }
    }
}

/// A JSON number at full precision (the shortest decimal that reads back as the same Double);
/// null for infinities and NaN, which JSON cannot hold.
func jsonNumber(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }

/// Four decimals, without Foundation.
func format4(_ v: Double) -> String {
    let r = (abs(v) * 10000).rounded()
    let whole = Int(r / 10000), frac = String(Int(r) % 10000)
    return (v < 0 && r > 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: 4 - frac.count) + frac
}
