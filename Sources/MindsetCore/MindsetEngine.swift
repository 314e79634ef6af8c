import Foundation
import BagbotDomain

public struct StateTransition: Codable, Sendable, Equatable {
    public var from: EmotionState
    public var to: EmotionState
    public var reason: String
    public var at: Date
}

/// One finished trading day, appended to `daily_metrics.json` at the reset; or, with `lateTrades`, an
/// addition to a finished day: trades that closed on it but were recorded after it had ended.
public struct DailySummary: Codable, Sendable, Equatable {
    public var dayStart: Date
    public var pnl: ExactDecimal
    public var trades: Int
    public var wins: Int
    public var losses: Int
    /// The emotion state at the reset; nil in an entry made only of late trades.
    public var finalState: EmotionState?
    /// How many of `trades` were recorded after the day had ended (absent when none).
    public var lateTrades: Int? = nil

    /// Adds `other`'s figures (a late trade of the same day) to this day.
    mutating func add(_ other: DailySummary) throws {
        pnl = try pnl + other.pnl
        trades += other.trades
        wins += other.wins
        losses += other.losses
        lateTrades = (lateTrades ?? 0) + (other.lateTrades ?? other.trades)
    }
}

/// What set a lock: an admin, a limit the trading reached, or state mindsetd cannot vouch for (a corrupt or lost
/// state file, a figure no decimal holds). Only the first two are about the trading: `on_locked: flatten`
/// closes positions for them, never for a lock that only says the state is unknown.
public enum LockCause: String, Codable, Sendable {
    case admin, limit, unknownState
}

/// Everything the engine remembers; persisted as `mindset_state.json`.
public struct MindsetState: Codable, Sendable, Equatable {
    public var dayStart: Date?
    public var dailyPnl: ExactDecimal = 0
    public var trades: Int = 0
    public var wins: Int = 0
    public var losses: Int = 0
    public var winStreak: Int = 0
    public var lossStreak: Int = 0
    public var emotion: EmotionState = .calm
    public var lockReason: String?
    /// What set the lock in force (nil while not locked, and in a state saved before causes were kept).
    public var lockCause: LockCause?
    /// Since when a lock for unknown state waits for an admin to acknowledge it (`mindset.unlock`); it
    /// outlasts resets meanwhile. The limits, an admin lock and flattening still work under it.
    public var acknowledgmentPendingSince: Date?
    public var lastLossAt: Date?
    public var lastLossNotional: ExactDecimal?
    /// The losing trade's symbol: its notional is in that symbol's quote asset (nil in a state saved before it was kept).
    public var lastLossSymbol: String?
    /// Its quote asset, when known at the loss (so a symbol no longer routed, or an account not read since a restart,
    /// still compares).
    public var lastLossQuote: String?
    /// The engine's own time: it follows market time forward and never goes back (`MindsetEngine.observe`);
    /// days, cooldowns and windows are counted on it.
    public var clock: Date?
    /// The market time the clock's next step is measured from (`MindsetEngine.observe`).
    public var lastEventTime: Date?
    public var transitions: [StateTransition] = []
    /// Every transition ever noted, counted: the service announces the ones past what it announced.
    public var transitionsNoted: Int = 0
    /// The latest recorded trade ids, so a resent trade is not counted twice.
    public var recentTradeIds: [String] = []
    /// Finished days not yet appended to `daily_metrics.json` (kept in the state so a crash loses none).
    public var unarchivedDays: [DailySummary] = []
    /// How far routerd's fill log has been counted (nil before mindsetd first reached routerd).
    public var fillLog: FillLogPosition?
    /// The account's equity at the start of the day (the first figure routerd gave after the reset; nil
    /// until then), and its latest figure.
    public var startOfDayEquity: ExactDecimal?
    public var equity: ExactDecimal?
    /// The currency `startOfDayEquity` is in: a figure in another is not comparable with it.
    public var equityCurrency: String?
    /// The account's scope (`AccountSummary.scope`) `startOfDayEquity` was taken in.
    public var equityScope: String?
    /// Each scope's start of the day once routerd left it (paper ↔ live): coming back to a scope measures from its
    /// own start again, so switching modes and back cannot wipe a live position's open loss from the day's measure.
    public var dayStartsByScope: [String: ScopeStart]?
    /// Each symbol's quote asset, as routerd's marks gave them (`MindsetEngine.quoteAssets`).
    public var quoteAssets: [String: String]?
    /// Each quote asset's rate in the account currency as routerd last gave them when the state was saved, and that
    /// currency (`MindsetEngine.quoteRates`): after a restart, until routerd's first account, the trades closed while
    /// mindsetd was down are judged at them rather than as they are (a yen loss 150 times over), and converted at the
    /// first account's (`MindsetEngine.savedRates`).
    public var quoteRates: [String: ExactDecimal]?
    public var quoteRatesCurrency: String?
    /// The day's closed trades in the account's currency (`ClosedInAccount`); nil in a state saved before it was kept
    /// (then the day's P&L as it stood stands in: `MindsetEngine.init`).
    public var closedInAccount: ClosedInAccount?
    /// Where each open position's part of the day's P&L counts from (`MindsetEngine+OpenPositions.swift`); nil until
    /// the day's first marks, and again when routerd's scope or fill log changes.
    public var openStarts: OpenPositionStarts?
    /// The highest the day's judged P&L has been (never below zero): the give-back limit counts from it.
    public var intradayPeak: ExactDecimal = 0
    /// The limits in force for the current day (`DayLimits`).
    public var dayLimits: DayLimits?
    /// A self-lockout: no entries until this wall-clock time, lifted by nothing else (`MindsetLocks.swift`).
    public var selfLockoutUntil: Date?
    public var selfLockoutReason: String?
    /// The latest closed trades' results, for the grades (nil in a state saved before grades existed).
    public var recentResults: RecentResults?
    /// Positions grown today and not reduced since (`MindsetEngine+TradeCount.swift`): each a trade of the day once
    /// closed (nil in a state saved before they were kept).
    public var untradedOpens: [StrategyPositionKey]?
    /// The day's trades in the order counted, so a closing order's later parts amend its trade
    /// (`MindsetEngine+ClosingOrders.swift`; nil in a state saved before they were kept).
    public var todayTrades: [CountedTrade]?

