import Foundation

/// The strategy's own order guardrails, in market time: a cooldown between orders and a cap on orders
/// in any rolling minute.
public struct OrderRateGuard: Sendable {
    public let cooldown: TimeInterval
    public let maxPerMinute: Int
    private var recent: [Date] = []
    private var oldest = 0

    public init(cooldown: TimeInterval, maxPerMinute: Int) {
        self.cooldown = cooldown
        self.maxPerMinute = maxPerMinute
    }

    /// Nil when an order may go now, else why not.
    public func refusal(at time: Date) -> String? {
        if let last = recent.last, time.timeIntervalSince(last) < cooldown {
            return "order cooldown (\(Int(cooldown * 1000)) ms)"
        }
        if recent.count - oldest >= maxPerMinute, time.timeIntervalSince(recent[oldest]) < 60 {
            return "at most \(maxPerMinute) orders in any 60 s"
        }
        return nil
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
