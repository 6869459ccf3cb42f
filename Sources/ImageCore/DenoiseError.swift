/// What every filter throws; the C API maps each case to a `dn_status` and a message.
public enum DenoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The progress callback asked to stop.
    case cancelled
    case invalidArgument(String)
    /// Images of sizes the operation cannot take (too small, or two that differ).
    case invalidSize(String)
    /// Float input held NaN or infinite samples (their count).
    case nonFinite(Int)
    /// The run needs about `needed` bytes; the system has `available` (nil: unknown) or refused.
    case outOfMemory(needed: Int, available: Int?)

    /// The error as a sentence, for messages.
    public var description: String {
        switch self {
        case .cancelled: "cancelled by the progress callback"
        case .invalidArgument(let m), .invalidSize(let m): m
        case .nonFinite(let n): "input holds \(n) NaN or infinite samples"
        case .outOfMemory(let needed, let available):
            "out of memory: this image needs about \(needed >> 20) MiB of working memory"
                + (available.map { ", \($0 >> 20) MiB are available" } ?? ", which could not be allocated")
        }
    }
}
