import Synchronization

/// Said once by a daemon's service when the daemon can serve; awaited by the systemd service, which then
/// sends READY=1 and starts the watchdog.
public final class DaemonReadiness: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let flag = Atomic<Bool>(false)

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The daemon can serve. Later calls do nothing.
    public func ready() {
        flag.store(true, ordering: .releasing)
        continuation.yield()
        continuation.finish()
    }

    public var isReady: Bool { flag.load(ordering: .acquiring) }

    /// Returns true once the daemon is ready; false when the waiting task is cancelled first. One waiter only.
    public func wait() async -> Bool {
        for await _ in stream { return true }
        return isReady
    }
}
