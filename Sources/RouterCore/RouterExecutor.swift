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
/// Tasks may prefer this thread too (`tasks`, its task executor): the replay feed, so that handing a tick to the paper
/// venue wakes no other thread (a max-speed replay used to wake this one and a pool thread for every tick), and, while
/// the paper venue is the only venue, the IPC handlers of calls that go straight to `RouterService` with a small answer
/// (an order, a cancel, positions; `RouterDaemon.callExecutor`), so that a call wakes this thread alone rather than a
/// pool thread on its way in and another on its way out. Only those tasks' jobs given to `tasks` carry that task
/// executor. A job of such a task that comes back here through the actors' own queue (resumed after waiting for an
/// exclusive section) does not, so its next call between `RouterService` and the paper venue goes through the queue
/// instead of inline.
public final class RouterExecutor: SerialExecutor, @unchecked Sendable {
    /// One thread for the process, never stopped.
    public static let shared = RouterExecutor()

    /// True while jobs wait; `jobs` is only touched under it.
    private let pending = ConditionLock(value: false)
    /// Each job, and whether it belongs to a task that prefers this thread (run with `tasks` as its task executor).
    private var jobs: [(job: UnownedJob, preferring: Bool)] = []
    /// The task executor of tasks that prefer this thread: their jobs run here, in the same queue.
    public let tasks = CoreTaskExecutor()

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "routerd-core"
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(UnownedJob(job), preferring: false)
    }

    fileprivate func enqueue(_ job: UnownedJob, preferring: Bool) {
        pending.lock()
        jobs.append((job, preferring))
        pending.unlock(withValue: true)
    }

    private func run() {
        var batch: [(job: UnownedJob, preferring: Bool)] = []
        while true {
            pending.lock(whenValue: true)
            swap(&batch, &jobs)
            pending.unlock(withValue: false)
            for (job, preferring) in batch {
                if preferring {
                    job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: tasks.asUnownedTaskExecutor())
                } else {
                    job.runSynchronously(on: asUnownedSerialExecutor())
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

/// routerd's core thread (`RouterExecutor.shared`) as a task executor: the jobs of tasks that prefer it go there,
/// tagged so that they keep preferring it.
public final class CoreTaskExecutor: TaskExecutor, Sendable {
    fileprivate init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        RouterExecutor.shared.enqueue(UnownedJob(job), preferring: true)
    }
}
