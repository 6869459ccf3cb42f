import ImageCore
/// The noise of an image as the multi-scale DCT sees it: the standard deviation of every patch DCT
/// coefficient, in every layer of the DCT pyramid and every channel of the decorrelated colour space.
///
/// White noise of level σ has σ · 2^-i at every coefficient of layer i. Camera noise does not:
/// demosaicing, colour matrices, sharpening and JPEG give it a spectrum (most of its energy at low
/// frequencies, chroma coarser than luma) that this type records as measured.
public struct NoiseSpectrum: Sendable, Equatable {
    /// Patch side n (8 or 16).
    public let patchSize: Int
    /// Colour channels: 1 (gray) or 3 (Y, U, V of `ColorTransform`).
    public let channels: Int
    /// layers[i]: `channels * n * n` standard deviations (0...255 scale), indexed
    /// `(channel * n + vertical frequency) * n + horizontal frequency`.
    public var layers: [[Float]]

    public init(patchSize: Int, channels: Int, layers: [[Float]]) {
        precondition(layers.allSatisfy { $0.count == channels * patchSize * patchSize })
        self.patchSize = patchSize
        self.channels = channels
        self.layers = layers
    }

    /// Root-mean-square level of `channel` in `layer` over the coefficients that layer contributes
    /// to the result (recomposition replaces the lowest quarter of each side's frequencies by the
    /// coarser layer's).
    public func level(layer: Int, channel: Int) -> Float {
        let n = patchSize, h = n / 4
        var sum: Float = 0, count: Float = 0
        for u in 0..<n {
            for v in 0..<n where u >= h || v >= h {
                let s = layers[layer][(channel * n + u) * n + v]
                sum += s * s
                count += 1
            }
        }
        return (sum / count).squareRoot()
    }

    /// RMS level of `channel` in `layer` over the coefficients whose u + v is in `range`.
    func band(_ layer: Int, _ c: Int, _ range: ClosedRange<Int>) -> Float {
        let n = patchSize
        var sum: Float = 0, count: Float = 0
        for u in 0..<n {
            for v in 0..<n where range.contains(u + v) {
                let s = layers[layer][(c * n + u) * n + v]
                sum += s * s
                count += 1
            }
        }
        return (sum / count).squareRoot()
    }

    /// True when the finest layer's luma (or gray) spectrum is what white noise gives: flat over
    /// frequencies, its high band within a third of its middle one. Camera noise is far from it
    /// (demosaicing and JPEG take its high frequencies: 0.25 to 0.6 of the middle band on camera
    /// JPEGs); chroma is not asked, as film grain and luma-only noise leave it weak, and neither
    /// are coarser layers, whose flattest blocks image structure reaches. No measurable noise (a
    /// flat or clean image) counts as white, of level 0; noise in chroma alone does not.
    public var isWhite: Bool {
        let n = patchSize, low = SpectrumEstimator.lowLimit(n)
        let mids = (0..<channels).map { band(0, $0, (low + 1)...(n - 1)) }
        if mids.allSatisfy({ $0 < Self.measurable }) { return true }
        let high = band(0, 0, n...(2 * n - 2))
        return mids[0] >= Self.measurable && high / mids[0] > 0.75 && high / mids[0] < 1.33
    }

    /// The levels the denoiser uses for camera noise, `[layer][channel]`: each layer and channel
    /// at one level, its measured one, with three rules for what the flat blocks of a camera JPEG
    /// show wrongly.
    /// - Chroma at least at the luma level: 4:2:0 subsampling and the coarser quantisation of the
    ///   chroma planes flatten their noise in flat blocks, not in the rest of the image.
    /// - The finest layer at `fineLayerFactor` times its level: JPEG quantisation and in-camera
    ///   noise reduction remove fine-scale noise from flat blocks and leave it in textured ones.
    /// - No layer above the finer one: image structure leaks into a coarse layer's flattest
    ///   blocks, and camera noise does not grow toward coarse scales.
    /// One level per layer and channel, rather than one per coefficient, is also more robust to
    /// the estimate's own noise.
    public var cameraLevels: [[Float]] {
        var out: [[Float]] = []
        for i in 0..<layers.count {
            var levels = (0..<channels).map { level(layer: i, channel: $0) }
            if let finer = out.last {
                // (the finer layer's level before the fine-layer factor)
                let f = i == 1 ? Self.fineLayerFactor : 1
                for c in 0..<channels { levels[c] = min(levels[c], finer[c] / f) }
            }
            for c in 1..<channels { levels[c] = max(levels[c], levels[0]) }
            out.append(i == 0 ? levels.map { $0 * Self.fineLayerFactor } : levels)
        }
        return out
    }

    static let fineLayerFactor: Float = 2
    /// Below this level (0...255 scale) there is no noise to speak of: 8-bit rounding alone is 0.29.
    static let measurable: Float = 0.1
}