    public init() {}
}

/// The mindset rules as plain Swift: no I/O, no clock of its own (every call carries market time),
/// so tests drive it directly and a replay is deterministic.
public struct MindsetEngine: Sendable {
    /// The rules in force today: the configured ones, tightened by the day's saved limits (`DayLimits`).
    public private(set) var rules: MindsetRules
    /// The rules from the configuration: all of them apply from the next reset.
    public let configured: MindsetRules
    public internal(set) var state: MindsetState
    /// The grades of the recent trades under today's rules (from `state.recentResults`).
    public private(set) var grades: GradeBook
    /// The latest time the clock may show: mindsetd's wall clock plus the skew, set before each call (nil: no
    /// bound). A host clock stepped back pulls the engine's clock back with it rather than leave it ahead.
    public var ceiling: Date?
    /// routerd's latest marks by symbol (`AccountSummary.marks`): the open positions are valued at them.
    public internal(set) var marks: [String: AccountSummary.SymbolMark] = [:]
    /// Each symbol's quote asset (from routerd's marks, or the backtest's rules): the revenge cap compares sizes in one.
    public var quoteAssets: [String: String] = [:]
    /// Each quote asset's rate in the account currency, from routerd's latest account, valued whole or not
    /// (`takeRates`): the closed trades and the revenge cap convert at it. Saved with the state (`MindsetState.quoteRates`).
    var quoteRates: [String: ExactDecimal] = [:]
    /// The account currency `quoteRates` are in (nil: not known, as in a backtest).
    var ratesCurrency: String?
    /// The rates saved with the state, from before a restart, until routerd's first account: they only judge the trades
    /// that wait for a rate (`closedTradesPnl`), they convert none (they may be hours old, or in a currency routerd's
    /// account no longer has).
    var savedRates: (rates: [String: ExactDecimal], currency: String?)?
    /// Assets a live venue holds less of than the books (routerd's `shortfalls`): positions in them are not valued.
    var shortAssets: Set<String> = []
    /// The fill sequence counted when the marks were read: positions changed since are not valued at them.
    var marksThrough: Int64?
    /// Entries approved and not yet seen filled (`MindsetEngine+TradeCount.swift`); not saved: after a restart the
    /// positions the fill log shows count.
    var pendingEntries: [PendingEntry] = []
    static let keptTransitions = 50
    /// Fill ids of closing trades remembered, parts of an order included: more than a day counts, so a recount of
    /// the day never counts one twice (an order's later parts no longer spend the day's trades).
    var keptTradeIds: Int { max(4_000, 4 * rules.maxTradesPerDay) }

