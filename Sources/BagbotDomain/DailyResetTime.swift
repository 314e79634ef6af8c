import Foundation

/// The daily reset moment, "HH:MM" UTC.
public struct DailyResetTime: Sendable, Equatable {
    public let hour: Int
    public let minute: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// The start of the trading day containing `date`: the latest reset moment at or before it.
    public func dayStart(containing date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let midnight = calendar.startOfDay(for: date)
        let reset = midnight.addingTimeInterval(TimeInterval(hour * 3_600 + minute * 60))
        return reset <= date ? reset : reset.addingTimeInterval(-86_400)
    }
}
