#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The wall clock as mindsetd trusts it for days, cooldowns and lockouts (docs/mindset.md, "Time"). A host clock
/// stepped forward — a VM resumed with a wrong clock, NTP stepping it — would otherwise roll the day at the first poll
/// after the step, ending a limit's lock and the day's count, and a day never moves back when the clock is corrected.
/// So the time given may run ahead of the last one given only as fast as the time elapsed on the host's boot clock
/// (`CLOCK_BOOTTIME`, which counts a suspend), at most twice as fast while it catches up with a step: a step of an hour
/// is absorbed over an hour, a blip of one poll moves nothing. A step back is followed at once (the engine's day
/// never goes back, and an earlier time only holds limits longer).
public final class TrustedWallClock: Sendable {
    private struct Reading {
        var given: Date
        var elapsed: Duration
        /// How far the host's clock was ahead of the time given.
        var ahead: TimeInterval
    }

    private let raw: @Sendable () -> Date
    private let elapsed: @Sendable () -> Duration
    private let logger: Logger?
    private let last = NIOLockedValueBox<Reading?>(nil)
    /// Ahead by more than this, the step is logged (when found, and when caught up).
    static let noticeAbove: TimeInterval = 5

    /// `raw`: the host's wall clock; `elapsed`: a clock that only moves forward with real time.
    public init(raw: @escaping @Sendable () -> Date = Date.init, elapsed: @escaping @Sendable () -> Duration = TrustedWallClock.bootTime,
                logger: Logger? = nil) {
        self.raw = raw
        self.elapsed = elapsed
        self.logger = logger
    }

    public func now() -> Date {
        // Both read under the lock: two callers cannot interleave and give times out of order.
        let (raw, given, ahead, before) = last.withLockedValue { last -> (Date, Date, TimeInterval, TimeInterval) in
            let raw = self.raw()
            let elapsed = self.elapsed()
            guard let previous = last else {
                last = Reading(given: raw, elapsed: elapsed, ahead: 0)
                return (raw, raw, 0, 0)
            }
            let passed = max(0, Self.seconds(elapsed - previous.elapsed))
            let given = min(raw, previous.given.addingTimeInterval(2 * passed))
            last = Reading(given: given, elapsed: elapsed, ahead: raw.timeIntervalSince(given))
            return (raw, given, raw.timeIntervalSince(given), previous.ahead)
        }
        if ahead > Self.noticeAbove, before <= Self.noticeAbove {
            logger?.warning("the host's clock jumped ahead of the time elapsed; days, cooldowns and lockouts follow the elapsed time and catch up at double speed", metadata: [
                "ahead_seconds": "\(Int(ahead))", "host_clock": "\(raw)", "trusted": "\(given)",
            ])
        } else if ahead <= Self.noticeAbove, before > Self.noticeAbove {
            logger?.notice("the trusted time has caught up with the host's clock", metadata: ["host_clock": "\(raw)"])
        }
        return given
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// Time since boot, suspends included (the monotonic clock where that cannot be read).
    public static let bootTime: @Sendable () -> Duration = {
        var now = timespec()
        #if os(Linux)
        if clock_gettime(CLOCK_BOOTTIME, &now) == 0 { return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec) }
        #endif
        clock_gettime(CLOCK_MONOTONIC, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