    public init(rules: MindsetRules, state: MindsetState = MindsetState()) {
        configured = rules
        self.rules = rules
        self.state = state
        // Only rates routerd could have given (it gives none at or below zero): the state file may say anything.
        let savedRates = state.quoteRates.map { ($0.filter { $0.value.isPositive }, state.quoteRatesCurrency) }
        let quoteAssets = state.quoteAssets ?? [:]
        grades = GradeBook.of(state.recentResults ?? RecentResults(), grading: rules.gradingRules,
                              drawdownScale: rules.dailyLossLimit(startOfDayEquity: state.startOfDayEquity ?? rules.startOfDayEquity),
                              value: { Self.value(of: $0, in: savedRates?.1, quoteAssets: quoteAssets, savedRates: savedRates) })
        self.quoteAssets = quoteAssets
        self.savedRates = savedRates
        guard state.dayStart != nil else { return }
        if self.state.closedInAccount == nil { self.state.closedInAccount = ClosedInAccount(converted: state.dailyPnl) }
        if let earlier = state.openStarts?.earlierClosedStarts {
            self.state.closedInAccount?.startsOfClosed = earlier
            self.state.openStarts?.earlierClosedStarts = nil
        }
        // A day in progress keeps its limits; only a tighter configuration applies before the reset.
        let today = state.dayLimits.map { rules.limits.tightened(by: $0) } ?? rules.limits
        self.rules.limits = today
        self.state.dayLimits = today
        regrade()
    }

    /// Grades the recent trades anew under today's rules, drawdowns against today's loss limit (which moves with
    /// the start-of-day equity).
    mutating func regrade() {
        let (currency, quoteAssets, savedRates) = (gradingCurrency, quoteAssets, savedRates)
        grades = GradeBook.of(state.recentResults ?? RecentResults(), grading: rules.gradingRules, drawdownScale: dailyLossLimit,
                              value: { Self.value(of: $0, in: currency, quoteAssets: quoteAssets, savedRates: savedRates) })
    }

    /// The currency the grades weigh the results in: routerd's rates' (until routerd's first account after a restart,
    /// the saved ones'); nil in a backtest, which has an account currency but no rates, and grades its results as they are.
    var gradingCurrency: String? { ratesCurrency ?? savedRates?.currency }

    /// A trade's result as the grades keep it (`TradeResult`): with its quote asset's rate in the account currency,
    /// when routerd's rates have it (not the rates saved before a restart, which may be hours old: a result without a
    /// rate takes the first account's, `takeRates`).
    func result(of pnl: ExactDecimal, symbol: String) -> TradeResult {
        var result = TradeResult(pnl, symbol: symbol)
        if let currency = ratesCurrency, let rate = quoteAssets[symbol].flatMap({ self.rate(of: $0) }) {
            (result.rate, result.currency) = (rate, currency)
        }
        return result
    }

    /// `result` in `currency` for the grades: at its rate; as it is in a pair quoted in that currency; while routerd's
    /// first account after a restart is awaited, at the saved rates (judging only, as the loss limits do). Nil when
    /// none applies (a rate never known, or a result saved before its symbol was kept). Without a currency (a
    /// backtest), as it is.
    static func value(of result: TradeResult, in currency: String?, quoteAssets: [String: String],
                      savedRates: (rates: [String: ExactDecimal], currency: String?)?) -> ExactDecimal? {
        guard let currency else { return result.pnl }
        guard let symbol = result.symbol else { return nil }
        if let rate = result.rate, rate.isPositive, result.currency == currency { return try? result.pnl.times(rate) }
        guard let asset = quoteAssets[symbol] else { return nil }
        if asset == currency { return result.pnl }
        guard let saved = savedRates, saved.currency == nil || saved.currency == currency, let rate = saved.rates[asset], rate.isPositive else {
            return nil
        }
        return try? result.pnl.times(rate)
    }

    /// The revenge guard's end times still ahead of the engine's clock (nil: over, or no loss yet).
    public var revengeGuard: (cooldownUntil: Date?, windowUntil: Date?) {
        guard let lastLoss = state.lastLossAt, let now = state.clock else { return (nil, nil) }
        let cooldown = lastLoss.addingTimeInterval(rules.revengeCooldown), window = lastLoss.addingTimeInterval(rules.revengeWindow)
        return (cooldown > now ? cooldown : nil, window > now ? window : nil)
    }

