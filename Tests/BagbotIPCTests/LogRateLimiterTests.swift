import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import BagbotIPC

/// A clock the test moves by hand.
private final class ManualClock: Sendable {
    private let time = NIOLockedValueBox(NIODeadline.uptimeNanoseconds(1_000_000_000))
    var now: NIODeadline { time.withLockedValue { $0 } }
    func advance(by amount: TimeAmount) { time.withLockedValue { $0 = $0 + amount } }
}

@Suite("Rate limit and excerpts of logged bad input")
struct LogRateLimiterTests {
    @Test("at most `limit` lines per interval; the next line let through carries the count of those dropped")
    func limitsAndReports() {
        let clock = ManualClock()
        var limiter = LogRateLimiter(limit: 3, interval: .seconds(1), now: { clock.now })
        #expect((0..<3).map { _ in limiter.admit() } == Array(repeating: .log(suppressed: 0), count: 3))
        #expect((0..<10).map { _ in limiter.admit() } == Array(repeating: .suppress, count: 10))
        clock.advance(by: .milliseconds(999))
        #expect(limiter.admit() == .suppress)
        clock.advance(by: .milliseconds(1))
        #expect(limiter.admit() == .log(suppressed: 11))
        #expect(limiter.admit() == .log(suppressed: 0))
    }

    @Test("what was suppressed when the owner goes away is handed over once")
    func takeSuppressed() {
        let clock = ManualClock()
        var limiter = LogRateLimiter(limit: 1, interval: .seconds(1), now: { clock.now })
        #expect(limiter.admit() == .log(suppressed: 0))
        #expect(limiter.admit() == .suppress)
        #expect(limiter.admit() == .suppress)
        #expect(limiter.takeSuppressed() == 2)
        #expect(limiter.takeSuppressed() == 0)
        clock.advance(by: .seconds(5))
        #expect(limiter.admit() == .log(suppressed: 0))
    }

    @Test("an excerpt keeps the first characters, names the full size, and escapes control characters")
    func excerpts() {
        let long = String(repeating: "x", count: 100_000)
        let excerpt = LogExcerpt.of(long)
        #expect(excerpt == String(repeating: "x", count: 200) + "… (100000 bytes)")
        #expect(LogExcerpt.of("short") == "short")
        #expect(LogExcerpt.of("a\nb\u{7F}") == "a\\nb\\u{7F}")
        // one Character of a million combining marks is still cut at 200 scalars
        let combining = "e" + String(repeating: "\u{301}", count: 1_000_000)
        #expect(LogExcerpt.of(combining).unicodeScalars.count < 230)
        let bytes: [UInt8] = Array(repeating: UInt8(ascii: "y"), count: 5_000) + [0xFF]
        let fromBytes = bytes.withUnsafeBytes { LogExcerpt.of(bytes: $0, limit: 10) }
        #expect(fromBytes == "yyyyyyyyyy… (5001 bytes)")
        #expect([UInt8(0xFF), 0x41].withUnsafeBytes { LogExcerpt.of(bytes: $0) } == "\u{FFFD}A")
    }
}
