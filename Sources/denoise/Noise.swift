import CDenoise
import DenoiseCore

@_cdecl("dn_estimate_noise")
public func dn_estimate_noise(_ image: UnsafePointer<dn_image>?, _ estimate: UnsafeMutablePointer<dn_noise_estimate>?) -> dn_status {
    reporting {
        guard let estimate else { throw APIError(DN_ERROR_NULL_POINTER, "estimate is NULL") }
        let (src, l) = try layout(of: image, "image")
        let e = NoiseEstimator.estimate(try PlanarImage(interleaved: src, layout: l))
        var out = dn_noise_estimate()
        out.sigma = Float(e.sigma)
        out.gain = Float(e.gain)
        out.offset = Float(e.offset)
        out.signal_dependent = e.isSignalDependent ? 1 : 0
        let points = e.curve.prefix(Int(DN_CURVE_POINTS))
        out.curve_points = Int32(points.count)
        withUnsafeMutableBytes(of: &out.curve_intensity) { raw in
            for (i, p) in points.enumerated() { raw.storeBytes(of: Float(p.intensity), toByteOffset: 4 * i, as: Float.self) }
        }
        withUnsafeMutableBytes(of: &out.curve_sigma) { raw in
            for (i, p) in points.enumerated() { raw.storeBytes(of: Float(p.sigma), toByteOffset: 4 * i, as: Float.self) }
        }
        estimate.pointee = out
    }
}

@_cdecl("dn_psnr")
public func dn_psnr(_ reference: UnsafePointer<dn_image>?, _ test: UnsafePointer<dn_image>?,
                    _ psnr: UnsafeMutablePointer<Double>?) -> dn_status {
    reporting {
        guard let psnr else { throw APIError(DN_ERROR_NULL_POINTER, "psnr is NULL") }
        let (a, b) = try comparedImages(reference, test)
        psnr.pointee = Metrics.psnr(a, b, channels: a.channels >= 3 ? 3 : 1)
    }
}

@_cdecl("dn_ssim")
public func dn_ssim(_ reference: UnsafePointer<dn_image>?, _ test: UnsafePointer<dn_image>?,
                    _ ssim: UnsafeMutablePointer<Double>?) -> dn_status {
    reporting {
        guard let ssim else { throw APIError(DN_ERROR_NULL_POINTER, "ssim is NULL") }
        let (a, b) = try comparedImages(reference, test)
        guard min(a.width, a.height) >= 11 else { throw APIError(DN_ERROR_INVALID_SIZE, "SSIM needs at least 11x11 pixels") }
        ssim.pointee = Metrics.ssim(a, b, channels: a.channels >= 3 ? 3 : 1)
    }
}

private func comparedImages(_ reference: UnsafePointer<dn_image>?, _ test: UnsafePointer<dn_image>?) throws -> (PlanarImage, PlanarImage) {
    let (ra, la) = try layout(of: reference, "reference")
    let (rb, lb) = try layout(of: test, "test")
    guard la.width == lb.width, la.height == lb.height else {
        throw APIError(DN_ERROR_INVALID_SIZE, "test is \(lb.width)x\(lb.height), reference \(la.width)x\(la.height)")
    }
    guard la.channels == lb.channels, la.type == lb.type else {
        throw APIError(DN_ERROR_INVALID_FORMAT, "test channels and sample type must match the reference's")
    }
    return (try PlanarImage(interleaved: ra, layout: la), try PlanarImage(interleaved: rb, layout: lb))
}
