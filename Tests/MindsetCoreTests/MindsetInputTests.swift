import BagbotTestSupport
import Foundation
import BagbotDomain
import BagbotIPC
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

@Suite("mindsetd's input: no message moves the calendar or poisons the state")
struct MindsetInputTests {
    let wall = utc("2026-06-01T12:00:00Z")

    func service(_ dir: TempDir, wall: NIOLockedValueBox<Date>? = nil, _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetService {
        let clock = wall ?? NIOLockedValueBox(self.wall)
        return MindsetService(rules: makeRules(clockSkew: 300, change), store: MindsetStore(stateDirectory: dir.file("state")),
                              logger: quietLogger, wallClock: { clock.withLockedValue { $0 } })
    }

    func badRequest(naming field: String, _ body: () async throws -> Void) async {
        let error = await #expect(throws: IPCError.self) { try await body() }
        #expect(error?.code == .badRequest)
        #expect(error?.message.hasPrefix("\(field):") == true, "\(String(describing: error))")
    }

    @Test("an evaluate from year 33658 is refused, naming the field, and changes nothing, even after a restart")
    func farFutureEvaluate() async throws {
        let dir = try TempDir()
        let mindset = service(dir)
        _ = try await mindset.evaluate(proposal(at: wall))
        let before = await mindset.snapshot()
        await badRequest(naming: "time") { _ = try await mindset.evaluate(proposal(at: Date(timeIntervalSince1970: 1e12))) }
        await badRequest(naming: "time") { _ = try await mindset.evaluate(proposal(at: wall.addingTimeInterval(301))) }
        await badRequest(naming: "time") { _ = try await mindset.evaluate(proposal(at: wall.addingTimeInterval(-301))) }
        #expect(await mindset.snapshot() == before)
        #expect(try await mindset.evaluate(proposal(at: wall.addingTimeInterval(299))).approved, "within the skew")

        let restarted = service(dir)
        #expect(await restarted.snapshot().dayStart == utc("2026-06-01T00:00:00Z"))
    }

    @Test("no message, or pair of messages, walks the clock past the skew: a cooldown holds, a lock holds, the day stays")
    func clockCannotBeWalked() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(self.wall)
        let mindset = service(dir, wall: wall) { $0.revengeCooldownSeconds = 300 }
        _ = try await mindset.record(trade(pnl: -5, at: self.wall, id: "loss"))
        // An exit stamped at the edge of the skew moves nothing; an entry there moves the clock by the skew at most.
        #expect(try await mindset.evaluate(proposal(at: self.wall.addingTimeInterval(29), isEntry: false)).approved)
        let blocked = try await mindset.evaluate(proposal(at: self.wall.addingTimeInterval(1)))
        #expect(blocked.reasons.first?.contains("299s left") == true, "\(blocked.reasons)")
        // Pairs of times 58 s apart, each within the skew: the clock never goes past the latest of them.
        _ = try await mindset.lock(LockRequest(reason: "stepping away", time: nil))
        for _ in 0..<200 {
            _ = try await mindset.evaluate(proposal(at: self.wall.addingTimeInterval(-29)))
            _ = try await mindset.evaluate(proposal(at: self.wall.addingTimeInterval(29)))
        }
        let snapshot = await mindset.snapshot()
        #expect(snapshot.emotionState == "LOCKED")
        #expect(snapshot.dailyPnl == -5)
        #expect(try MindsetStore(stateDirectory: dir.file("state")).loadState()?.clock ?? .distantFuture <= self.wall.addingTimeInterval(30))
    }

