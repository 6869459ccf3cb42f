import Glibc

/// Whether a run's working memory can be had, asked before the run allocates it: Swift traps
/// when an allocation fails, and a host (GIMP) must get an error instead.
public enum Memory {
    /// Throws `DenoiseError.outOfMemory` when `bytes` exceed what the system can give this
    /// process: its available memory and free swap (/proc/meminfo), and its address-space limit
    /// (`ulimit -v`) less what it maps already. An allocation of that size is then tried and freed
    /// (it fails where the kernel's overcommit policy refuses it).
    public static func reserve(_ bytes: Int) throws {
        let available = min(systemAvailable() ?? .max, addressSpaceLeft() ?? .max)
        guard bytes <= available, let probe = malloc(bytes) else {
            throw DenoiseError.outOfMemory(needed: bytes, available: available == .max ? nil : available)
        }
        free(probe)
    }

    /// MemAvailable + SwapFree, in bytes.
    static func systemAvailable() -> Int? {
        let fields = procFields("/proc/meminfo")
        guard let mem = fields["MemAvailable:"] else { return nil }
        return (mem + (fields["SwapFree:"] ?? 0)) * 1024
    }

    /// RLIMIT_AS less the current VmSize, in bytes; nil when unlimited.
    static func addressSpaceLeft() -> Int? {
        var limit = rlimit()
        guard getrlimit(addressSpace, &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }  // RLIM_INFINITY
        let used = (procFields("/proc/self/status")["VmSize:"] ?? 0) * 1024
        return max(0, Int(clamping: limit.rlim_cur) - used)
    }

    /// "Name: value kB" lines as [name: value].
    private static func procFields(_ path: String) -> [String: Int] {
        guard let f = fopen(path, "r") else { return [:] }
        defer { fclose(f) }
        var out: [String: Int] = [:]
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let parts = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 3, let v = Int(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }
}

private let addressSpace = __rlimit_resource_t(RLIMIT_AS.rawValue)
