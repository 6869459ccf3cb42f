import CDenoise
import CPlatform
import DenoiseCore
import ImageCore
import Glibc
import MPRNet
import NeuralCore

/// The object behind a dn_mprnet pointer.
final class ModelBox {
    let model: MPRNet
    init(_ model: MPRNet) { self.model = model }
}

@_cdecl("dn_mprnet_load")
public func dn_mprnet_load(_ path: UnsafePointer<CChar>?, _ model: UnsafeMutablePointer<OpaquePointer?>?) -> dn_status {
    reporting {
        guard let model else { throw APIError(DN_ERROR_NULL_POINTER, "model is NULL") }
        model.pointee = nil
        guard let file = path.map({ String(cString: $0) }) ?? MPRNet.defaultWeightsPath() else {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, "no model path and no default model")
        }
        model.pointee = try loadModel(file)
    }
}

@_cdecl("dn_mprnet_load_installed")
public func dn_mprnet_load_installed(_ name: UnsafePointer<CChar>?, _ model: UnsafeMutablePointer<OpaquePointer?>?) -> dn_status {
    reporting {
        guard let model else { throw APIError(DN_ERROR_NULL_POINTER, "model is NULL") }
        model.pointee = nil
        guard let name = name.map({ String(cString: $0) }) else { throw APIError(DN_ERROR_NULL_POINTER, "name is NULL") }
        do {
            model.pointee = try loadModel(try MPRNet.installedWeightsFile(name))
        } catch let e as MPRNet.InstalledModelError {
            throw APIError(DN_ERROR_INVALID_ARGUMENT, e.description)
        }
    }
}

/// The model in `file`, retained for a dn_mprnet pointer; its problems as invalid-argument errors.
private func loadModel(_ file: String) throws -> OpaquePointer {
    do {
        let net = try MPRNet(weights: try SafeTensors(path: file))
        return OpaquePointer(Unmanaged.passRetained(ModelBox(net)).toOpaque())
    } catch let e as SafeTensors.Failure {
        throw APIError(DN_ERROR_INVALID_ARGUMENT, e.description)
    } catch let e as MPRNetError {
        throw APIError(DN_ERROR_INVALID_ARGUMENT, "\(file): \(e.description)")
    }
}

@_cdecl("dn_mprnet_free")
public func dn_mprnet_free(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(model)).release()
}

private let mprnetParamsSize = MemoryLayout<dn_mprnet_params>.size
/// dn_mprnet_params before `precision`, before `strength`, and now: callers built against an older
/// header still work.
private let mprnetParamsVersions = [MemoryLayout<dn_mprnet_params>.offset(of: \dn_mprnet_params.precision)!,
                                    MemoryLayout<dn_mprnet_params>.offset(of: \dn_mprnet_params.strength)!, mprnetParamsSize]

@_cdecl("dn_mprnet_params_init")
public func dn_mprnet_params_init(_ params: UnsafeMutablePointer<dn_mprnet_params>?) {
    guard let params else { return }
    let d = MPRNetFilter.Options()
    params.pointee = dn_mprnet_params(struct_size: mprnetParamsSize, tile: Int32(d.tile), threads: Int32(d.threads), progress: nil,
                                      progress_user: nil, residual: nil, attention: nil,
                                      precision: Int32(DN_PRECISION_FAST.rawValue), strength: d.strength)
}

@_cdecl("dn_mprnet_denoise")
public func dn_mprnet_denoise(_ model: OpaquePointer?, _ input: UnsafePointer<dn_image>?,
                              _ output: UnsafePointer<dn_image>?, _ params: UnsafePointer<dn_mprnet_params>?) -> dn_status {
    reporting {
        guard let model else { throw APIError(DN_ERROR_NULL_POINTER, "model is NULL") }
        guard let params else { throw APIError(DN_ERROR_NULL_POINTER, "params is NULL") }
        var (options, p) = try mprnetOptions(params)
        let (src, dst, li, lo) = try layouts(input, output)
        let color = li.channels >= 3 ? 3 : 1
        let residual = try p.residual.map { try extraOutput($0, "residual", li, channels: color) }
        let attention = try p.attention.map { try extraOutput($0, "attention", li, channels: 1) }
        let net = Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(model)).takeUnretainedValue().model
        options.wantResidual = residual != nil
        options.wantAttention = attention != nil
        // Before the planar copy, which is itself a large allocation (the filter checks again).
        try Memory.reserve(MPRNetFilter.workingBytes(width: li.width, height: li.height, options, net.config))
        let image = try PlanarImage(interleaved: src, layout: li)
        let result = try MPRNetFilter.denoise(image, model: net, options: options,
                                              progress: CProgress(fn: p.progress, user: p.progress_user).closure)
        result.image.write(interleaved: dst, layout: lo)
        if let (ptr, l) = residual, let r = result.residual { r.write(interleaved: ptr, layout: l) }
        if let (ptr, l) = attention, let a = result.attention { a.write(interleaved: ptr, layout: l) }
    }
}

/// The caller's params (any version; NULL: the defaults) as validated options.
private func mprnetOptions(_ params: UnsafePointer<dn_mprnet_params>?) throws -> (MPRNetFilter.Options, dn_mprnet_params) {
    var p = dn_mprnet_params()
    dn_mprnet_params_init(&p)
    if let params { try readVersioned(params, over: &p, versions: mprnetParamsVersions, initName: "dn_mprnet_params_init") }
    var options = MPRNetFilter.Options(tile: Int(p.tile))
    switch UInt32(bitPattern: p.precision) {
    case DN_PRECISION_FAST.rawValue: options.precision = .fast
    case DN_PRECISION_FLOAT32.rawValue: options.precision = .float32
    default: throw APIError(DN_ERROR_INVALID_ARGUMENT, "precision \(p.precision) is not one of DN_PRECISION_*")
    }
    options.threads = Int(p.threads)
    options.strength = p.strength
    try options.validate()
    return (options, p)
}

@_cdecl("dn_mprnet_context_margin")
public func dn_mprnet_context_margin(_ params: UnsafePointer<dn_mprnet_params>?, _ margin: UnsafeMutablePointer<Int32>?) -> dn_status {
    reporting {
        guard let margin else { throw APIError(DN_ERROR_NULL_POINTER, "margin is NULL") }
        _ = try mprnetOptions(params)
        margin.pointee = Int32(MPRNetFilter.contextMargin)
    }
}

/// Validates an optional output: the input's size and sample type, `channels` channels.
private func extraOutput(_ img: UnsafePointer<dn_image>, _ role: String, _ input: PixelLayout, channels: Int) throws
    -> (UnsafeMutableRawPointer, PixelLayout) {
    let (ptr, l) = try layout(of: img, role)
    guard l.width == input.width, l.height == input.height, l.type == input.type else {
        throw APIError(DN_ERROR_INVALID_FORMAT, "\(role) must have the input's size and sample type")
    }
    guard l.channels == channels else {
        throw APIError(DN_ERROR_INVALID_CHANNELS, "\(role) must have \(channels) channel(s), has \(l.channels)")
    }
    return (ptr, l)
}
