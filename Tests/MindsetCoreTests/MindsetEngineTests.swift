import Foundation
import BagbotDomain
import Testing
@testable import MindsetCore

@Suite("MindsetEngine: daily reset")
struct MindsetDailyResetTests {
    @Test("the day resets at the configured UTC time, returns the finished day and starts counters fresh")
    func resetAtConfiguredTime() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyResetUtc = "22:00" })
        engine.record(trade(pnl: 50, at: utc("2024-03-01T10:00:00Z")))
        engine.record(trade(pnl: -20, at: utc("2024-03-01T21:59:59Z")))
        #expect(engine.state.dayStart == utc("2024-02-29T22:00:00Z"))
        #expect(engine.state.trades == 2)

        // Still the same trading day one second before the reset moment.
        #expect(engine.advance(to: utc("2024-03-01T21:59:59.999Z")) == nil)

        let summaryResult = engine.advance(to: utc("2024-03-01T22:00:00Z"))
        let summary = try #require(summaryResult)
        #expect(summary.dayStart == utc("2024-02-29T22:00:00Z"))
        #expect(summary.pnl == 30)
        #expect(summary.trades == 2)
        #expect(summary.wins == 1)
        #expect(summary.losses == 1)
        #expect(summary.finalState == .calm)

        let state = engine.state
        #expect(state.dayStart == utc("2024-03-01T22:00:00Z"))
        #expect(state.dailyPnl == 0)
        #expect(state.trades == 0)
        #expect(state.wins == 0)
        #expect(state.losses == 0)
        #expect(state.winStreak == 0)
        #expect(state.lossStreak == 0)
        // The same moment again is not a second reset.
        #expect(engine.advance(to: utc("2024-03-01T22:00:00Z")) == nil)
        #expect(engine.advance(to: utc("2024-03-02T21:00:00Z")) == nil)
    }

    @Test("a reset reached through record() returns the finished day and counts the trade in the new day")
    func resetThroughRecord() throws {
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: -5, at: utc("2024-03-01T12:00:00Z")))
        let (summary, _) = engine.record(trade(pnl: 7, at: utc("2024-03-02T00:00:01Z")))
        let finished = try #require(summary)
        #expect(finished.dayStart == utc("2024-03-01T00:00:00Z"))
        #expect(finished.pnl == -5)
        #expect(finished.trades == 1)
        #expect(engine.state.trades == 1)
        #expect(engine.state.dailyPnl == 7)
        #expect(engine.state.wins == 1)
        #expect(engine.state.lossStreak == 0)
    }

    @Test("a gain closed before the reset but recorded after it counts for its own day: it never frees today's limit")
    func lateTradeCountsForItsOwnDay() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 100 })
        engine.record(trade(pnl: -5, at: utc("2024-03-01T12:00:00Z")))
        _ = engine.evaluate(proposal(at: utc("2024-03-02T00:00:10Z")))   // the new day starts
        engine.record(trade(pnl: -20, at: utc("2024-03-02T00:00:20Z")))

        // A win from yesterday, sent late, must not free today's loss limit.
        let (summary, transition) = engine.record(trade(pnl: 50, at: utc("2024-03-01T23:59:50Z")))
        #expect(summary == nil)
        #expect(transition == nil)
        #expect(engine.state.dayStart == utc("2024-03-02T00:00:00Z"))
        #expect(engine.state.dailyPnl == -20)
        #expect(engine.state.trades == 1)
        #expect(engine.state.wins == 0)
        #expect(engine.state.lossStreak == 1)
        // Yesterday's entry, not yet archived, takes it in.
        #expect(engine.state.unarchivedDays == [DailySummary(
            dayStart: utc("2024-03-01T00:00:00Z"), pnl: 45, trades: 2, wins: 1, losses: 1, finalState: .calm, lateTrades: 1)])
    }

    @Test("a late loss counts for today (fail closed); a late gain goes to its own day, as a separate entry once that day is archived")
    func lateLossCountsToday() throws {
        var engine = MindsetEngine(rules: makeRules {
            $0.dailyLossLimit = 100
            $0.revengeCooldownSeconds = 300
        })
        engine.record(trade(pnl: 10, at: utc("2024-03-01T12:00:00Z")))
        _ = engine.evaluate(proposal(at: utc("2024-03-02T00:00:01Z")))
        engine.markArchived(engine.state.unarchivedDays.count)

        // Yesterday's loss, sent late and larger than today's limit, locks today.
        let (_, transition) = engine.record(trade(pnl: -500, at: utc("2024-03-01T23:59:00Z"), quantity: 2, entry: 300))
        #expect(transition?.to == .locked)
        #expect(engine.state.dailyPnl == -500)
        #expect(engine.state.trades == 1)
        #expect(engine.state.lossStreak == 1)
        #expect(engine.state.unarchivedDays.isEmpty)
        // Its cooldown counts from when the engine learnt of it (its clock), never from a time already passed.
        #expect(engine.state.lastLossAt == utc("2024-03-02T00:00:01Z"))
        #expect(engine.state.lastLossNotional == 600)

        // An older late loss counts too, and never moves the cooldown back.
        engine.record(trade(pnl: -1, at: utc("2024-03-01T20:00:00Z")))
        #expect(engine.state.dailyPnl == -501)
        #expect(engine.state.lastLossAt == utc("2024-03-02T00:00:01Z"))

        // A late gain of the archived day becomes a separate entry for that day; today is untouched.
        engine.record(trade(pnl: 30, at: utc("2024-03-01T22:00:00Z")))
        #expect(engine.state.dailyPnl == -501)
        #expect(engine.state.trades == 2)
        #expect(engine.state.unarchivedDays == [DailySummary(
            dayStart: utc("2024-03-01T00:00:00Z"), pnl: 30, trades: 1, wins: 1, losses: 0, finalState: nil, lateTrades: 1)])
    }

    @Test("LOCKED is cleared at the next reset, and the finished day reports it")
    func lockClearedAtReset() throws {
        var engine = MindsetEngine(rules: makeRules())
        _ = engine.advance(to: utc("2024-03-01T09:00:00Z"))
        let changeResult = engine.lock(reason: "admin: going for lunch", at: utc("2024-03-01T10:00:00Z"))
        let change = try #require(changeResult)
        #expect(change.from == .calm)
        #expect(change.to == .locked)
        #expect(engine.state.lockReason == "admin: going for lunch")

        let blocked = engine.evaluate(proposal(at: utc("2024-03-01T23:59:59Z")))
        #expect(!blocked.approved)
        #expect(blocked.reasons.contains { $0.contains("admin: going for lunch") })

        let summaryResult = engine.advance(to: utc("2024-03-02T00:00:00Z"))
        let summary = try #require(summaryResult)
        #expect(summary.finalState == .locked)
        #expect(engine.state.emotion == .calm)
        #expect(engine.state.lockReason == nil)
        #expect(engine.state.transitions.last?.reason == "daily reset")
        #expect(engine.state.transitions.last?.to == .calm)

        let next = engine.evaluate(proposal(at: utc("2024-03-02T00:00:01Z")))
        #expect(next.approved)
    }

    @Test("time going backwards neither rolls the day nor moves the clock back")
    func timeBackwards() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyResetUtc = "22:00" })
        engine.record(trade(pnl: 10, at: utc("2024-03-01T22:30:00Z")))
        #expect(engine.state.dayStart == utc("2024-03-01T22:00:00Z"))

        // An event from before the reset moment (the previous trading day) arrives late.
        #expect(engine.advance(to: utc("2024-03-01T21:30:00Z")) == nil)
        let (summary, _) = engine.record(trade(pnl: 5, at: utc("2024-03-01T21:45:00Z")))
        #expect(summary == nil)
        _ = engine.evaluate(proposal(at: utc("2024-03-01T21:50:00Z")))
        #expect(engine.state.dayStart == utc("2024-03-01T22:00:00Z"))
        // A rewind of an hour: the clock stayed, then moved by the 20 market minutes since (never back).
        #expect(engine.state.clock == utc("2024-03-01T22:50:00Z"))
        // The late trade belongs to the previous trading day, not to this one.
        #expect(engine.state.trades == 1)
        #expect(engine.state.dailyPnl == 10)
        #expect(engine.state.unarchivedDays.map(\.dayStart) == [utc("2024-02-29T22:00:00Z")])
        #expect(engine.state.unarchivedDays.first?.lateTrades == 1)

        // Forward again inside the same trading day: still no reset, nothing lost.
        #expect(engine.advance(to: utc("2024-03-01T22:45:00Z")) == nil)
        #expect(engine.state.trades == 1)
        // The real next reset still happens exactly once.
        let nextResult = engine.advance(to: utc("2024-03-02T22:00:00Z"))
        let next = try #require(nextResult)
        #expect(next.trades == 1)
        #expect(next.pnl == 10)
        #expect(next.lateTrades == nil)
    }
}

