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
/// The replay feed runs on this thread too (`feed`, its task executor): handing a tick to the paper venue then
/// wakes no other thread (a max-speed replay used to wake this one and a pool thread for every tick). Only the
/// feed's own jobs carry that task executor; every other job runs as before.
public final class RouterExecutor: SerialExecutor, @unchecked Sendable {
    /// One thread for the process, never stopped.
    public static let shared = RouterExecutor()

    /// True while jobs wait; `jobs` is only touched under it.
    private let pending = ConditionLock(value: false)
    /// Each job, and whether it is the feed's (run with `feed` as its task executor).
    private var jobs: [(job: UnownedJob, feed: Bool)] = []
    /// The task executor the replay feed prefers: its jobs run on this thread, in the same queue.
    public let feed = FeedExecutor()

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "routerd-core"
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(UnownedJob(job), feed: false)
    }

    fileprivate func enqueue(_ job: UnownedJob, feed: Bool) {
        pending.lock()
        jobs.append((job, feed))
        pending.unlock(withValue: true)
    }

    private func run() {
        var batch: [(job: UnownedJob, feed: Bool)] = []
        while true {
            pending.lock(whenValue: true)
            swap(&batch, &jobs)
            pending.unlock(withValue: false)
            for (job, isFeed) in batch {
                if isFeed {
                    job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: feed.asUnownedTaskExecutor())
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

/// The replay feed's task executor: its jobs go to routerd's core thread (`RouterExecutor.shared`), tagged as
/// the feed's.
public final class FeedExecutor: TaskExecutor, Sendable {
    fileprivate init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        RouterExecutor.shared.enqueue(UnownedJob(job), feed: true)
    }
}
