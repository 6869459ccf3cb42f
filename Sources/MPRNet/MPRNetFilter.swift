import ImageCore
import NeuralCore

/// MPRNet applied to a photograph: colour handling, tiling and progress around `MPRNet`.
///
/// Gray images run as three equal channels and come back as their mean; alpha is kept as it was.
/// Large images are cut into overlapping tiles whose results are blended with linear ramps, so
/// memory stays bounded by the tile size.
public enum MPRNetFilter {
    public static let tileParameter = Parameter(
        "tile", "Tile side in pixels, bounding memory; 0: the whole image at once",
        default: 512, range: 64...16384, extra: [0], integer: true)
    public static let overlapParameter = Parameter(
        "overlap", "Pixels shared by neighbouring tiles, blended", default: 32, range: 0...1024, integer: true)
    public static let threadsParameter = Parameter(
        "threads", "Worker threads; 0: one per core", default: 0, range: 0...1024, integer: true)
    public static let strengthParameter = Parameter(
        "strength", "How much of the luminance noise is removed; below 1 part of it, and of the fine detail "
            + "that went with it, is put back; colour noise is always removed", default: 1, range: 0...1)

    /// Every parameter a user sets, in the order of `dn_mprnet_params`.
    public static let parameters = [tileParameter, threadsParameter, strengthParameter]

    /// Pixels of context beyond a region that the network needs to treat the region's edge as the
    /// whole image would: twice the tile overlap, where the blend ramps of the tiler also end.
    public static let contextMargin = 2 * Int(overlapParameter.defaultValue)

    public struct Options: Sendable {
        public var tile = Int(tileParameter.defaultValue)
        public var overlap = Int(overlapParameter.defaultValue)
        public var wantResidual = false
        public var wantAttention = false
        /// fast: bfloat16 on AMX, else int8 on VNNI, else float32 (see `Precision`).
        public var precision: Precision = .fast
        /// Worker threads; 0: one per core.
        public var threads = Int(threadsParameter.defaultValue)
        /// `strengthParameter`: 1 is the network's result; below, `blend`.
        public var strength = Float(strengthParameter.defaultValue)
        /// A forced convolution path (nil: the fastest this CPU has); `denoise` takes
        /// $DENOISE_KERNELS when this is nil.
        public var kernels: KernelPath?

        public static let minimumTile = Int(tileParameter.range.lowerBound)

        public init(tile: Int = Int(tileParameter.defaultValue)) { self.tile = tile }

        /// Throws `invalidArgument` naming the first option out of range.
        public func validate() throws {
            try tileParameter.check(tile)
            try threadsParameter.check(threads)
            try overlapParameter.check(overlap)
            try strengthParameter.check(strength)
            guard tile == 0 || overlap < tile else {
                throw DenoiseError.invalidArgument("overlap must be less than the tile, got \(overlap) for tile \(tile)")
            }
            if let k = kernels { _ = try KernelPath.resolve(k) }
        }
    }

    public struct Result: Sendable {
        public var image: PlanarImage
        /// noisy − denoised on the 0...255 scale, offset by 128 to be viewable (colour channels).
        public var residual: PlanarImage?
        /// Stage-2 supervised attention, mean over features, 0...255 (one channel).
        public var attention: PlanarImage?
    }

    /// Bytes of working memory `denoise` takes at most: planes of the whole image (input, sums,
    /// weights, result: 64 per pixel) and one tile's activations (measured: 1.7 KB per pixel of
    /// the shipped model's (24, 16, 8) widths, run untiled on 0.75 MP; 64 bytes per channel of
    /// the widest level allowed for).
    public static func workingBytes(width: Int, height: Int, _ o: Options, _ config: MPRNetConfig) -> Int {
        let tile = tiles(width, height, o).map { $0.xs.count * $0.ys.count }.max() ?? 0
        return 64 * width * height + 64 * (config.nFeat + config.scaleOrsnetFeats) * tile + (64 << 20)
    }

    /// Tiles `denoise` will run, for a `Job`'s progress units.
    public static func workUnits(width: Int, height: Int, _ o: Options) -> Int {
        tiles(width, height, o).count
    }

    /// The entry point of the C API and the command line: validates `o`, checks that the working
    /// memory can be had, and runs in one job; `progress` gets the fraction done and returns
    /// false to cancel.
    public static func denoise(_ image: PlanarImage, model: MPRNet, options o: Options,
                               progress: (@Sendable (Double) -> Bool)? = nil) throws -> Result {
        var o = o
        try o.validate()
        o.kernels = try KernelPath.resolve(o.kernels)
        try Memory.reserve(workingBytes(width: image.width, height: image.height, o, model.config))
        let job = Job(threads: o.threads, workUnits: workUnits(width: image.width, height: image.height, o),
                      progress: progress)
        return try denoise(image, model: model, options: o, job: job)
    }

