import CDenoise
import DenoiseCore
import ImageCore
import MPRNet

/// The filters' parameter declarations as C structs: built once, never freed or changed, so the
/// pointers handed out are safe to share between threads.
private struct ParameterTable: @unchecked Sendable {
    let entries: [(name: String, info: UnsafePointer<dn_parameter>)]

    init(_ parameters: [Parameter]) {
        entries = parameters.map { p in
            let info = UnsafeMutablePointer<dn_parameter>.allocate(capacity: 1)
            info.initialize(to: dn_parameter(
                name: permanentCString(p.name), description: permanentCString(p.summary),
                default_value: p.defaultValue, minimum: p.range.lowerBound, maximum: p.range.upperBound,
                is_integer: p.isInteger ? 1 : 0, choice_count: Int32(p.choices?.count ?? 0),
                choices: permanentArray(p.choices ?? []), extra_count: Int32(p.extra.count),
                extra: permanentArray(p.extra)))
            return (p.name, UnsafePointer(info))
        }
    }

    func find(_ name: UnsafePointer<CChar>?) -> UnsafePointer<dn_parameter>? {
        guard let name else { return nil }
        let key = String(cString: name)
        return entries.first { $0.name == key }?.info
    }
}

private func permanentArray(_ values: [Double]) -> UnsafePointer<Double>? {
    guard !values.isEmpty else { return nil }
    let p = UnsafeMutablePointer<Double>.allocate(capacity: values.count)
    p.initialize(from: values, count: values.count)
    return UnsafePointer(p)
}

private let dctParameters = ParameterTable(DCTFilter.parameters)
private let mprnetParameters = ParameterTable(MPRNetFilter.parameters)

@_cdecl("dn_dct_parameter")
public func dn_dct_parameter(_ name: UnsafePointer<CChar>?) -> UnsafePointer<dn_parameter>? { dctParameters.find(name) }

@_cdecl("dn_mprnet_parameter")
public func dn_mprnet_parameter(_ name: UnsafePointer<CChar>?) -> UnsafePointer<dn_parameter>? { mprnetParameters.find(name) }
