import Foundation
import Testing
@testable import GatewayCore

/// The limiter alone: decisions as values, no HTTP.
@Suite("RateLimiter")
struct RateLimiterTests {
    static let t0 = Date(timeIntervalSince1970: 1_900_000_000)
    static let free = TierLimits(perMinute: 60, perDay: 1_000, readOnly: true)

    @Test("exactly perMinute in any 60 s; refusals consume nothing")
    func minute() {
        let limiter = RateLimiter()
        for index in 1...60 {
            let decision = limiter.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(Double(index) / 100))
            #expect(decision.admitted)
            #expect(decision.minute.remaining == 60 - index)
            #expect(decision.usedToday == index)
        }
        for _ in 0..<10 {
            let refused = limiter.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(30))
            #expect(!refused.admitted)
            #expect(refused.usedToday == 60)
            #expect(refused.retryAfter == 31)   // the first left at 60.01 s
        }
        // The first request (at 0.01 s) leaves at 60.01 s, not before.
        #expect(!limiter.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(60)).admitted)
        #expect(limiter.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(60.01)).admitted)
        #expect(!limiter.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(60.01)).admitted)
        // Another owner is not affected.
        #expect(limiter.decide(owner: "b", limits: Self.free, now: Self.t0.addingTimeInterval(30)).admitted)
    }

    @Test("the day's count starts again at 00:00 UTC")
    func dayRollover() {
        let limiter = RateLimiter()
        let limits = TierLimits(perMinute: 100, perDay: 3, readOnly: false)
        let midnight = RateLimiter.startOfUTCDay(Self.t0).addingTimeInterval(86_400)
        #expect(midnight.timeIntervalSince(Self.t0) == 22_400)
        let before = midnight.addingTimeInterval(-10)
        for _ in 0..<3 { #expect(limiter.decide(owner: "a", limits: limits, now: before).admitted) }
        let refused = limiter.decide(owner: "a", limits: limits, now: before)
        #expect(!refused.admitted)
        #expect(refused.retryAfter == 10)
        #expect(refused.tightest.name == "day")
        let after = limiter.decide(owner: "a", limits: limits, now: midnight)
        #expect(after.admitted)
        #expect(after.day?.remaining == 2)
        #expect(after.day?.reset == 86_400)
    }

    @Test("a lowered limit applies at once; the window keeps what it holds")
    func loweredLimit() {
        let limiter = RateLimiter()
        for _ in 0..<10 { _ = limiter.decide(owner: "a", limits: Self.free, now: Self.t0) }
        let lowered = TierLimits(perMinute: 4, perDay: 0, readOnly: false)
        let refused = limiter.decide(owner: "a", limits: lowered, now: Self.t0.addingTimeInterval(1))
        #expect(!refused.admitted)
        #expect(refused.minute.remaining == 0)
        #expect(refused.retryAfter == 59)
        #expect(refused.day == nil)
        // Spread over the minute, more than the new quota in the window: the reset is when the count falls under the
        // quota (the 7th oldest of 10 leaves), the same as Retry-After — not when the oldest leaves.
        let spread = RateLimiter()
        for second in 0..<10 { _ = spread.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(Double(second))) }
        let cut = spread.decide(owner: "a", limits: lowered, now: Self.t0.addingTimeInterval(20))
        #expect(!cut.admitted)
        #expect(cut.retryAfter == 46)   // the 7th request, at 6 s, leaves at 66 s
        #expect(cut.minute.reset == cut.retryAfter)
        // Under the quota, the reset is still the oldest leaving.
        let under = spread.decide(owner: "b", limits: lowered, now: Self.t0.addingTimeInterval(20))
        #expect(under.admitted && under.minute.reset == 60)
    }

    @Test("a seed counts as admitted; the first state installed wins")
    func seed() {
        let limiter = RateLimiter()
        limiter.seed("a", .init(minuteTimes: Array(repeating: Self.t0, count: 60), dayCount: 900, day: RateLimiter.utcDay(Self.t0)))
        limiter.seed("a", .init(minuteTimes: [], dayCount: 0, day: RateLimiter.utcDay(Self.t0)))
        let refused = limiter.decide(owner: "a", limits: Self.free, now: Self.t0.addingTimeInterval(10))
        #expect(!refused.admitted)
        #expect(refused.day?.remaining == 100)
        #expect(refused.retryAfter == 50)
    }

    @Test("200 concurrent decisions from many threads never admit more than the quota")
    func concurrent() async {
        for _ in 0..<20 {
            let limiter = RateLimiter()
            let admitted = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<200 {
                    group.addTask { limiter.decide(owner: "a", limits: Self.free, now: Self.t0).admitted }
                }
                var count = 0
                for await ok in group where ok { count += 1 }
                return count
            }
            #expect(admitted == 60)
        }
    }
}
