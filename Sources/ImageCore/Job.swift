import Dispatch
import Glibc
import Synchronization

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
        let results = ResultSlots<R>(count: tasks)
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<min(tasks, threads) {
            DispatchQueue.global().async(group: group) {
                while true {
                    let t = next.add(1, ordering: .relaxed).oldValue
                    if t >= tasks || self.isCancelled { break }
                    results[t] = work(t)
                }
            }
        }
        while group.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            _ = try? checkpoint()
        }
        try checkpoint()
        return results.values
    }
}

/// One slot per task, each written once, by the worker that ran the task, and read after all of
/// them have joined (concurrentPerform's return, a DispatchGroup's wait): disjoint writes ordered
/// by the join, with no lock for ThreadSanitizer to miss.
package final class ResultSlots<R>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<R?>

    package init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }

    package subscript(task: Int) -> R? {
        get { slots[task] }
        set { slots[task] = newValue }
    }

    /// Every slot's value (all must have been written).
    package var values: [R] { slots.map { $0! } }
}

/// A pointer handed to workers that each touch their own part of its memory.
package struct SendablePointer<T>: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<T>

    package init(pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
