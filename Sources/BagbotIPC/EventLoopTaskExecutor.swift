import NIOCore

/// Runs Swift tasks on one NIO event loop.
///
/// An `IPCClient` call made from an ordinary task crosses threads twice: the task's pool thread hands the
/// request to the channel's event loop, and the loop hands the answer back to a pool thread. Each hand-off
/// wakes a sleeping thread, which costs more than everything else in a call (tens of microseconds across
/// cores). A task that prefers this executor for the client's loop (`IPCClient.executor`) makes its calls
/// without either hand-off: it writes the request on the loop thread itself, and it is resumed there when
/// the answer is read.
///
/// Only code that never blocks may run here: a task that waits on a lock, a file or SQLite stalls every
/// connection on the loop. The loop must outlive every task that uses it (NIO's singleton group's loops
/// are never shut down); a job given to a loop that has shut down is never run.
///
/// There is one executor per loop (`for(_:)`): Swift tells executors apart by identity, so an actor on one
/// client's executor and a task preferring another client's executor on the same loop would otherwise take
/// a needless trip through the loop's queue to switch between them.
public final class EventLoopTaskExecutor: TaskExecutor, SerialExecutor {
    public let eventLoop: EventLoop

    private static let executors = PerEventLoop { EventLoopTaskExecutor(eventLoop: $0) }

    /// The executor of `eventLoop`.
    public static func `for`(_ eventLoop: EventLoop) -> EventLoopTaskExecutor {
        executors.value(for: eventLoop)
    }

    private init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        eventLoop.preconditionInEventLoop()
    }
}
