import BagbotTestSupport
import Foundation
import BagbotDomain
import Testing
@testable import MindsetCore

/// `max_trades_per_day` holds before the trades close: open positions and entries on their way count
/// (`MindsetEngine+TradeCount.swift`).
struct MindsetTradeCountTests {
    let t0 = utc("2024-03-01T10:00:00Z")
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    /// `openedToday`: positions opened today and not reduced since; `carried`: open positions that are not.
    func engine(maxTrades: Int, closed: Int = 0, openedToday: [String] = [], carried: [String] = []) -> MindsetEngine {
        var engine = MindsetEngine(rules: makeRules { $0.maxTradesPerDay = maxTrades; $0.revengeCooldownSeconds = 0 })
        _ = engine.advance(to: t0)
        for number in 0..<closed { engine.record(trade(pnl: 1, at: at(Double(number)), id: "t\(number)")) }
        engine.state.fillLog = FillLogPosition(databaseId: "db", countedThrough: 1, historyThrough: 1, historyBefore: t0, positions: (openedToday + carried).map {
            StrategyPosition(strategyId: "micro_trend", symbol: $0, quantity: 1, averagePrice: 100, cost: 100)
        })
        engine.state.untradedOpens = openedToday.map { StrategyPositionKey(strategyId: "micro_trend", symbol: $0) }
        return engine
    }

    @Test("a position opened today is a trade of the day to come: a new position past the limit is blocked, adding to it is not")
    func openPositionsCount() {
        var engine = engine(maxTrades: 3, closed: 2, openedToday: ["BTCUSDT"])
        let other = engine.evaluate(proposal(at: at(60), symbol: "ETHUSDT"))
        #expect(!other.approved && other.codes == ["max_trades"])
        #expect(other.reasons.first == "max trades per day reached (3): 2 closed, 1 open or on their way")
        #expect(engine.evaluate(proposal(at: at(61), symbol: "BTCUSDT")).approved, "adding to the open position starts no trade")
    }

    @Test("a position carried from an earlier day counts once it grows, and what a close left of one (dust) once it is bought back up")
    func carriedPositionsWait() {
        var engine = engine(maxTrades: 3, closed: 1, carried: ["BTCUSDT"])
        #expect(engine.evaluate(proposal(at: at(60), symbol: "ETHUSDT")).approved, "the carried position untouched is no trade of today")
        #expect(engine.evaluate(proposal(at: at(61), symbol: "BTCUSDT")).approved, "adding to it: a trade to come")
        #expect(engine.evaluate(proposal(at: at(62), symbol: "SOLUSDT")).codes == ["max_trades"], "1 closed, ETHUSDT and BTCUSDT to come")
        // A position opened today and reduced: its trade is counted; the dust left is part of it, until it grows again.
        let sol = StrategyPositionKey(strategyId: "micro_trend", symbol: "SOLUSDT")
        engine.followOpens(strategyId: "micro_trend", symbol: "SOLUSDT", from: 0, to: 5)
        #expect(engine.state.untradedOpens?.contains(sol) == true)
        engine.followOpens(strategyId: "micro_trend", symbol: "SOLUSDT", from: 5, to: ExactDecimal("0.001")!)
        #expect(engine.state.untradedOpens?.contains(sol) == false)
        engine.followOpens(strategyId: "micro_trend", symbol: "SOLUSDT", from: ExactDecimal("0.001")!, to: 3)
        #expect(engine.state.untradedOpens?.contains(sol) == true, "a re-entry from dust is a trade")
        engine.followOpens(strategyId: "micro_trend", symbol: "SOLUSDT", from: 3, to: -2)
        #expect(engine.state.untradedOpens?.contains(sol) == true, "flipped: a new position")
    }

    func fill(_ symbol: String, requestId: String?) -> Fill {
        Fill(fillId: "f-\(symbol)", clientOrderId: "bb-\(symbol)", venue: .paper, symbol: symbol, side: .buy, quantity: 1, price: 100, fee: 0,
             time: at(2), strategyId: "micro_trend", requestId: requestId, sequence: 1)
    }

    @Test("entries approved together near the limit: the ones past it are held back until their fills show where they stand")
    func entriesOnTheirWay() {
        var engine = engine(maxTrades: 2)
        let btc = proposal(at: at(1), symbol: "BTCUSDT"), eth = proposal(at: at(2), symbol: "ETHUSDT")
        #expect(engine.evaluate(btc).approved)
        #expect(engine.evaluate(eth).approved)
        let third = engine.evaluate(proposal(at: at(3), symbol: "SOLUSDT"))
        #expect(!third.approved && third.codes == ["max_trades"], "two entries on their way make the day's two trades")
        // BTCUSDT's entry filled (its position counts now); ETHUSDT's was refused, never filled: after the lifetime it
        // stops counting.
        engine.settlePendingEntries(after: fill("BTCUSDT", requestId: btc.requestId))
        engine.followOpens(strategyId: "micro_trend", symbol: "BTCUSDT", from: 0, to: 1)
        #expect(!engine.evaluate(proposal(at: at(100), symbol: "SOLUSDT")).approved)
        #expect(engine.evaluate(proposal(at: at(2 + MindsetEngine.pendingEntryLifetime), symbol: "SOLUSDT")).approved)
    }

    @Test("another order's fill in the same position (the exit before a re-entry) does not settle the entry on its way")
    func onlyItsOwnFillSettles() {
        var engine = engine(maxTrades: 1)
        let entry = proposal(at: at(1), symbol: "BTCUSDT")
        #expect(engine.evaluate(entry).approved)
        engine.settlePendingEntries(after: fill("BTCUSDT", requestId: "an-earlier-exit"))
        #expect(engine.evaluate(proposal(at: at(2), symbol: "ETHUSDT")).codes == ["max_trades"])
        // A fill without a request id (an older routerd) settles by strategy and symbol.
        engine.settlePendingEntries(after: fill("BTCUSDT", requestId: nil))
        #expect(engine.evaluate(proposal(at: at(3), symbol: "ETHUSDT")).approved)
    }

    @Test("an entry's fill counted from the log settles it: the position counts instead, and once closed the trade")
    func fillSettlesTheEntry() async throws {
        let log = FakeFillLog()
        var engine = MindsetEngine(rules: makeRules { $0.maxTradesPerDay = 3; $0.revengeCooldownSeconds = 0 })
        _ = engine.advance(to: t0)
        #expect(engine.count(try await log.fills(after: 0, limit: 1_000), ceiling: nil, wallClock: t0).outcome == .relinked)
        let entry = proposal(at: at(1), symbol: "BTCUSDT")
        #expect(engine.evaluate(entry).approved)
        log.append(.buy, 1, at: 100, time: at(2), requestId: entry.requestId)
        log.append(.sell, 1, at: 101, time: at(3))
        _ = engine.count(try await log.fills(after: engine.nextFillPageAfter, limit: 1_000), ceiling: nil, wallClock: t0)
        #expect(engine.state.trades == 1 && engine.state.fillLog?.positions.isEmpty == true)
        #expect(engine.evaluate(proposal(at: at(4), symbol: "ETHUSDT")).approved)
        // One closed, ETHUSDT on its way: BTCUSDT's entry, filled and closed, no longer counts as on its way.
        #expect(engine.evaluate(proposal(at: at(5), symbol: "SOLUSDT")).approved)
        #expect(engine.evaluate(proposal(at: at(6), symbol: "ADAUSDT")).codes == ["max_trades"])
    }
}
