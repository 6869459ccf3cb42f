import CDenoise

private let versionString = "\(DN_VERSION_MAJOR).\(DN_VERSION_MINOR).\(DN_VERSION_PATCH)"
// Constant C strings, never mutated or freed: safe to share between threads.
nonisolated(unsafe) private let versionCString = permanentCString(versionString)

@_cdecl("dn_version")
public func dn_version() -> UnsafePointer<CChar> { versionCString }

@_cdecl("dn_version_number")
public func dn_version_number() -> Int32 { Int32(DN_VERSION_MAJOR * 10000 + DN_VERSION_MINOR * 100 + DN_VERSION_PATCH) }

@_cdecl("dn_last_error")
public func dn_last_error() -> UnsafePointer<CChar> { LastError.message }

nonisolated(unsafe) private let statusNames = [
    "DN_OK", "DN_ERROR_NULL_POINTER", "DN_ERROR_INVALID_SIZE", "DN_ERROR_INVALID_CHANNELS",
    "DN_ERROR_INVALID_FORMAT", "DN_ERROR_INVALID_ARGUMENT", "DN_ERROR_NONFINITE", "DN_ERROR_CANCELLED",
    "DN_ERROR_OUT_OF_MEMORY", "DN_ERROR_INTERNAL", "DN_UNKNOWN_STATUS",
].map(permanentCString)

@_cdecl("dn_status_name")
public func dn_status_name(_ status: dn_status) -> UnsafePointer<CChar> {
    statusNames[min(Int(status.rawValue), statusNames.count - 1)]
}
