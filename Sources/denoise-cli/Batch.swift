import ArgumentParser
import Glibc

/// The files a command works on: `INPUT OUTPUT`, or many inputs with `--output-dir`.
struct FileArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("INPUT OUTPUT, or INPUT... with --output-dir (PNG, JPEG or TIFF; the output's "
                                 + "extension picks its format).", valueName: "files"))
    var files: [String] = []
    @Option(help: "Write each input's result here, under the input's name (plus --suffix).")
    var outputDir: String?
    @Option(parsing: .unconditional, help: "With --output-dir: added to each output's name before the extension, e.g. -denoised.")
    var suffix = ""
    @Option(help: ArgumentHelp("With --output-dir: the outputs' format, instead of each input's own.",
                               valueName: "png|jpg|tif"))
    var format: String?

    /// (input, output) pairs, in the order given.
    func pairs() throws -> [(input: String, output: String)] {
        guard let dir = outputDir else {
            if format != nil || !suffix.isEmpty { throw ValidationError("--suffix and --format go with --output-dir") }
            guard files.count == 2 else {
                throw ValidationError(files.count < 2 ? "give INPUT and OUTPUT (or INPUT... --output-dir DIR)"
                                                      : "several inputs need --output-dir DIR")
            }
            return [(files[0], files[1])]
        }
        guard !files.isEmpty else { throw ValidationError("no input files") }
        if let format, !["png", "jpg", "jpeg", "tif", "tiff"].contains(format) {
            throw ValidationError("format must be png, jpg or tif, got \(format)")
        }
        var st = stat()
        guard stat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { throw ValidationError("\(dir) is not a folder") }
        let pairs = files.map { input -> (input: String, output: String) in
            let name = input.split(separator: "/").last.map(String.init) ?? input
            let dot = name.lastIndex(of: ".") ?? name.endIndex
            return (input, dir + "/" + name[..<dot] + suffix + (format.map { "." + $0 } ?? String(name[dot...])))
        }
        var seen: Set<String> = []
        for p in pairs where !seen.insert(p.output).inserted {
            throw ValidationError("two inputs would both write \(p.output)")
        }
        return pairs
    }
}

/// Runs `work` on each pair; a failing file is reported and the others still run. On a terminal:
/// one line of progress (file count, megapixels per second, time left), then a summary.
/// Throws `ExitCode.failure` when any file failed.
func runBatch(_ pairs: [(input: String, output: String)], quiet: Bool,
              _ work: (_ input: String, _ output: String, _ progress: (@Sendable (Double) -> Bool)?) throws -> Int) throws {
    guard pairs.count > 1 else {
        _ = try work(pairs[0].input, pairs[0].output, quiet ? nil : ProgressBar.stderrIfTerminal())
        ProgressBar.finish(quiet: quiet)
        return
    }
    let start = now(), terminal = !quiet && isatty(2) == 1
    var failed: [String] = [], pixels = 0
    for (i, p) in pairs.enumerated() {
        let seconds = now() - start
        let rate = seconds > 0 ? Double(pixels) / 1e6 / seconds : 0
        let left = i > 0 ? seconds / Double(i) * Double(pairs.count - i) : 0
        let status = "\(i + 1)/\(pairs.count)" + (i > 0 ? ", \(format(rate)) MP/s, \(duration(left)) left" : "")
        var progress: (@Sendable (Double) -> Bool)?
        if terminal {
            let line = "\r\(status), \(p.input)"
            progress = { f in
                printError(line + " \(Int(f * 100))%   ", newline: false)
                return true
            }
        }
        do {
            pixels += try work(p.input, p.output, progress)
        } catch {
            if terminal { printError("\r\u{1B}[K", newline: false) }
            printError("\(p.input): \(error)")
            failed.append(p.input)
        }
    }
    if terminal { printError("\r\u{1B}[K", newline: false) }
    let seconds = now() - start
    if !quiet {
        printError("\(pairs.count - failed.count) of \(pairs.count) files denoised in \(duration(seconds))"
                   + " (\(format(Double(pixels) / 1e6 / max(seconds, 1e-9))) MP/s)"
                   + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: ", ")))
    }
    if !failed.isEmpty { throw ExitCode.failure }
}

private func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// "42 s", "3 min 5 s", "1 h 2 min".
private func duration(_ s: Double) -> String {
    let t = Int(s.rounded())
    if t < 60 { return "\(t) s" }
    if t < 3600 { return "\(t / 60) min \(t % 60) s" }
    return "\(t / 3600) h \(t % 3600 / 60) min"
}
