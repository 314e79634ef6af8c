import BagbotTestSupport
import Foundation
import BagbotDomain
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

@Suite("loss limits on equity: open positions count, the percentage follows the account, a good day is not given back")
struct MindsetEquityLimitTests {
    let t0 = utc("2024-03-01T10:00:00Z")
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func engine(_ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetEngine {
        var engine = MindsetEngine(rules: makeRules {
            $0.dailyLossLimit = 1_000
            $0.dailyLossLimitPercent = 2
            $0.giveBackLimit = 500
            change(&$0)
        })
        _ = engine.advance(to: t0)
        return engine
    }

    @Test("an open position's unrealised loss reaches the daily limit: just below, at, above", arguments: [
        ("99000.01", false), ("99000", true), ("98999.99", true),
    ])
    func unrealisedLossLocks(equityText: String, locks: Bool) throws {
        var engine = engine()
        _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: t0)!
        let equity = try #require(ExactDecimal(equityText))
        let (_, transition) = engine.markToMarket(equity: equity, currency: "USD", wallClock: t0)!
        #expect((engine.state.emotion == .locked) == locks)
        if locks {
            #expect(transition?.reason.hasPrefix("daily loss limit hit") == true)
            #expect(transition?.reason.contains("open positions included") == true)
        }
        #expect(!engine.evaluate(proposal(at: at(1))).approved || !locks)
    }

    @Test("routerd switched from paper to live: the live balance becomes the day's start, not a loss of the play money; a lock in force stays")
    func scopeChangeIsNotALoss() throws {
        var engine = engine()
        _ = engine.markToMarket(equity: 100_000, currency: "USD", scope: "paper", wallClock: t0)!
        _ = engine.markToMarket(equity: 500, currency: "USD", scope: "live", wallClock: t0)!
        #expect(engine.state.emotion != .locked, "100,000 play dollars leaving the account is no loss")
        #expect(engine.state.startOfDayEquity == 500 && engine.state.equityScope == "live")
        #expect(engine.evaluate(proposal(at: at(1))).approved)
        // Live from then on: a real loss counts against the live start (the limit follows it: 2 % of 500 here).
        _ = engine.markToMarket(equity: 100, currency: "USD", scope: "live", wallClock: t0)!
        #expect(engine.state.emotion == .locked)
        // A start taken before routerd said its scope (an older routerd) is replaced the same way, and a lock stays.
        var locked = self.engine()
        _ = locked.markToMarket(equity: 100_000, currency: "USD", wallClock: t0)!
        _ = locked.lock(reason: "admin: stepping away", at: at(1))
        _ = locked.markToMarket(equity: 500, currency: "USD", scope: "live", wallClock: t0)!
        #expect(locked.state.startOfDayEquity == 500)
        #expect(locked.state.emotion == .locked && locked.state.lockReason == "admin: stepping away")
    }

    @Test("live → paper → live: the live account is measured from its own start of the day again; its open loss is not wiped by the switch")
    func switchingModesBackKeepsTheLiveStart() throws {
        var engine = engine()
        _ = engine.markToMarket(equity: 50_000, currency: "USD", scope: "live", wallClock: t0)!
        // An open live position down 900 (the limit: 1,000, tighter than 2 % of 50,000).
        _ = engine.markToMarket(equity: 49_100, currency: "USD", scope: "live", wallClock: t0)!
        #expect(engine.judgedPnl == -900 && engine.state.emotion != .locked)
        // Switched to paper (and restarted), then back to live: the position is still open, a little lower.
        _ = engine.markToMarket(equity: 100_000, currency: "USD", scope: "paper", wallClock: t0)!
        #expect(engine.state.startOfDayEquity == 100_000 && engine.judgedPnl == 0)
        _ = engine.markToMarket(equity: 49_050, currency: "USD", scope: "live", wallClock: t0)!
        #expect(engine.state.startOfDayEquity == 50_000, "the live start of the day, not the equity at the switch")
        #expect(engine.judgedPnl == -950)
        _ = engine.markToMarket(equity: 48_990, currency: "USD", scope: "live", wallClock: t0)!
        #expect(engine.state.emotion == .locked, "1,010 down on the day's live start")
        // Back to paper: its start is taken anew (the paper figure may count other venues than in the morning).
        _ = engine.markToMarket(equity: 90_000, currency: "USD", scope: "paper", wallClock: t0)!
        #expect(engine.state.startOfDayEquity == 90_000 && engine.judgedPnl == 0, "no fake loss of play money")
        // The next day starts afresh for every scope.
        _ = engine.markToMarket(equity: 100_000, currency: "USD", scope: "paper", wallClock: t0.addingTimeInterval(86_400))!
        _ = engine.markToMarket(equity: 48_990, currency: "USD", scope: "live", wallClock: t0.addingTimeInterval(86_400))!
        #expect(engine.state.startOfDayEquity == 48_990 && engine.state.dayStartsByScope?["live"] == nil)
    }