@Suite("MindsetEngine: emotion states")
struct MindsetEmotionTests {
    let t0 = utc("2024-03-01T10:00:00Z")

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test("CALM → CONFIDENT after the configured number of wins in a row")
    func confidentAfterWins() throws {
        var engine = MindsetEngine(rules: makeRules { $0.confidentAfterWins = 3 })
        #expect(engine.record(trade(pnl: 5, at: at(0))).transition == nil)
        #expect(engine.record(trade(pnl: 5, at: at(1))).transition == nil)
        #expect(engine.state.emotion == .calm)
        let changeResult = engine.record(trade(pnl: 5, at: at(2))).transition
        let change = try #require(changeResult)
        #expect(change.from == .calm)
        #expect(change.to == .confident)
        #expect(change.reason.contains("3 wins"))
        #expect(change.at == at(2))
        #expect(engine.state.emotion == .confident)
        #expect(engine.state.winStreak == 3)

        // A loss ends the streak: back to CALM (one small loss is far from every limit).
        engine.record(trade(pnl: -1, at: at(3)))
        #expect(engine.state.emotion == .calm)
        #expect(engine.state.winStreak == 0)
    }

    @Test("CAUTIOUS after 2 losses in a row")
    func cautiousAfterTwoLosses() throws {
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: -1, at: at(0)))
        #expect(engine.state.emotion == .calm)
        let changeResult = engine.record(trade(pnl: -1, at: at(1))).transition
        let change = try #require(changeResult)
        #expect(change.to == .cautious)
        #expect(change.reason.contains("2 losses in a row"))
        #expect(engine.state.emotion == .cautious)
    }

    @Test("CAUTIOUS at half the daily loss limit, not before")
    func cautiousAtHalfTheLimit() {
        // Defaults: 1,000 absolute vs 2 % of 100,000 = 2,000 → 1,000 applies.
        var below = MindsetEngine(rules: makeRules())
        #expect(below.rules.effectiveDailyLossLimit == 1_000)
        below.record(trade(pnl: -499, at: at(0)))
        #expect(below.state.emotion == .calm)

        var at50 = MindsetEngine(rules: makeRules())
        at50.record(trade(pnl: -500, at: at(0)))
        #expect(at50.state.lossStreak == 1)
        #expect(at50.state.emotion == .cautious)
        #expect(at50.state.transitions.last?.reason.contains("50%") == true)
    }

    @Test("TILTED after 3 losses in a row")
    func tiltedAfterThreeLosses() {
        var engine = MindsetEngine(rules: makeRules())
        for index in 0..<3 { engine.record(trade(pnl: -1, at: at(Double(index)))) }
        #expect(engine.state.emotion == .tilted)
        #expect(engine.state.transitions.map(\.to) == [.cautious, .tilted])
    }

    @Test("TILTED at 80 % of the daily loss limit, CAUTIOUS just below")
    func tiltedAt80Percent() {
        var below = MindsetEngine(rules: makeRules())
        below.record(trade(pnl: -799, at: at(0)))
        #expect(below.state.emotion == .cautious)

        var tilted = MindsetEngine(rules: makeRules())
        tilted.record(trade(pnl: -800, at: at(0)))
        #expect(tilted.state.emotion == .tilted)
    }

    @Test("LOCKED at the absolute daily loss limit when it is the tighter one")
    func lockedAtAbsoluteLimit() throws {
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: -600, at: at(0)))
        #expect(engine.state.emotion == .cautious)
        let changeResult = engine.record(trade(pnl: -400, at: at(1))).transition
        let change = try #require(changeResult)
        #expect(change.to == .locked)
        #expect(change.reason.contains("daily loss limit"))
        #expect(engine.state.lockReason?.contains("daily loss limit") == true)
    }

    @Test("LOCKED at the percentage limit when it is the tighter one")
    func lockedAtPercentLimit() {
        let rules = makeRules {
            $0.startOfDayEquity = 10_000
            $0.dailyLossLimitPercent = 2 // 200, tighter than the absolute 1,000
        }
        #expect(rules.effectiveDailyLossLimit == 200)
        var justBelow = MindsetEngine(rules: rules)
        justBelow.record(trade(pnl: -199, at: at(0)))
        #expect(justBelow.state.emotion == .tilted)

        var engine = MindsetEngine(rules: rules)
        engine.record(trade(pnl: -200, at: at(0)))
        #expect(engine.state.emotion == .locked)
        #expect(!engine.evaluate(proposal(at: at(3_600))).approved)
    }

    @Test("LOCKED at the maximum number of consecutive losses")
    func lockedAtConsecutiveLosses() {
        var engine = MindsetEngine(rules: makeRules { $0.maxConsecutiveLosses = 5 })
        for index in 0..<4 { engine.record(trade(pnl: -1, at: at(Double(index)))) }
        #expect(engine.state.emotion == .tilted)
        engine.record(trade(pnl: -1, at: at(4)))
        #expect(engine.state.emotion == .locked)
        #expect(engine.state.lockReason?.contains("5 consecutive losses") == true)
        // A later win does not unlock: only the daily reset does.
        engine.record(trade(pnl: 100, at: at(5)))
        #expect(engine.state.emotion == .locked)
    }

    @Test("LOCKED at the maximum number of trades per day; entries blocked, exits approved")
    func lockedAtMaxTrades() {
        var engine = MindsetEngine(rules: makeRules { $0.maxTradesPerDay = 3 })
        engine.record(trade(pnl: 1, at: at(0)))
        engine.record(trade(pnl: 1, at: at(1)))
        #expect(engine.evaluate(proposal(at: at(2))).approved)
        engine.record(trade(pnl: 1, at: at(3)))
        #expect(engine.state.emotion == .locked)
        #expect(engine.state.lockReason?.contains("max trades per day") == true)

        let entry = engine.evaluate(proposal(at: at(4)))
        #expect(!entry.approved)
        #expect(entry.approvedQuantity == 0)
        let exit = engine.evaluate(proposal(at: at(5), quantity: 2, isEntry: false))
        #expect(exit.approved)
        #expect(exit.approvedQuantity == 2)
    }

    @Test("LOCKED blocks every entry with the lock's reason but approves exits in full")
    func lockedBlocksEntriesApprovesExits() throws {
        var engine = MindsetEngine(rules: makeRules())
        _ = engine.lock(reason: "admin: manual stop", at: at(0))
        // Locking twice is not a second transition.
        #expect(engine.lock(reason: "again", at: at(1)) == nil)
        #expect(engine.state.lockReason == "admin: manual stop")

        for side in Side.allCases {
            let entry = engine.evaluate(proposal(at: at(10), quantity: 3, isEntry: true, side: side))
            #expect(!entry.approved)
            #expect(entry.sizeMultiplier == 0)
            #expect(entry.approvedQuantity == 0)
            #expect(entry.emotionState == "LOCKED")
            #expect(entry.reasons == ["locked: admin: manual stop"])

            let exit = engine.evaluate(proposal(at: at(11), quantity: 3, isEntry: false, side: side))
            #expect(exit.approved)
            #expect(exit.sizeMultiplier == 1)
            #expect(exit.approvedQuantity == 3)
            #expect(exit.emotionState == "LOCKED")
            #expect(!exit.reasons.isEmpty)
        }
    }

    @Test("an admin lock issued after the reset moment survives the new day's first evaluation")
    func adminLockAfterResetHolds() {
        var engine = MindsetEngine(rules: makeRules())
        // Yesterday's last event; nothing happened since midnight (a quiet night).
        engine.record(trade(pnl: 1, at: utc("2024-03-01T18:00:00Z")))
        _ = engine.lock(reason: "admin: stop for today", at: utc("2024-03-02T08:00:00Z"))
        #expect(engine.state.emotion == .locked)

        let decision = engine.evaluate(proposal(at: utc("2024-03-02T08:01:00Z")))
        #expect(!decision.approved, "a lock made at 08:00 today must hold until tomorrow's reset")
        #expect(engine.state.emotion == .locked)
    }
}

