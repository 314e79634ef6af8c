import Foundation
import BagbotDomain

/// The account's equity through a session: its start, end, deepest fall from a peak, and the Sharpe ratio of
/// its minute-by-minute changes scaled to a day.
public struct EquityCurve: Sendable, Equatable {
    public private(set) var start: ExactDecimal?
    public private(set) var last: ExactDecimal?
    public private(set) var peak: ExactDecimal?
    /// The largest fall of equity from an earlier peak (zero when it never fell).
    public private(set) var maxDrawdown: ExactDecimal = .zero
    /// The minute (of market time) being observed and the equity at its end so far.
    private var minute: Int64?
    /// Equity at the end of each minute that had ticks, in order.
    private var minuteCloses: [Double] = []

    public init() {}

    /// Takes the equity at market time `time` (called on the first tick of each minute and after each fill).
    public mutating func observe(_ equity: ExactDecimal, at time: Date) {
        if start == nil { start = equity }
        let bucket = Int64((time.timeIntervalSince1970 / 60).rounded(.down))
        if let minute, bucket != minute, let last { minuteCloses.append(last.doubleValue) }
        minute = bucket
        last = equity
        if peak.map({ equity > $0 }) ?? true { peak = equity }
        if let peak, let fall = try? peak - equity, fall > maxDrawdown { maxDrawdown = fall }
    }

    /// Whether `time` falls in another minute than the last observation (so the equity should be observed).
    public func isNewMinute(_ time: Date) -> Bool {
        minute != Int64((time.timeIntervalSince1970 / 60).rounded(.down))
    }

    public var change: ExactDecimal? {
        guard let start, let last else { return nil }
        return try? last - start
    }

    /// Mean over standard deviation of the equity's change from one minute with ticks to the next, times √1440
    /// (minutes per day): a daily Sharpe ratio with no risk-free rate. Nil with fewer than two changes or when
    /// equity never moved. Minutes without ticks are left out (a gap is one step, however long).
    public var sharpePerDay: Double? {
        var closes = minuteCloses
        if let last { closes.append(last.doubleValue) }
        guard closes.count >= 3 else { return nil }
        let changes = zip(closes.dropFirst(), closes).map { $0 - $1 }
        let mean = changes.reduce(0, +) / Double(changes.count)
        let variance = changes.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(changes.count - 1)
        guard variance > 0 else { return nil }
        return mean / variance.squareRoot() * Double(1_440).squareRoot()
    }
}