    /// Whether the configuration loosens a limit that waits for the next reset.
    public var loosenedUntilReset: Bool { rules.limits != configured.limits }

    /// Maps an event's market time onto the engine's clock and returns the engine's now. The clock moves by
    /// the market's own steps forward and never back. A step back of more than `rules.rewindThreshold` is a rewind
    /// (a replay that starts again): the clock stays, and moves on by each later step from the new market
    /// time. A smaller step back is two clocks a little apart (venues, feeds): ignored, so steps keep being
    /// measured from the latest time and the clock cannot drift ahead. A cooldown or a day is never computed
    /// from a time earlier than one already seen.
    @discardableResult
    public mutating func observe(_ time: Date) -> Date {
        guard let clock = state.clock else {
            (state.clock, state.lastEventTime) = (time, time)
            return time
        }
        let last = state.lastEventTime ?? clock
        if time >= last {
            state.clock = clock.addingTimeInterval(time.timeIntervalSince(last))
            state.lastEventTime = time
        } else if last.timeIntervalSince(time) > rules.rewindThreshold {
            state.lastEventTime = time
        }
        if let ceiling, let now = state.clock, now > ceiling {
            // Only after the host's clock went back: the day and the cooldowns wait for it (fail closed).
            state.clock = ceiling
        }
        return state.clock ?? clock
    }


    /// Observes `time`, and starts a new day if the engine's clock is past the next reset; returns the
    /// finished day, if one ended.
    public mutating func advance(to time: Date) -> DailySummary? {
        rollDay(at: observe(time))
    }

    /// The now of an event that may be late (a closed trade sent after later events): its own time when it is
    /// not behind the clock (observed), else the clock's.
    mutating func now(ofLate time: Date) -> Date {
        guard let clock = state.clock, time < clock else { return observe(time) }
        return clock
    }

    mutating func rollDay(at time: Date) -> DailySummary? {
        // Within the current day (resets are in UTC: every day is 24 h) no calendar is needed.
        if let current = state.dayStart, time >= current, time < current.addingTimeInterval(86_400) { return nil }
        let dayStart = rules.dailyReset.dayStart(containing: time)
        guard let current = state.dayStart else {
            state.dayStart = dayStart
            state.dayLimits = rules.limits
            return nil
        }
        guard dayStart > current else { return nil }
        // A new day: the configuration's limits, looser ones included, apply from now.
        rules = configured
        state.dayLimits = configured.limits
        let summary = DailySummary(dayStart: current, pnl: state.dailyPnl, trades: state.trades, wins: state.wins,
                                   losses: state.losses, finalState: state.emotion)
        state.unarchivedDays.append(summary)
        let previous = state.emotion
        state.dayStart = dayStart
        state.dailyPnl = 0
        state.trades = 0
        state.wins = 0
        state.losses = 0
        state.winStreak = 0
        state.lossStreak = 0
        state.todayTrades = []
        state.untradedOpens = []
        state.startOfDayEquity = nil
        state.openStarts = nil
        state.closedInAccount = ClosedInAccount()
        state.equityCurrency = nil
        state.equityScope = nil
        state.dayStartsByScope = nil
        state.intradayPeak = 0
        regrade()
        // A lock for state mindsetd cannot vouch for outlasts the reset: it waits for an admin to acknowledge it.
        if previous == .locked, let since = state.acknowledgmentPendingSince {
            // The day's limit or admin lock ends with the day; what stays is the state to be acknowledged.
            state.lockCause = .unknownState
            state.lockReason = "state unknown since \(ISO8601DateFormatter().string(from: since)): locked until an admin acknowledges it (mindset.unlock)"
            return summary
        }
        state.lockReason = nil
        state.lockCause = nil
        state.emotion = .calm
        if previous != .calm {
            note(StateTransition(from: previous, to: .calm, reason: "daily reset", at: time))
        }
        return summary
    }