@Suite("MindsetEngine: revenge guard, sizing and validation")
struct MindsetDecisionTests {
    let t0 = utc("2024-03-01T10:00:00Z")

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test("after a loss the cooldown blocks entries for N seconds and allows them after; exits stay allowed")
    func revengeCooldown() {
        var engine = MindsetEngine(rules: makeRules {
            $0.revengeCooldownSeconds = 300
            $0.revengeWindowSeconds = 1_800
        })
        engine.record(trade(pnl: -10, at: at(0)))
        #expect(engine.state.emotion == .calm)

        let early = engine.evaluate(proposal(at: at(1), quantity: 0.5))
        #expect(!early.approved)
        #expect(early.reasons.count == 1)
        #expect(early.reasons[0].hasPrefix("revenge guard: cooldown"))
        #expect(early.reasons[0].contains("299s left"))

        let late = engine.evaluate(proposal(at: at(299.5), quantity: 0.5))
        #expect(!late.approved)
        #expect(late.reasons[0].contains("1s left"))

        #expect(engine.evaluate(proposal(at: at(200), quantity: 0.5, isEntry: false)).approved)

        let after = engine.evaluate(proposal(at: at(300), quantity: 0.5))
        #expect(after.approved)
        #expect(after.approvedQuantity == 0.5)
    }

