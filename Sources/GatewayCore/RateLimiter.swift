import Foundation
import NIOConcurrencyHelpers

/// One quota's state after a decision, as the rate-limit headers report it.
public struct QuotaState: Sendable, Equatable {
    /// "minute" or "day": the policy's name in `RateLimit-Policy` and `RateLimit`.
    public var name: String
    /// Requests allowed in the window.
    public var quota: Int
    /// The window in seconds (60, or 86,400 for the UTC day).
    public var window: Int
    /// Requests still allowed now.
    public var remaining: Int
    /// Whole seconds until more quota is available: for the minute, until the request whose leaving the window lets
    /// one more in leaves it (the oldest, unless the quota was lowered below the requests in it; 0 when the window is
    /// empty); for the day, until the next 00:00 UTC.
    public var reset: Int
}

/// The limiter's answer for one request.
public struct RateDecision: Sendable, Equatable {
    public var admitted: Bool
    public var minute: QuotaState
    /// nil when the subscription has no daily cap.
    public var day: QuotaState?
    /// Whole seconds before a retry can be admitted; set only when refused.
    public var retryAfter: Int?
    /// Requests admitted today (UTC), this one included when admitted.
    public var usedToday: Int

    /// The quota that will refuse first (fewer remaining; the minute on a tie): what `X-RateLimit-*` report.
    public var tightest: QuotaState {
        guard let day, day.remaining < minute.remaining || (!admitted && day.remaining == 0) else { return minute }
        return day
    }
}

/// Per-owner rate limits: a sliding window log for the minute and a count per UTC day.
///
/// The minute is exact: a request is admitted only if fewer than `perMinute` requests of the same owner were
/// admitted in the 60 seconds before it (a request admitted at t leaves the window at t + 60 s). A GCRA or token
/// bucket with a burst of `perMinute` would admit up to twice that in some 60 seconds; the log never does, at the
/// cost of one timestamp per admitted request in the last minute (`perMinute` at most, 8 bytes each).
/// The day is the UTC calendar day, like `usage today` in `GET /api/subscription/me` and billing.
///
/// Every decision checks and updates both quotas under one lock, so concurrent requests can never be admitted
/// beyond either quota. Refused requests consume nothing.
public final class RateLimiter: Sendable {
    static let minuteWindow: Double = 60

    struct OwnerState {
        /// Times (seconds since 1970) of the requests admitted in the last minute, oldest first, from `head` on.
        var admitted: [Double] = []
        var head = 0
        /// The UTC day (days since 1970) `dayCount` counts.
        var day: Int
        var dayCount: Int

        var inWindow: Int { admitted.count - head }

        mutating func prune(before cutoff: Double) {
            while head < admitted.count && admitted[head] <= cutoff { head += 1 }
            // Compact once the dead prefix is large, so memory stays about one window's worth.
            if head > 64 && head * 2 > admitted.count {
                admitted.removeFirst(head)
                head = 0
            }
        }
    }

    /// What a restarted gateway knows of an owner from `usage_logs`: the times admitted in the last minute and the
    /// count of the current UTC day.
    public struct Seed: Sendable {
        public var minuteTimes: [Date]
        public var dayCount: Int
        public var day: Int
    }

    private let owners = NIOLockedValueBox<[String: OwnerState]>([:])

    public init() {}

    /// Whether the limiter has state for `owner` (if not, the caller seeds it from `usage_logs` first).
    public func knows(_ owner: String) -> Bool {
        owners.withLockedValue { $0[owner] != nil }
    }

    /// Installs `seed` for `owner` unless another request already did: the first state wins, so no admitted request
    /// is forgotten.
    public func seed(_ owner: String, _ seed: Seed) {
        owners.withLockedValue { owners in
            guard owners[owner] == nil else { return }
            owners[owner] = OwnerState(admitted: seed.minuteTimes.map(\.timeIntervalSince1970).sorted(), day: seed.day, dayCount: seed.dayCount)
        }
    }

    static func utcDay(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    static func startOfUTCDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(utcDay(date)) * 86_400)
    }

    /// Decides one request of `owner` at `now` under `limits`.
    public func decide(owner: String, limits: TierLimits, now: Date) -> RateDecision {
        let time = now.timeIntervalSince1970
        let today = Self.utcDay(now)
        let secondsToMidnight = Int((Double(today + 1) * 86_400 - time).rounded(.up))
        return owners.withLockedValue { owners in
            // Taken out of the dictionary, not copied: a copy would share the window's buffer, and the append below
            // would then copy every time in it (up to a minute's quota) on each request.
            var state = owners.removeValue(forKey: owner) ?? OwnerState(day: today, dayCount: 0)
            state.prune(before: time - Self.minuteWindow)
            if state.day != today {
                state.day = today
                state.dayCount = 0
            }
            let minuteOK = state.inWindow < limits.perMinute
            let dayOK = limits.perDay == 0 || state.dayCount < limits.perDay
            let admitted = minuteOK && dayOK
            if admitted {
                state.admitted.append(time)
                state.dayCount += 1
            }
            var retryAfter: Int?
            if !admitted {
                if !dayOK {
                    retryAfter = max(1, secondsToMidnight)
                } else {
                    // The request that must leave the window before one more fits.
                    let leaving = state.admitted[state.head + (state.inWindow - limits.perMinute)]
                    retryAfter = max(1, Int((leaving + Self.minuteWindow - time).rounded(.up)))
                }
            }
            // Until the request whose leaving lets one more in: the oldest, unless more than the quota are in the
            // window (the quota was lowered), then the one that brings the count under it — what `Retry-After` says.
            let minuteReset = state.inWindow == 0 ? 0
                : max(1, Int((state.admitted[state.head + max(0, state.inWindow - limits.perMinute)] + Self.minuteWindow - time).rounded(.up)))
            let minute = QuotaState(name: "minute", quota: limits.perMinute, window: 60,
                                    remaining: max(0, limits.perMinute - state.inWindow), reset: minuteReset)
            let day = limits.perDay == 0 ? nil
                : QuotaState(name: "day", quota: limits.perDay, window: 86_400,
                             remaining: max(0, limits.perDay - state.dayCount), reset: secondsToMidnight)
            owners[owner] = state
            return RateDecision(admitted: admitted, minute: minute, day: day, retryAfter: retryAfter, usedToday: state.dayCount)
        }
    }
}