    /// Decides on a proposed trade: approved with a size, or blocked, with every reason (a code and a sentence).
    public mutating func evaluate(_ proposal: TradeProposal) -> MindsetDecision {
        guard proposal.quantity.isPositive, proposal.price.isPositive else {
            return blocked("invalid_proposal", "invalid proposal: quantity and price must be positive numbers")
        }
        guard proposal.isEntry else {
            // Closing or stopping out reduces risk; blocking it would be the dangerous choice. Its time moves
            // nothing: an exit is never the message that ends a cooldown or rolls the day.
            return MindsetDecision(approved: true, sizeMultiplier: 1, approvedQuantity: proposal.quantity, emotionState: state.emotion.rawValue,
                                   reasons: ["exit: reducing exposure is always allowed"], codes: ["exit"])
        }
        let now = observe(proposal.time)
        _ = rollDay(at: now)
        let emotion = state.emotion.rawValue
        if state.emotion == .locked {
            return blocked("locked", "locked: \(state.lockReason ?? "no reason recorded")")
        }
        if state.trades >= rules.maxTradesPerDay {
            return blocked("max_trades", "max trades per day reached (\(rules.maxTradesPerDay))")
        }
        if let block = tradeLimitBlock(proposal, at: now) { return block }
        if let lastLoss = state.lastLossAt {
            let since = now.timeIntervalSince(lastLoss)
            if since < rules.revengeCooldown {
                let left = Int((rules.revengeCooldown - since).rounded(.up))
                return blocked("revenge_cooldown", "revenge guard: cooldown after a loss, \(left)s left")
            }
        }
        var reasons: [String] = [], codes: [String] = []
        let stateFactor = rules.sizeFactor(for: state.emotion)
        reasons.append("state \(emotion): size × \(Self.twoDecimals(stateFactor))")
        codes.append("state_size")
        let grading = rules.gradingRules
        let (gradeFactor, report, whose) = grades.sizeFactor(for: proposal.strategyId, grading: grading)
        if let report, let grade = report.grade {
            reasons.append("grade \(grade.rawValue) (\(whose), score \(Self.twoDecimals(report.score ?? 0)) over the last \(report.trades) trades): size × \(Self.twoDecimals(gradeFactor))")
        } else {
            reasons.append("not graded yet (\(whose): \(report?.trades ?? 0) of \(grading.minTrades) trades): size × \(Self.twoDecimals(gradeFactor))")
        }
        codes.append("grade_size")
        // Sizes only ever shrink here. The product is exact (the factor has 6 decimals); the arsenal rounds it
        // down to the symbol's step size.
        let factor = min(1, stateFactor * gradeFactor)
        guard factor.isFinite, factor >= 0, let exactFactor = ExactDecimal(rounding: factor, scale: 6, rounding: .down),
              var quantity = try? proposal.quantity.times(exactFactor).normalized else {
            return blocked("size_out_of_range", "size factor \(factor) (state \(emotion) × grade) is out of range")
        }
        if let lastLoss = state.lastLossAt, state.lastLossNotional != nil, now.timeIntervalSince(lastLoss) < rules.revengeWindow {
            // A loss in USDT caps an entry quoted in BTC at the same value, not at as many BTC.
            guard let comparable = self.lostNotional(in: proposal.symbol),
                  let cap = try? comparable.divided(by: proposal.price, scale: Self.capScale, rounding: .towardZero).normalized else {
                let loss = state.lastLossSymbol.map { "a loss in \($0)" } ?? "a loss"
                return blocked("revenge_cap", "revenge guard: the losing trade's size cannot be compared with this one (\(loss), this entry in \(proposal.symbol), no rate between their quote assets yet)")
            }
            if quantity > cap {
                quantity = cap
                reasons.append("revenge guard: capped at the losing trade's size (\(Self.format(comparable)) notional)")
                codes.append("revenge_cap")
            }
        }
        guard quantity.isPositive else {
            // Blocked for what the factors leave (nothing): counted under its own code, the factors follow.
            return MindsetDecision(approved: false, sizeMultiplier: 0, approvedQuantity: 0, emotionState: emotion,
                                   reasons: ["nothing left to trade once scaled"] + reasons, codes: ["size_zero"] + codes)
        }
        notePendingEntry(proposal, at: now)
        return MindsetDecision(approved: true, sizeMultiplier: quantity.doubleValue / proposal.quantity.doubleValue, approvedQuantity: quantity,
                               emotionState: emotion, reasons: reasons, codes: codes)
    }

