import NIOCore
import NIOEmbedded
import Testing
@testable import BagbotIPC

/// The frame-completion timeout, on an embedded loop whose clock the test moves.
@Suite("Frame-completion timeout")
struct FrameDeadlineTests {
    /// Connected, so that it is active as a server's connection is.
    private func channel(timeout: TimeAmount = .seconds(10)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: 1 << 20, frameTimeout: timeout)))
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/frame-deadline-test")).wait()
        return channel
    }

    private func timedOut(_ channel: EmbeddedChannel) -> FrameTimeoutError? {
        do {
            try channel.throwIfErrorCaught()
            return nil
        } catch {
            return error as? FrameTimeoutError
        }
    }

    @Test("a frame started and not finished in time raises FrameTimeoutError, not a moment before")
    func stalledFrame() throws {
        let channel = try channel()
        let frame = Wire.frame(#"{"v":1}"#)
        try channel.writeInbound(ByteBuffer(bytes: Array(frame.prefix(6))))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(9_999))
        #expect(timedOut(channel) == nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let error = try #require(timedOut(channel))
        #expect(error.bufferedBytes == 6)
        _ = try? channel.finish()
    }

    @Test("idle time between whole frames is not limited, and each partial frame gets its own full time")
    func idleIsFine() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(bytes: Wire.frame("a")))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3_600))
        #expect(timedOut(channel) == nil)

        // a frame split across reads but finished in time, then a new one started late in the first's window
        let second = Wire.frame("bb")
        try channel.writeInbound(ByteBuffer(bytes: Array(second.prefix(3))))
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        let third = Wire.frame("ccc")
        try channel.writeInbound(ByteBuffer(bytes: Array(second.dropFirst(3)) + Array(third.prefix(2))))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))  // 17 s after the second began, 9 after the third
        #expect(timedOut(channel) == nil)
        try channel.writeInbound(ByteBuffer(bytes: Array(third.dropFirst(2))))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(timedOut(channel) == nil)
        var frames: [String] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) { frames.append(String(buffer: frame)) }
        #expect(frames == ["a", "bb", "ccc"])
        #expect(try channel.finish().isClean)
    }

    @Test("a client's decoder (no timeout) never times out")
    func noTimeout() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: 64)))
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/frame-deadline-test")).wait()
        try channel.writeInbound(ByteBuffer(bytes: [0, 0]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3_600))
        #expect(timedOut(channel) == nil)
        _ = try? channel.finish()
    }
}
