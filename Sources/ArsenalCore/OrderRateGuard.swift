import Foundation

/// The strategy's own order guardrails, in market time: a cooldown between orders and a cap on orders
/// in any rolling minute.
public struct OrderRateGuard: Sendable {
    public private(set) var cooldown: TimeInterval
    public private(set) var maxPerMinute: Int
    private var recent: [Date] = []
    private var oldest = 0

    public init(cooldown: TimeInterval, maxPerMinute: Int) {
        self.cooldown = cooldown
        self.maxPerMinute = maxPerMinute
    }

    /// New limits; the orders already recorded still count (a change never opens a burst).
    public mutating func reconfigure(cooldown: TimeInterval, maxPerMinute: Int) {
        self.cooldown = cooldown
        self.maxPerMinute = maxPerMinute
    }

    /// Whether an order may go now (`refusal` says why not; this builds no sentence, for the per-tick path).
    public func allows(at time: Date) -> Bool {
        !inCooldown(at: time) && !atMinuteCap(at: time)
    }

    /// Nil when an order may go now, else why not.
    public func refusal(at time: Date) -> String? {
        if inCooldown(at: time) { return "order cooldown (\(Int(cooldown * 1000)) ms)" }
        if atMinuteCap(at: time) { return "at most \(maxPerMinute) orders in any 60 s" }
        return nil
    }

    private func inCooldown(at time: Date) -> Bool {
        recent.last.map { time.timeIntervalSince($0) < cooldown } ?? false
    }

    private func atMinuteCap(at time: Date) -> Bool {
        // The order `maxPerMinute` back (more may be kept after the cap was lowered).
        recent.count - oldest >= maxPerMinute && time.timeIntervalSince(recent[recent.count - maxPerMinute]) < 60
    }

    public mutating func record(_ time: Date) {
        recent.append(time)
        while recent.count - oldest > maxPerMinute { oldest += 1 }
        if oldest > 256 {
            recent.removeFirst(oldest)
            oldest = 0
        }
    }
}
