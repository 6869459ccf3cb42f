/// What one call of a convolution kernel works on, by name: the kernels are built three times
/// (ConvKernels, ConvKernelsAVX2, ConvKernelsAVX512), and these types, built once, are the
/// interface every build shares; labelled fields keep a width from being passed as a height.

/// A 3x3 convolution (zero padding 1, no bias) over zero-framed input planes.
public struct Conv3x3Arguments {
    /// `cin` planes of (height + 2) rows × `paddedWidth` (≥ width + 2 + the kernel's lanes;
    /// `conv3x3PaddedWidth` lets Winograd cover the last columns too), the image at row 1, column 1
    /// and zeros around, `planeStride` floats apart.
    public var input: UnsafePointer<Float>
    public var cin: Int
    public var width: Int, height: Int
    public var paddedWidth: Int, planeStride: Int
    /// PyTorch layout [cout][cin][3][3].
    public var weights: UnsafePointer<Float>
    public var cout: Int
    /// `cout` planes of height × width, unless `framed(paddedWidth:)` moves them; `residual` (if any, always
    /// planes of height × width) is added in the same pass.
    public var output: UnsafeMutablePointer<Float>
    public var residual: UnsafePointer<Float>?
    /// PReLU slope applied before the residual; 1 for none.
    public var preluSlope: Float
    /// Where the output planes' pixels go: by default planes of height × width;
    /// `framed(paddedWidth:)` writes another layer's framed input.
    public var outputLayout: PlaneLayout

    public init(input: UnsafePointer<Float>, cin: Int, width: Int, height: Int, paddedWidth: Int, planeStride: Int,
                weights: UnsafePointer<Float>, cout: Int, output: UnsafeMutablePointer<Float>,
                residual: UnsafePointer<Float>?, preluSlope: Float) {
        self.input = input
        self.cin = cin
        self.width = width
        self.height = height
        self.paddedWidth = paddedWidth
        self.planeStride = planeStride
        self.weights = weights
        self.cout = cout
        self.output = output
        self.residual = residual
        self.preluSlope = preluSlope
        outputLayout = .plain(height: height, width: width)
    }

    /// These arguments writing their output as the input of a following 3x3 layer: (height + 2) rows
    /// of `paddedWidth` per plane, the image at row 1, column 1. The frame is left as it is.
    public func framed(paddedWidth: Int) -> Conv3x3Arguments {
        var a = self
        a.outputLayout = .framed(height: height, paddedWidth: paddedWidth)
        return a
    }

    /// The output offset of pixel (channel, row y, column x).
    @inlinable public func outputOffset(_ channel: Int, _ y: Int, _ x: Int) -> Int { outputLayout.offset(channel, y) + x }
}

/// Where row y of channel c of a feature map's planes starts: plain planes of height × width, or a
/// 3x3 layer's zero-framed input (the image at row 1, column 1 of planes of (height + 2) rows of
/// `paddedWidth`).
public struct PlaneLayout {
    public let origin: Int, rowStride: Int, planeStride: Int

    public static func plain(height: Int, width: Int) -> PlaneLayout {
        PlaneLayout(origin: 0, rowStride: width, planeStride: height * width)
    }

    public static func framed(height: Int, paddedWidth: Int) -> PlaneLayout {
        PlaneLayout(origin: paddedWidth + 1, rowStride: paddedWidth, planeStride: (height + 2) * paddedWidth)
    }

    @inlinable public func offset(_ channel: Int, _ y: Int) -> Int { origin + channel * planeStride + y * rowStride }
}

/// A padded width for `Conv3x3Arguments` of an image `width` wide: zeros to a whole number of
/// 64-column Winograd blocks, plus the frame and a vector of `lanes`.
public func conv3x3PaddedWidth(_ width: Int, lanes: Int) -> Int {
    (width + 63) / 64 * 64 + 2 + lanes
}

/// A 1x1 convolution (no bias): a matrix product of weights [cout][cin] and pixels [cin][plane].
public struct Conv1x1Arguments {
    /// `cin` planes of `plane` floats: the first `firstChannels` at `input`, the rest at `secondInput`
    /// (two tensors read as if concatenated along channels).
    public var input: UnsafePointer<Float>
    public var cin: Int
    public var plane: Int
    public var weights: UnsafePointer<Float>
    public var cout: Int
    /// `cout` planes of `plane` floats; `residual` (if any) is added in the same pass.
    public var output: UnsafeMutablePointer<Float>
    public var residual: UnsafePointer<Float>?
    public var firstChannels: Int
    public var secondInput: UnsafePointer<Float>?

    public init(input: UnsafePointer<Float>, cin: Int, plane: Int, weights: UnsafePointer<Float>, cout: Int,
                output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                secondInput: UnsafePointer<Float>? = nil, firstChannels: Int? = nil) {
        precondition((secondInput == nil) == (firstChannels == nil), "a second input needs its split")
        self.input = input
        self.cin = cin
        self.plane = plane
        self.weights = weights
        self.cout = cout
        self.output = output
        self.residual = residual
        self.secondInput = secondInput
        self.firstChannels = firstChannels ?? cin
    }

    /// Input channel `ic`'s plane.
    @inline(__always) public func inputPlane(_ ic: Int) -> UnsafePointer<Float> {
        ic < firstChannels ? input + ic * plane : secondInput! + (ic - firstChannels) * plane
    }
}
