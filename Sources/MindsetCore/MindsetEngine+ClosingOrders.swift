import Foundation
import BagbotDomain

/// A trade counted today, in the order counted (`MindsetState.todayTrades`). A closing order is one trade however
/// long it takes to fill: a limit exit filled in three parts over an hour comes in three reads of routerd's fill log,
/// and each later part amends its order's trade here instead of counting as a trade of its own (three "losses in a
/// row" would lock the day by the loss streak; three trades would spend the day's trade limit).
public struct CountedTrade: Codable, Sendable, Equatable {
    /// The closing order's client order id (nil: recorded without one; never amended).
    public var order: String?
    public var strategyId: String
    public var symbol: String
    public var side: Side
    public var quantity: ExactDecimal
    public var entryPrice: ExactDecimal
    public var pnl: ExactDecimal
    /// The day's win and loss streaks before this trade counted: the streaks are counted again from here when an
    /// amended result changes sign.
    public var winStreakBefore: Int
    public var lossStreakBefore: Int
    /// Its result's numbers in `RecentResults` (overall, in its strategy's list).
    public var resultNumber: Int
    public var strategyResultNumber: Int
}

extension MindsetEngine {
    /// Trades kept for amending (each is saved with the state after every page of the log): an order whose later
    /// part comes after this many other trades counted that day counts that part as a trade of its own.
    static let keptTodayTrades = 200

    mutating func noteCounted(_ trade: ClosedTrade, order: String?, resultNumbers: (overall: Int, strategy: Int)) {
        var trades = state.todayTrades ?? []
        trades.append(CountedTrade(order: order, strategyId: trade.strategyId, symbol: trade.symbol, side: trade.side,
                                   quantity: trade.quantity, entryPrice: trade.entryPrice, pnl: trade.pnl,
                                   winStreakBefore: state.winStreak, lossStreakBefore: state.lossStreak,
                                   resultNumber: resultNumbers.overall, strategyResultNumber: resultNumbers.strategy))
        if trades.count > Self.keptTodayTrades { trades.removeFirst(trades.count - Self.keptTodayTrades) }
        state.todayTrades = trades
    }

    /// A fill of another order in `strategyId`'s `symbol`: the trades closed there so far are not amended any more.
    mutating func endAmendments(strategyId: String, symbol: String, exceptOrder order: String) {
        guard var trades = state.todayTrades else { return }
        var changed = false
        for index in trades.indices.reversed() where trades[index].order != nil && trades[index].order != order
            && trades[index].strategyId == strategyId && trades[index].symbol == symbol {
            trades[index].order = nil
            changed = true
        }
        if changed { state.todayTrades = trades }
    }

    /// Orders counted in another database may reuse these ids: none of today's trades is amended by them.
    mutating func forgetTodayTradesOrders() {
        guard var trades = state.todayTrades else { return }
        for index in trades.indices { trades[index].order = nil }
        state.todayTrades = trades
    }

    /// Adds `part` (a later part of closing order `order`, its fills summed) to the trade its order counted today:
    /// the day's P&L takes the part's, the trade's result is the sum, and wins, losses and streaks follow the
    /// sum's sign (counted again from the trade when it changes); a loss that grew restarts the cooldown from now,
    /// sized by the whole trade. Nothing is counted twice: the part's fill ids join the ids counted. Returns nil when
    /// there is no such trade today (the part is then a trade of its own: `record`).
    mutating func amend(order: String, with part: ClosedTrade, partIds: [String]) -> (transition: StateTransition?, trade: ClosedTrade)? {
        guard let dayStart = state.dayStart, part.closedAt >= dayStart,
              let index = state.todayTrades?.lastIndex(where: { $0.order == order }),
              let counted = state.todayTrades?[index],
              counted.strategyId == part.strategyId, counted.symbol == part.symbol, counted.side == part.side
        else { return nil }
        let now = now(ofLate: part.closedAt)
        // The day ended before this part: it counts in the new day, as a trade of its own.
        if rollDay(at: now) != nil { return nil }
        for id in [part.tradeId].compactMap({ $0 }) + partIds where !state.recentTradeIds.contains(id) {
            state.recentTradeIds.append(id)
        }
        if state.recentTradeIds.count > keptTradeIds { state.recentTradeIds.removeFirst(state.recentTradeIds.count - keptTradeIds) }
        var trades = state.todayTrades ?? []
        var trade = counted
        guard let dailyPnl = try? state.dailyPnl + part.pnl, let pnl = try? trade.pnl + part.pnl,
              let quantity = try? trade.quantity + part.quantity
        else {
            // Fail closed, as `record` does with a figure no decimal holds.
            let lock = lockByLimit("daily P&L out of range after trade \(part.tradeId ?? "-")", at: now, cause: .unknownState)
            return (lock, part)
        }
        let before = trade.pnl
        (trade.pnl, trade.quantity) = (pnl, quantity)
        trades[index] = trade
        state.dailyPnl = dailyPnl
        guard countClosed(part.pnl, symbol: trade.symbol) else {
            return (lockByLimit("closed trades' P&L out of range after trade \(part.tradeId ?? "-")", at: now, cause: .unknownState), part)
        }
        if before.isPositive { state.wins -= 1 } else if before.isNegative { state.losses -= 1 }
        if pnl.isPositive { state.wins += 1 } else if pnl.isNegative { state.losses += 1 }
        var streaks = (win: trade.winStreakBefore, loss: trade.lossStreakBefore)
        for later in index..<trades.count {
            (trades[later].winStreakBefore, trades[later].lossStreakBefore) = streaks
            streaks = Self.streaks(after: trades[later].pnl, from: streaks)
        }
        (state.winStreak, state.lossStreak) = streaks
        state.todayTrades = trades
        if pnl.isNegative, part.pnl.isNegative || !before.isNegative {
            noteLoss(notional: (try? quantity.times(trade.entryPrice).magnitude) ?? .zero, symbol: trade.symbol, at: now)
        }
        // The whole trade's result; at the rate its first part took when routerd's rates no longer have one.
        let fresh = result(of: pnl, symbol: trade.symbol)
        state.recentResults?.update((trade.resultNumber, trade.strategyResultNumber), strategy: trade.strategyId) { kept in
            (kept.pnl, kept.symbol) = (pnl, trade.symbol)
            if fresh.rate != nil { (kept.rate, kept.currency) = (fresh.rate, fresh.currency) }
        }
        regrade()
        let whole = ClosedTrade(strategyId: trade.strategyId, symbol: trade.symbol, side: trade.side, quantity: quantity,
                                entryPrice: trade.entryPrice, exitPrice: part.exitPrice, pnl: pnl, closedAt: part.closedAt,
                                requestId: part.requestId, tradeId: part.tradeId)
        return (reassess(at: now), whole)
    }
}
