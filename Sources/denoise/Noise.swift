import CDenoise
import DenoiseCore
import ImageCore

@_cdecl("dn_estimate_noise")
public func dn_estimate_noise(_ image: UnsafePointer<dn_image>?, _ estimate: UnsafeMutablePointer<dn_noise_estimate>?) -> dn_status {
    reporting {
        guard let estimate else { throw APIError(DN_ERROR_NULL_POINTER, "estimate is NULL") }
        let (src, l) = try layout(of: image, "image")
        try reserveAnalysisMemory(l)
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

@_cdecl("dn_noise_levels_init")
public func dn_noise_levels_init(_ levels: UnsafeMutablePointer<dn_noise_levels>?) {
    guard let levels else { return }
    var l = dn_noise_levels()
    l.struct_size = MemoryLayout<dn_noise_levels>.size
    l.model = DN_NOISE_GAUSSIAN
    levels.pointee = l
}

@_cdecl("dn_measure_noise")
public func dn_measure_noise(_ image: UnsafePointer<dn_image>?, _ levels: UnsafeMutablePointer<dn_noise_levels>?) -> dn_status {
    reporting {
        guard let levels else { throw APIError(DN_ERROR_NULL_POINTER, "levels is NULL") }
        guard levels.pointee.struct_size == MemoryLayout<dn_noise_levels>.size else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "levels.struct_size is \(levels.pointee.struct_size): call dn_noise_levels_init first")
        }
        let (src, l) = try layout(of: image, "image")
        try reserveAnalysisMemory(l)
        let model = try NoiseModelDCT.resolve(.auto, sigma: 0, gain: 0, image: try PlanarImage(interleaved: src, layout: l))
        levels.pointee = dn_noise_levels(model)
    }
}

@_cdecl("dn_psnr")
public func dn_psnr(_ reference: UnsafePointer<dn_image>?, _ test: UnsafePointer<dn_image>?,
                    _ psnr: UnsafeMutablePointer<Double>?) -> dn_status {
    reporting {
        guard let psnr else { throw APIError(DN_ERROR_NULL_POINTER, "psnr is NULL") }
        let (a, b) = try comparedImages(reference, test)
        psnr.pointee = try Metrics.psnr(reference: a, test: b)
    }
}

@_cdecl("dn_ssim")
public func dn_ssim(_ reference: UnsafePointer<dn_image>?, _ test: UnsafePointer<dn_image>?,
                    _ ssim: UnsafeMutablePointer<Double>?) -> dn_status {
    reporting {
        guard let ssim else { throw APIError(DN_ERROR_NULL_POINTER, "ssim is NULL") }
        let (a, b) = try comparedImages(reference, test)
        ssim.pointee = try Metrics.ssim(reference: a, test: b)
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
    try reserveAnalysisMemory(la)
    return (try PlanarImage(interleaved: ra, layout: la), try PlanarImage(interleaved: rb, layout: lb))
}

/// Estimation and metrics take less memory than the denoiser (one or two planar copies and a few
/// planes of statistics); the denoiser's bound covers them.
private func reserveAnalysisMemory(_ l: PixelLayout) throws {
    try Memory.reserve(MultiScaleDCT.workingBytes(width: l.width, height: l.height, channels: l.channels))
}

extension dn_noise_levels {
    /// The C form of a resolved model.
    init(_ model: NoiseModelDCT.Model) {
        self.init()
        struct_size = MemoryLayout<dn_noise_levels>.size
        switch model {
        case .gaussian(let sigma):
            self.model = DN_NOISE_GAUSSIAN
            self.sigma = Float(sigma)
        case .poissonGaussian(let gain, let sigma):
            self.model = DN_NOISE_POISSON_GAUSSIAN
            self.sigma = Float(sigma)
            poisson_gain = Float(gain)
        case .impulse:
            self.model = DN_NOISE_IMPULSE
        case .camera(let levels):
            self.model = DN_NOISE_CAMERA
            channels = Int32(levels.first?.count ?? 0)
            let kept = levels.prefix(Int(DN_MAX_SCALES))
            scales = Int32(kept.count)
            withUnsafeMutableBytes(of: &camera) { raw in
                for (i, layer) in kept.enumerated() {
                    for (c, v) in layer.enumerated() { raw.storeBytes(of: v, toByteOffset: 4 * (i * 3 + c), as: Float.self) }
                }
            }
        }
    }
}

extension NoiseModelDCT.Model {
    /// The model a caller passes in, validated.
    init(levels p: UnsafePointer<dn_noise_levels>) throws {
        let l = p.pointee
        guard l.struct_size == MemoryLayout<dn_noise_levels>.size else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "levels.struct_size is \(l.struct_size): call dn_noise_levels_init first")
        }
        let ok = { (v: Float) in v.isFinite && v >= 0 && v <= 255 }
        switch l.model {
        case DN_NOISE_GAUSSIAN where ok(l.sigma):
            self = .gaussian(sigma: Double(l.sigma))
        case DN_NOISE_POISSON_GAUSSIAN where ok(l.sigma) && l.poisson_gain.isFinite && l.poisson_gain > 0:
            self = .poissonGaussian(gain: Double(l.poisson_gain), sigma: Double(l.sigma))
        case DN_NOISE_IMPULSE:
            self = .impulse
        case DN_NOISE_CAMERA where (l.channels == 1 || l.channels == 3) && (1...DN_MAX_SCALES).contains(l.scales):
            let levels = withUnsafeBytes(of: l.camera) { raw in
                (0..<Int(l.scales)).map { i in (0..<Int(l.channels)).map { raw.load(fromByteOffset: 4 * (i * 3 + $0), as: Float.self) } }
            }
            guard levels.allSatisfy({ $0.allSatisfy(ok) }) else {
                throw APIError(DN_ERROR_INVALID_ARGUMENT, "levels.camera holds values outside 0..255")
            }
            self = .camera(levels: levels)
        default:
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "levels: model \(l.model.rawValue) with these values is not a valid noise model")
        }
    }
}
