import CDenoise
import DenoiseCore
import ImageCore

/// Largest accepted image: sides up to GIMP's limit, pixels up to 2^28 (about 268 MP).
let maxSide = 524_288
let maxPixels = 1 << 28

/// Checks a dn_image and describes it; `role` names it in messages ("input", "output").
func layout(of img: UnsafePointer<dn_image>?, _ role: String) throws -> (UnsafeMutableRawPointer, PixelLayout) {
    guard let i = img?.pointee else { throw APIError(DN_ERROR_NULL_POINTER, "\(role) image is NULL") }
    guard let data = i.data else { throw APIError(DN_ERROR_NULL_POINTER, "\(role) data is NULL") }
    let w = Int(i.width), h = Int(i.height), c = Int(i.channels)
    guard w > 0, h > 0 else { throw APIError(DN_ERROR_INVALID_SIZE, "\(role) size \(w)x\(h) must be positive") }
    guard w <= maxSide, h <= maxSide, w * h <= maxPixels else {
        throw APIError(DN_ERROR_INVALID_SIZE, "\(role) size \(w)x\(h) is over the limit (\(maxSide) per side, \(maxPixels) pixels)")
    }
    guard (1...4).contains(c) else { throw APIError(DN_ERROR_INVALID_CHANNELS, "\(role) has \(c) channels; 1 to 4 are supported") }
    guard let type = SampleType(rawValue: Int(i.type.rawValue)) else {
        throw APIError(DN_ERROR_INVALID_FORMAT, "\(role) sample type \(i.type.rawValue) is not DN_U8, DN_U16 or DN_F32")
    }
    let rowBytes = w * c * type.bytes
    guard i.stride >= rowBytes, i.stride <= Int.max / h else {
        throw APIError(DN_ERROR_INVALID_SIZE, "\(role) stride \(i.stride) is below the row size \(rowBytes) or too large")
    }
    return (data, PixelLayout(width: w, height: h, channels: c, type: type, rowBytes: Int(i.stride)))
}

/// Validates input and output together: same shape and sample type.
func layouts(_ input: UnsafePointer<dn_image>?, _ output: UnsafePointer<dn_image>?) throws
    -> (src: UnsafeMutableRawPointer, dst: UnsafeMutableRawPointer, PixelLayout, PixelLayout) {
    let (src, li) = try layout(of: input, "input")
    let (dst, lo) = try layout(of: output, "output")
    guard li.width == lo.width, li.height == lo.height else {
        throw APIError(DN_ERROR_INVALID_SIZE, "output is \(lo.width)x\(lo.height), input \(li.width)x\(li.height)")
    }
    guard li.channels == lo.channels, li.type == lo.type else {
        throw APIError(DN_ERROR_INVALID_FORMAT, "output channels and sample type must match the input's")
    }
    return (src, dst, li, lo)
}

/// A C progress callback for `Job`. `Job` calls it only on the thread of the API call, which is
/// where the C caller expects it, so passing the raw pointers along is safe.
struct CProgress: @unchecked Sendable {
    let fn: dn_progress_fn?
    let user: UnsafeMutableRawPointer?

    var closure: (@Sendable (Double) -> Bool)? {
        guard let fn else { return nil }
        return { fraction in fn(Float(fraction), self.user) == 0 }
    }
}
