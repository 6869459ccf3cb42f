import ArgumentParser
import DenoiseCore
import Glibc

struct DCT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dct",
        abstract: "Multi-scale DCT denoising of Gaussian noise (Pierazzo, Morel & Facciolo, IPOL 2017).",
        discussion: "Reads and writes PNG (8/16-bit, gray or RGB, with alpha), JPEG and TIFF; "
            + "the output keeps the input's bit depth and alpha.")

    @Argument(help: "Input image (PNG, JPEG or TIFF).") var input: String
    @Argument(help: "Output image; the extension (.png, .jpg, .tif) picks the format.") var output: String
    @Option(help: "Noise standard deviation on the 0-255 scale.") var sigma: Float
    @Option(help: "Patch size: 8 or 16.") var patch: Int = 8
    @Option(help: "Pyramid scales, 1-6 (1 = single scale).") var scales: Int = 4
    @Flag(help: "Skip the second (Wiener) step.") var noWiener = false
    @Option(help: "Worker threads (0 = all cores).") var threads: Int = 0
    @Flag(help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        do { try parameters.validate() } catch DenoiseError.invalidArgument(let m) { throw ValidationError(m) }
        guard threads >= 0 else { throw ValidationError("threads must be 0 or more") }
    }

    var parameters: MultiScaleDCT.Parameters {
        MultiScaleDCT.Parameters(sigma: sigma, patchSize: patch, scales: scales, wiener: !noWiener)
    }

    func run() throws {
        let file = try ImageFile(path: input)
        let img = file.image
        let job = Job(threads: threads, workUnits: MultiScaleDCT.workUnits(width: img.width, height: img.height, parameters),
                      progress: quiet ? nil : ProgressBar.stderrIfTerminal())
        let out = try MultiScaleDCT.denoise(img, parameters, job: job)
        ProgressBar.finish(quiet: quiet)
        try ImageFile(image: out, bits: file.bits).write(to: output)
    }
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
