import ArgumentParser
import DenoiseCore
import ImageCore
import NeuralCore

/// Which kernel build each filter runs here: what a bug report or a benchmark needs to say.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Prints the kernel builds this CPU runs and the one each filter takes.",
        discussion: "$DENOISE_KERNELS (baseline, avx2, avx512 or amx) forces a build, as in the other commands; "
            + "one this CPU lacks is an error. \"+vnni\": the wide 3x3 convolutions run in int8 on VNNI of that width "
            + "(avx512: AVX-512 VNNI; avx2: AVX-VNNI, or AVX-512 VNNI's encoding of the same 256-bit code).")

    func run() throws {
        let forced: KernelPath?
        do { forced = try KernelPath.fromEnvironment() } catch { throw CLIError("\(error)") }
        print("supported: " + KernelPath.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: " "))
        for precision in Precision.allCases {
            print("mprnet \(precision.rawValue): \(Ops(precision: precision, path: forced).kernelName)")
        }
        print("dct: \(try DCTFilter.kernelPath(forced).rawValue)")
    }
}
