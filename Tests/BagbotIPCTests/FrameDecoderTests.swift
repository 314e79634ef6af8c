import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import BagbotIPC

@Suite("BoundedFrameDecoder and client backoff")
struct FrameDecoderTests {
    private func channel(maximum: Int) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: maximum)))
    }

    private func readAll(_ channel: EmbeddedChannel) throws -> [String] {
        var frames: [String] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) {
            frames.append(String(buffer: frame))
        }
        return frames
    }

    @Test("frames fed one byte at a time come out whole, including an empty one")
    func byteByByte() throws {
        let channel = channel(maximum: 64)
        let bytes = Wire.frame("hello") + Wire.frame("") + Wire.frame("world!")
        var seenBeforeLastByte: [String] = []
        for (index, byte) in bytes.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if index == bytes.count - 2 { seenBeforeLastByte = try readAll(channel) }
        }
        #expect(seenBeforeLastByte == ["hello", ""])
        #expect(try readAll(channel) == ["world!"])
        #expect(try channel.finish().isClean)
    }

    @Test("several frames in one buffer, with a partial one at the end kept for later")
    func mergedFrames() throws {
        let channel = channel(maximum: 64)
        let whole = Wire.frame("a") + Wire.frame("bc") + Wire.frame("def")
        let partial = Wire.frame("ghij")
        try channel.writeInbound(ByteBuffer(bytes: whole + partial.prefix(6)))
        #expect(try readAll(channel) == ["a", "bc", "def"])
        try channel.writeInbound(ByteBuffer(bytes: Array(partial.dropFirst(6))))
        #expect(try readAll(channel) == ["ghij"])
        #expect(try channel.finish().isClean)
    }

    @Test("an oversized length is refused as soon as the header arrives")
    func refusedAtHeader() throws {
        let channel = channel(maximum: 1 << 20)
        #expect {
            try channel.writeInbound(ByteBuffer(bytes: Wire.bigEndian32(0xFFFF_FFF0)))
        } throws: { error in
            guard let tooLarge = error as? FrameTooLargeError else { return false }
            return tooLarge.declared == 0xFFFF_FFF0 && tooLarge.maximum == 1 << 20
        }
        #expect(try readAll(channel).isEmpty)
        _ = try? channel.finish()
    }

    @Test("the maximum is inclusive")
    func maximumInclusive() throws {
        let channel = channel(maximum: 8)
        try channel.writeInbound(ByteBuffer(bytes: Wire.frame("12345678")))
        #expect(try readAll(channel) == ["12345678"])
        #expect(throws: FrameTooLargeError.self) {
            try channel.writeInbound(ByteBuffer(bytes: Wire.frame("123456789")))
        }
        _ = try? channel.finish()
    }

    @Test("a length of exactly 0x7FFFFFFF or above is refused too (never Int32 overflow)")
    func hugeLengths() throws {
        for declared: UInt32 in [0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF] {
            let channel = channel(maximum: 1 << 20)
            #expect(throws: FrameTooLargeError.self) {
                try channel.writeInbound(ByteBuffer(bytes: Wire.bigEndian32(declared)))
            }
            _ = try? channel.finish()
        }
    }

    @Test("backoff stays within [½·min(max, initial·2ⁿ), min(max, initial·2ⁿ)] and never overflows")
    func backoffBounds() {
        let initial = Duration.milliseconds(100)
        let maximum = Duration.seconds(5)
        var outside: [String] = []
        var largest = Duration.zero
        for attempt in 0...64 {
            let exponent = min(attempt, 40)
            let upper = min(maximum, initial * (1 << exponent))
            let lower = upper * 0.5
            for _ in 0..<200 {
                let delay = IPCClient.backoff(attempt: attempt, initial: initial, maximum: maximum)
                largest = max(largest, delay)
                if delay < lower - .nanoseconds(1) || delay > upper {
                    outside.append("attempt \(attempt): \(delay) not in [\(lower), \(upper)]")
                }
            }
        }
        #expect(outside.isEmpty, "\(outside.prefix(5))")
        #expect(largest <= maximum)
        // the first attempts grow: attempt 3 waits at least 400 ms, attempt 0 at most 100 ms
        #expect(IPCClient.backoff(attempt: 3, initial: initial, maximum: maximum) >= .milliseconds(400))
        #expect(IPCClient.backoff(attempt: 0, initial: initial, maximum: maximum) <= .milliseconds(100))
    }

    @Test("backoff is randomised (jitter), so restarted clients do not reconnect in lockstep")
    func backoffJitter() {
        let delays = Set((0..<50).map { _ in
            IPCClient.backoff(attempt: 4, initial: .milliseconds(100), maximum: .seconds(5))
        })
        #expect(delays.count > 1)
    }
}
