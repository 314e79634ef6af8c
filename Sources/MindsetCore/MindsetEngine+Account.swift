import Foundation
import BagbotDomain

/// The account's side of the loss limits (docs/mindset.md, "Loss limits on equity"): the day's loss is the
/// larger of what the closed trades lost and how far equity fell from the start of the day (the open positions'
/// unrealised P&L included, as prop-firm rules count it), and a give-back limit protects the day's gains.
extension MindsetEngine {
    /// The day's P&L the limits judge: the worst of the closed trades' (net of fees), the change of equity since the
    /// start of the day, and the closed trades' plus the open positions' change since then (`openPositionsChange`),
    /// each when known. Nil when one cannot be computed (fail closed).
    public var judgedPnl: ExactDecimal? {
        guard var judged = closedTradesPnl else { return nil }
        if let start = state.startOfDayEquity, let equity = state.equity {
            guard let change = try? equity - start else { return nil }
            judged = min(judged, change)
        }
        if let measured = closedAndOpenPnl { judged = min(judged, measured) }
        return judged
    }

    /// The day's closed trades, net of fees, in the account's currency: each at its quote asset's rate, and those still
    /// waiting for it (after a restart, before routerd's account is read) as below. Not `dailyPnl`, which adds every
    /// trade in its own quote asset: a 1,500-yen loss (10 dollars) would weigh as 1,500 dollars and lock the day.
    var closedTradesPnl: ExactDecimal? {
        guard let closed = state.closedInAccount else { return state.dailyPnl }
        var sum = closed.converted
        for (symbol, waiting) in closed.unconverted {
            guard let next = try? sum + judged(waiting: waiting, symbol: symbol, in: closed) else { return nil }
            sum = next
        }
        return sum
    }

    /// A closed trade waiting for its rate, as the limits judge it: at the rate saved before a restart while routerd's
    /// first account is awaited (in the day's currency, or any while the day's is not known); else as it is: too much
    /// for a quote asset worth less than the account's currency (yen), too little for one worth more (bitcoin). A
    /// backtest, which has no rates, judges every trade so.
    func judged(waiting pnl: ExactDecimal, symbol: String, in closed: ClosedInAccount) -> ExactDecimal {
        let day = state.equityCurrency ?? closed.currency
        guard let saved = savedRates, day == nil || saved.currency == nil || saved.currency == day,
              let rate = quoteAssets[symbol].flatMap({ saved.rates[$0] }), let value = try? pnl.times(rate) else { return pnl }
        return value
    }

    /// Today's daily loss limit: the tighter of the absolute one and the percentage of start-of-day equity
    /// (the account's at the reset; the configured figure until the account is known).
    public var dailyLossLimit: ExactDecimal {
        rules.dailyLossLimit(startOfDayEquity: state.startOfDayEquity ?? rules.startOfDayEquity)
    }

