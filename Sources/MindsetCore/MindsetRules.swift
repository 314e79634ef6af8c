import Foundation
import BagbotDomain

public enum EmotionState: String, Codable, Sendable, CaseIterable {
    case calm = "CALM"
    case confident = "CONFIDENT"
    case cautious = "CAUTIOUS"
    case tilted = "TILTED"
    case locked = "LOCKED"
}

/// The mindset limits, from `mindset.*` in the configuration: the day's limits (`DayLimits`, read through
/// `rules.dailyLossLimit` and the like) and the settings no day locks.
@dynamicMemberLookup
public struct MindsetRules: Sendable, Equatable {
    public var dailyReset: DailyResetTime
    public var limits: DayLimits
    public var maxSelfLockout: TimeInterval
    /// What LOCKED does besides blocking entries. Not locked with the day: turning `flatten` off only ends
    /// forced orders, and an operator must be able to do that at once (docs/mindset.md, "Flatten on LOCKED").
    public var onLockedAction: MindsetSettings.LockedAction

    public init(_ config: MindsetSettings) {
        dailyReset = DailyResetTime(config.dailyResetUtc) ?? DailyResetTime("00:00")!
        limits = DayLimits(config)
        maxSelfLockout = config.maxSelfLockoutDays * 86_400
        onLockedAction = config.onLocked
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<DayLimits, Value>) -> Value {
        get { limits[keyPath: keyPath] }
        set { limits[keyPath: keyPath] = newValue }
    }

    /// A step back in market time longer than this is a rewind (a replay started again), not two clocks that
    /// differ: longer than any step back between two times the skew check accepts (2 × the skew), so
    /// alternating times cannot walk the engine's clock forward; at most an hour (an opened skew).
    public var rewindThreshold: TimeInterval {
        limits.maxClockSkew.map { min(2 * $0, 3_600) } ?? 60
    }

    /// The tighter of the absolute and the percentage limit, with the configured start-of-day equity.
    public var effectiveDailyLossLimit: ExactDecimal { dailyLossLimit(startOfDayEquity: limits.startOfDayEquity) }

    /// The tighter of the absolute limit and the percentage of `startOfDayEquity`.
    public func dailyLossLimit(startOfDayEquity equity: ExactDecimal) -> ExactDecimal {
        guard let percentLimit = try? equity.times(limits.dailyLossLimitPercent).divided(by: 100, scale: 8, rounding: .down) else {
            return limits.dailyLossLimit
        }
        return min(limits.dailyLossLimit, percentLimit)
    }

    /// The grading in force (the configuration's defaults for a day saved before grades existed).
    public var gradingRules: Grading { limits.grading ?? Grading(MindsetSettings()) }

    public func sizeFactor(for state: EmotionState) -> Double {
        switch state {
        case .calm: return limits.stateFactors.calm
        case .confident: return limits.stateFactors.confident
        case .cautious: return limits.stateFactors.cautious
        case .tilted: return limits.stateFactors.tilted
        case .locked: return 0
        }
    }
}
