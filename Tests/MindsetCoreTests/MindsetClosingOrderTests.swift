import BagbotTestSupport
import Foundation
import BagbotDomain
import Testing
@testable import MindsetCore

/// A closing order whose parts come in separate reads of routerd's fill log (a resting exit filled over time, other
/// orders' fills between) is one trade (`MindsetEngine+ClosingOrders.swift`).
struct MindsetClosingOrderTests {
    let t0 = utc("2024-03-01T10:00:00Z")
    /// mindsetd's state directory, one per test (a suite instance is made for each).
    let dir: TempDir

    init() throws {
        dir = try TempDir()
    }
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func service(_ log: FakeFillLog, _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetService {
        MindsetService(rules: makeRules(change), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger, ledger: log)
    }

    /// A service linked to an empty log, and the trader's position of 2 (or `bought`) bought at 100.
    func linked(bought: ExactDecimal = 2, _ change: @escaping (inout MindsetSettings) -> Void = { $0.revengeCooldownSeconds = 0 }) async throws
        -> (log: FakeFillLog, mindset: MindsetService) {
        let log = FakeFillLog()
        let mindset = service(log, change)
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, bought, at: 100, time: at(1))
        return (log, mindset)
    }

    @Test("a resting exit filled in three parts, read three times, is one loss: no streak of three, one trade of the day's limit")
    func partsReadApartAreOneTrade() async throws {
        let (log, mindset) = try await linked(bought: 3) { $0.revengeCooldownSeconds = 0; $0.maxConsecutiveLosses = 2; $0.cautiousAfterLosses = 2 }
        for (part, price) in [ExactDecimal(99), 98, 97].enumerated() {
            log.append(.sell, 1, at: price, time: at(60 * Double(part + 1)), order: "bb-exit")
            #expect(await mindset.catchUp())
        }
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 1 && snapshot.losses == 1 && snapshot.lossStreak == 1,
                "trades \(snapshot.trades), losses \(snapshot.losses), streak \(snapshot.lossStreak)")
        #expect(snapshot.dailyPnl == -6, "every part's loss counts: -1 -2 -3")
        #expect(snapshot.emotionState == "CALM", "one loss, not the two that make CAUTIOUS nor the limit of two")
        #expect(snapshot.lastLossNotional == 300, "the revenge guard sizes the whole trade: 3 × 100")
        // Read again after a restart: the parts are not counted again, and the next loss is the second.
        let restarted = service(log) { $0.revengeCooldownSeconds = 0; $0.maxConsecutiveLosses = 2; $0.cautiousAfterLosses = 2 }
        #expect(await restarted.catchUp())
        #expect(await restarted.snapshot().trades == 1)
        log.append(.buy, 1, at: 100, time: at(300))
        log.append(.sell, 1, at: 99, time: at(301))
        #expect(await restarted.catchUp())
        let after = await restarted.snapshot()
        #expect(after.trades == 2 && after.lossStreak == 2 && after.emotionState == "LOCKED", "\(after.emotionState), streak \(after.lossStreak)")
    }

    @Test("a part read after the restart of mindsetd amends the trade counted before it")
    func partAfterARestart() async throws {
        let log = FakeFillLog()
        #expect(await service(log).catchUp(), "linked to an empty log")
        log.append(.buy, 2, at: 100, time: at(1))
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-exit")
        #expect(await service(log).catchUp())
        log.append(.sell, 1, at: 98, time: at(3), order: "bb-exit")
        let restarted = service(log)
        #expect(await restarted.catchUp())
        let snapshot = await restarted.snapshot()
        #expect(snapshot.trades == 1 && snapshot.losses == 1 && snapshot.dailyPnl == -3, "trades \(snapshot.trades), P&L \(snapshot.dailyPnl)")
    }

    @Test("another order's trade between the parts: each order is one trade, and the streaks follow the order they closed in")
    func interleavedOrders() async throws {
        let (log, mindset) = try await linked()
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-exit")
        log.append(.buy, 1, at: 50, time: at(3), symbol: "ETHUSDT")
        log.append(.sell, 1, at: 52, time: at(4), symbol: "ETHUSDT")
        log.append(.sell, 1, at: 98, time: at(5), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 2 && snapshot.losses == 1 && snapshot.wins == 1, "trades \(snapshot.trades)")
        #expect(snapshot.dailyPnl == -1, "-1 +2 -2")
        #expect(snapshot.winStreak == 1 && snapshot.lossStreak == 0, "the loss closed first, the win last")
    }

    @Test("a part that turns a win into a loss counts a loss: wins, losses, streak and cooldown follow the whole trade")
    func winTurnedIntoALoss() async throws {
        let (log, mindset) = try await linked { $0.revengeCooldownSeconds = 300 }
        log.append(.sell, 1, at: 102, time: at(2), order: "bb-exit")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().wins == 1)
        log.append(.sell, 1, at: 95, time: at(10), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 1 && snapshot.wins == 0 && snapshot.losses == 1 && snapshot.lossStreak == 1 && snapshot.winStreak == 0,
                "wins \(snapshot.wins), losses \(snapshot.losses)")
        #expect(snapshot.dailyPnl == -3)
        #expect(snapshot.cooldownUntil == at(310), "the cooldown runs from the part that made the loss: \(String(describing: snapshot.cooldownUntil))")
        let decision = try await mindset.evaluate(proposal(at: at(20)))
        #expect(!decision.approved && decision.reasons.first?.hasPrefix("revenge guard") == true, "\(decision.reasons)")
    }

    @Test("an earlier loss turned into a win by its last part: the streak is counted again from it")
    func streakCountedAgain() async throws {
        let (log, mindset) = try await linked()
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-exit")
        log.append(.buy, 1, at: 50, time: at(3), symbol: "ETHUSDT")
        log.append(.sell, 1, at: 49, time: at(4), symbol: "ETHUSDT")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().lossStreak == 2)
        log.append(.sell, 1, at: 106, time: at(5), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 2 && snapshot.wins == 1 && snapshot.losses == 1, "wins \(snapshot.wins), losses \(snapshot.losses)")
        #expect(snapshot.lossStreak == 1 && snapshot.winStreak == 0, "a win (+5), then a loss: streak \(snapshot.lossStreak)")
        #expect(snapshot.dailyPnl == 4)
    }

    @Test("a part filled after the daily reset counts in the new day, as a trade of its own")
    func partAfterTheReset() async throws {
        let (log, mindset) = try await linked()
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-exit")
        #expect(await mindset.catchUp())
        log.append(.sell, 1, at: 98, time: utc("2024-03-02T00:00:05Z"), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.dayStart == utc("2024-03-02T00:00:00Z"))
        #expect(snapshot.trades == 1 && snapshot.losses == 1 && snapshot.dailyPnl == -2, "trades \(snapshot.trades), P&L \(snapshot.dailyPnl)")
    }

    @Test("a position traded again between the parts (here bought back): the later part is a round trip of its own")
    func reentryBetweenParts() async throws {
        let (log, mindset) = try await linked()
        log.append(.sell, 1, at: 95, time: at(2), order: "bb-exit")
        #expect(await mindset.catchUp())
        log.append(.buy, 1, at: 96, time: at(3))
        #expect(await mindset.catchUp())
        log.append(.sell, 1, at: 95, time: at(4), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 2 && snapshot.losses == 2 && snapshot.lossStreak == 2, "trades \(snapshot.trades), streak \(snapshot.lossStreak)")
    }

    @Test("the same in one read: the entry between the parts ends the trade before it")
    func reentryBetweenPartsInOnePage() async throws {
        let (log, mindset) = try await linked()
        log.append(.sell, 1, at: 95, time: at(2), order: "bb-exit")
        log.append(.buy, 1, at: 96, time: at(3))
        log.append(.sell, 1, at: 95, time: at(4), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 2 && snapshot.losses == 2 && snapshot.dailyPnl == -8, "-5, then -3 on the average cost of 98: trades \(snapshot.trades), P&L \(snapshot.dailyPnl)")
    }

    @Test("after a link to another database, its orders do not amend the trades counted in the one before (their ids may repeat)")
    func anotherDatabaseDoesNotAmend() async throws {
        let (log, mindset) = try await linked()
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-exit")
        #expect(await mindset.catchUp())
        // A new file: fills from sequence 1 again, with the same order id for another trade.
        log.entries.withLockedValue { $0.removeAll() }
        log.databaseId.withLockedValue { $0 = "db-2" }
        #expect(await mindset.catchUp(), "linked to the new database")
        log.append(.buy, 1, at: 100, time: at(10))
        log.append(.sell, 1, at: 98, time: at(11), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 2 && snapshot.losses == 2 && snapshot.lossStreak == 2, "trades \(snapshot.trades)")
        #expect(snapshot.dailyPnl == -3)
    }

    @Test("a part that deepens a loss starts the cooldown again from its own time; one that turns the loss into a win leaves it running")
    func cooldownFollowsTheParts() async throws {
        let (log, mindset) = try await linked(bought: 3) { $0.revengeCooldownSeconds = 300 }
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-exit")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().cooldownUntil == at(302))
        log.append(.sell, 1, at: 98, time: at(100), order: "bb-exit")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().cooldownUntil == at(400), "the loss grew at 100 s")
        log.append(.sell, 1, at: 110, time: at(200), order: "bb-exit")
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.wins == 1 && snapshot.losses == 0 && snapshot.dailyPnl == 7)
        #expect(snapshot.cooldownUntil == at(400), "a loss that became a win does not end its cooldown early")
    }

    @Test("the grade sees the whole trade's result, in its place among the others")
    func gradeSeesTheWholeTrade() throws {
        var engine = MindsetEngine(rules: makeRules())
        let first = ClosedTrade(strategyId: "micro_trend", symbol: "BTCUSDT", side: .buy, quantity: 1, entryPrice: 100, exitPrice: 99,
                                pnl: -1, closedAt: at(1), requestId: nil, tradeId: "f1")
        engine.record(first, order: "bb-exit")
        var other = first
        (other.symbol, other.pnl, other.tradeId) = ("ETHUSDT", 2, "f2")
        engine.record(other, order: "bb-other")
        var part = first
        (part.pnl, part.tradeId, part.closedAt) = (-3, "f3", at(2))
        #expect(engine.amend(order: "bb-exit", with: part, partIds: []) != nil)
        #expect(engine.state.recentResults?.overall.map(\.pnl) == [-4, 2])
        #expect(engine.state.recentResults?.byStrategy["micro_trend"]?.map(\.pnl) == [-4, 2])
        #expect(engine.state.recentTradeIds.contains("f3"))
        // Another strategy's part, or an order never counted: not this trade.
        var foreign = part
        foreign.strategyId = "mean_revert"
        #expect(engine.amend(order: "bb-exit", with: foreign, partIds: []) == nil)
        #expect(engine.amend(order: "bb-unknown", with: part, partIds: []) == nil)
    }

    @Test("a result no longer kept for the grade is not replaced; the others stay where they are")
    func replaceBeyondTheWindow() {
        var results = RecentResults()
        let first = results.add(TradeResult(-1, symbol: "BTCUSDT"), strategy: "a", keeping: 2)
        results.add(TradeResult(2, symbol: "BTCUSDT"), strategy: "b", keeping: 2)
        let third = results.add(TradeResult(3, symbol: "BTCUSDT"), strategy: "a", keeping: 2)
        results.update(first, strategy: "a") { $0.pnl = -9 }
        #expect(results.overall.map(\.pnl) == [2, 3], "the first is past the window of two: \(results.overall)")
        #expect(results.byStrategy["a"]?.map(\.pnl) == [-9, 3], "in its strategy's list it is still kept")
        results.update(third, strategy: "a") { ($0.pnl, $0.symbol) = (4, "USDJPY") }
        #expect(results.overall == [TradeResult(2, symbol: "BTCUSDT"), TradeResult(4, symbol: "USDJPY")])
        #expect(results.byStrategy["a"]?.map(\.pnl) == [-9, 4])
    }
}
