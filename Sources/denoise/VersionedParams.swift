import CDenoise

/// Reads a caller's versioned parameter struct (its first field is `size_t struct_size`) over the
/// defaults in `params`: the fields of the newest version whose size fits in struct_size, whole.
/// `versions` are the struct's sizes in each header version, oldest first; a struct_size below the
/// oldest is an error, and one that cuts a field (only a corrupt one can) reads as the version before.
func readVersioned<T>(_ caller: UnsafePointer<T>, over params: inout T, versions: [Int], initName: String) throws {
    let size = UnsafeRawPointer(caller).load(as: Int.self)
    guard let count = versions.last(where: { $0 <= size }) else {
        throw APIError(DN_ERROR_INVALID_ARGUMENT, "params.struct_size is \(size): call \(initName) first")
    }
    withUnsafeMutableBytes(of: &params) { $0.copyMemory(from: UnsafeRawBufferPointer(start: caller, count: count)) }
}
