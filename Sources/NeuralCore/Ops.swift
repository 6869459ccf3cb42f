import CPlatform
import ImageCore
import Dispatch

/// How convolutions compute.
public enum Precision: String, Sendable, CaseIterable {
    /// Float throughout: matches PyTorch to float rounding.
    case float32
    /// Convolutions with bfloat16 inputs and weights and float sums on Intel AMX tiles, where the
    /// CPU has them (float32 elsewhere): about twice as fast, within a few hundredths of a dB.
    case bfloat16
    /// 3x3 convolutions of 8 channels or more in 8 bits with int32 sums on AVX-512 VNNI or AVX-VNNI,
    /// where the CPU has one (float32 elsewhere): within 0.05 dB of float32 (README, "Int8").
    case int8
    /// The fastest of these on the CPU at hand: bfloat16 on AMX, else int8 on VNNI (AVX-512 or
    /// AVX-VNNI), else float32.
    case fast
}

/// The operations MPRNet needs, with PyTorch's semantics, under one execution context: a value
/// passed down every call (never process state), so that calls on different threads with
/// different settings do not see each other's. Convolutions are direct (ConvKernels), built for
/// baseline x86-64, AVX2 + FMA and AVX-512 and chosen for the CPU at run time, or on AMX
/// (ConvKernelsAMX, driven from AMXConvolution.swift) in `Precision.bfloat16`; the other
/// operations are plain loops. Everything large is split across `threads` workers.
public struct Ops: Sendable {
    /// Worker threads for every operation (at least 1).
    public let threads: Int
    /// What the convolutions compute in.
    public let precision: Precision
    /// The float convolution kernels: the fastest build this CPU runs unless a path is forced.
    let kernels: ConvKernelSet
    /// Whether bfloat16 may run on AMX (not when a float path is forced).
    let amxAllowed: Bool
    /// The int8 kernel this CPU and the forced path allow, if any (`Int8Kernel.allowed(by:)`).
    let int8Kernel: Int8Kernel?
    /// The threads `parallel` runs on besides the caller's (nil for one thread).
    let team: Team?

    /// `path` (e.g. from `KernelPath.fromEnvironment()`, checked there) forces a kernel build;
    /// nil takes the fastest this CPU has.
    public init(threads: Int = 1, precision: Precision = .float32, path: KernelPath? = nil) {
        self.threads = max(1, threads)
        self.precision = precision
        kernels = path?.floatKernels ?? ConvKernelSet.supported.last!
        amxAllowed = path == nil || path == .amx
        int8Kernel = Int8Kernel.allowed(by: path ?? kernels.path)
        team = Team(threads: self.threads)
    }

    /// Whether the convolutions run on AMX tiles: bfloat16 (or fast) asked for, allowed, and the CPU has them.
    var useAMX: Bool { (precision == .bfloat16 || precision == .fast) && amxAllowed && Self.amxAvailable }

    /// Whether the wide 3x3 convolutions run in 8 bits: int8 (or fast, without AMX) asked for, and
    /// an int8 kernel of the path's width on this CPU (faster than its float one on every path, README "Int8").
    var useInt8: Bool { (precision == .int8 || precision == .fast && !useAMX) && int8Kernel != nil }

    /// The kernel build the convolutions run: AMX, or the float build.
    public var kernelPath: KernelPath { useAMX ? .amx : kernels.path }

    /// `kernelPath`, and "+vnni" where the wide 3x3 convolutions run in int8 (on the path's width).
    public var kernelName: String { kernelPath.rawValue + (useInt8 ? "+vnni" : "") }

    /// Whether `Precision.bfloat16` runs on AMX on this CPU (otherwise it is float32).
    public static let amxAvailable = denoise_cpu_has_amx() != 0

    /// Runs `body(range)` over `0..<n` split into one contiguous part per thread, each part a
    /// multiple of `align` except the last; one part when `work` (floats touched) is small. The parts
    /// run on the team (on Dispatch's threads while another caller holds it).
    func parallel(_ n: Int, work: Int, align: Int = 1, _ body: (Range<Int>) -> Void) {
        let units = (n + align - 1) / align
        let t = min(threads, max(1, work / 32768), units)
        if t <= 1 { return body(0..<n) }
        withoutActuallyEscaping(body) { body in
            if let team {
                var split = Split(n: n, units: units, parts: t, align: align, body: body)
                let ran = withUnsafeMutablePointer(to: &split) { context in
                    denoise_team_run(team.pointer, Int32(t), { context, i in
                        let split = context!.assumingMemoryBound(to: Split.self).pointee
                        split.body(split.range(Int(i)))
                    }, context)
                }
                if ran != 0 { return }
            }
            let split = UncheckedSendable(Split(n: n, units: units, parts: t, align: align, body: body))
            DispatchQueue.concurrentPerform(iterations: t) { split.value.body(split.value.range($0)) }
        }
    }
}

/// `parallel`'s region: part i of `parts` covers units [units i / parts, units (i + 1) / parts).
private struct Split {
    let n: Int, units: Int, parts: Int, align: Int
    let body: (Range<Int>) -> Void

    func range(_ i: Int) -> Range<Int> { min(n, units * i / parts * align) ..< min(n, units * (i + 1) / parts * align) }
}

/// A thread team (CPlatform's team.h) for the lifetime of an `Ops`. Its workers spin while they wait
/// for the next layer; Dispatch's sleep, and take tens of microseconds to wake, hundreds of times a call.
final class Team: @unchecked Sendable {
    let pointer: OpaquePointer

    init?(threads: Int) {
        guard threads > 1, let p = denoise_team_create(Int32(threads)) else { return nil }
        pointer = p
    }

    deinit { denoise_team_destroy(pointer) }
}

/// Lets a closure that only touches disjoint memory cross into Dispatch's workers.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
