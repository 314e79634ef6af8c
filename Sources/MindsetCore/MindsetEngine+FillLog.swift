import Foundation
import BagbotDomain

/// Where mindsetd stands in routerd's fill log (docs/mindset.md, "Closed trades from routerd's fill log").
public struct FillLogPosition: Codable, Sendable, Equatable {
    /// The identity of routerd's database the sequences count in.
    public var databaseId: String
    /// Every fill up to this sequence has been applied to `positions` (and, unless history, counted).
    public var countedThrough: Int64 = 0
    /// The id of the fill at `countedThrough`: a log whose fill there has another id was rewritten (its end
    /// lost in a power cut and recorded again under the same numbers), and is linked anew.
    public var lastFillId: String?
    /// When mindsetd linked to this log: fills up to `historyThrough` that happened before `historyBefore` (the
    /// day then current) are history, applied to the positions but never counted: their days are over.
    /// Everything of the current day is counted, once (by fill id).
    public var historyThrough: Int64
    public var historyBefore: Date
    /// Each strategy's position per symbol, from the fills applied (strategy "" for orders without one).
    public var positions: [StrategyPosition] = []
}

extension MindsetEngine {
    /// The last fill sequence counted (0 before any).
    public var countedFillSequence: Int64 { state.fillLog?.countedThrough ?? 0 }

    /// Where the next page of the fill log starts: at the last fill counted, so `count` can see it is the same.
    public var nextFillPageAfter: Int64 { max(0, countedFillSequence - 1) }

    /// Whether the caller's fills count in another database than the one mindsetd counts in.
    public func countsInAnotherDatabase(than databaseId: String?) -> Bool {
        guard let databaseId else { return false }
        return state.fillLog?.databaseId != databaseId
    }

    /// Whether the caller saw another fill at the sequence mindsetd counted last (a log rewritten under the
    /// same numbers, not read since).
    public func sawAnotherFill(_ fillId: String?, at sequence: Int64?) -> Bool {
        guard let fillId, let sequence, sequence == countedFillSequence, let counted = state.fillLog?.lastFillId else { return false }
        return counted != fillId
    }

    /// What `count` did with a page of the fill log.
    public enum FillPageOutcome: Equatable {
        /// The fills that follow on were applied (and counted); `changed` when anything moved.
        case counted(changed: Bool)
        /// The page came from another database, a log that ends before what was counted, or one rewritten
        /// under the same numbers: mindsetd linked anew. Fetch from the start.
        case relinked
    }

