import ArgumentParser

@main
struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Removes noise from photographs.",
        subcommands: [DCT.self, MPRNetCommand.self, Estimate.self, AddNoise.self, MetricsCommand.self, KernelsCommand.self])
}
