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
    params.pointee = dn_dct_params(struct_size: MemoryLayout<dn_dct_params>.size, sigma: 0, patch_size: 8,
                                   scales: 4, wiener: 1, threads: 0, progress: nil, progress_user: nil,
                                   noise: DN_NOISE_AUTO, poisson_peak: 0, strength: 1, levels: nil)
}

@_cdecl("dn_dct_denoise")
public func dn_dct_denoise(_ input: UnsafePointer<dn_image>?, _ output: UnsafePointer<dn_image>?,
                           _ params: UnsafePointer<dn_dct_params>?) -> dn_status {
    reporting {
        guard let params else { throw APIError(DN_ERROR_NULL_POINTER, "params is NULL") }
        var p = dn_dct_params()
        dn_dct_params_init(&p)
        try readVersioned(params, over: &p, versions: paramsVersions, initName: "dn_dct_params_init")
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
        let (src, dst, li, lo) = try layouts(input, output)
        // Before the planar copy, which is itself a large allocation (the filter checks again).
        try Memory.reserve(MultiScaleDCT.workingBytes(width: li.width, height: li.height, channels: li.channels))
        let image = try PlanarImage(interleaved: src, layout: li)
        let result = try DCTFilter.run(image, settings, progress: CProgress(fn: p.progress, user: p.progress_user).closure)
        result.write(interleaved: dst, layout: lo)
    }
}
