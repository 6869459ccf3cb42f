import CDenoise
import DenoiseCore

/// The fields of dn_dct_params up to progress_user, which version 0.1 callers know.
private let paramsSizeV01 = MemoryLayout<dn_dct_params>.size

@_cdecl("dn_dct_params_init")
public func dn_dct_params_init(_ params: UnsafeMutablePointer<dn_dct_params>?) {
    guard let params else { return }
    params.pointee = dn_dct_params(struct_size: MemoryLayout<dn_dct_params>.size, sigma: 25, patch_size: 8,
                                   scales: 4, wiener: 1, threads: 0, progress: nil, progress_user: nil)
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
        let image = try PlanarImage(interleaved: src, layout: li)
        let job = Job(threads: Int(p.threads),
                      workUnits: MultiScaleDCT.workUnits(width: li.width, height: li.height, params),
                      progress: CProgress(fn: p.progress, user: p.progress_user).closure)
        let result = try MultiScaleDCT.denoise(image, params, job: job)
        result.write(interleaved: dst, layout: lo)
    }
}
