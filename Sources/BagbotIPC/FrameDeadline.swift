import NIOCore

/// Thrown into the pipeline when a frame whose first bytes arrived is not complete within its time: a
/// peer that stalls mid-frame would otherwise hold its connection (and the bytes so far) forever.
public struct FrameTimeoutError: Error, CustomStringConvertible {
    public let timeout: TimeAmount
    public let bufferedBytes: Int
    public var description: String {
        "a frame was not completed within \(timeout.nanoseconds / 1_000_000) ms (\(bufferedBytes) bytes received)"
    }
}

/// The frame-completion timer of one connection, driven by its `BoundedFrameDecoder`. It costs nothing
/// while frames arrive whole: the loop's clock (virtual in tests) is read only when a read ends inside a frame, and one scheduled
/// task at a time checks the deadline (re-arming itself when the partial frame it was set for completed
/// and a later one started), instead of a task scheduled and cancelled per frame.
final class FrameDeadline {
    private let timeout: TimeAmount
    /// When the oldest incomplete frame's first bytes arrived; nil when none is buffered.
    private var partialSince: NIODeadline?
    private var bufferedBytes = 0
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// The decoder holds `buffered` bytes of a frame it cannot yet emit.
    func frameIncomplete(buffered: Int, context: ChannelHandlerContext) {
        bufferedBytes = buffered
        if partialSince == nil { partialSince = context.eventLoop.now }
        if timer == nil { arm(at: partialSince! + timeout, context: context) }
    }

    /// No partial frame is buffered.
    @inline(__always)
    func noPartialFrame() {
        partialSince = nil
    }

    func cancel() {
        timer?.cancel()
        timer = nil
        partialSince = nil
    }

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (deadlineTimer, context) = bound.value
            deadlineTimer.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        timer = nil
        guard let since = partialSince, context.channel.isActive else { return }
        let expiry = since + timeout
        guard context.eventLoop.now >= expiry else {
            arm(at: expiry, context: context)
            return
        }
        partialSince = nil
        context.fireErrorCaught(FrameTimeoutError(timeout: timeout, bufferedBytes: bufferedBytes))
    }
}
