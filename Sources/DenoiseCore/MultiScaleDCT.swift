import ImageCore
/// Multi-scale DCT denoising (Pierazzo, Morel & Facciolo, IPOL 2017) of Gaussian noise.
///
/// The image goes to the decorrelated colour space, then into a DCT pyramid; every layer is
/// denoised by sliding-window DCT hard thresholding and then by the Wiener step guided by that
/// result, each at the noise level the layer carries; the layers are recomposed conservatively.
public enum MultiScaleDCT {
    public struct Parameters: Sendable, Equatable {
        /// Noise standard deviation on the 0...255 scale.
        public var sigma: Float
        /// Patch side: 8 or 16.
        public var patchSize: Int
        /// Pyramid layers, 1...6 (fewer are used on small images).
        public var scales: Int
        /// Run the second, Wiener step.
        public var wiener: Bool = true
        /// Part of each finer layer's spectrum taken from the coarser result.
        public var recompositionFactor: Float = 0.5
        /// Weight patches by their sparsity (1 / (1 + kept coefficients)).
        public var adaptiveAggregation: Bool = true
        /// Factor on the noise levels the model gives (estimated or not): above 1 removes more.
        public var strength = Float(Self.strengthParameter.defaultValue)
        /// The patch kernels' build: baseline x86-64, or AVX2 + FMA for every wider path; nil: the
        /// fastest this CPU runs. An execution setting: results differ by float rounding only.
        public var kernels: KernelPath?

        public init(sigma: Float = Float(Self.sigmaParameter.defaultValue),
                    patchSize: Int = Int(Self.patchSizeParameter.defaultValue),
                    scales: Int = Int(Self.scalesParameter.defaultValue), wiener: Bool = true) {
            self.sigma = sigma
            self.patchSize = patchSize
            self.scales = scales
            self.wiener = wiener
        }

        // The parameters as users set them, declared once (ranges, defaults, help).
        public static let sigmaParameter = Parameter(
            "sigma", "Gaussian noise standard deviation on the 0-255 scale; 0: measured from the image",
            default: 0, range: 0...255)
        public static let patchSizeParameter = Parameter(
            "patch_size", "DCT patch side in pixels", default: 8, range: 8...16, choices: [8, 16], integer: true)
        public static let scalesParameter = Parameter(
            "scales", "Pyramid scales, 1 for a single scale (fewer are used on small images)",
            default: 4, range: 1...6, integer: true)
        public static let strengthParameter = Parameter(
            "strength", "Factor on the noise levels: above 1 removes more, below 1 less",
            default: 1, range: 0.1...4)

        public static let scaleRange = Int(scalesParameter.range.lowerBound)...Int(scalesParameter.range.upperBound)
        public static let maximumSigma = Float(sigmaParameter.range.upperBound)

        /// Throws `invalidArgument` naming the first parameter out of range.
        public func validate() throws {
            try Self.sigmaParameter.check(sigma)
            try Self.patchSizeParameter.check(patchSize)
            try Self.scalesParameter.check(scales)
            try Self.strengthParameter.check(strength)
            if let k = kernels { _ = try KernelPath.resolve(k) }
            guard recompositionFactor.isFinite, recompositionFactor > 0, recompositionFactor <= 1 else {
                throw DenoiseError.invalidArgument("recomposition factor must be in (0, 1], got \(recompositionFactor)")
            }
        }

        /// Pixels of context beyond a region that the filter reads to treat the region's edge as
        /// the whole image would: the coarsest layer's patch, at full resolution.
        public var contextMargin: Int { patchSize << (scales - 1) }

        /// The layers actually used: the coarsest keeps at least two patches per side.
        public func effectiveScales(width: Int, height: Int) -> Int {
            var s = scales
            while s > 1 && min(width, height) >> (s - 1) < 2 * patchSize { s -= 1 }
            return s
        }
    }

    /// Bytes of working memory a run on a width × height × channels image takes at most, the
    /// image itself included (measured: about 40 per sample at 0.75 and 3 MP, blind or not).
    public static func workingBytes(width: Int, height: Int, channels: Int) -> Int {
        48 * width * height * channels + (64 << 20)
    }

    /// Progress units `denoise` reports, for a `Job` built by the caller.
    public static func workUnits(width: Int, height: Int, _ p: Parameters) -> Int {
        let steps = p.wiener ? 2 : 1
        return (0..<p.effectiveScales(width: width, height: height))
            .reduce(0) { $0 + ((height >> $1) + 1) * steps }
    }

    /// Denoises white Gaussian noise of level `p.sigma` in `image` (1 to 4 channels: gray,
    /// gray+alpha, RGB, RGBA; alpha is returned as it was). Samples on the 0...255 scale, finite.
    public static func denoise(_ image: PlanarImage, _ p: Parameters, job: Job) throws -> PlanarImage {
        try p.validate()
        if p.sigma == 0 { return image }
        return try run(image, p, job: job) { _, layer in
            [p.sigma * (Float(layer.pixelCount) / Float(image.pixelCount)).squareRoot()]
        }
    }

    /// Denoises noise of a level per pyramid layer and colour channel: `levels[layer][channel]`
    /// (finest layer first; 1 or 3 channels as the image's colour, Y, U, V for colour; layers
    /// beyond the last given continue it at half the level each). `p.sigma` is ignored.
    public static func denoise(_ image: PlanarImage, levels: [[Float]], _ p: Parameters, job: Job) throws -> PlanarImage {
        try p.validate()
        let color = image.channels >= 3 ? 3 : 1
        guard !levels.isEmpty, levels.allSatisfy({ $0.count == color && $0.allSatisfy { $0.isFinite && $0 >= 0 } }) else {
            throw DenoiseError.invalidArgument("noise levels must be finite, 0 or more, \(color) per scale")
        }
        return try run(image, p, job: job) { index, _ in
            let last = min(index, levels.count - 1)
            return levels[last].map { $0 / Float(1 << (index - last)) }
        }
    }

    /// The pipeline: colour transform, pyramid, both steps per layer at the noise levels `sigmas`
    /// gives for layer i (one for all channels, or one per channel), recomposition.
    private static func run(_ image: PlanarImage, _ p: Parameters, job: Job,
                            sigmas: (_ index: Int, _ layer: PlanarImage) -> [Float]) throws -> PlanarImage {
        let color = image.channels >= 3 ? 3 : 1
        var work = image.planes(0..<color)
        if color == 3 { ColorTransform.forward(&work) }
        let scales = p.effectiveScales(width: image.width, height: image.height)
        let layers = DCTPyramid.decompose(work, levels: scales)
        var denoised: [PlanarImage] = []
        for (i, layer) in layers.enumerated() {
            let dct = SlidingDCT(n: p.patchSize, sigmas: sigmas(i, layer), adaptiveAggregation: p.adaptiveAggregation,
                                 kernels: p.kernels)
            var result = try dct.denoise(layer, guide: nil, job: job)
            if p.wiener {
                result = try dct.denoise(layer, guide: result, job: job)
            }
            denoised.append(result)
        }
        work = scales > 1 ? DCTPyramid.recompose(denoised, factor: p.recompositionFactor) : denoised[0]
        if color == 3 { ColorTransform.inverse(&work) }

        var out = image
        out.setPlanes(from: 0, work)
        return out
    }
}
