import CDenoise
import DenoiseCore
import ImageCore

/// dn_dct_params as versions 0.1 (up to progress_user), 0.2 (up to poisson_peak) and 0.3 know it.
private let paramsVersions = [MemoryLayout<dn_dct_params>.offset(of: \dn_dct_params.noise)!,
                              MemoryLayout<dn_dct_params>.offset(of: \dn_dct_params.strength)!,
                              MemoryLayout<dn_dct_params>.size]

@_cdecl("dn_dct_params_init")
public func dn_dct_params_init(_ params: UnsafeMutablePointer<dn_dct_params>?) {
    guard let params else { return }
    let d = DCTFilter.Settings()
    params.pointee = dn_dct_params(struct_size: MemoryLayout<dn_dct_params>.size, sigma: d.parameters.sigma,
                                   patch_size: Int32(d.parameters.patchSize), scales: Int32(d.parameters.scales),
                                   wiener: d.parameters.wiener ? 1 : 0, threads: Int32(d.threads),
                                   progress: nil, progress_user: nil, noise: DN_NOISE_AUTO,
                                   poisson_peak: Float(d.poissonPeak), strength: d.parameters.strength, levels: nil)
}

/// The caller's params (any version; NULL: the defaults) as validated settings.
private func settings(_ params: UnsafePointer<dn_dct_params>?) throws -> (DCTFilter.Settings, dn_dct_params) {
    var p = dn_dct_params()
    dn_dct_params_init(&p)
    if let params { try readVersioned(params, over: &p, versions: paramsVersions, initName: "dn_dct_params_init") }
    var settings = DCTFilter.Settings()
    settings.parameters = MultiScaleDCT.Parameters(sigma: p.sigma, patchSize: Int(p.patch_size), scales: Int(p.scales),
                                                   wiener: p.wiener != 0)
    settings.parameters.strength = p.strength
    guard let kind = NoiseModelDCT.Kind(rawValue: Int(p.noise.rawValue)) else {
        throw APIError(DN_ERROR_INVALID_ARGUMENT, "noise model \(p.noise.rawValue) is not one of DN_NOISE_*")
    }
    settings.noise = kind
    settings.poissonPeak = Double(p.poisson_peak)
    settings.threads = Int(p.threads)
    settings.model = try p.levels.map { try NoiseModelDCT.Model(levels: $0) }
    try settings.validate()
    return (settings, p)
}

@_cdecl("dn_dct_denoise")
public func dn_dct_denoise(_ input: UnsafePointer<dn_image>?, _ output: UnsafePointer<dn_image>?,
                           _ params: UnsafePointer<dn_dct_params>?) -> dn_status {
    reporting {
        guard let params else { throw APIError(DN_ERROR_NULL_POINTER, "params is NULL") }
        let (settings, p) = try settings(params)
        let (src, dst, li, lo) = try layouts(input, output)
        // Before the planar copy, which is itself a large allocation (the filter checks again).
        try Memory.reserve(MultiScaleDCT.workingBytes(width: li.width, height: li.height, channels: li.channels))
        let image = try PlanarImage(interleaved: src, layout: li)
        let result = try DCTFilter.run(image, settings, progress: CProgress(fn: p.progress, user: p.progress_user).closure)
        result.write(interleaved: dst, layout: lo)
    }
}

@_cdecl("dn_dct_context_margin")
public func dn_dct_context_margin(_ params: UnsafePointer<dn_dct_params>?, _ margin: UnsafeMutablePointer<Int32>?) -> dn_status {
    reporting {
        guard let margin else { throw APIError(DN_ERROR_NULL_POINTER, "margin is NULL") }
        margin.pointee = Int32(try settings(params).0.parameters.contextMargin)
    }
}
