import Foundation
import BagbotDomain

/// The account's equity through a session: its start, end, deepest fall from a peak, and the Sharpe ratio of
/// its minute-by-minute changes scaled to a day.
public struct EquityCurve: Sendable, Equatable {
    /// A gap without ticks longer than this is a break between sessions (a weekend, two files of different
    /// days): the change across it is left out of the Sharpe ratio instead of counted as a minute's.
    public static let sessionBreakMinutes: Int64 = 60

    public private(set) var start: ExactDecimal?
    public private(set) var last: ExactDecimal?
    public private(set) var peak: ExactDecimal?
    /// The largest fall of equity from an earlier peak (zero when it never fell).
    public private(set) var maxDrawdown: ExactDecimal = .zero
    /// The minute (of market time) being observed, and the equity at the end of the one before.
    private var minute: Int64?
    private var previousClose: Double?
    /// Running count, mean and sum of squared deviations of the minute changes (Welford).
    private var changes = 0
    private var mean = 0.0
    private var squares = 0.0

    public init() {}

    /// Takes the equity at market time `time` (the session observes it each minute, each poll while a position
    /// is open, and after each fill).
    public mutating func observe(_ equity: ExactDecimal, at time: Date) {
        if start == nil { start = equity }
        let bucket = Self.minute(of: time)
        if let minute, bucket > minute, let last {
            close(last.doubleValue, minutesLater: bucket - minute)
        }
        minute = max(minute ?? bucket, bucket)
        last = equity
        if peak.map({ equity > $0 }) ?? true { peak = equity }
        if let peak, let fall = try? peak - equity, fall > maxDrawdown { maxDrawdown = fall }
    }

    /// A minute ended at `close`; the next observation is `minutesLater` minutes on. Minutes without ticks in
    /// between are minutes without change; beyond a session break the change is not counted.
    private mutating func close(_ close: Double, minutesLater: Int64) {
        if let previous = previousClose { add(close - previous) }
        guard minutesLater <= Self.sessionBreakMinutes else {
            // The next minute's change starts from the next session's first close.
            previousClose = nil
            return
        }
        previousClose = close
        for _ in 1..<max(1, minutesLater) { add(0) }
    }

    private mutating func add(_ change: Double) {
        changes += 1
        let delta = change - mean
        mean += delta / Double(changes)
        squares += delta * (change - mean)
    }

    private static func minute(of time: Date) -> Int64 { Int64((time.timeIntervalSince1970 / 60).rounded(.down)) }

    /// Whether `time` falls in another minute than the last observation (so the equity should be observed).
    public func isNewMinute(_ time: Date) -> Bool { minute != Self.minute(of: time) }

    public var change: ExactDecimal? {
        guard let start, let last else { return nil }
        return try? last - start
    }

    /// Mean over standard deviation of the equity's change per minute, times √1440 (minutes per day): a daily
    /// Sharpe ratio with no risk-free rate. Minutes without ticks count as unchanged, except across a session
    /// break; the minute under way counts as closed. Nil with fewer than two changes or when equity never moved.
    public var sharpePerDay: Double? {
        var closed = self
        if let last, closed.minute != nil { closed.close(last.doubleValue, minutesLater: 1) }
        guard closed.changes >= 2 else { return nil }
        let variance = closed.squares / Double(closed.changes - 1)
        guard variance > 0 else { return nil }
        return closed.mean / variance.squareRoot() * Double(1_440).squareRoot()
    }
}
