import ImageCore
/// The multi-scale DCT filter as its hosts run it (the C API, the command line): what the caller
/// asked for, validated once; the noise model resolved from it (measured where not given); the
/// run in one job, after checking that its memory can be had.
public enum DCTFilter {
    public static let poissonPeakParameter = Parameter(
        "poisson_peak", "Poisson noise: photon counts at white; 0: measured from the image",
        default: 0, range: 0...1e6)
    public static let threadsParameter = Parameter(
        "threads", "Worker threads; 0: one per core", default: 0, range: 0...1024, integer: true)

    /// Every parameter a user sets, in the order of `dn_dct_params`.
    public static let parameters = [MultiScaleDCT.Parameters.sigmaParameter, MultiScaleDCT.Parameters.patchSizeParameter,
                                    MultiScaleDCT.Parameters.scalesParameter, threadsParameter,
                                    poissonPeakParameter, MultiScaleDCT.Parameters.strengthParameter]

    public struct Settings: Sendable, Equatable {
        /// Patch size, scales, Wiener step, strength; its sigma is the Gaussian level (0: measured).
        public var parameters = MultiScaleDCT.Parameters()
        /// The noise to remove; `.auto` picks it from the image.
        public var noise: NoiseModelDCT.Kind = .auto
        /// Photon counts at white for the Poisson models; 0: measured.
        public var poissonPeak = poissonPeakParameter.defaultValue
        /// A model measured before (e.g. on the whole photo, for a preview of a part), used as
        /// is instead of `noise`, sigma and `poissonPeak`.
        public var model: NoiseModelDCT.Model?
        /// Worker threads; 0: one per core.
        public var threads = Int(threadsParameter.defaultValue)

        public init() {}

        /// Throws `invalidArgument` naming the first setting out of range.
        public func validate() throws {
            try parameters.validate()
            try threadsParameter.check(threads)
            try poissonPeakParameter.check(poissonPeak)
        }
    }

    /// The model `run` uses on `image`: the given one, else resolved from the settings.
    public static func model(for image: PlanarImage, _ s: Settings) throws -> NoiseModelDCT.Model {
        try s.validate()
        if let m = s.model { return m }
        return try NoiseModelDCT.resolve(s.noise, sigma: Double(s.parameters.sigma),
                                         gain: s.poissonPeak > 0 ? 255 / s.poissonPeak : 0,
                                         image: image, patchSize: s.parameters.patchSize)
    }

    /// The kernel build the DCT runs for `path` (nil: $DENOISE_KERNELS, else this CPU's best):
    /// baseline or AVX2, its only two builds. Throws `invalidArgument` for a path this CPU lacks.
    public static func kernelPath(_ path: KernelPath? = nil) throws -> KernelPath {
        SlidingDCT.usesAVX2(try KernelPath.resolve(path)) ? .avx2 : .baseline
    }

    /// Denoises `image` under `model` (from `model(for:_:)`, or nil to resolve it here);
    /// `progress` gets the fraction done and returns false to cancel.
    public static func run(_ image: PlanarImage, _ s: Settings, model: NoiseModelDCT.Model? = nil,
                           progress: (@Sendable (Double) -> Bool)? = nil) throws -> PlanarImage {
        var s = s
        s.parameters.kernels = try KernelPath.resolve(s.parameters.kernels)
        try s.validate()
        try Memory.reserve(MultiScaleDCT.workingBytes(width: image.width, height: image.height, channels: image.channels))
        let m = try model ?? self.model(for: image, s)
        let job = Job(threads: s.threads,
                      workUnits: NoiseModelDCT.workUnits(width: image.width, height: image.height,
                                                         channels: image.channels, model: m, s.parameters),
                      progress: progress)
        return try NoiseModelDCT.denoise(image, m, s.parameters, job: job)
    }
}