    /// Records a closed trade: daily P&L, streaks, and the emotion state that follows from them. `order`: the
    /// closing order's client order id, whose later parts then amend this trade (`amend`).
    @discardableResult
    public mutating func record(_ trade: ClosedTrade, order: String? = nil) -> (summary: DailySummary?, transition: StateTransition?) {
        if let id = trade.tradeId {
            guard !state.recentTradeIds.contains(id) else { return (nil, nil) }
            state.recentTradeIds.append(id)
            if state.recentTradeIds.count > keptTradeIds {
                state.recentTradeIds.removeFirst(state.recentTradeIds.count - keptTradeIds)
            }
        }
        let now = now(ofLate: trade.closedAt)
        let summary = rollDay(at: now)
        var results = state.recentResults ?? RecentResults()
        let resultNumbers = results.add(result(of: trade.pnl, symbol: trade.symbol), strategy: trade.strategyId, keeping: rules.gradingRules.window)
        state.recentResults = results
        regrade()
        if countsForAnotherDay(trade) {
            recordLateGain(trade)
            return (summary, nil)
        }
        guard let dailyPnl = try? state.dailyPnl + trade.pnl else {
            // A day's P&L no decimal can hold is not a day to keep trading in: fail closed.
            return (summary, lockByLimit("daily P&L out of range after trade \(trade.tradeId ?? "-")", at: now, cause: .unknownState))
        }
        state.dailyPnl = dailyPnl
        guard countClosed(trade.pnl, symbol: trade.symbol) else {
            return (summary, lockByLimit("closed trades' P&L out of range after trade \(trade.tradeId ?? "-")", at: now, cause: .unknownState))
        }
        state.trades += 1
        noteCounted(trade, order: order, resultNumbers: resultNumbers)
        (state.winStreak, state.lossStreak) = Self.streaks(after: trade.pnl, from: (state.winStreak, state.lossStreak))
        if trade.pnl.isPositive {
            state.wins += 1
        } else if trade.pnl.isNegative {
            state.losses += 1
            noteLoss(notional: trade.notional, symbol: trade.symbol, at: now)
        }
        return (summary, reassess(at: now))
    }

    /// The win and loss streaks after a trade's result (break-even leaves both as they were).
    static func streaks(after pnl: ExactDecimal, from streaks: (win: Int, loss: Int)) -> (win: Int, loss: Int) {
        if pnl.isPositive { return (streaks.win + 1, 0) }
        if pnl.isNegative { return (0, streaks.loss + 1) }
        return streaks
    }

    /// On the engine's clock: a loss that closed before later events counts from now, and a late loss (closed
    /// before a loss already recorded) never moves the cooldown back.
    mutating func noteLoss(notional: ExactDecimal, symbol: String, at now: Date) {
        if now >= (state.lastLossAt ?? .distantPast) {
            state.lastLossAt = now
            state.lastLossNotional = notional
            state.lastLossSymbol = symbol
            state.lastLossQuote = quoteAssets[symbol]
        }
    }

    /// An asset's rate in the account currency, from any symbol quoted in it (the losing trade's own may no longer be routed).
    func rate(of quoteAsset: String) -> ExactDecimal? {
        quoteRates[quoteAsset]
    }

    /// The losing trade's notional in the quote asset of `symbol`: as it is for the same symbol or quote asset, else
    /// converted at routerd's rates (`marks`). Nil when it cannot be compared (a quote asset or a rate not known,
    /// or a loss recorded before its symbol was kept).
    func lostNotional(in symbol: String) -> ExactDecimal? {
        guard let notional = state.lastLossNotional, let lossSymbol = state.lastLossSymbol else { return nil }
        if lossSymbol == symbol { return notional }
        guard let lossQuote = state.lastLossQuote ?? quoteAssets[lossSymbol], let quote = quoteAssets[symbol] else { return nil }
        if lossQuote == quote { return notional }
        guard let from = rate(of: lossQuote), let to = rate(of: quote), to.isPositive, let value = try? notional.times(from) else { return nil }
        return try? value.divided(by: to, scale: Self.capScale, rounding: .towardZero)
    }

    /// Whether `trade` belongs to the day it closed in, not today: a gain (or break-even) dated before today's start.
    func countsForAnotherDay(_ trade: ClosedTrade) -> Bool {
        state.dayStart.map { trade.closedAt < $0 } == true && !trade.pnl.isNegative
    }

