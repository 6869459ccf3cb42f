import Dispatch
import Glibc
import Synchronization

public enum DenoiseError: Error, Equatable, Sendable {
    /// The progress callback asked to stop.
    case cancelled
    case invalidArgument(String)
    /// Float input held NaN or infinite samples (their count).
    case nonFinite(Int)
}

/// One run of an algorithm: its thread count, its progress, and its cancellation.
///
/// Work runs on Dispatch worker threads; the progress callback is called only on the thread that
/// called `run`, so hosts with single-threaded UIs (GIMP) can update widgets from it. The callback
/// returns `false` to cancel: workers stop at their next row and `run` throws `.cancelled`.
public final class Job: Sendable {
    public let threads: Int
    private let total: Int
    private let done = Atomic<Int>(0)
    private let stop = Atomic<Bool>(false)
    private let report: Mutex<(@Sendable (Double) -> Bool)?>

    /// - Parameters:
    ///   - threads: worker count; 0 means one per core.
    ///   - workUnits: how many units `advance` will be called with in all, for the progress fraction.
    ///   - progress: called with the fraction done; return false to cancel.
    public init(threads: Int = 0, workUnits: Int = 1, progress: (@Sendable (Double) -> Bool)? = nil) {
        self.threads = threads > 0 ? threads : Job.coreCount
        self.total = max(1, workUnits)
        self.report = Mutex(progress)
    }

    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    public var isCancelled: Bool { stop.load(ordering: .relaxed) }

    /// Marks `units` of work as done (from any thread).
    public func advance(_ units: Int) { done.add(units, ordering: .relaxed) }

    /// Calls the progress callback now (caller's thread only); throws if it cancels.
    public func checkpoint() throws {
        let f = min(1.0, Double(done.load(ordering: .relaxed)) / Double(total))
        let keepGoing = report.withLock { $0?(f) ?? true }
        if !keepGoing { stop.store(true, ordering: .relaxed) }
        if isCancelled { throw DenoiseError.cancelled }
    }

    /// Runs `work(0..<tasks)` on up to `threads` workers and returns the results in task order.
    /// The calling thread reports progress while it waits.
    public func run<R: Sendable>(tasks: Int, _ work: @escaping @Sendable (Int) -> R) throws -> [R] {
        let results = Mutex([R?](repeating: nil, count: tasks))
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<min(tasks, threads) {
            DispatchQueue.global().async(group: group) {
                while true {
                    let t = next.add(1, ordering: .relaxed).oldValue
                    if t >= tasks || self.isCancelled { break }
                    let r = work(t)
                    results.withLock { $0[t] = r }
                }
            }
        }
        while group.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            _ = try? checkpoint()
        }
        try checkpoint()
        return results.withLock { $0.map { $0! } }
    }
}
