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
    /// Grades (docs/mindset.md, "Grades"): over the last `grade_window` closed trades, from `min_graded_trades` on.
    public var gradeWindow = 20
    public static let maxGradeWindow = 1_000
    public var minGradedTrades = 5
    public var gradeThresholds = GradeThresholds()
    public var gradeFactors = GradeFactors()
    /// What LOCKED does besides blocking entries: `flatten` also closes the strategies' open positions.
    public var onLocked = LockedAction.block

    public init() {}

    public enum LockedAction: String, Codable, Sendable {
        case block, flatten
    }

    /// The lowest score of each grade (below `d`: F).
    public struct GradeThresholds: Codable, Sendable, Equatable {
        public var a = 80.0
        public var b = 65.0
        public var c = 50.0
        public var d = 35.0

        public init() {}
        public init(a: Double, b: Double, c: Double, d: Double) {
            (self.a, self.b, self.c, self.d) = (a, b, c, d)
        }
    }

    /// How much of a proposed size each grade lets through (`ungraded`: too few trades to grade).
    public struct GradeFactors: Codable, Sendable, Equatable {
        public var a = 1.0
        public var b = 1.0
        public var c = 0.75
        public var d = 0.5
        public var f = 0.25
        public var ungraded = 1.0

        public init() {}
        public init(a: Double, b: Double, c: Double, d: Double, f: Double, ungraded: Double) {
            (self.a, self.b, self.c, self.d, self.f, self.ungraded) = (a, b, c, d, f, ungraded)
        }
    }

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
            // At most 1: risk scaling only ever shrinks a request.
            guard factor >= 0, factor <= 1 else { throw check.fail("state_factors.\(name)", "must be between 0 and 1") }
        }
        // Worse states never trade larger: then a limit tightened mid-day (more wins before CONFIDENT, fewer
        // losses before CAUTIOUS) can only shrink sizes (docs/mindset.md, "Locked settings").
        guard stateFactors.tilted <= stateFactors.cautious, stateFactors.cautious <= stateFactors.calm,
              stateFactors.calm <= stateFactors.confident else {
            throw check.fail("state_factors", "must be ordered tilted ≤ cautious ≤ calm ≤ confident")
        }
        try validateGrading(check)
    }

    private func validateGrading(_ check: ConfigCheck) throws {
        guard gradeWindow >= 1, gradeWindow <= Self.maxGradeWindow else {
            throw check.fail("grade_window", "must be between 1 and \(Self.maxGradeWindow)")
        }
        guard minGradedTrades >= 1, minGradedTrades <= gradeWindow else {
            throw check.fail("min_graded_trades", "must be between 1 and grade_window")
        }
        let t = gradeThresholds
        guard [t.a, t.b, t.c, t.d].allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 100 }), t.a >= t.b, t.b >= t.c, t.c >= t.d else {
            throw check.fail("grade_thresholds", "must be scores within 0–100, ordered a ≥ b ≥ c ≥ d")
        }
        let f = gradeFactors
        for (name, factor) in [("a", f.a), ("b", f.b), ("c", f.c), ("d", f.d), ("f", f.f), ("ungraded", f.ungraded)] {
            guard factor >= 0, factor <= 1 else { throw check.fail("grade_factors.\(name)", "must be between 0 and 1") }
        }
        // A worse grade never trades larger: a tightened threshold can then only shrink sizes.
        guard f.f <= f.d, f.d <= f.c, f.c <= f.b, f.b <= f.a else {
            throw check.fail("grade_factors", "must be ordered f ≤ d ≤ c ≤ b ≤ a")
        }
    }
}
