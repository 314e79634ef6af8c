import NIOCore

/// Lets at most `limit` log lines through per `interval` and counts the rest, so a peer sending garbage
/// in a loop cannot flood the journal; the count is reported with the next line let through, or by the
/// owner when it goes away (`takeSuppressed`). Not thread-safe: one per connection, on its event loop.
public struct LogRateLimiter {
    public enum Decision: Equatable {
        /// Log the line; `suppressed` lines were dropped since the last one logged.
        case log(suppressed: Int)
        case suppress
    }

    public let limit: Int
    public let interval: TimeAmount
    private let now: () -> NIODeadline
    private var windowStart: NIODeadline?
    private var loggedInWindow = 0
    private var suppressed = 0

    /// `now` is the clock, injectable for tests.
    public init(limit: Int = 5, interval: TimeAmount = .seconds(1), now: @escaping () -> NIODeadline = { NIODeadline.now() }) {
        self.limit = limit
        self.interval = interval
        self.now = now
    }

    public mutating func admit() -> Decision {
        let time = now()
        if let start = windowStart, time < start + interval {
            guard loggedInWindow < limit else {
                suppressed += 1
                return .suppress
            }
        } else {
            windowStart = time
            loggedInWindow = 0
        }
        loggedInWindow += 1
        defer { suppressed = 0 }
        return .log(suppressed: suppressed)
    }

    /// The lines suppressed since the last one logged, reset to zero.
    public mutating func takeSuppressed() -> Int {
        defer { suppressed = 0 }
        return suppressed
    }
}
