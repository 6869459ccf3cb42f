import CDenoise
import DenoiseCore

/// The fields of dn_dct_params up to progress_user, which version 0.1 callers know.
private let paramsSizeV01 = MemoryLayout<dn_dct_params>.offset(of: \dn_dct_params.noise)!

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
        let size = UnsafeRawPointer(params).load(as: Int.self)
        guard size >= paramsSizeV01 else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "params.struct_size is \(size): call dn_dct_params_init first")
        }
        // Read only the fields the caller's version has; the newer ones keep their defaults.
        var p = dn_dct_params()
        dn_dct_params_init(&p)
        withUnsafeMutableBytes(of: &p) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: params, count: min(size, MemoryLayout<dn_dct_params>.size)))
        }
        guard p.threads >= 0 else { throw APIError(DN_ERROR_INVALID_ARGUMENT, "threads must be 0 or more, got \(p.threads)") }
        let (src, dst, li, lo) = try layouts(input, output)
        var settings = MultiScaleDCT.Parameters(sigma: p.sigma, patchSize: Int(p.patch_size), scales: Int(p.scales),
                                                wiener: p.wiener != 0)
        settings.strength = p.strength
        try settings.validate()
        guard let kind = NoiseModelDCT.Kind(rawValue: Int(p.noise.rawValue)) else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "noise model \(p.noise.rawValue) is not one of DN_NOISE_*")
        }
        let peak = p.poisson_peak
        guard peak.isFinite, peak >= 0 else { throw APIError(DN_ERROR_INVALID_ARGUMENT, "poisson_peak must be 0 or more, got \(peak)") }
        let image = try PlanarImage(interleaved: src, layout: li)
        let model = try p.levels.map { try NoiseModelDCT.Model(levels: $0) }
            ?? NoiseModelDCT.resolve(kind, sigma: Double(p.sigma), gain: peak > 0 ? 255 / Double(peak) : 0, image: image,
                                     patchSize: settings.patchSize)
        let job = Job(threads: Int(p.threads),
                      workUnits: NoiseModelDCT.workUnits(width: li.width, height: li.height, channels: li.channels,
                                                         model: model, settings),
                      progress: CProgress(fn: p.progress, user: p.progress_user).closure)
        let result = try NoiseModelDCT.denoise(image, model, settings, job: job)
        result.write(interleaved: dst, layout: lo)
    }
}
