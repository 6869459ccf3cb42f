/// Sample encodings of interleaved pixel buffers, as hosts and files hold them.
public enum SampleType: Int, Sendable {
    case u8 = 1, u16 = 2, f32 = 3

    public var bytes: Int { self == .u8 ? 1 : self == .u16 ? 2 : 4 }
    /// Factor from the stored value to the 0...255 working scale.
    var toWorking: Float { self == .u8 ? 1 : self == .u16 ? 255.0 / 65535.0 : 255 }
}

/// An interleaved buffer's shape: `rowBytes` apart, `channels` samples per pixel.
public struct PixelLayout: Sendable, Equatable {
    public var width: Int, height: Int, channels: Int, rowBytes: Int
    public var type: SampleType

    public init(width: Int, height: Int, channels: Int, type: SampleType, rowBytes: Int? = nil) {
        self.width = width
        self.height = height
        self.channels = channels
        self.type = type
        self.rowBytes = rowBytes ?? width * channels * type.bytes
    }
}

extension PlanarImage {
    /// Reads an interleaved buffer into the 0...255 working scale. Throws `nonFinite` for float
    /// buffers holding NaN or infinities, leaving the caller to report them.
    public init(interleaved src: UnsafeRawPointer, layout l: PixelLayout) throws {
        let n = l.width * l.height
        var samples = [Float](repeating: 0, count: n * l.channels)
        var bad = 0
        let k = l.type.toWorking
        samples.withUnsafeMutableBufferPointer { dst in
            for y in 0..<l.height {
                let row = src + y * l.rowBytes
                for x in 0..<l.width {
                    for c in 0..<l.channels {
                        let i = x * l.channels + c
                        let v: Float
                        switch l.type {
                        case .u8: v = Float(row.load(fromByteOffset: i, as: UInt8.self))
                        case .u16: v = Float(row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) * k
                        case .f32:
                            let f = row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                            if !f.isFinite { bad += 1 }
                            v = f * k
                        }
                        dst[c * n + y * l.width + x] = v
                    }
                }
            }
        }
        if bad > 0 { throw DenoiseError.nonFinite(bad) }
        self.init(width: l.width, height: l.height, channels: l.channels, samples: samples)
    }

    /// Writes into an interleaved buffer: integers rounded and clipped to their range, floats
    /// scaled back to 0...1 and not clipped.
    public func write(interleaved dst: UnsafeMutableRawPointer, layout l: PixelLayout) {
        precondition(l.width == width && l.height == height && l.channels == channels)
        let n = pixelCount
        let k = 1 / l.type.toWorking
        samples.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let row = dst + y * l.rowBytes
                for x in 0..<width {
                    for c in 0..<channels {
                        let i = x * channels + c
                        let s = src[c * n + y * width + x], v = s.isNaN ? 0 : s
                        switch l.type {
                        case .u8: row.storeBytes(of: UInt8(min(max(v.rounded(), 0), 255)), toByteOffset: i, as: UInt8.self)
                        case .u16: row.storeBytes(of: UInt16(min(max((v * k).rounded(), 0), 65535)), toByteOffset: 2 * i, as: UInt16.self)
                        case .f32: row.storeBytes(of: v * k, toByteOffset: 4 * i, as: Float.self)
                        }
                    }
                }
            }
        }
    }
}
