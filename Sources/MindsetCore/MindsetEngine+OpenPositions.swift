import Foundation
import BagbotDomain

/// Where each open position's part of the day's P&L counts from (`MindsetState.openStarts`).
public struct OpenPositionStarts: Codable, Sendable, Equatable {
    /// Each open position's P&L (by `MindsetEngine.startKey`) when the day's measure began on it: at the day's first
    /// marks; 0 for a position opened since (its fees count at once); its first valuation for one held from before
    /// whose mark was missing then.
    public var positions: [String: ExactDecimal] = [:]
    /// Each position's P&L at the last marks that valued it (by `startKey`): one left out since (its mark gone, its
    /// coin short at the venue) keeps that move instead of dropping it.
    public var lastValued: [String: ExactDecimal] = [:]

    /// `closed` of a state saved by an earlier build of this day's measure (read, never written): the engine moves it to
    /// `ClosedInAccount.startsOfClosed` when it loads the state.
    var earlierClosedStarts: ExactDecimal?

    public init() {}

    enum CodingKeys: String, CodingKey { case positions, lastValued, closed }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        positions = try container.decodeIfPresent([String: ExactDecimal].self, forKey: .positions) ?? [:]
        lastValued = try container.decodeIfPresent([String: ExactDecimal].self, forKey: .lastValued) ?? [:]
        earlierClosedStarts = try container.decodeIfPresent(ExactDecimal.self, forKey: .closed)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(positions, forKey: .positions)
        try container.encode(lastValued, forKey: .lastValued)
    }

    /// The same starts without the last valued P&Ls, which move at every account: a change of these is worth saving.
    var withoutLastValued: OpenPositionStarts {
        var starts = self
        starts.lastValued = [:]
        return starts
    }
}

/// The day's closed trades in the account's currency (`MindsetState.closedInAccount`): each at its quote asset's rate
/// when counted, or, while that rate is not known (after a restart, before routerd's account is read), kept in its
/// symbol's quote asset until the next marks convert it. `MindsetState.dailyPnl` adds each in its own quote asset.
public struct ClosedInAccount: Codable, Sendable, Equatable {
    public var converted: ExactDecimal = .zero
    /// By symbol, in its quote asset.
    public var unconverted: [String: ExactDecimal] = [:]
    /// The starts of positions closed by trades counted today (`OpenPositionStarts`): the part of those trades' P&L made
    /// before the day. Kept here, with the trades, when the open positions start again (a link, a switch of scope).
    public var startsOfClosed: ExactDecimal = .zero
    /// The account currency `converted` is in, once a trade was converted (routerd's `router.account.currency` may
    /// change): rates in another are not taken for the day.
    public var currency: String?

    public init(converted: ExactDecimal = .zero) {
        self.converted = converted
    }

    enum CodingKeys: String, CodingKey { case converted, unconverted, startsOfClosed, currency }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        converted = try container.decodeIfPresent(ExactDecimal.self, forKey: .converted) ?? .zero
        unconverted = try container.decodeIfPresent([String: ExactDecimal].self, forKey: .unconverted) ?? [:]
        startsOfClosed = try container.decodeIfPresent(ExactDecimal.self, forKey: .startsOfClosed) ?? .zero
        currency = try container.decodeIfPresent(String.self, forKey: .currency)
    }
}

extension ClosedInAccount {
    /// Whether rates in `currency` may convert into `converted`: its own currency, or any while it has none (nor do
    /// the rates: a backtest's, or a state from before the currency was kept).
    func takes(_ currency: String?) -> Bool {
        guard let mine = self.currency, let currency else { return true }
        return mine == currency
    }
}

