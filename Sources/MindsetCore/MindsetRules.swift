import Foundation
import BagbotDomain

public enum EmotionState: String, Codable, Sendable, CaseIterable {
    case calm = "CALM"
    case confident = "CONFIDENT"
    case cautious = "CAUTIOUS"
    case tilted = "TILTED"
    case locked = "LOCKED"
}

/// The mindset limits, from `mindset.*` in the configuration.
public struct MindsetRules: Sendable, Equatable {
    public var dailyReset: DailyResetTime
    public var startOfDayEquity: ExactDecimal
    public var dailyLossLimit: ExactDecimal
    public var dailyLossLimitPercent: ExactDecimal
    /// Lock when the day's P&L falls this far from its intraday peak (once the peak is above zero).
    public var giveBackLimit: ExactDecimal
    public var maxConsecutiveLosses: Int
    public var maxTradesPerDay: Int
    public var revengeCooldown: TimeInterval
    public var revengeWindow: TimeInterval
    public var confidentAfterWins: Int
    public var cautiousAfterLosses: Int
    public var tiltedAfterLosses: Int
    public var cautiousLossFraction: Double
    public var tiltedLossFraction: Double
    public var stateFactors: MindsetSettings.StateFactors
    /// nil only in rules built in code for tests of other concerns; the configuration always sets it.
    public var maxClockSkew: TimeInterval?
    public var maxSelfLockout: TimeInterval

    public init(_ config: MindsetSettings) {
        dailyReset = DailyResetTime(config.dailyResetUtc) ?? DailyResetTime("00:00")!
        startOfDayEquity = config.startOfDayEquity
        dailyLossLimit = config.dailyLossLimit
        dailyLossLimitPercent = config.dailyLossLimitPercent
        giveBackLimit = config.giveBackLimit
        maxConsecutiveLosses = config.maxConsecutiveLosses
        maxTradesPerDay = config.maxTradesPerDay
        revengeCooldown = config.revengeCooldownSeconds
        revengeWindow = config.revengeWindowSeconds
        confidentAfterWins = config.confidentAfterWins
        cautiousAfterLosses = config.cautiousAfterLosses
        tiltedAfterLosses = config.tiltedAfterLosses
        cautiousLossFraction = config.cautiousLossFraction
        tiltedLossFraction = config.tiltedLossFraction
        stateFactors = config.stateFactors
        maxClockSkew = config.maxClockSkewSeconds
        maxSelfLockout = config.maxSelfLockoutDays * 86_400
    }

    /// A step back in market time longer than this is a rewind (a replay started again), not two clocks that
    /// differ: longer than any step back between two times the skew check accepts (2 × the skew), so
    /// alternating times cannot walk the engine's clock forward; at most an hour (an opened skew).
    public var rewindThreshold: TimeInterval {
        maxClockSkew.map { min(2 * $0, 3_600) } ?? 60
    }

    /// The tighter of the absolute and the percentage limit, with the configured start-of-day equity.
    public var effectiveDailyLossLimit: ExactDecimal { dailyLossLimit(startOfDayEquity: startOfDayEquity) }

    /// The tighter of the absolute limit and the percentage of `startOfDayEquity`.
    public func dailyLossLimit(startOfDayEquity equity: ExactDecimal) -> ExactDecimal {
        guard let percentLimit = try? equity.times(dailyLossLimitPercent).divided(by: 100, scale: 8, rounding: .down) else {
            return dailyLossLimit
        }
        return min(dailyLossLimit, percentLimit)
    }

    public func sizeFactor(for state: EmotionState) -> Double {
        switch state {
        case .calm: return stateFactors.calm
        case .confident: return stateFactors.confident
        case .cautious: return stateFactors.cautious
        case .tilted: return stateFactors.tilted
        case .locked: return 0
        }
    }
}
