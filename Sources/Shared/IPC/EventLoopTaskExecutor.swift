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
/// connection on the loop.
public final class EventLoopTaskExecutor: TaskExecutor, SerialExecutor {
    public let eventLoop: EventLoop

    public init(eventLoop: EventLoop) {
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