/// The open positions' side of the loss limits (docs/mindset.md, "Loss limits on equity"): mindsetd's own record of
/// the positions (from routerd's fill log) valued at routerd's marks. The day's P&L measured this way — the closed
/// trades plus each open position's change since the day's start — is moved neither by a deposit or a withdrawal nor by
/// coins held outside the positions, which all move the equity: a deposit can no longer hide an open loss.
///
/// Kept per position, so a position closed by a trade counted for another day (a gain dated before the reset, read
/// after it) leaves with its own start, and one that cannot be valued (no mark, no rate) or that the venue no longer
/// holds (routerd's `shortfalls`: a withdrawal, a sale by hand) is left out alone, start and all. The marks are as old
/// as routerd's last account: once a fill is counted after them, the measure waits for the next one.
extension MindsetEngine {
    /// A position's key in `OpenPositionStarts.positions`.
    static func startKey(strategyId: String, symbol: String) -> String { strategyId + "|" + symbol }

    /// Takes routerd's marks and the assets a live venue holds less of than the books; `countedThrough`: the fill
    /// sequence counted when the account was asked for (a fill counted while it was read is newer than the marks).
    /// With marks as new as every fill counted, starts each open position not started yet at its P&L now (the day's
    /// measure begins at the first), and keeps each one's P&L as the last valued.
    mutating func takeMarks(_ marks: [AccountSummary.SymbolMark]?, shortAssets: Set<String>, countedThrough: Int64? = nil) {
        guard let marks else { return }
        self.marks = Dictionary(marks.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        noteQuoteAssets(of: marks)
        // Called once the account's currency is known to be the day's (`markToMarket`).
        takeRates(of: marks, currency: nil)
        self.shortAssets = shortAssets
        marksThrough = min(countedThrough ?? countedFillSequence, countedFillSequence)
        guard state.startOfDayEquity != nil, positionsAreComplete, marksAreCurrent else { return }
        var starts = state.openStarts ?? OpenPositionStarts()
        for position in state.fillLog?.positions ?? [] where !position.quantity.isZero {
            let key = Self.startKey(strategyId: position.strategyId, symbol: position.symbol)
            guard let pnl = pnl(of: position) else { continue }
            starts.lastValued[key] = pnl
            if starts.positions[key] == nil { starts.positions[key] = pnl }
        }
        state.openStarts = starts
    }

    /// Notes each symbol's quote asset: they do not move, and the revenge cap compares sizes in them (taken even from
    /// an account not fully valued, whose equity is not).
    public mutating func noteQuoteAssets(of marks: [AccountSummary.SymbolMark]) {
        for mark in marks where quoteAssets[mark.symbol] != mark.quoteAsset {
            quoteAssets[mark.symbol] = mark.quoteAsset
            // Saved: a trade counted after a restart, in a symbol routerd has no price for then, still converts.
            state.quoteAssets = quoteAssets
        }
    }

    /// Takes each quote asset's rate in the account's currency from routerd's latest account, and converts the closed
    /// trades that waited for one (taken even from an account not fully valued, whose equity is not: its rates are
    /// routerd's all the same). The latest account's only: an asset routerd no longer prices has none, and its trades
    /// wait, counted as they are. `currency`: the account's; rates in another than the day's start are not taken (the
    /// day's trades are counted in one currency). Nil: known to be the day's.
    public mutating func takeRates(of marks: [AccountSummary.SymbolMark], currency: String?) {
        let day = state.equityCurrency ?? state.closedInAccount?.currency
        if let currency, let day, currency != day { return }
        quoteRates = Dictionary(marks.compactMap { mark in mark.quoteRate.flatMap { $0.isPositive ? (mark.quoteAsset, $0) : nil } },
                                uniquingKeysWith: { first, _ in first })
        ratesCurrency = currency ?? day
        // Kept with the state for a restart; saved whenever the state is, not for them alone. Those of the last run serve
        // no longer.
        (state.quoteRates, state.quoteRatesCurrency) = (quoteRates, ratesCurrency)
        convertClosed()
        if let currency = ratesCurrency, var results = state.recentResults,
           results.takeRates(in: currency, quoteAsset: { quoteAssets[$0] }, rate: { quoteRates[$0] }) {
            state.recentResults = results
        }
        savedRates = nil
        // The results' values may have changed: rates taken, the saved ones gone, the currency known.
        regrade()
    }

    /// The limits judged again after an account mindsetd takes the rates of only (one not valued whole; `markToMarket`
    /// judges the others): a closed trade its rates converted may now reach a limit. Not while a reset has passed that
    /// no event or account has moved the day over (the trade is the day's, the judging the next account's).
    mutating func judgeAgain(wallClock: Date) {
        guard isLive || state.clock != nil else { return }
        let now = now(onWallClock: wallClock)
        guard let dayStart = state.dayStart, rules.dailyReset.dayStart(containing: now) <= dayStart else { return }
        _ = reassess(at: now)
    }

    /// Whether no fill was counted since the marks were read.
    var marksAreCurrent: Bool { marksThrough.map { $0 >= countedFillSequence } ?? false }

    /// Whether the fill log's positions are whole, and the account's scope (paper, live) is theirs.
    var positionsAreComplete: Bool {
        guard let log = state.fillLog, log.countedThrough >= log.historyThrough else { return false }
        if let scope = state.equityScope, FillLogIdentity.isLive(log.databaseId) != (scope == Self.liveScope) { return false }
        return true
    }

    /// A position's P&L in the account's currency at the marks: its value at the mark less what it cost and the fees
    /// paid opening it (as its close would count them). Nil when it cannot be valued (no mark or rate), or the venue
    /// holds less of its coin than the books (`shortAssets`).
    func pnl(of position: StrategyPosition) -> ExactDecimal? {
        guard let mark = marks[position.symbol], let rate = mark.quoteRate,
              mark.baseAsset.map({ shortAssets.contains($0) }) != true,
              let value = try? mark.price.times(position.quantity.magnitude),
              let gross = try? (position.quantity.isPositive ? value - position.cost : position.cost - value) else { return nil }
        return try? (gross - position.openFees).times(rate)
    }

    /// The open positions (by `startKey`) the measure leaves out now: no mark or rate, or a coin the venue lacks.
    public var positionsLeftOut: [String] {
        guard !marks.isEmpty, positionsAreComplete else { return [] }
        return (state.fillLog?.positions ?? []).filter { !$0.quantity.isZero && pnl(of: $0) == nil }
            .map { Self.startKey(strategyId: $0.strategyId, symbol: $0.symbol) }.sorted()
    }

    /// The day's P&L this way, in the account's currency: the trades counted today and the positions' change. Nil while
    /// a closed trade waits for its rate.
    var closedAndOpenPnl: ExactDecimal? {
        let closed = state.closedInAccount ?? ClosedInAccount()
        guard closed.unconverted.isEmpty, let change = openPositionsChange else { return nil }
        return try? closed.converted - closed.startsOfClosed + change
    }

    /// Adds a trade counted today (or an amendment's change of one) to the day's closed trades in the account's
    /// currency, at its quote asset's rate; kept in that asset until a rate is known. False when no decimal holds the
    /// sum: the trade is in neither, and the caller locks (fail closed).
    mutating func countClosed(_ pnl: ExactDecimal, symbol: String) -> Bool {
        var closed = state.closedInAccount ?? ClosedInAccount()
        if let quoteRate = quoteAssets[symbol].flatMap({ self.rate(of: $0) }), closed.takes(ratesCurrency), let value = try? pnl.times(quoteRate),
           let sum = try? closed.converted + value {
            closed.converted = sum
            closed.currency = closed.currency ?? ratesCurrency
        } else if let sum = try? (closed.unconverted[symbol] ?? .zero) + pnl {
            closed.unconverted[symbol] = sum
        } else {
            return false
        }
        state.closedInAccount = closed
        return true
    }

    /// Converts the closed trades that waited for their quote asset's rate, at the marks.
    mutating func convertClosed() {
        guard var closed = state.closedInAccount, !closed.unconverted.isEmpty, closed.takes(ratesCurrency) else { return }
        // Each gain's excess against how it was judged until now, not as the loop's first conversion (stamping the
        // day's currency) would judge the next.
        let judgedSoFar = closed
        for (symbol, pnl) in closed.unconverted {
            guard let quoteRate = quoteAssets[symbol].flatMap({ self.rate(of: $0) }), let value = try? pnl.times(quoteRate),
                  let sum = try? closed.converted + value else { continue }
            // A gain judged as it is may have raised the day's peak by more than it is worth (15,000 yen for 100
            // dollars): the peak gives the excess back, or the next judging would call it given back, and lock.
            let before = judged(waiting: pnl, symbol: symbol, in: judgedSoFar)
            if before.isPositive, let excess = try? before - value, excess.isPositive {
                state.intradayPeak = max(.zero, (try? state.intradayPeak - excess) ?? .zero)
            }
            closed.converted = sum
            closed.unconverted[symbol] = nil
            closed.currency = closed.currency ?? ratesCurrency
        }
        state.closedInAccount = closed
    }

    /// How far the open positions moved since the day's start: each one started, at its P&L now (or, left out now, at its
    /// last valued), less its start. Nil before the day's measure
    /// started, while the log's positions are being rebuilt or are another scope's, and once a fill was counted after
    /// the marks (until the next account).
    public var openPositionsChange: ExactDecimal? {
        guard let starts = state.openStarts, positionsAreComplete, marksAreCurrent else { return nil }
        var change = ExactDecimal.zero
        for position in state.fillLog?.positions ?? [] where !position.quantity.isZero {
            let key = Self.startKey(strategyId: position.strategyId, symbol: position.symbol)
            guard let start = starts.positions[key], let now = pnl(of: position) ?? starts.lastValued[key] else { continue }
            guard let sum = try? change + now - start else { return nil }
            change = sum
        }
        return change
    }

    /// Follows a fill's move of its position (`count`) in the starts. A position opened starts at 0 (its fees count at
    /// once) — or, opened by a fill dated before the day, at its P&L at the next marks. A reduction takes the closed
    /// share of the start out: to the day's closed starts when its trade counts today, dropped when the trade counts for
    /// another day (a gain dated before the reset, read after it).
    mutating func followStart(_ move: StartMove, countsToday: Bool) {
        guard var starts = state.openStarts, move.before != move.after else { return }
        let flipped = !move.before.isZero && !move.after.isZero && move.after.signum != move.before.signum
        let reduced = !move.before.isZero && (move.after.isZero || flipped || move.after.magnitude < move.before.magnitude)
        if reduced, let start = starts.positions[move.key] {
            let whole = move.after.isZero || flipped
            let share = whole ? start : (try? (move.before.magnitude - move.after.magnitude))
                .flatMap { try? start.times($0).divided(by: move.before.magnitude, scale: PositionBook.shareScale, rounding: .halfEven) } ?? start
            starts.positions[move.key] = whole ? nil : (try? start - share)
            if countsToday {
                var closed = state.closedInAccount ?? ClosedInAccount()
                closed.startsOfClosed = (try? closed.startsOfClosed + share) ?? closed.startsOfClosed
                state.closedInAccount = closed
            }
        }
        // The last valued P&L follows what is left: the remaining share after a reduction, none after a close.
        if reduced, let last = starts.lastValued[move.key] {
            let left = move.after.isZero || flipped ? nil
                : (try? last.times(move.after.magnitude)).flatMap { try? $0.divided(by: move.before.magnitude, scale: PositionBook.shareScale, rounding: .halfEven) }
            starts.lastValued[move.key] = left
        } else if move.before.isZero {
            starts.lastValued[move.key] = nil
        }
        if !move.after.isZero, move.before.isZero || flipped { starts.positions[move.key] = move.datedToday ? .zero : nil }
        state.openStarts = starts
    }
}

/// A fill's move of one position, for its start (`MindsetEngine.followStart`).
struct StartMove: Sendable, Equatable {
    var key: String
    var before: ExactDecimal
    var after: ExactDecimal
    /// Whether the fill is dated in the current day (an entry dated before it starts at the next marks).
    var datedToday: Bool
}