    /// At max replay speed market time is the files' own (another year): a poll of the account before the first
    /// event must not start a day on the wall clock, or every later trade would close "before the day".
    @Test("an accelerated replay takes no equity before its first event, then its market's day")
    func replayEquityWaitsForMarketTime() throws {
        var engine = MindsetEngine(rules: makeRules(clockSkew: 315_360_000))
        let wallClock = utc("2026-12-02T20:00:00Z")
        let first = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: wallClock)
        let marked = try #require(first)
        #expect(!marked.changed && engine.state.dayStart == nil && engine.state.equity == nil)
        let market = utc("2020-02-22T00:30:00Z")
        #expect(engine.evaluate(proposal(at: market)).approved)
        let second = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: wallClock)
        #expect(second != nil)
        #expect(engine.state.dayStart == utc("2020-02-22T00:00:00Z"), "the replay's day, not the wall clock's")
        #expect(engine.state.equity == 100_000)
    }

    @Test("the percentage limit follows the account's start-of-day equity, not the configured figure")
    func percentOfTheAccount() {
        var engine = engine { $0.startOfDayEquity = 1_000_000 }
        #expect(engine.dailyLossLimit == 1_000, "the configured equity's 2 % is 20,000: the absolute 1,000 is tighter")
        _ = engine.markToMarket(equity: 20_000, currency: "USD", wallClock: t0)!
        #expect(engine.dailyLossLimit == 400)
        _ = engine.markToMarket(equity: 19_601, currency: "USD", wallClock: t0)!
        #expect(engine.state.emotion != .locked)
        _ = engine.markToMarket(equity: 19_600, currency: "USD", wallClock: t0)!
        #expect(engine.state.emotion == .locked)
    }

    @Test("the worse of the two counts: closed losses the equity does not show yet, or open losses no trade closed")
    func worseOfTheTwo() {
        var engine = engine()
        _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: t0)!
        engine.record(trade(pnl: -600, at: at(1)))
        #expect(engine.judgedPnl == -600, "the account has not been read since")
        _ = engine.markToMarket(equity: 99_700, currency: "USD", wallClock: t0)!
        #expect(engine.judgedPnl == -600)
        _ = engine.markToMarket(equity: 99_000, currency: "USD", wallClock: t0)!
        #expect(engine.judgedPnl == -1_000)
        #expect(engine.state.emotion == .locked)
    }

    @Test("give-back: a day up 600 that falls back 500 from its peak locks; 499.99 does not; a flat day never does")
    func giveBack() throws {
        var below = engine { $0.maxConsecutiveLosses = 100; $0.tiltedAfterLosses = 100; $0.cautiousAfterLosses = 100 }
        below.record(trade(pnl: 600, at: at(1)))
        below.record(trade(pnl: try #require(ExactDecimal("-499.99")), at: at(2)))
        #expect(below.state.emotion != .locked)
        #expect(below.state.intradayPeak == 600)

        var at500 = engine()
        at500.record(trade(pnl: 600, at: at(1)))
        let (_, transition) = at500.record(trade(pnl: -500, at: at(2)))
        #expect(at500.state.emotion == .locked)
        #expect(transition?.reason.hasPrefix("give-back limit hit") == true, "\(String(describing: transition))")

        var flat = engine()
        flat.record(trade(pnl: -499, at: at(1)))
        #expect(flat.state.emotion != .locked, "no peak above zero: the daily loss limit alone applies")
    }

    @Test("a new day takes a new start-of-day equity and a new peak: yesterday's open loss is not today's")
    func newDay() {
        var engine = engine()
        _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: t0)!
        _ = engine.markToMarket(equity: 99_500, currency: "USD", wallClock: t0)!
        #expect(engine.judgedPnl == -500)
        _ = engine.advance(to: utc("2024-03-02T00:00:01Z"))
        #expect(engine.state.startOfDayEquity == nil)
        _ = engine.markToMarket(equity: 99_500, currency: "USD", wallClock: t0)!
        #expect(engine.state.startOfDayEquity == 99_500)
        #expect(engine.judgedPnl == 0)
        #expect(engine.state.intradayPeak == 0)
    }

    @Test("mindsetd takes the account from routerd, saves the day's start, and says it in mindset.state")
    func serviceReadsTheAccount() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger, ledger: log)
        _ = try await mindset.evaluate(proposal(at: t0))
        await mindset.markToMarket()
        #expect(await mindset.snapshot().startOfDayEquity == nil, "no account yet: the limits use the closed trades")
        log.equity.withLockedValue { $0 = 50_000 }
        await mindset.markToMarket()
        log.equity.withLockedValue { $0 = 49_200 }
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.startOfDayEquity == 50_000)
        #expect(snapshot.equity == 49_200)
        #expect(snapshot.judgedPnl == -800)
        #expect(snapshot.dailyLossLimit == 1_000)
        #expect(snapshot.emotionState == "TILTED", "80 % of the limit used, by an open position alone")

        let restarted = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger, ledger: log)
        #expect(await restarted.snapshot().startOfDayEquity == 50_000, "the day's start survives a restart")
    }

    func liveService(_ dir: TempDir, _ log: FakeFillLog, wall: NIOLockedValueBox<Date>) -> MindsetService {
        MindsetService(rules: makeRules(clockSkew: 30) { $0.dailyLossLimit = 1_000 }, store: MindsetStore(stateDirectory: dir.file("state")),
                       logger: quietLogger, ledger: log, ledgerFreshness: 3, wallClock: { wall.withLockedValue { $0 } })
    }

    @Test("a loss made overnight, before any event of the new day, counts against the new day's start")
    func overnightLossCounts() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let evening = utc("2026-06-01T22:00:00Z")
        let wall = NIOLockedValueBox(evening)
        let mindset = liveService(dir, log, wall: wall)
        log.equity.withLockedValue { $0 = 100_000 }
        _ = try await mindset.evaluate(proposal(at: evening))
        // The reset passes with no event; the polls go on.
        wall.withLockedValue { $0 = utc("2026-06-02T00:00:05Z") }
        await mindset.markToMarket()
        #expect(await mindset.snapshot().dayStart == utc("2026-06-02T00:00:00Z"), "the poll moved the day on")
        #expect(await mindset.snapshot().startOfDayEquity == 100_000)
        let morning = utc("2026-06-02T06:00:00Z")
        wall.withLockedValue { $0 = morning }
        log.equity.withLockedValue { $0 = 98_500 }
        await mindset.markToMarket()
        #expect(!(try await mindset.evaluate(proposal(at: morning))).approved, "1,500 lost today against a 1,000 limit")
        #expect(await mindset.snapshot().emotionState == "LOCKED")
        #expect(await mindset.snapshot().recentTransitions.last?.at == morning, "dated when it happened")
    }

    @Test("an equity figure that stops coming (account unreadable, or in another currency) blocks entries: equity_pending")
    func staleEquityBlocksEntries() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let start = utc("2026-06-01T10:00:00Z")
        let wall = NIOLockedValueBox(start)
        let mindset = liveService(dir, log, wall: wall)
        log.equity.withLockedValue { $0 = 100_000 }
        await mindset.markToMarket()
        #expect(try await mindset.evaluate(proposal(at: start)).approved)
        log.equity.withLockedValue { $0 = nil }
        wall.withLockedValue { $0 = start.addingTimeInterval(3_600) }
        let blocked = try await mindset.evaluate(proposal(at: start.addingTimeInterval(3_600)))
        #expect(blocked.reasons.first?.hasPrefix("equity_pending") == true, "\(blocked.reasons)")
        #expect(try await mindset.evaluate(proposal(at: start.addingTimeInterval(3_600), isEntry: false)).approved)

        // routerd now values the account in yen: not comparable with the day's start in dollars.
        log.equity.withLockedValue { $0 = 14_700_000 }
        log.currency.withLockedValue { $0 = "JPY" }
        let refused = try await mindset.evaluate(proposal(at: start.addingTimeInterval(3_600)))
        #expect(refused.reasons.first?.hasPrefix("equity_pending") == true)
        #expect(await mindset.snapshot().equity == 100_000)
        log.currency.withLockedValue { $0 = "USD" }
        log.equity.withLockedValue { $0 = 100_100 }
        #expect(try await mindset.evaluate(proposal(at: start.addingTimeInterval(3_600))).approved)
    }

    @Test("a missing state file where mindsetd has run before starts LOCKED until an admin acknowledges it, as a corrupt one does")
    func lostStateFileLocks() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.file("state"))
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        try store.append(DailySummary(dayStart: utc("2026-05-31T00:00:00Z"), pnl: 0, trades: 0, wins: 0, losses: 0, finalState: .calm))
        let mindset = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        #expect(await mindset.snapshot().emotionState == "LOCKED")
        #expect(await mindset.snapshot().lockReason?.contains("missing") == true)
        #expect(try store.loadState()?.emotion == .locked, "saved at once")
        let fresh = try TempDir()
        #expect(await MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: fresh.file("state")), logger: quietLogger)
            .snapshot().emotionState == "CALM", "a first start is not a lost state")
    }
}