    @Test("a host clock stepped back (NTP) pulls the engine's clock back with it: the day does not roll early, a lock holds")
    func wallStepBack() async throws {
        let dir = try TempDir()
        let start = utc("2026-03-01T23:00:00Z")
        let wall = NIOLockedValueBox(start)
        let mindset = MindsetService(rules: makeRules(clockSkew: 30), store: MindsetStore(stateDirectory: dir.file("state")),
                                     logger: quietLogger, wallClock: { wall.withLockedValue { $0 } })
        _ = try await mindset.evaluate(proposal(at: start))
        // The host clock was 15 minutes fast; NTP steps it back.
        wall.withLockedValue { $0 = start.addingTimeInterval(10 - 900) }
        _ = try await mindset.evaluate(proposal(at: start.addingTimeInterval(10 - 900)))
        _ = try await mindset.lock(LockRequest(reason: "daily loss", time: nil))
        let real = utc("2026-03-01T23:50:00Z")
        wall.withLockedValue { $0 = real }
        #expect(!(try await mindset.evaluate(proposal(at: real))).approved, "the lock holds until the real reset at 00:00")
        #expect(await mindset.snapshot().dayStart == utc("2026-03-01T00:00:00Z"))
    }

    @Test("an exit is never refused: not for its time, nor for its strength")
    func exitsAreNeverRefused() async throws {
        let dir = try TempDir()
        let mindset = service(dir)
        var exit = proposal(at: wall.addingTimeInterval(-86_400), isEntry: false)
        exit.strength = .nan
        #expect(try await mindset.evaluate(exit).approved)
        _ = try await mindset.lock(LockRequest(reason: "done for today", time: nil))
        #expect(try await mindset.evaluate(proposal(at: wall.addingTimeInterval(3_600), isEntry: false)).approved)
    }

    @Test("a lock without a time locks at mindsetd's clock and moves it nowhere")
    func lockWithoutTimeKeepsTheClock() async throws {
        var engine = MindsetEngine(rules: makeRules())
        engine.observe(utc("2026-06-05T12:00:00Z"))
        engine.observe(utc("2026-06-01T12:00:00Z"))
        let clock = engine.state.clock
        for _ in 0..<5 { _ = engine.lockNow(reason: "admin", wallClock: utc("2026-06-01T12:00:00Z")) }
        #expect(engine.state.clock == clock)
        #expect(engine.state.emotion == .locked)
    }

    @Test("a lock without a time, after a reset no event has brought yet, is the new day's: the next event does not lift it")
    func lockWithoutTimeAfterTheReset() {
        var engine = MindsetEngine(rules: makeRules())
        #expect(engine.evaluate(proposal(at: utc("2026-06-01T23:58:00Z"))).approved)
        _ = engine.lockNow(reason: "admin: done", wallClock: utc("2026-06-02T00:02:00Z"))
        let next = engine.evaluate(proposal(at: utc("2026-06-02T00:03:00Z")))
        #expect(!next.approved, "the lock was lifted as the reset's: \(next.reasons)")
        #expect(engine.state.emotion == .locked)
    }

    @Test("bad numbers are refused with their field: quantity, price, strength, confidence, a trade's prices")
    func badNumbers() async throws {
        let dir = try TempDir()
        let mindset = service(dir)
        var bad = proposal(at: wall)
        bad.quantity = 0
        await badRequest(naming: "quantity") { _ = try await mindset.evaluate(bad) }
        bad = proposal(at: wall, price: -1)
        await badRequest(naming: "price") { _ = try await mindset.evaluate(bad) }
        bad = proposal(at: wall)
        bad.strength = .infinity
        await badRequest(naming: "strength") { _ = try await mindset.evaluate(bad) }
        bad = proposal(at: wall)
        bad.confidence = 2
        await badRequest(naming: "confidence") { _ = try await mindset.evaluate(bad) }
        bad = proposal(at: wall, quantity: 999_999_999_999_999_999, price: 999_999_999_999_999_999)
        await badRequest(naming: "quantity × price") { _ = try await mindset.evaluate(bad) }

        var badTrade = trade(pnl: -5, at: wall)
        badTrade.entryPrice = 0
        await badRequest(naming: "entryPrice") { _ = try await mindset.record(badTrade) }
        #expect(await mindset.snapshot().trades == 0)
        // A position closed at zero is a total loss, and counts.
        #expect(try await mindset.record(trade(pnl: -100, at: wall)).dailyPnl == -100)
    }

