import Foundation
import BagbotDomain

/// The limits in force for one trading day (docs/mindset.md, "Locked settings"): saved with the state when the
/// day starts. A configuration read mid-day (a restart) can only tighten them: each limit is the tighter of
/// the day's and the configuration's; a looser one takes effect at the next reset, so a trader on tilt cannot
/// raise a limit and restart.
public struct DayLimits: Codable, Sendable, Equatable {
    public var startOfDayEquity: ExactDecimal
    public var dailyLossLimit: ExactDecimal
    public var dailyLossLimitPercent: ExactDecimal
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
    /// How far an entry's time may lie from the wall clock: locked with the day too, or a wider one would let a
    /// single message start the next day early (nil: unbounded, in rules built in code for tests).
    public var maxClockSkew: TimeInterval?
    /// How trades are graded and what each grade lets through; nil in a day saved before grades existed (then
    /// the configuration's apply).
    public var grading: Grading?

    public init(_ config: MindsetSettings) {
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
        grading = Grading(config)
    }

    /// Each limit the tighter of the two: lower loss limits, counts, fractions and size factors; longer
    /// cooldowns; more wins before CONFIDENT.
    func tightened(by other: DayLimits) -> DayLimits {
        var tighter = self
        tighter.startOfDayEquity = min(startOfDayEquity, other.startOfDayEquity)
        tighter.dailyLossLimit = min(dailyLossLimit, other.dailyLossLimit)
        tighter.dailyLossLimitPercent = min(dailyLossLimitPercent, other.dailyLossLimitPercent)
        tighter.giveBackLimit = min(giveBackLimit, other.giveBackLimit)
        tighter.maxConsecutiveLosses = min(maxConsecutiveLosses, other.maxConsecutiveLosses)
        tighter.maxTradesPerDay = min(maxTradesPerDay, other.maxTradesPerDay)
        tighter.revengeCooldown = max(revengeCooldown, other.revengeCooldown)
        tighter.revengeWindow = max(revengeWindow, other.revengeWindow)
        tighter.confidentAfterWins = max(confidentAfterWins, other.confidentAfterWins)
        tighter.cautiousAfterLosses = min(cautiousAfterLosses, other.cautiousAfterLosses)
        tighter.tiltedAfterLosses = min(tiltedAfterLosses, other.tiltedAfterLosses)
        tighter.cautiousLossFraction = min(cautiousLossFraction, other.cautiousLossFraction)
        tighter.tiltedLossFraction = min(tiltedLossFraction, other.tiltedLossFraction)
        tighter.stateFactors.calm = min(stateFactors.calm, other.stateFactors.calm)
        tighter.stateFactors.confident = min(stateFactors.confident, other.stateFactors.confident)
        tighter.stateFactors.cautious = min(stateFactors.cautious, other.stateFactors.cautious)
        tighter.stateFactors.tilted = min(stateFactors.tilted, other.stateFactors.tilted)
        tighter.maxClockSkew = [maxClockSkew, other.maxClockSkew].compactMap { $0 }.min()
        if let day = other.grading { tighter.grading = grading?.tightened(by: day) ?? day }
        return tighter
    }
}