    /// Takes the account's equity (routerd's `router.account`, every balance and open position at its mark):
    /// the first figure of a day is its start-of-day equity. Returns whether anything worth saving changed
    /// (the day's start, the intraday peak, the state), and the state change it caused.
    ///
    /// The day is first moved on to `wallClock`'s, as no event may have done it since the
    /// reset: a loss made overnight is measured from the new day's first figure, never lost with yesterday.
    /// A figure in another currency than the day's start is refused (nil): a change of `router.account.currency`
    /// is not a gain or a loss.
    ///
    /// In a replay not at real time, before any event has set the engine's clock, nothing is taken: the wall
    /// clock would start a day that the replay's market time (another year, at max speed) never reaches, and every
    /// trade would then close "before the day".
    ///
    /// A figure of another `scope` than the day's start (routerd switched between paper and live, or a start taken
    /// before routerd said its scope) becomes the day's start instead: the paper venue's play money leaving the
    /// account is not a loss (which would lock, and flatten real positions), nor a gain the other way. A lock in
    /// force stays. The live scope, seen before that day, takes back its own start (`dayStartsByScope`): live → paper
    /// → live measures the live account from its start of the day, its open losses included.
    public mutating func markToMarket(equity: ExactDecimal, currency: String, scope: String? = nil,
                                      marks: [AccountSummary.SymbolMark]? = nil, shortAssets: Set<String> = [], marksCountedThrough: Int64? = nil,
                                      wallClock: Date) -> (changed: Bool, transition: StateTransition?)? {
        guard isLive || state.clock != nil else { return (false, nil) }
        let before = (state.dayStart, state.startOfDayEquity, state.intradayPeak, state.emotion, state.lockReason, state.equityScope,
                      state.openStarts?.withoutLastValued, state.closedInAccount, positionsLeftOut, state.quoteAssets)
        let now = rollDay(onWallClock: wallClock).now
        if state.startOfDayEquity != nil, let known = state.equityCurrency, known != currency {
            return nil
        }
        state.equity = equity
        if let start = state.startOfDayEquity, let scope, state.equityScope != scope {
            var starts = state.dayStartsByScope ?? [:]
            if let leaving = state.equityScope, let leavingCurrency = state.equityCurrency {
                starts[leaving] = ScopeStart(equity: start, currency: leavingCurrency)
            }
            // The positions are the other scope's log's: each starts again once that log is read.
            state.openStarts = nil
            state.dayStartsByScope = starts
            // Only the live account's own start comes back: a paper figure may count other venues than it did
            // (one enabled or disabled meanwhile), and a restored paper start could then lock on play money.
            if scope == Self.liveScope, let earlier = starts[scope], earlier.currency == currency {
                (state.startOfDayEquity, state.equityCurrency, state.equityScope) = (earlier.equity, currency, scope)
                regrade()
            } else {
                state.startOfDayEquity = nil
            }
        }
        if state.startOfDayEquity == nil {
            (state.startOfDayEquity, state.equityCurrency, state.equityScope) = (equity, currency, scope)
            // The day's loss limit follows the start-of-day equity, and drawdowns are graded against it.
            regrade()
        }
        takeMarks(marks, shortAssets: shortAssets, countedThrough: marksCountedThrough)
        let transition = reassess(at: now)
        let changed = before.0 != state.dayStart || before.1 != state.startOfDayEquity || before.2 != state.intradayPeak
            || before.3 != state.emotion || before.4 != state.lockReason || before.5 != state.equityScope
            || before.6 != state.openStarts?.withoutLastValued || before.7 != state.closedInAccount
            // A position left out (saved with the move it keeps), or a symbol's quote asset first seen.
            || before.8 != positionsLeftOut || before.9 != state.quoteAssets
        return (changed, transition)
    }

    /// Moves the day on to the wall clock's when no event has since the reset: live (the
    /// skew of a real-time feed) the wall clock moves the day; a replay's days are its market's. Returns the
    /// time used and the finished day, if one ended.
    mutating func rollDay(onWallClock wallClock: Date) -> (now: Date, finished: DailySummary?) {
        let now = now(onWallClock: wallClock)
        return (now, rollDay(at: now))
    }

    /// The engine's time at `wallClock`: live, the wall clock within the skew (never before the last event's); in a
    /// replay, its market's, the last event's.
    func now(onWallClock wallClock: Date) -> Date {
        isLive ? max(state.clock ?? wallClock, min(wallClock, ceiling ?? wallClock)) : state.clock ?? wallClock
    }

    /// `AccountSummary.scope` of the live venues' money.
    static let liveScope = "live"

    /// Whether the engine's events come at real time (the skew of a real-time feed), not from an accelerated replay.
    var isLive: Bool { (rules.maxClockSkew ?? 0) <= 3_600 }

    /// Raises the day's peak to `pnl`, and says whether `pnl` has given back the configured amount from it.
    mutating func givesBack(_ pnl: ExactDecimal) -> ExactDecimal? {
        // Not while the open positions' measure waits for marks newer than a fill: the other two may be higher than the
        // day really is (a deposit in the equity), and a peak they set would be "given back" at the next marks.
        if state.openStarts == nil || openPositionsChange != nil { state.intradayPeak = max(state.intradayPeak, pnl) }
        guard state.intradayPeak.isPositive, let fallen = try? state.intradayPeak - pnl, fallen >= rules.giveBackLimit else { return nil }
        return fallen
    }
}

/// A scope's start-of-day equity, in its currency (`MindsetState.dayStartsByScope`).
public struct ScopeStart: Codable, Sendable, Equatable {
    public var equity: ExactDecimal
    public var currency: String
}
