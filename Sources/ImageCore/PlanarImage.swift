/// Float planes (all of channel 0, then channel 1, ...), rows top to bottom: the one container of
/// the filters' images and of the network's feature maps (`NeuralCore.Tensor`, PyTorch's NCHW with
/// N = 1), so an image goes into the network without a conversion.
///
/// Filters take and return images on the 0...255 scale whatever the source bit depth, so that a
/// noise level means the same thing for every caller.
public struct PlanarImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var samples: [Float]

    public init(width: Int, height: Int, channels: Int, samples: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0)
        precondition(samples.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    public init(width: Int, height: Int, channels: Int, value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  samples: [Float](repeating: value, count: width * height * channels))
    }

    /// A container whose samples the caller overwrites entirely before reading (no zero fill).
    public init(uninitializedWidth width: Int, height: Int, channels: Int) {
        let count = width * height * channels
        self.init(width: width, height: height, channels: channels,
                  samples: [Float](unsafeUninitializedCapacity: count) { _, n in n = count })
    }

    public var pixelCount: Int { width * height }

    @inlinable
    public subscript(x: Int, y: Int, c: Int) -> Float {
        get { samples[(c * height + y) * width + x] }
        set { samples[(c * height + y) * width + x] = newValue }
    }

    /// The planes `range` as a new image.
    public func planes(_ range: Range<Int>) -> PlanarImage {
        let n = pixelCount
        return PlanarImage(width: width, height: height, channels: range.count,
                           samples: Array(samples[range.lowerBound * n ..< range.upperBound * n]))
    }

    /// Replaces the planes starting at `first` with those of `other` (same size).
    public mutating func setPlanes(from first: Int, _ other: PlanarImage) {
        precondition(other.width == width && other.height == height && first + other.channels <= channels)
        let n = pixelCount
        samples.replaceSubrange(first * n ..< (first + other.channels) * n, with: other.samples)
    }
}