    @Test("a trade may come late, never from the future; a lock's time is checked too")
    func tradeAndLockTimes() async throws {
        let dir = try TempDir()
        let mindset = service(dir)
        await badRequest(naming: "closedAt") { _ = try await mindset.record(trade(pnl: -5, at: wall.addingTimeInterval(3_600))) }
        #expect(try await mindset.record(trade(pnl: -5, at: wall.addingTimeInterval(-7_200))).trades == 1, "late, after an outage")
        await badRequest(naming: "time") { _ = try await mindset.lock(LockRequest(reason: "x", time: Date(timeIntervalSince1970: 1e12))) }
        #expect(await mindset.snapshot().emotionState == "CALM")
    }

    @Test("a P&L no decimal can hold is refused on the wire; sums beyond range lock, and the state still saves")
    func hugePnl() async throws {
        let json = #"{"strategyId":"s","symbol":"BTCUSDT","side":"buy","quantity":"1","entryPrice":"1","exitPrice":"1","pnl":-1e308,"closedAt":"2026-06-01T12:00:00Z"}"#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(throws: (any Error).self) { _ = try decoder.decode(ClosedTrade.self, from: Data(json.utf8)) }

        let dir = try TempDir()
        let mindset = service(dir)
        let huge = try #require(ExactDecimal("900000000000000000"))
        func totalLoss(_ id: String) -> ClosedTrade {
            ClosedTrade(strategyId: "s", symbol: "BTCUSDT", side: .buy, quantity: 1, entryPrice: huge, exitPrice: 0, pnl: -huge,
                        closedAt: wall, requestId: nil, tradeId: id)
        }
        _ = try await mindset.record(totalLoss("a"))
        let second = try await mindset.record(totalLoss("b"))
        #expect(second.emotionState == "LOCKED")
        #expect(second.dailyPnl == -huge, "a sum beyond range changes nothing; the day is locked")
        #expect(second.trades == 1)
        #expect(try MindsetStore(stateDirectory: dir.file("state")).loadState()?.emotion == .locked)
    }

    @Test("after routerd restarts a replay, market time goes back: cooldowns stay their length, days do not move back")
    func marketTimeBackwards() async throws {
        var engine = MindsetEngine(rules: makeRules { $0.revengeCooldownSeconds = 300 })
        let ahead = utc("2026-06-05T12:00:00Z")
        _ = engine.evaluate(proposal(at: ahead))
        // The replay starts again four days earlier; a loss comes in at the new market time.
        let restart = utc("2026-06-01T12:00:00Z")
        _ = engine.evaluate(proposal(at: restart))
        engine.record(trade(pnl: -5, at: restart.addingTimeInterval(10)))
        let blocked = engine.evaluate(proposal(at: restart.addingTimeInterval(20)))
        #expect(!blocked.approved)
        // Known at the engine's clock (the moment of the rewind, 10 s before the trade's own time): never shorter.
        #expect(blocked.reasons.first?.contains("280s left") == true, "\(blocked.reasons)")
        #expect(!engine.evaluate(proposal(at: restart.addingTimeInterval(299))).approved)
        #expect(engine.evaluate(proposal(at: restart.addingTimeInterval(300))).approved, "300 s of market time after the loss")
        #expect(engine.state.dayStart == utc("2026-06-05T00:00:00Z"))
    }

    @Test("two venues' clocks a second apart never push the engine's clock ahead of the market")
    func clockJitter() {
        var engine = MindsetEngine(rules: makeRules())
        var time = utc("2026-06-01T12:00:00Z")
        for _ in 0..<1_000 {
            engine.observe(time)
            engine.observe(time.addingTimeInterval(-1))
            time = time.addingTimeInterval(2)
        }
        #expect(engine.state.clock == time.addingTimeInterval(-2), "as far as the market went, not a second more")
    }
}