    /// Applies the fills of `page` (a page of `router.fills` from `nextFillPageAfter`) that follow on from what
    /// was counted, in order; a fill that closes or reduces a position is counted as a closed trade (`record`,
    /// with the fill's id as the trade id, so a trade is never counted twice). A fill's time is taken no later
    /// than `ceiling` (a venue's clock ahead cannot roll the day). `wallClock` dates a first link when the
    /// engine has no day yet. `trades`: the closed trades counted now (not those counted before), for the trade's story
    /// in the log; `amended`: trades an order's later parts amended, each as it now stands (`amend`).
    public mutating func count(_ page: FillsResponse, ceiling: Date?, wallClock: Date)
        -> (outcome: FillPageOutcome, transitions: [StateTransition], trades: [ClosedTrade], amended: [ClosedTrade]) {
        guard let position = state.fillLog, position.databaseId == page.databaseId, page.lastSequence >= position.countedThrough,
              position.countedThrough == 0 || page.fills.first.map({ $0.sequence == position.countedThrough && $0.fillId == position.lastFillId }) == true
        else {
            // Fill ids are unique within a database only: another one's may repeat them, and a loss must not be
            // taken for a trade already counted.
            // The same file in another mode (`FillLogIdentity`) keeps its fill ids: today's trades stay counted once.
            if state.fillLog.map({ FillLogIdentity.database(of: $0.databaseId) != FillLogIdentity.database(of: page.databaseId) }) ?? false {
                state.recentTradeIds.removeAll()
                forgetTodayTradesOrders()
            }
            state.untradedOpens = []
            // The positions are read again from the log's start: each starts anew once they are whole (a start kept
            // would be moved again by the fills read again).
            state.openStarts = nil
            state.fillLog = FillLogPosition(databaseId: page.databaseId, historyThrough: page.lastSequence,
                                            historyBefore: state.dayStart ?? rules.dailyReset.dayStart(containing: wallClock))
            return (.relinked, [], [], [])
        }
        var log = position
        var transitions: [StateTransition] = []
        var trades: [ClosedTrade] = []
        var amended: [ClosedTrade] = []
        var changed = false
        // One closing order is one trade, however many executions it took: a stop that swept five price levels is
        // five fills in the log (routerd writes an order's fills together, in sequence), but one loss, not five in a
        // row (which would lock the day by the loss streak). The parts are summed until the next fill is another
        // order's; the fill ids of the parts after the first are kept as counted too. Parts that come later (a
        // resting exit filled over an hour, another order's fills between) amend the trade their order counted today.
        // The parts' moves of their positions' starts wait for the trade: whether it counts today is the sum's to say.
        var pending: (trade: ClosedTrade, order: String, otherIds: [String], moves: [StartMove])?
        func recordPending() {
            guard let (trade, order, otherIds, moves) = pending else { return }
            pending = nil
            state.fillLog = log
            if let amendment = amend(order: order, with: trade, partIds: otherIds) {
                for move in moves { followStart(move, countsToday: true) }
                amended.append(amendment.trade)
                if let change = amendment.transition { transitions.append(change) }
            } else {
                for move in moves { followStart(move, countsToday: !countsForAnotherDay(trade)) }
                trades.append(trade)  // its parts' ids were not counted before (those are skipped below)
                if let change = record(trade, order: order).transition { transitions.append(change) }
                for id in otherIds where !state.recentTradeIds.contains(id) { state.recentTradeIds.append(id) }
            }
            log = state.fillLog ?? log
        }
        defer { state.fillLog = log }
        for fill in page.fills {
            guard let sequence = fill.sequence, sequence > log.countedThrough else { continue }
            // Strictly in order: positions and P&L depend on it. A gap is fetched again from where it starts.
            guard sequence == log.countedThrough + 1 else { break }
            log.countedThrough = sequence
            log.lastFillId = fill.fillId
            changed = true
            // A paper run's fill in a log a live routerd now writes: not the trader's money.
            guard page.counts(fill) else { continue }
            // Another order trading the same strategy's position (an entry, another exit) ends the trades it closed
            // so far: a later part of their orders is a trade of its own, not one with the round trip before.
            if let part = pending, part.order != fill.clientOrderId { recordPending() }
            endAmendments(strategyId: fill.strategyId ?? ManualTrading.strategyId, symbol: fill.symbol, exceptOrder: fill.clientOrderId)
            let time = ceiling.map { min(fill.time, $0) } ?? fill.time
            let strategy = fill.strategyId ?? ""
            settlePendingEntries(after: fill)
            let index = log.positions.firstIndex { $0.strategyId == strategy && $0.symbol == fill.symbol }
            var book = index.map { log.positions[$0].book } ?? PositionBook()
            let held = book.quantity
            let closed: PositionBook.Closed?
            do {
                closed = try book.apply(fill)
            } catch {
                recordPending()
                // A position no decimal can hold: it stays as it was, and no new risk until a person looks.
                state.fillLog = log
                if let change = lockByLimit("fill \(fill.fillId) could not be counted (\(error))", at: state.clock ?? wallClock, cause: .unknownState) {
                    transitions.append(change)
                }
                log = state.fillLog ?? log
                continue
            }
            let updated = StrategyPosition(strategyId: strategy, symbol: fill.symbol, book: book)
            if let index { log.positions[index] = updated } else { log.positions.append(updated) }
            log.positions.removeAll { $0.quantity.isZero }
            let history = sequence <= log.historyThrough && time < log.historyBefore
            let move = StartMove(key: Self.startKey(strategyId: strategy, symbol: fill.symbol), before: held, after: book.quantity,
                                 datedToday: state.dayStart.map { time >= $0 } ?? true)
            if !history { followOpens(strategyId: strategy, symbol: fill.symbol, from: held, to: book.quantity) }
            // A part counted before (a re-read after a relink) is not counted again, nor summed into another.
            guard let closed, !history, !state.recentTradeIds.contains(fill.fillId) else {
                recordPending()
                // A part counted before moved its start then: read again, it moves nothing to the closed side.
                followStart(move, countsToday: !history && !state.recentTradeIds.contains(fill.fillId))
                continue
            }
            let trade = ClosedTrade(strategyId: fill.strategyId ?? ManualTrading.strategyId, symbol: fill.symbol, side: closed.closedSide,
                                    quantity: closed.quantity, entryPrice: closed.entryPrice, exitPrice: fill.price, pnl: closed.pnl,
                                    closedAt: time, requestId: fill.requestId, tradeId: fill.fillId)
            if var part = pending, part.order == fill.clientOrderId, part.trade.strategyId == trade.strategyId,
               part.trade.symbol == trade.symbol, part.trade.side == trade.side,
               let pnl = try? part.trade.pnl + trade.pnl, let quantity = try? part.trade.quantity + trade.quantity {
                (part.trade.pnl, part.trade.quantity, part.trade.exitPrice, part.trade.closedAt) = (pnl, quantity, trade.exitPrice, trade.closedAt)
                part.otherIds.append(fill.fillId)
                part.moves.append(move)
                pending = part
                continue
            }
            recordPending()
            pending = (trade, fill.clientOrderId, [], [move])
        }
        recordPending()
        return (.counted(changed: changed), transitions, trades, amended)
    }
}