    /// A gain (or break-even) that closed before the current day began, sent late (e.g. because mindsetd was
    /// unreachable over the reset), belongs to the day it closed in: it must not free today's loss limit or
    /// count toward today's trades and streaks. Its figures go to that day's entry in `daily_metrics.json`
    /// (merged while the day is not yet archived, else a separate entry with `lateTrades`). A late *loss*
    /// counts for today instead: the limits fail closed, so a wrong timestamp that moved the day forward
    /// cannot keep losses from counting.
    private mutating func recordLateGain(_ trade: ClosedTrade) {
        let late = DailySummary(
            dayStart: rules.dailyReset.dayStart(containing: trade.closedAt), pnl: trade.pnl, trades: 1,
            wins: trade.pnl.isPositive ? 1 : 0, losses: 0, finalState: nil, lateTrades: 1)
        // Merged into its day's entry; a sum out of range keeps it as an entry of its own.
        if let index = state.unarchivedDays.firstIndex(where: { $0.dayStart == late.dayStart }),
           (try? state.unarchivedDays[index].add(late)) != nil {
            return
        }
        state.unarchivedDays.append(late)
    }

    /// Locks trading until the next reset (an admin's decision, or state that cannot be trusted). The engine
    /// first moves to `time`'s day, so a lock made after a reset is not undone by the next event's rollover.
    public mutating func lock(reason: String, at time: Date, cause: LockCause = .admin) -> StateTransition? {
        _ = advance(to: time)
        if cause == .unknownState, state.acknowledgmentPendingSince == nil { state.acknowledgmentPendingSince = time }
        return adminLockOverUnknownState(reason: reason, at: time, cause: cause) ?? transition(to: .locked, reason: reason, at: time, cause: cause)
    }

    /// An admin's lock over a lock for unknown state takes over its reason and cause (so `on_locked: flatten` acts on
    /// it): while the acknowledgment is pending it is still needed; once given (the day locked until the reset), the
    /// reason is one no unlock lifts.
    private mutating func adminLockOverUnknownState(reason: String, at time: Date, cause: LockCause) -> StateTransition? {
        guard cause == .admin, state.emotion == .locked, state.lockCause == .unknownState else { return nil }
        // `unlock` lifts only reasons that start "admin:".
        let acknowledged = state.acknowledgmentPendingSince == nil
        let text = acknowledged ? "locked until the daily reset (state acknowledged), and \(reason)" : "\(reason) (the state still to be acknowledged)"
        let change = StateTransition(from: .locked, to: .locked, reason: text, at: time)
        (state.lockReason, state.lockCause) = (change.reason, .admin)
        note(change)
        return change
    }

    /// An admin's lock at the engine's own clock, moving it nowhere (`wallClock` only when it has none yet).
    public mutating func lockNow(reason: String, wallClock: Date) -> StateTransition? {
        guard state.clock != nil else { return lock(reason: reason, at: wallClock) }
        // Live, the day first moves on to the wall clock's (a reset may have passed since the last event): a lock put
        // at an event's time before the reset would be lifted by the next event, as the reset's.
        let now = rollDay(onWallClock: wallClock).now
        return adminLockOverUnknownState(reason: reason, at: now, cause: .admin) ?? transition(to: .locked, reason: reason, at: now, cause: .admin)
    }

    /// Forgets the oldest `count` finished days once they are safely in `daily_metrics.json`.
    public mutating func markArchived(_ count: Int) {
        state.unarchivedDays.removeFirst(min(count, state.unarchivedDays.count))
    }

