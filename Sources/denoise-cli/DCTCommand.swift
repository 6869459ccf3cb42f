import ArgumentParser
import DenoiseCore
import ImageCore
import Glibc

private typealias DCTParameters = MultiScaleDCT.Parameters

struct DCT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dct",
        abstract: "Multi-scale DCT denoising (Pierazzo, Morel & Facciolo, IPOL 2017).",
        discussion: "Reads and writes PNG (8/16-bit, gray or RGB, with alpha), JPEG and TIFF; "
            + "the output keeps the input's bit depth and alpha. By default the noise is measured from "
            + "the image: camera noise at each scale and in each colour channel, or white, Poisson or "
            + "salt-and-pepper noise when that is what it holds; --sigma S alone is white Gaussian "
            + "noise of level S. Poisson noise is stabilised (generalised Anscombe transform) "
            + "and inverted with the exact unbiased inverse; impulse noise is restored pixel by pixel.")

    @OptionGroup var files: FileArguments
    @Option(help: "Noise standard deviation on the 0-255 scale, or auto to estimate it.")
    var sigma: SigmaOption = .auto
    @Option(help: "Noise model: auto, camera, gaussian, poisson, poisson-gaussian or impulse.") var noise: NoiseOption = .auto
    @Option(help: "\(DCTParameters.strengthParameter.help)") var strength = Float(DCTParameters.strengthParameter.defaultValue)
    @Option(help: "Poisson noise: photon counts at white (default: measured).") var peak: Double?
    @Option(help: "\(DCTParameters.patchSizeParameter.help)") var patch = Int(DCTParameters.patchSizeParameter.defaultValue)
    @Option(help: "\(DCTParameters.scalesParameter.help)") var scales = Int(DCTParameters.scalesParameter.defaultValue)
    @Flag(help: "Skip the second (Wiener) step.") var noWiener = false
    @Option(help: "\(DCTFilter.threadsParameter.help)") var threads = Int(DCTFilter.threadsParameter.defaultValue)
    @Flag(help: "Print nothing but errors.") var quiet = false
    @OptionGroup var out: OutputOptions

    func validate() throws {
        for p in try files.pairs() { try out.check(p.output) }
        do { try settings.validate() } catch DenoiseError.invalidArgument(let m) { throw ValidationError(m) }
        if let peak, !(peak > 0) { throw ValidationError("peak must be positive") }
    }

    var settings: DCTFilter.Settings {
        var s = DCTFilter.Settings()
        s.parameters = MultiScaleDCT.Parameters(sigma: sigma.value ?? 0, patchSize: patch, scales: scales, wiener: !noWiener)
        s.parameters.strength = strength
        s.noise = noise.kind
        s.poissonPeak = peak ?? 0
        s.threads = threads
        return s
    }

    func run() throws {
        let pairs = try files.pairs()
        try runBatch(pairs, quiet: quiet) { input, output, progress in
            let file = try ImageFile(path: input)
            let model = try DCTFilter.model(for: file.image, settings)
            if !quiet && pairs.count == 1 && (sigma == .auto || noise != .gaussian) { printError("noise: \(describe(model))") }
            let denoised = try DCTFilter.run(file.image, settings, model: model, progress: progress)
            try ImageFile(image: denoised, bits: file.bits, metadata: file.metadata).write(to: output, out)
            return file.image.pixelCount
        }
    }
}

/// A noise level, or `auto` to estimate it from the image.
enum SigmaOption: ExpressibleByArgument, Equatable {
    case auto
    case value(Float)

    init?(argument: String) {
        if argument == "auto" { self = .auto } else if let v = Float(argument) { self = .value(v) } else { return nil }
    }

    var value: Float? {
        if case .value(let v) = self { return v }
        return nil
    }
}

enum NoiseOption: String, ExpressibleByArgument, CaseIterable {
    case gaussian, poisson, poissonGaussian = "poisson-gaussian", impulse, auto, camera

    var kind: NoiseModelDCT.Kind {
        switch self {
        case .camera: .camera
        case .gaussian: .gaussian
        case .poisson: .poisson
        case .poissonGaussian: .poissonGaussian
        case .impulse: .impulse
        case .auto: .auto
        }
    }
}

func describe(_ model: NoiseModelDCT.Model) -> String {
    switch model {
    case .gaussian(let s): "gaussian, sigma \(format(s))"
    case .poissonGaussian(let g, let s): "poisson, peak \(format(255 / g))" + (s > 0 ? " + gaussian sigma \(format(s))" : "")
    case .impulse: "salt and pepper"
    case .camera(let levels): "camera, levels per scale " + describe(levels)
    }
}

/// "Y 4.1 2.3 1.2 0.6, U ..., V ...": each channel's level at each scale.
func describe(_ levels: [[Float]]) -> String {
    let names = levels.first?.count == 3 ? ["Y", "U", "V"] : ["gray"]
    return names.enumerated().map { c, name in
        name + " " + levels.map { format(Double($0[c])) }.joined(separator: " ")
    }.joined(separator: ", ")
}

/// Two decimals, without Foundation.
func format(_ v: Double) -> String {
    guard v.isFinite else { return v > 0 ? "inf" : v < 0 ? "-inf" : "nan" }
    let r = (abs(v) * 100).rounded()
    let whole = Int(r / 100), frac = Int(r) % 100
    return (v < 0 && r > 0 ? "-" : "") + "\(whole)." + (frac < 10 ? "0" : "") + "\(frac)"
}

/// A one-line progress display on stderr, shown only when stderr is a terminal.
enum ProgressBar {
    static func stderrIfTerminal() -> (@Sendable (Double) -> Bool)? {
        guard isatty(2) == 1 else { return nil }
        return { f in
            printError("\r\(Int(f * 100))%", newline: false)
            return true
        }
    }

    static func finish(quiet: Bool) {
        if !quiet && isatty(2) == 1 { printError("\r    \r", newline: false) }
    }
}

/// Writes to standard error, unbuffered.
func printError(_ text: String, newline: Bool = true) {
    let line = newline ? text + "\n" : text
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}
