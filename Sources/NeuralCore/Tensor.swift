import ConvKernelsAMX
import ImageCore

/// A feature map of one image: `ImageCore`'s planar container, `channels` planes of
/// `height` × `width` (PyTorch's NCHW with N = 1), indexed `[x, y, c]`.
public typealias Tensor = PlanarImage

extension PlanarImage {
    /// Sizes in PyTorch's order, for the layers' code.
    public init(channels: Int, height: Int, width: Int, samples: [Float]) {
        self.init(width: width, height: height, channels: channels, samples: samples)
    }

    public init(channels: Int, height: Int, width: Int, value: Float = 0) {
        self.init(width: width, height: height, channels: channels, value: value)
    }

    init(uninitializedChannels channels: Int, height: Int, width: Int) {
        self.init(uninitializedWidth: width, height: height, channels: channels)
    }

    public var plane: Int { pixelCount }
    public var shape: [Int] { [channels, height, width] }
}

/// Convolution weights, PyTorch layout [out, in, k, k]; bias-free as in MPRNet.
public struct ConvWeight: Sendable {
    public let outChannels: Int, inChannels: Int, kernel: Int
    public let data: [Float]

    /// `packForAMX: false` leaves the AMX tiles out (for weights that are checked, never run).
    public init(outChannels: Int, inChannels: Int, kernel: Int, data: [Float], packForAMX: Bool = true) {
        precondition(data.count == outChannels * inChannels * kernel * kernel)
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        self.data = data
        amx = packForAMX && Ops.amxAvailable ? Self.packAMX(data, outChannels, inChannels, kernel) : []
    }

    /// On CPUs with AMX, the weights as bfloat16 tiles (`denoise_amx_pack_weights`); empty otherwise.
    let amx: [UInt16]

    static func packAMX(_ w: [Float], _ cout: Int, _ cin: Int, _ kernel: Int) -> [UInt16] {
        let count = denoise_amx_weights_count(Int32(cout), Int32(cin), Int32(kernel))
        return [UInt16](unsafeUninitializedCapacity: count) { buf, n in
            denoise_amx_pack_weights(w, Int32(cout), Int32(cin), Int32(kernel), buf.baseAddress!)
            n = count
        }
    }
}

extension ConvWeight {
    /// The convolution of the concatenation (along channels) of this one's input and `other`'s:
    /// their sum, as one layer. Left unpacked for AMX (it is built where AMX is not used).
    public func beside(_ other: ConvWeight) -> ConvWeight {
        precondition(kernel == other.kernel && outChannels == other.outChannels, "only convolutions of one shape sum")
        let taps = kernel * kernel, a = inChannels * taps, b = other.inChannels * taps
        var w = [Float]()
        w.reserveCapacity(outChannels * (a + b))
        for o in 0..<outChannels {
            w += data[o * a..<(o + 1) * a]
            w += other.data[o * b..<(o + 1) * b]
        }
        return ConvWeight(outChannels: outChannels, inChannels: inChannels + other.inChannels, kernel: kernel, data: w,
                          packForAMX: false)
    }

    /// The 1x1 convolution that applies `inner` and then `self`: one matrix product (summed in
    /// Double), for chains of bias-free 1x1 convolutions with nothing non-linear between them.
    public func after(_ inner: ConvWeight) -> ConvWeight {
        precondition(kernel == 1 && inner.kernel == 1 && inChannels == inner.outChannels,
                     "only 1x1 convolutions whose channels match compose")
        var w = [Float](repeating: 0, count: outChannels * inner.inChannels)
        for o in 0..<outChannels {
            for i in 0..<inner.inChannels {
                var s = 0.0
                for k in 0..<inChannels { s += Double(data[o * inChannels + k]) * Double(inner.data[k * inner.inChannels + i]) }
                w[o * inner.inChannels + i] = Float(s)
            }
        }
        return ConvWeight(outChannels: outChannels, inChannels: inner.inChannels, kernel: 1, data: w)
    }
}
