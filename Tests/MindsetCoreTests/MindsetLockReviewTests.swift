import BagbotTestSupport
import Foundation
import BagbotDomain
import BagbotIPC
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

@Suite("mindsetd's locks and locked settings after a fourth review")
struct MindsetLockReviewTests {
    let t0 = utc("2024-03-01T10:00:00Z")
    let start = utc("2026-06-01T10:00:00Z")

    // A loss limit reached while an admin lock is on is forgotten: unlock lifts a lock a limit also set.
    @Test("a loss limit hit during an admin lock survives the unlock")
    func limitDuringAdminLock() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000 })
        _ = engine.advance(to: t0)
        _ = engine.lock(reason: "admin: lunch", at: t0)
        engine.record(trade(pnl: -1_200, at: t0.addingTimeInterval(1)))   // an exit during the lock: limit hit
        engine.record(trade(pnl: 700, at: t0.addingTimeInterval(2)))      // another exit wins some back
        #expect(engine.state.lockReason?.hasPrefix("daily loss limit hit") == true, "the limit's reason took over")
        #expect(throws: IPCError.self) { _ = try engine.unlock(reason: "back") }
    }

    // The give-back peak is not raised while locked: a give-back made during an admin lock is lost.
    @Test("give-back during an admin lock locks after the unlock")
    func giveBackDuringAdminLock() throws {
        var engine = MindsetEngine(rules: makeRules { $0.giveBackLimit = 500 })
        _ = engine.advance(to: t0)
        _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: t0)
        _ = engine.lock(reason: "admin: lunch", at: t0)
        engine.record(trade(pnl: 1_500, at: t0))                          // an exit during the lock: a gain
        _ = engine.markToMarket(equity: 101_500, currency: "USD", wallClock: t0)
        _ = engine.markToMarket(equity: 100_200, currency: "USD", wallClock: t0)
        #expect(engine.state.intradayPeak == 1_500, "peak while locked")
        let after = try? engine.unlock(reason: "back")
        #expect(engine.state.emotion == .locked, "1,300 given back from 1,500: \(String(describing: after))")
    }

    // max_clock_skew_seconds is not a locked setting: open it, restart, send one entry a day ahead: new day.
    @Test("raising max_clock_skew_seconds and restarting does not move the day")
    func skewRestart() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let store = MindsetStore(stateDirectory: dir.file("state"))
        let live = MindsetService(rules: makeRules(clockSkew: 30) { $0.dailyLossLimit = 100 }, store: store, logger: quietLogger,
                                  wallClock: { wall.withLockedValue { $0 } })
        _ = try await live.evaluate(proposal(at: start))
        _ = try await live.record(trade(pnl: -100, at: start))
        #expect(await live.snapshot().emotionState == "LOCKED")
        let opened = MindsetService(rules: makeRules(clockSkew: 315_360_000) { $0.dailyLossLimit = 100_000 }, store: store,
                                    logger: quietLogger, wallClock: { wall.withLockedValue { $0 } })
        // The day keeps its 30 s: an entry a day ahead is refused, and the day stays locked.
        let refused = await #expect(throws: IPCError.self) { _ = try await opened.evaluate(proposal(at: start.addingTimeInterval(86_400))) }
        #expect(refused?.code == .badRequest)
        #expect(!(try await opened.evaluate(proposal(at: start))).approved)
    }

    // The self-lockout lives only in mindset_state.json: a lost/corrupt state file ends it at the next reset.
    @Test("a self-lockout survives a lost state file")
    func selfLockoutLostFile() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let store = MindsetStore(stateDirectory: dir.file("state"))
        func make() -> MindsetService {
            MindsetService(rules: makeRules(clockSkew: 30), store: store, logger: quietLogger, wallClock: { wall.withLockedValue { $0 } })
        }
        let first = make()
        _ = try await first.evaluate(proposal(at: start))
        _ = try await first.selfLockout(SelfLockoutRequest(until: start.addingTimeInterval(20 * 86_400), reason: "a month off"))
        try Data("[]".utf8).write(to: URL(fileURLWithPath: store.metricsPath))
        try FileManager.default.removeItem(atPath: store.statePath)
        let second = make()
        #expect(await second.snapshot().emotionState == "LOCKED")
        let tomorrow = start.addingTimeInterval(86_400)
        wall.withLockedValue { $0 = tomorrow }
        let decision = try await second.evaluate(proposal(at: tomorrow))
        #expect(!decision.approved, "the 20-day self-lockout ended after 1 day: \(decision.reasons)")
    }

    // On the daemon's first day there is no daily_metrics.json: deleting the state file starts CALM.
    @Test("a lost state file on the first day does not start CALM")
    func firstDayDelete() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let store = MindsetStore(stateDirectory: dir.file("state"))
        func make() -> MindsetService {
            MindsetService(rules: makeRules(clockSkew: 30) { $0.dailyLossLimit = 100 }, store: store, logger: quietLogger,
                           wallClock: { wall.withLockedValue { $0 } })
        }
        let first = make()
        _ = try await first.evaluate(proposal(at: start))
        _ = try await first.record(trade(pnl: -100, at: start))
        #expect(await first.snapshot().emotionState == "LOCKED")
        try FileManager.default.removeItem(atPath: store.statePath)
        let second = make()
        #expect(!(try await second.evaluate(proposal(at: start.addingTimeInterval(1)))).approved)
    }

    // A tightening made by a restart is not saved until something else changes: a second restart undoes it.
    @Test("a tightening stays through a later loosening restart")
    func tighteningNotSaved() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let store = MindsetStore(stateDirectory: dir.file("state"))
        func make(_ limit: ExactDecimal) -> MindsetService {
            MindsetService(rules: makeRules(clockSkew: 30) { $0.dailyLossLimit = limit }, store: store, logger: quietLogger,
                           wallClock: { wall.withLockedValue { $0 } })
        }
        let a = make(1_000)
        _ = try await a.record(trade(pnl: -100, at: start))
        let b = make(300)
        #expect(await b.snapshot().dailyLossLimit == 300)
        _ = try await b.evaluate(proposal(at: start.addingTimeInterval(10)))
        let c = make(1_000)
        #expect(await c.snapshot().dailyLossLimit == 300, "docs: tightened for the rest of the day, even if loosened again")
    }

    // In a replay (skew opened, market time in the past), the poll moves the day to the wall clock's.
    @Test("the account poll in a replay keeps the replay's day")
    func replayPoll() {
        var engine = MindsetEngine(rules: makeRules(clockSkew: 315_360_000))
        engine.ceiling = start.addingTimeInterval(315_360_000)
        _ = engine.advance(to: t0)
        _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: start)
        #expect(engine.state.dayStart == utc("2024-03-01T00:00:00Z"), "day moved to \(String(describing: engine.state.dayStart))")
        engine.record(trade(pnl: 50, at: t0.addingTimeInterval(60)))
        #expect(engine.state.dailyPnl == 50, "a replay gain taken for a late gain of another day")
    }
}