    static func denoise(_ image: PlanarImage, model: MPRNet, options o: Options, job: Job) throws -> Result {
        let ops = Ops(threads: job.threads, precision: o.precision, path: o.kernels)
        let color = image.channels >= 3 ? 3 : 1
        var out = Tensor(channels: 3, height: image.height, width: image.width)
        var att = [Float](repeating: 0, count: o.wantAttention ? image.pixelCount : 0)
        var weight = [Float](repeating: 0, count: image.pixelCount)
        for t in tiles(image.width, image.height, o) {
            try job.checkpoint()
            let patch = networkInput(image, color, t)
            let (y, a) = run(model, patch, ops, attention: o.wantAttention)
            let ramp = t.ramp(o.overlap, image.width, image.height)
            for ty in 0..<t.ys.count {
                for tx in 0..<t.xs.count {
                    let w = ramp(tx, ty), i = (t.ys.lowerBound + ty) * image.width + t.xs.lowerBound + tx
                    weight[i] += w
                    for c in 0..<3 { out.samples[c * image.pixelCount + i] += w * y[tx, ty, c] }
                    if let a { att[i] += w * a[tx, ty, 0] }
                }
            }
            job.advance(1)
        }
        try job.checkpoint()
        // The network's image is clipped to the 0...1 range it was trained on.
        var result = image
        let n = image.pixelCount
        let clip = { (v: Float) in min(max(v, 0), 1) * 255 }
        for i in 0..<n {
            let w = weight[i]
            if color == 3 {
                for c in 0..<3 { result.samples[c * n + i] = clip(out.samples[c * n + i] / w) }
            } else {
                result.samples[i] = clip((out.samples[i] + out.samples[n + i] + out.samples[2 * n + i]) / (3 * w))
            }
        }
        if o.strength < 1 { blend(&result, noisy: image, color: color, strength: o.strength) }
        var residual: PlanarImage?
        if o.wantResidual {
            var r = image.planes(0..<color)
            for i in r.samples.indices { r.samples[i] = image.samples[i] - result.samples[i] + 128 }
            residual = r
        }
        let attention = o.wantAttention
            ? PlanarImage(width: image.width, height: image.height, channels: 1,
                          samples: (0..<n).map { att[$0] / weight[$0] * 255 })
            : nil
        return Result(image: result, residual: residual, attention: attention)
    }

    /// Puts back 1 − `strength` of the luminance of what the network removed (noisy − result, the
    /// mean over the colour channels), none of its colour. A plain opacity blend would bring back
    /// the colour noise too, which is coarse, saturated and never wanted, while luminance noise
    /// reads as film grain, and the texture a denoiser removes with the noise is in it.
    static func blend(_ result: inout PlanarImage, noisy: PlanarImage, color: Int, strength: Float) {
        let n = result.pixelCount, keep = 1 - strength
        for i in 0..<n {
            var luma: Float = 0
            for c in 0..<color { luma += noisy.samples[c * n + i] - result.samples[c * n + i] }
            luma *= keep / Float(color)
            for c in 0..<color { result.samples[c * n + i] = min(max(result.samples[c * n + i] + luma, 0), 255) }
        }
    }

    /// The tile `t` of `image` as the network's input, 3 × h × w in 0...1 (gray repeated three
    /// times): read straight from the image, which is already in the network's planar layout.
    static func networkInput(_ image: PlanarImage, _ color: Int, _ t: Tile) -> Tensor {
        var x = Tensor(uninitializedWidth: t.xs.count, height: t.ys.count, channels: 3)
        let n = image.pixelCount, w = t.xs.count
        image.samples.withUnsafeBufferPointer { src in
            x.samples.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    let plane = (color == 3 ? c : 0) * n
                    for (ty, y) in t.ys.enumerated() {
                        let from = plane + y * image.width + t.xs.lowerBound, to = (c * t.ys.count + ty) * w
                        for i in 0..<w { dst[to + i] = src[from + i] / 255 }
                    }
                }
            }
        }
        return x
    }

    /// The stage-3 output, cropped back from the padding to the model's multiple, and optionally
    /// the stage-2 attention map averaged over its features.
    static func run(_ model: MPRNet, _ x: Tensor, _ ops: Ops, attention: Bool) -> (Tensor, Tensor?) {
        let out = model.forward(model.padded(x, ops), ops)
        let y = ops.crop(out.stage3, rows: 0..<x.height, columns: 0..<x.width)
        guard attention else { return (y, nil) }
        let a = ops.crop(out.attention2, rows: 0..<x.height, columns: 0..<x.width)
        var mean = Tensor(channels: 1, height: a.height, width: a.width)
        for c in 0..<a.channels {
            for i in 0..<a.plane { mean.samples[i] += a.samples[c * a.plane + i] / Float(a.channels) }
        }
        return (y, mean)
    }

    struct Tile {
        let xs: Range<Int>, ys: Range<Int>

        /// Blend weight at (tx, ty): rising linearly over the overlap on sides shared with
        /// another tile, 1 elsewhere (and at the image border).
        func ramp(_ overlap: Int, _ width: Int, _ height: Int) -> (Int, Int) -> Float {
            let o = Float(max(1, overlap))
            return { tx, ty in
                func edge(_ i: Int, _ r: Range<Int>, _ size: Int) -> Float {
                    let lo = r.lowerBound > 0 ? min(1, Float(i + 1) / o) : 1
                    let hi = r.upperBound < size ? min(1, Float(r.count - i) / o) : 1
                    return min(lo, hi)
                }
                return edge(tx, xs, width) * edge(ty, ys, height)
            }
        }
    }

    static func tiles(_ width: Int, _ height: Int, _ o: Options) -> [Tile] {
        // As few tiles as cover the side with at least `overlap` between neighbours, all of one
        // length (a multiple of 8, so no padding is wasted), spread evenly.
        func spans(_ size: Int) -> [Range<Int>] {
            guard o.tile > 0, size > o.tile else { return [0..<size] }
            let count = (size - o.overlap + (o.tile - o.overlap) - 1) / (o.tile - o.overlap)
            let length = min(size, ((size + (count - 1) * o.overlap + count - 1) / count + 7) / 8 * 8)
            return (0..<count).map { i in
                let start = (size - length) * i / (count - 1)
                return start ..< start + length
            }
        }
        return spans(height).flatMap { ys in spans(width).map { Tile(xs: $0, ys: ys) } }
    }
}
