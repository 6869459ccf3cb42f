import CPlatform
import Glibc

/// A kernel build a user or a benchmark can force with DENOISE_KERNELS, to measure or test the
/// path another CPU takes. MPRNet's convolutions have all four (AMX: bfloat16 tiles); the DCT's
/// patch kernels have baseline and AVX2 + FMA builds, and take AVX2 for the wider paths.
public enum KernelPath: String, Sendable, CaseIterable {
    case baseline, avx2, avx512, amx

    /// Whether this CPU runs the path.
    public var isSupported: Bool {
        switch self {
        case .baseline: true
        case .avx2: denoise_cpu_has_avx2() != 0
        case .avx512: denoise_cpu_has_avx512() != 0
        case .amx: denoise_cpu_has_amx() != 0
        }
    }

    /// $DENOISE_KERNELS, checked: nil when unset or empty; an error naming the problem when it is
    /// not a path or this CPU lacks it.
    public static func fromEnvironment() throws -> KernelPath? {
        guard let v = getenv("DENOISE_KERNELS"), v.pointee != 0 else { return nil }
        let name = String(cString: v)
        guard let path = KernelPath(rawValue: name) else {
            throw KernelPathError("DENOISE_KERNELS=\(name) is not one of " + allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard path.isSupported else { throw KernelPathError("DENOISE_KERNELS=\(name): this CPU lacks it") }
        return path
    }
}

extension KernelPath {
    /// The filters' rule: a forced `path` must be one this CPU runs; none given, $DENOISE_KERNELS
    /// (nil when unset). Failures are `invalidArgument`.
    public static func resolve(_ path: KernelPath?) throws -> KernelPath? {
        if let path {
            guard path.isSupported else { throw DenoiseError.invalidArgument("kernels \(path.rawValue): this CPU lacks them") }
            return path
        }
        do { return try fromEnvironment() } catch { throw DenoiseError.invalidArgument("\(error)") }
    }
}

public struct KernelPathError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
