import BagbotDomain
import BagbotRuntime

/// The `mindset:` section of `bagbot.yaml`: the guardrails' limits. Read by mindsetd only.
public struct MindsetSettings: ConfigSection {
    public static let key = "mindset"
    public static let numbersAllowedAsStrings: Set<String> = ["start_of_day_equity", "daily_loss_limit", "daily_loss_limit_percent", "give_back_limit"]
    /// UTC time of the daily reset, "HH:MM".
    public var dailyResetUtc = "00:00"
    public var startOfDayEquity: ExactDecimal = 100_000
    /// Absolute daily loss limit in account currency.
    public var dailyLossLimit: ExactDecimal = 1_000
    /// Daily loss limit as a percentage of start-of-day equity; the tighter of the two applies.
    public var dailyLossLimitPercent: ExactDecimal = 2
    /// Lock when the day's P&L (open positions included) falls this far, in account currency, from its
    /// intraday peak, once that peak is above zero: a good day is not given back.
    public var giveBackLimit: ExactDecimal = 500
    public var maxConsecutiveLosses = 5
    public var maxTradesPerDay = 500
    public var revengeCooldownSeconds = 300.0
    /// For this long after a loss, no new entry may be larger (in notional) than the losing trade.
    public var revengeWindowSeconds = 1_800.0
    public var confidentAfterWins = 3
    public var cautiousAfterLosses = 2
    public var tiltedAfterLosses = 3
    public var cautiousLossFraction = 0.5
    public var tiltedLossFraction = 0.8
    public var stateFactors = StateFactors()
    /// How far a request's time may lie from mindsetd's clock (docs/mindset.md, "Input").
    public var maxClockSkewSeconds = 30.0
    /// How often routerd's fill log is read for closed trades when no entry asks first (docs/mindset.md).
    public var fillPollSeconds = 1.0
    /// The longest self-lockout a trader may set (`mindset.selfLockout`).
    public var maxSelfLockoutDays = 30.0

    public init() {}

    /// How much of a proposed size each emotional state lets through.
    public struct StateFactors: Codable, Sendable, Equatable {
        public var calm = 1.0
        public var confident = 1.0
        public var cautious = 0.5
        public var tilted = 0.25

        public init() {}
    }

    public func validate(_ check: ConfigCheck) throws {
        guard DailyResetTime(dailyResetUtc) != nil else {
            throw check.fail("daily_reset_utc", "must be HH:MM in 24-hour UTC")
        }
        try check.positive(startOfDayEquity, "start_of_day_equity")
        try check.positive(dailyLossLimit, "daily_loss_limit")
        try check.positive(giveBackLimit, "give_back_limit")
        guard dailyLossLimitPercent.isPositive, dailyLossLimitPercent <= 100 else {
            throw check.fail("daily_loss_limit_percent", "must be in (0, 100]")
        }
        guard maxConsecutiveLosses > 0 else { throw check.fail("max_consecutive_losses", "must be positive") }
        guard maxTradesPerDay > 0 else { throw check.fail("max_trades_per_day", "must be positive") }
        try check.nonNegative(revengeCooldownSeconds, "revenge_cooldown_seconds")
        try check.nonNegative(revengeWindowSeconds, "revenge_window_seconds")
        guard maxSelfLockoutDays.isFinite, maxSelfLockoutDays >= 1, maxSelfLockoutDays <= 366 else {
            throw check.fail("max_self_lockout_days", "must be between 1 and 366")
        }
        guard fillPollSeconds.isFinite, fillPollSeconds >= 0.01, fillPollSeconds <= 10 else {
            // Equity and fills older than three polls block entries: a long poll would let them go stale.
            throw check.fail("fill_poll_seconds", "must be between 0.01 and 10")
        }
        guard maxClockSkewSeconds.isFinite, maxClockSkewSeconds >= 1, maxClockSkewSeconds <= 315_360_000 else {
            throw check.fail("max_clock_skew_seconds", "must be between 1 and 315360000 (ten years)")
        }
        guard tiltedAfterLosses >= cautiousAfterLosses else {
            throw check.fail("tilted_after_losses", "must be at least cautious_after_losses")
        }
        for (name, factor) in [("calm", stateFactors.calm), ("confident", stateFactors.confident),
                               ("cautious", stateFactors.cautious), ("tilted", stateFactors.tilted)] {
            guard factor >= 0, factor <= 2 else { throw check.fail("state_factors.\(name)", "must be between 0 and 2") }
        }
        // Worse states never trade larger: then a limit tightened mid-day (more wins before CONFIDENT, fewer
        // losses before CAUTIOUS) can only shrink sizes (docs/mindset.md, "Locked settings").
        guard stateFactors.tilted <= stateFactors.cautious, stateFactors.cautious <= stateFactors.calm,
              stateFactors.calm <= stateFactors.confident else {
            throw check.fail("state_factors", "must be ordered tilted ≤ cautious ≤ calm ≤ confident")
        }
    }
}
