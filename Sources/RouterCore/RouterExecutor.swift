import Foundation
import NIOConcurrencyHelpers

/// The thread routerd's order path runs on. `RouterService` and the paper venue are actors on this one serial
/// executor, so a call between them is a plain call, and their SQLite reads and writes run on it
/// synchronously (`OrderStorage`): an order goes from the request to its recorded fill without waking
/// another thread. Each wake-up costs tens of microseconds on a VM, more than the SQLite work of a step, and
/// an order used to take some twenty of them (docs/performance.md, "Durable orders").
///
/// It is the one thread of routerd that waits for the disk; the IPC server's event loops never do. The
/// actors on it keep their exclusive sections, so a wait for the disk only holds up what would have waited
/// for that write anyway. Jobs run in the order they arrive.
///
/// It is also a task executor: the replay feed prefers it, so handing a tick to the paper venue is a plain call
/// too (a max-speed replay used to wake this thread and a pool thread for every tick).
public final class RouterExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    /// One thread for the process, never stopped.
    public static let shared = RouterExecutor()

    /// True while jobs wait; `jobs` is only touched under it.
    private let pending = ConditionLock(value: false)
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "routerd-core"
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pending.lock()
        jobs.append(job)
        pending.unlock(withValue: true)
    }

    private func run() {
        var batch: [UnownedJob] = []
        while true {
            pending.lock(whenValue: true)
            swap(&batch, &jobs)
            pending.unlock(withValue: false)
            for job in batch { job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
