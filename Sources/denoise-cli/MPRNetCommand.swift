import ArgumentParser
import CPlatform
import ImageCore
import MPRNet
import NeuralCore
import Glibc

struct MPRNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mprnet",
        abstract: "Blind denoising with the MPRNet network (Zamir et al., CVPR 2021).",
        discussion: """
            The model is --model, else $DENOISE_MPRNET_MODEL, else the one installed with denoise. \
            Installed models go by name: --model default, or --model camera (fine-tuned on camera-pipeline \
            noise, for photos straight from a camera or phone; $DENOISE_MPRNET_CAMERA_MODEL overrides its file).
            """)

    @OptionGroup var files: FileArguments
    @Option(help: ArgumentHelp("An installed model (default, camera) or a weights file (safetensors).",
                               valueName: "name|path"))
    var model: String?
    @Option(help: "\(MPRNetFilter.tileParameter.help)") var tile = Int(MPRNetFilter.tileParameter.defaultValue)
    @Option(help: "\(MPRNetFilter.threadsParameter.help)") var threads = Int(MPRNetFilter.threadsParameter.defaultValue)
    @Option(help: "\(MPRNetFilter.strengthParameter.help)") var strength = Float(MPRNetFilter.strengthParameter.defaultValue)
    @Option(help: "Also write the stage-2 attention map (gray image).") var attentionMap: String?
    @Option(help: "Also write the removed noise (offset by 128).") var residual: String?
    @Option(help: ArgumentHelp("fast: bfloat16 on Intel AMX, else int8 on AVX-512 VNNI or AVX-VNNI, else float32 (the fastest within "
                               + "0.05 dB of float32); bfloat16 or int8: that one where the CPU has it (float32 elsewhere); "
                               + "float32: exact.", valueName: "fast|float32|bfloat16|int8"))
    var precision: Precision = .fast
    @Flag(help: "Print nothing but errors.") var quiet = false
    @OptionGroup var out: OutputOptions

    func validate() throws {
        let pairs = try files.pairs()
        if pairs.count > 1 && (residual != nil || attentionMap != nil) {
            throw ValidationError("--residual and --attention-map take one input")
        }
        for path in pairs.map(\.output) + [residual, attentionMap].compactMap({ $0 }) { try out.check(path) }
        do { try options.validate() } catch DenoiseError.invalidArgument(let m) { throw ValidationError(m) }
    }

    var options: MPRNetFilter.Options {
        var o = MPRNetFilter.Options(tile: tile)
        o.wantResidual = residual != nil
        o.wantAttention = attentionMap != nil
        o.precision = precision
        o.threads = threads
        o.strength = strength
        return o
    }

    /// The weights file: --model as an installed model's name, else as a path; else the default.
    func weightsPath() throws -> String {
        guard let model else {
            guard let path = MPRNet.defaultWeightsPath() else {
                throw ValidationError("no model: pass --model PATH, set DENOISE_MPRNET_MODEL, or install the default model")
            }
            return path
        }
        guard MPRNet.installedModels.contains(where: { $0.name == model }) else { return model }
        do { return try MPRNet.installedWeightsFile(model) } catch let e as MPRNet.InstalledModelError {
            throw ValidationError(e.description)
        }
    }

    func run() throws {
        let path = try weightsPath()
        // The network allocates and frees layer-sized buffers all the time: keep freed memory in
        // the process instead of returning it to the kernel and faulting it back in (13% of the
        // run time on a 512x512 image).
        denoise_keep_freed_memory()
        let net: MPRNet
        do { net = try MPRNet(weights: try SafeTensors(path: path)) } catch { throw CLIError("\(path): \(error)") }
        try runBatch(try files.pairs(), quiet: quiet) { input, output, progress in
            let file = try ImageFile(path: input)
            let result = try MPRNetFilter.denoise(file.image, model: net, options: options, progress: progress)
            try ImageFile(image: result.image, bits: file.bits, metadata: file.metadata).write(to: output, out)
            if let residual, let r = result.residual { try ImageFile(image: r, bits: 8).write(to: residual, out) }
            if let attentionMap, let a = result.attention { try ImageFile(image: a, bits: 8).write(to: attentionMap, out) }
            return file.image.pixelCount
        }
    }
}

extension Precision: ExpressibleByArgument {}
