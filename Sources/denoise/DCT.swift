import CDenoise
import DenoiseCore

/// The fields of dn_dct_params up to progress_user, which version 0.1 callers know.
private let paramsSizeV01 = MemoryLayout<dn_dct_params>.offset(of: \dn_dct_params.noise)!

@_cdecl("dn_dct_params_init")
public func dn_dct_params_init(_ params: UnsafeMutablePointer<dn_dct_params>?) {
    guard let params else { return }
    params.pointee = dn_dct_params(struct_size: MemoryLayout<dn_dct_params>.size, sigma: 25, patch_size: 8,
                                   scales: 4, wiener: 1, threads: 0, progress: nil, progress_user: nil,
                                   noise: DN_NOISE_GAUSSIAN, poisson_peak: 0)
}

@_cdecl("dn_dct_denoise")
public func dn_dct_denoise(_ input: UnsafePointer<dn_image>?, _ output: UnsafePointer<dn_image>?,
                           _ params: UnsafePointer<dn_dct_params>?) -> dn_status {
    reporting {
        guard let p = params?.pointee else { throw APIError(DN_ERROR_NULL_POINTER, "params is NULL") }
        guard p.struct_size >= paramsSizeV01 else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "params.struct_size is \(p.struct_size): call dn_dct_params_init first")
        }
        guard p.threads >= 0 else { throw APIError(DN_ERROR_INVALID_ARGUMENT, "threads must be 0 or more, got \(p.threads)") }
        let (src, dst, li, lo) = try layouts(input, output)
        let params = MultiScaleDCT.Parameters(sigma: p.sigma, patchSize: Int(p.patch_size), scales: Int(p.scales),
                                              wiener: p.wiener != 0)
        try params.validate()
        // 0.1 callers' structs end before the noise fields: Gaussian for them.
        let v02 = p.struct_size >= MemoryLayout<dn_dct_params>.size
        let noise = v02 ? p.noise.rawValue : DN_NOISE_GAUSSIAN.rawValue
        guard let kind = NoiseModelDCT.Kind(rawValue: Int(noise)) else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "noise model \(noise) is not one of DN_NOISE_*")
        }
        let peak = v02 ? p.poisson_peak : 0
        guard peak.isFinite, peak >= 0 else { throw APIError(DN_ERROR_INVALID_ARGUMENT, "poisson_peak must be 0 or more, got \(peak)") }
        let image = try PlanarImage(interleaved: src, layout: li)
        let model = try NoiseModelDCT.resolve(kind, sigma: Double(p.sigma), gain: peak > 0 ? 255 / Double(peak) : 0, image: image)
        let job = Job(threads: Int(p.threads),
                      workUnits: NoiseModelDCT.workUnits(width: li.width, height: li.height, channels: li.channels,
                                                         model: model, params),
                      progress: CProgress(fn: p.progress, user: p.progress_user).closure)
        let result = try NoiseModelDCT.denoise(image, model, params, job: job)
        result.write(interleaved: dst, layout: lo)
    }
}