    mutating func reassess(at time: Date) -> StateTransition? {
        // A limit's lock holds until the reset. An admin lock is still watched: a limit reached under it takes
        // over its reason, so an unlock cannot lift what the limit would have locked.
        // A lock for unknown state is watched too: a limit reached under it is recorded (and flattens).
        let adminLocked = state.emotion == .locked && state.lockReason?.hasPrefix("admin:") == true
        let watched = adminLocked || (state.emotion == .locked && state.lockCause == .unknownState)
        guard state.emotion != .locked || watched else { return nil }
        guard let pnl = judgedPnl else {
            return lockByLimit("the day's P&L is out of range", at: time, cause: .unknownState)
        }
        let limit = dailyLossLimit
        let loss = max(ExactDecimal.zero, -pnl)
        // The limit itself is compared exactly; the fraction used only picks the softer states.
        let used = loss.doubleValue / limit.doubleValue
        // The reason is written only when it is used (a change of state): this runs at every equity poll. Each
        // closure keeps the few figures it prints, not a copy of the whole state.
        let next: EmotionState
        let reason: () -> String
        if loss >= limit {
            next = .locked
            reason = { "daily loss limit hit (\(Self.format(-pnl)) of \(Self.format(limit)), open positions included)" }
        } else if let fallen = givesBack(pnl) {
            next = .locked
            reason = { [peak = state.intradayPeak, giveBack = rules.giveBackLimit] in
                "give-back limit hit: \(Self.format(fallen)) given back from the day's peak of \(Self.format(peak)) (limit \(Self.format(giveBack)))"
            }
        } else if state.lossStreak >= rules.maxConsecutiveLosses {
            next = .locked
            reason = { [streak = state.lossStreak, most = rules.maxConsecutiveLosses] in "\(streak) consecutive losses (limit \(most))" }
        } else if state.trades >= rules.maxTradesPerDay {
            next = .locked
            reason = { [most = rules.maxTradesPerDay] in "max trades per day reached (\(most))" }
        } else if state.lossStreak >= rules.tiltedAfterLosses || used >= rules.tiltedLossFraction {
            next = .tilted
            reason = { [streak = state.lossStreak] in "\(streak) losses in a row, \(Self.percent(used)) of the daily loss limit used" }
        } else if state.lossStreak >= rules.cautiousAfterLosses || used >= rules.cautiousLossFraction {
            next = .cautious
            reason = { [streak = state.lossStreak] in "\(streak) losses in a row, \(Self.percent(used)) of the daily loss limit used" }
        } else if state.winStreak >= rules.confidentAfterWins {
            next = .confident
            reason = { [streak = state.winStreak] in "\(streak) wins in a row" }
        } else {
            next = .calm
            reason = { "streaks and losses back within limits" }
        }
        if watched { return next == .locked ? lockByLimit(reason(), at: time) : nil }
        guard next != state.emotion else { return nil }
        return transition(to: next, reason: reason(), at: time)
    }

    /// Locks for a limit (or a figure no decimal holds: `unknownState`); an admin lock in force takes the
    /// limit's reason and cause (and with them, no unlock). Any other lock stays as it is.
    mutating func lockByLimit(_ reason: String, at time: Date, cause: LockCause = .limit) -> StateTransition? {
        guard state.emotion == .locked else { return transition(to: .locked, reason: reason, at: time, cause: cause) }
        let overAdmin = state.lockReason?.hasPrefix("admin:") == true
        guard overAdmin || state.lockCause == .unknownState else { return nil }
        let change = StateTransition(from: .locked, to: .locked,
                                     reason: "\(reason) (while locked \(overAdmin ? "by an admin" : "for unknown state"))", at: time)
        state.lockReason = change.reason
        state.lockCause = cause
        note(change)
        return change
    }

    private mutating func transition(to next: EmotionState, reason: String, at time: Date, cause: LockCause = .limit) -> StateTransition? {
        guard next != state.emotion else { return nil }
        let change = StateTransition(from: state.emotion, to: next, reason: reason, at: time)
        state.emotion = next
        state.lockReason = next == .locked ? reason : nil
        state.lockCause = next == .locked ? cause : nil
        note(change)
        return change
    }

    mutating func note(_ change: StateTransition) {
        state.transitionsNoted += 1
        state.transitions.append(change)
        if state.transitions.count > Self.keptTransitions {
            state.transitions.removeFirst(state.transitions.count - Self.keptTransitions)
        }
    }

    func blocked(_ code: String, _ reason: String) -> MindsetDecision {
        .blocked(code, reason, emotionState: state.emotion.rawValue)
    }

    /// Decimals of the revenge guard's cap (a quantity): finer than any venue's step size.
    static let capScale = 12

    /// Money in a sentence: to the cent, half-even.
    static func format(_ value: ExactDecimal) -> String {
        (try? value.rounded(toScale: 2, rounding: .halfEven)).map { "\($0)" } ?? "\(value)"
    }
    static func percent(_ fraction: Double) -> String { String(format: "%.0f%%", fraction * 100) }

    /// A factor to two decimals ("0.25"), without `String(format:)`, which costs more than the rest of a decision.
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let whole = hundredths / 100, rest = abs(hundredths % 100)
        return "\(hundredths < 0 && whole == 0 ? "-" : "")\(whole).\(rest < 10 ? "0" : "")\(rest)"
    }
}