    @Test("a win does not start a cooldown")
    func winHasNoCooldown() {
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: 10, at: at(0)))
        #expect(engine.evaluate(proposal(at: at(1))).approved)
    }

    @Test("after a loss in USDT an entry quoted in BTC is capped at the same value, converted at routerd's rates; without a rate it is blocked")
    func revengeCapAcrossQuoteAssets() {
        var engine = MindsetEngine(rules: makeRules {
            $0.revengeCooldownSeconds = 0
            $0.revengeWindowSeconds = 1_800
        })
        // Lost on 10 BTCUSDT @ 100 = 1,000 USDT.
        engine.record(trade(pnl: -10, at: at(0), quantity: 10, entry: 100))
        engine.quoteAssets = ["BTCUSDT": "USDT", "ETHBTC": "BTC"]
        let entry = proposal(at: at(60), quantity: 100, price: ExactDecimal("0.05")!, symbol: "ETHBTC")
        let noRate = engine.evaluate(entry)
        #expect(!noRate.approved && noRate.codes == ["revenge_cap"], "\(noRate.reasons)")
        #expect(noRate.reasons.first?.contains("a loss in BTCUSDT, this entry in ETHBTC") == true)
        engine.takeRates(of: [
            AccountSummary.SymbolMark(symbol: "BTCUSDT", price: 50_000, quoteAsset: "USDT", quoteRate: 1),
            AccountSummary.SymbolMark(symbol: "ETHBTC", price: ExactDecimal("0.05")!, quoteAsset: "BTC", quoteRate: 50_000),
        ], currency: "USD")
        // 1,000 USDT is 0.02 BTC: 0.4 ETH at 0.05, not the 20,000 ETH a cap of "1,000" BTC would allow.
        let capped = engine.evaluate(entry)
        #expect(capped.approved && capped.approvedQuantity == ExactDecimal("0.4")!, "\(capped.approvedQuantity)")
        #expect(capped.codes.contains("revenge_cap"))
        // BTCUSDT no longer routed (no mark of its own): USDT's rate comes from another symbol quoted in it.
        engine.takeRates(of: [
            AccountSummary.SymbolMark(symbol: "ETHUSDT", price: 2_500, quoteAsset: "USDT", quoteRate: 1),
            AccountSummary.SymbolMark(symbol: "ETHBTC", price: ExactDecimal("0.05")!, quoteAsset: "BTC", quoteRate: 50_000),
        ], currency: "USD")
        #expect(engine.evaluate(entry).approvedQuantity == ExactDecimal("0.4")!)
        // Outside the window, nothing to compare.
        #expect(engine.evaluate(proposal(at: at(1_801), quantity: 100, price: ExactDecimal("0.05")!, symbol: "ETHBTC")).approvedQuantity == 100)
    }

    @Test("the loss's quote asset is noted with it: a symbol gone from routerd's marks since still compares")
    func lossQuoteKept() {
        var engine = MindsetEngine(rules: makeRules { $0.revengeCooldownSeconds = 0; $0.revengeWindowSeconds = 1_800 })
        engine.quoteAssets = ["BTCUSDT": "USDT", "ETHUSDT": "USDT"]
        engine.record(trade(pnl: -10, at: at(0), quantity: 10, entry: 100))
        engine.quoteAssets = ["ETHUSDT": "USDT"]
        #expect(engine.evaluate(proposal(at: at(60), quantity: 1_000, price: 2, symbol: "ETHUSDT")).approvedQuantity == 500)
    }

    @Test("within the revenge window an entry is capped at the losing trade's notional")
    func revengeWindowCap() {
        var engine = MindsetEngine(rules: makeRules {
            $0.revengeCooldownSeconds = 300
            $0.revengeWindowSeconds = 1_800
        })
        // Lost on 10 @ 100 = 1,000 notional.
        engine.record(trade(pnl: -10, at: at(0), quantity: 10, entry: 100))

        let bigger = engine.evaluate(proposal(at: at(600), quantity: 20, price: 100))
        #expect(bigger.approved)
        #expect(bigger.approvedQuantity == 10)
        #expect(bigger.sizeMultiplier == 0.5)
        #expect(bigger.reasons.contains { $0.hasPrefix("revenge guard: capped") })

        // Another symbol whose quote asset is not known yet: not comparable, blocked inside the window.
        let unknown = engine.evaluate(proposal(at: at(601), quantity: 1_000, price: 2, symbol: "ETHUSDT"))
        #expect(!unknown.approved && unknown.codes == ["revenge_cap"])
        // Another symbol at another price, in the same quote asset: the cap is in notional, not in units.
        engine.quoteAssets = ["BTCUSDT": "USDT", "ETHUSDT": "USDT"]
        let other = engine.evaluate(proposal(at: at(601), quantity: 1_000, price: 2, symbol: "ETHUSDT"))
        #expect(other.approvedQuantity == 500)

        let smaller = engine.evaluate(proposal(at: at(602), quantity: 5, price: 100))
        #expect(smaller.approvedQuantity == 5)
        #expect(!smaller.reasons.contains { $0.contains("revenge") })

        let afterWindow = engine.evaluate(proposal(at: at(1_800), quantity: 20, price: 100))
        #expect(afterWindow.approvedQuantity == 20)
        #expect(afterWindow.sizeMultiplier == 1)
    }

    @Test("the size multiplier is the state's factor", arguments: [
        (EmotionState.calm, 0, 0),
        (EmotionState.confident, 3, 0),
        (EmotionState.cautious, 0, 2),
        (EmotionState.tilted, 0, 3),
    ])
    func sizeMultiplierIsStateFactor(expected: EmotionState, wins: Int, losses: Int) {
        var engine = MindsetEngine(rules: makeRules {
            $0.stateFactors.calm = 0.9
            $0.stateFactors.confident = 1
            $0.stateFactors.cautious = 0.5
            $0.stateFactors.tilted = 0.25
            $0.revengeCooldownSeconds = 0
            $0.revengeWindowSeconds = 0
        })
        var time = 0.0
        for _ in 0..<wins { engine.record(trade(pnl: 1, at: at(time))); time += 1 }
        for _ in 0..<losses { engine.record(trade(pnl: -1, at: at(time))); time += 1 }
        #expect(engine.state.emotion == expected)

        let factor = engine.rules.sizeFactor(for: expected)
        let decision = engine.evaluate(proposal(at: at(time + 1), quantity: 4))
        #expect(decision.approved)
        #expect(decision.emotionState == expected.rawValue)
        #expect(abs(decision.sizeMultiplier - factor) < 1e-12)
        #expect(decision.approvedQuantity == ExactDecimal(rounding: 4 * factor, scale: 6, rounding: .halfEven))
        #expect(decision.reasons.contains { $0.hasPrefix("state \(expected.rawValue)") })
        #expect(engine.rules.sizeFactor(for: .locked) == 0)
    }

    @Test("a state factor of zero blocks instead of approving nothing")
    func zeroFactorBlocks() {
        var engine = MindsetEngine(rules: makeRules {
            $0.stateFactors.cautious = 0
            $0.revengeCooldownSeconds = 0
            $0.revengeWindowSeconds = 0
        })
        engine.record(trade(pnl: -1, at: at(0)))
        engine.record(trade(pnl: -1, at: at(1)))
        let decision = engine.evaluate(proposal(at: at(2)))
        #expect(!decision.approved)
        #expect(decision.approvedQuantity == 0)
        #expect(decision.codes == ["size_zero", "state_size", "grade_size"])
        #expect(decision.reasons.count == decision.codes.count)
    }

    @Test("invalid proposals are blocked with a reason", arguments: [
        ("0", "100"), ("-1", "100"), ("0.00", "100"), ("1", "0"), ("1", "-5"), ("1", "-0.00000001"),
    ])
    func invalidProposalsBlocked(quantityText: String, priceText: String) throws {
        let quantity = try #require(ExactDecimal(quantityText))
        let price = try #require(ExactDecimal(priceText))
        var engine = MindsetEngine(rules: makeRules())
        for isEntry in [true, false] {
            let decision = engine.evaluate(proposal(at: at(0), quantity: quantity, price: price, isEntry: isEntry))
            #expect(!decision.approved)
            #expect(decision.approvedQuantity == 0)
            #expect(decision.sizeMultiplier == 0)
            #expect(decision.reasons.count == 1)
            #expect(decision.reasons.first?.contains("invalid proposal") == true)
        }
    }

    @Test("every decision carries at least one reason")
    func everyDecisionHasReasons() {
        var engine = MindsetEngine(rules: makeRules { $0.maxConsecutiveLosses = 4 })
        var decisions: [MindsetDecision] = []
        var time = 0.0
        func step(_ seconds: Double) -> Date { time += seconds; return at(time) }
        decisions.append(engine.evaluate(proposal(at: step(1))))                         // calm entry
        decisions.append(engine.evaluate(proposal(at: step(1), isEntry: false)))         // exit
        decisions.append(engine.evaluate(proposal(at: step(1), quantity: 0)))            // invalid
        engine.record(trade(pnl: -1, at: step(1)))
        decisions.append(engine.evaluate(proposal(at: step(1))))                         // cooldown
        decisions.append(engine.evaluate(proposal(at: step(400), quantity: 50)))         // capped
        for _ in 0..<3 { engine.record(trade(pnl: -1, at: step(1))) }
        #expect(engine.state.emotion == .locked)
        decisions.append(engine.evaluate(proposal(at: step(4_000))))                     // locked
        decisions.append(engine.evaluate(proposal(at: step(1), isEntry: false)))         // exit while locked
        #expect(decisions.count == 7)
        for decision in decisions {
            #expect(!decision.reasons.isEmpty)
            #expect(decision.reasons.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        }
    }

    @Test("a resent closed trade (same trade id) is counted once; trades without an id are each counted")
    func resentTradeCountedOnce() {
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: -40, at: at(0), id: "fill-1"))
        let again = engine.record(trade(pnl: -40, at: at(1), id: "fill-1"))
        #expect(again.summary == nil && again.transition == nil)
        #expect(engine.state.trades == 1)
        #expect(engine.state.dailyPnl == -40)
        #expect(engine.state.lossStreak == 1, "a resend must not look like a second loss in a row")
        #expect(engine.state.emotion == .calm)

        engine.record(trade(pnl: -40, at: at(2), id: "fill-2"))
        #expect(engine.state.lossStreak == 2)
        #expect(engine.state.emotion == .cautious)
        engine.record(trade(pnl: 5, at: at(3)))
        engine.record(trade(pnl: 5, at: at(4)))
        #expect(engine.state.trades == 4)
        #expect(engine.state.dailyPnl == -70)
    }

    @Test("transitions are kept, bounded to the most recent ones")
    func transitionsBounded() {
        var engine = MindsetEngine(rules: makeRules { $0.revengeCooldownSeconds = 0 })
        var time = 0.0
        // Alternate two losses (CAUTIOUS) and a win (CALM): two transitions per round.
        for _ in 0..<40 {
            engine.record(trade(pnl: -0.01, at: at(time))); time += 1
            engine.record(trade(pnl: -0.01, at: at(time))); time += 1
            engine.record(trade(pnl: 0.03, at: at(time))); time += 1
        }
        #expect(engine.state.transitions.count == MindsetEngine.keptTransitions)
        #expect(engine.state.transitions.last?.at == at(time - 1))
    }
}