@Suite("mindsetd's locks after a fifth read")
struct MindsetLockFifthReviewTests {
    let start = utc("2026-06-01T10:00:00Z")

    @Test("a limit taking over an admin lock through the account poll is saved: a restart and an unlock do not lift it")
    func takeoverByPollIsSaved() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(start)
        func make() -> MindsetService {
            MindsetService(rules: makeRules(clockSkew: 30) { $0.dailyLossLimit = 1_000 }, store: MindsetStore(stateDirectory: dir.file("state")),
                           logger: quietLogger, ledger: log, wallClock: { wall.withLockedValue { $0 } })
        }
        let first = make()
        log.equity.withLockedValue { $0 = 100_000 }
        await first.markToMarket()
        _ = try await first.lock(LockRequest(reason: "lunch", time: nil))
        log.equity.withLockedValue { $0 = 98_800 }
        await first.markToMarket()
        let restarted = make()
        #expect(await restarted.snapshot().lockReason?.hasPrefix("daily loss limit hit") == true)
        log.equity.withLockedValue { $0 = 99_900 }
        await restarted.markToMarket()
        #expect(await #expect(throws: IPCError.self) { _ = try await restarted.unlock(UnlockRequest(reason: "back")) }?.code == .conflict)
    }

    @Test("a P&L out of range under an admin lock takes it over too")
    func outOfRangeUnderAdminLock() throws {
        var engine = MindsetEngine(rules: makeRules())
        _ = engine.advance(to: start)
        _ = engine.lock(reason: "admin: lunch", at: start)
        let huge = try #require(ExactDecimal("900000000000000000"))
        for id in ["a", "b"] {
            engine.record(ClosedTrade(strategyId: "s", symbol: "BTCUSDT", side: .buy, quantity: 1, entryPrice: huge, exitPrice: 0, pnl: -huge,
                                      closedAt: start, requestId: nil, tradeId: id))
        }
        #expect(engine.state.lockReason?.hasPrefix("admin:") == false)
        #expect(throws: IPCError.self) { _ = try engine.unlock(reason: "back") }
    }

    @Test("transitions equal by value are each announced: they are counted, not matched")
    func equalTransitionsAnnounced() async throws {
        let dir = try TempDir()
        let seen = NIOLockedValueBox(0)
        let mindset = MindsetService(rules: makeRules { $0.confidentAfterWins = 1; $0.revengeCooldownSeconds = 0 },
                                     store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        await mindset.setTransitionHandler { _ in seen.withLockedValue { $0 += 1 } }
        // Win, loss, win, all at the same time: CALM→CONFIDENT, CONFIDENT→CALM, CALM→CONFIDENT (the first and last equal).
        _ = try await mindset.record(trade(pnl: 1, at: start, id: "w1"))
        _ = try await mindset.record(trade(pnl: -1, at: start, id: "l1"))
        _ = try await mindset.record(trade(pnl: 1, at: start, id: "w2"))
        #expect(seen.withLockedValue { $0 } == 3)
    }
}
