import Foundation
import BagbotDomain
import BagbotTestSupport
import NIOConcurrencyHelpers
import BagbotIPC
import Testing
@testable import MindsetCore

@Suite("MindsetService and MindsetStore: persistence")
struct MindsetServiceTests {
    @Test("state is persisted after each change and reloaded by a new service instance")
    func stateSurvivesRestart() async throws {
        let dir = try TempDir()
        let rules = makeRules()
        let store = MindsetStore(stateDirectory: dir.file("state"))
        let first = MindsetService(rules: rules, store: store, logger: quietLogger)
        _ = try await first.record(trade(pnl: -30, at: utc("2024-03-01T10:00:00Z")))
        _ = try await first.record(trade(pnl: -20, at: utc("2024-03-01T10:05:00Z")))
        let before = await first.snapshot()
        #expect(before.emotionState == "CAUTIOUS")
        #expect(FileManager.default.fileExists(atPath: store.statePath))

        let second = MindsetService(rules: rules, store: store, logger: quietLogger)
        let after = await second.snapshot()
        #expect(after.emotionState == "CAUTIOUS")
        #expect(after.dailyPnl == -50)
        #expect(after.trades == 2)
        #expect(after.losses == 2)
        #expect(after.lossStreak == 2)
        #expect(after.dayStart == utc("2024-03-01T00:00:00Z"))
        #expect(after.recentTransitions == before.recentTransitions)

        // The revenge cooldown that started before the restart still holds after it.
        let blocked = try await second.evaluate(proposal(at: utc("2024-03-01T10:06:00Z")))
        #expect(!blocked.approved)
        #expect(blocked.reasons.first?.hasPrefix("revenge guard") == true)
        // …and one more loss continues the streak instead of starting over.
        let third = try await second.record(trade(pnl: -1, at: utc("2024-03-01T10:20:00Z")))
        #expect(third.emotionState == "TILTED")
        #expect(third.lossStreak == 3)
    }

    @Test("a closed trade resent after a restart is not counted twice")
    func resentTradeAfterRestart() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let first = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await first.record(trade(pnl: -100, at: utc("2024-03-01T10:00:00Z"), id: "bb-1-fill"))

        // arsenald did not get the answer, mindsetd restarted, arsenald sends the trade again.
        let second = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        let snapshot = try await second.record(trade(pnl: -100, at: utc("2024-03-01T10:00:00Z"), id: "bb-1-fill"))
        #expect(snapshot.trades == 1)
        #expect(snapshot.dailyPnl == -100)
        #expect(snapshot.lossStreak == 1)
    }

    @Test("a lock survives a restart")
    func lockSurvivesRestart() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let first = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await first.evaluate(proposal(at: utc("2024-03-01T09:00:00Z")))
        let locked = try await first.lock(LockRequest(reason: "news at 10", time: utc("2024-03-01T09:30:00Z")))
        #expect(locked.emotionState == "LOCKED")
        #expect(locked.lockReason == "admin: news at 10")

        let second = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        #expect(await second.snapshot().emotionState == "LOCKED")
        let decision = try await second.evaluate(proposal(at: utc("2024-03-01T11:00:00Z")))
        #expect(!decision.approved)
        #expect(decision.reasons == ["locked: admin: news at 10"])
        #expect(decision.codes == ["locked"])
        let snapshot = await second.snapshot()
        #expect(snapshot.decisions == 1)
        #expect(snapshot.approvals == 0)
        #expect(snapshot.blocksByReason == ["locked": 1])
    }

    @Test("a corrupt mindset_state.json starts LOCKED and is moved aside")
    func corruptStateStartsLocked() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let garbage = "{\"dailyPnl\": 12, \"emotion\": \"CA"
        try garbage.write(toFile: store.statePath, atomically: true, encoding: .utf8)

        let service = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        let snapshot = await service.snapshot()
        #expect(snapshot.emotionState == "LOCKED")
        #expect(snapshot.lockReason?.contains("corrupt") == true)

        let aside = dir.contents().filter { $0.hasPrefix("mindset_state.json.corrupt-") }
        #expect(aside.count == 1)
        if let name = aside.first {
            #expect(try String(contentsOfFile: dir.file(name), encoding: .utf8) == garbage)
        }
        // The corrupt file is not read again as if it were state.
        #expect((try? String(contentsOfFile: store.statePath, encoding: .utf8)) != garbage)

        let entry = try await service.evaluate(proposal(at: Date()))
        #expect(!entry.approved)
        let exit = try await service.evaluate(proposal(at: Date(), isEntry: false))
        #expect(exit.approved)
    }

    @Test("after a corrupt state file, a second restart is still LOCKED (not fresh defaults)")
    func corruptStateLockSurvivesSecondRestart() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        try "not json at all".write(toFile: store.statePath, atomically: true, encoding: .utf8)
        let first = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        #expect(await first.snapshot().emotionState == "LOCKED")

        // systemd restarts the daemon (or the operator does) before any request reached it.
        let second = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        #expect(await second.snapshot().emotionState == "LOCKED",
                "the corrupt-file lock must be persisted; otherwise a restart silently trades on defaults")
    }

    /// mindsetd started on a corrupt state file, on a wall clock the test moves.
    func startedOnCorruptState(_ dir: TempDir, at day: Date) throws -> (MindsetStore, NIOLockedValueBox<Date>, MindsetService) {
        let store = MindsetStore(stateDirectory: dir.path)
        try "not json at all".write(toFile: store.statePath, atomically: true, encoding: .utf8)
        let wall = NIOLockedValueBox(day)
        return (store, wall, MindsetService(rules: makeRules(), store: store, logger: quietLogger, wallClock: { wall.withLockedValue { $0 } }))
    }

    @Test("a corrupt state file's lock outlasts daily resets until an admin acknowledges it; acknowledged on a later day, trading resumes")
    func corruptStateLockWaitsForAcknowledgment() async throws {
        let dir = try TempDir()
        let day = utc("2024-03-01T10:00:00Z")
        let (store, wall, mindset) = try startedOnCorruptState(dir, at: day)
        for offset in [0.0, 1, 3] {
            wall.withLockedValue { $0 = day.addingTimeInterval(offset * 86_400) }
            let entry = try await mindset.evaluate(proposal(at: day.addingTimeInterval(offset * 86_400)))
            #expect(entry.codes == ["locked"], "day +\(Int(offset)): \(entry.reasons)")
        }
        #expect(try store.loadState()?.acknowledgmentPendingSince != nil)
        let acknowledged = try await mindset.unlock(UnlockRequest(reason: "checked the files"))
        #expect(acknowledged.emotionState == "CALM")
        #expect(acknowledged.recentTransitions.last?.reason == "admin acknowledged: checked the files")
        #expect(try await mindset.evaluate(proposal(at: day.addingTimeInterval(3 * 86_400 + 60))).approved)
    }

    @Test("acknowledged on the day the state was lost, the day stays LOCKED until the reset: no fresh loss limit the same day")
    func sameDayAcknowledgmentWaitsForReset() async throws {
        let dir = try TempDir()
        let day = utc("2024-03-01T10:00:00Z")
        let (_, wall, mindset) = try startedOnCorruptState(dir, at: day)
        let acknowledged = try await mindset.unlock(UnlockRequest(reason: "looked"))
        #expect(acknowledged.emotionState == "LOCKED")
        #expect(try await mindset.evaluate(proposal(at: day.addingTimeInterval(60))).codes == ["locked"])
        await #expect(throws: IPCError.self) { try await mindset.unlock(UnlockRequest(reason: "again")) }
        wall.withLockedValue { $0 = day.addingTimeInterval(86_400) }
        #expect(try await mindset.evaluate(proposal(at: day.addingTimeInterval(86_400))).approved, "the reset lifts it")
    }

    @Test("mindset.state shows the day rolled over on the wall clock after the reset, without saving it (events and the poll do)")
    func stateRollsTheDay() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let day = utc("2024-03-01T10:00:00Z")
        let wall = NIOLockedValueBox(day)
        let mindset = MindsetService(rules: makeRules(clockSkew: 30) { $0.maxConsecutiveLosses = 1 }, store: store, logger: quietLogger,
                                     wallClock: { wall.withLockedValue { $0 } })
        _ = try await mindset.record(trade(pnl: -10, at: day))
        #expect(await mindset.currentState().emotionState == "LOCKED")
        wall.withLockedValue { $0 = utc("2024-03-02T00:00:05Z") }
        let next = await mindset.currentState()
        #expect(next.emotionState == "CALM")
        #expect(next.dayStart == utc("2024-03-02T00:00:00Z"))
        #expect(next.trades == 0)
        // Shown, not saved: a host clock stepped forward and back must not move the saved day.
        #expect(try store.loadState()?.dayStart == utc("2024-03-01T00:00:00Z"))
        wall.withLockedValue { $0 = day.addingTimeInterval(3_600) }
        #expect(await mindset.currentState().emotionState == "LOCKED", "the clock came back: the day and its lock are as saved")
    }

    @Test("daily_metrics.json gets one entry per finished day, in order")
    func dailyMetricsOneEntryPerDay() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let service = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await service.record(trade(pnl: 10, at: utc("2024-03-01T10:00:00Z")))
        _ = try await service.record(trade(pnl: -4, at: utc("2024-03-01T11:00:00Z")))
        #expect(try readDailyMetrics(store.metricsPath).isEmpty, "made empty at the first start, no day finished yet")

        _ = try await service.record(trade(pnl: 3, at: utc("2024-03-02T00:00:05Z")))
        var days = try readDailyMetrics(store.metricsPath)
        #expect(days.count == 1)
        #expect(days.first == DailySummary(dayStart: utc("2024-03-01T00:00:00Z"), pnl: 6, trades: 2, wins: 1, losses: 1,
                                           finalState: .calm))

        // A quiet day in between produces no empty entry; the next finished day is appended.
        _ = try await service.record(trade(pnl: -1, at: utc("2024-03-04T09:00:00Z")))
        days = try readDailyMetrics(store.metricsPath)
        #expect(days.count == 2)
        #expect(days.map(\.dayStart) == [utc("2024-03-01T00:00:00Z"), utc("2024-03-02T00:00:00Z")])
        #expect(days.last?.pnl == 3)
        #expect(days.last?.trades == 1)

        // The history survives a restart and keeps growing.
        let restarted = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await restarted.record(trade(pnl: 1, at: utc("2024-03-05T09:00:00Z")))
        #expect(try readDailyMetrics(store.metricsPath).count == 3)
    }

    @Test("a gain recorded after its day was archived is appended as that day's late entry; today is untouched")
    func lateTradeArchived() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let service = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await service.record(trade(pnl: 10, at: utc("2024-03-01T10:00:00Z")))
        _ = try await service.record(trade(pnl: 3, at: utc("2024-03-02T00:00:05Z")))
        #expect(try readDailyMetrics(store.metricsPath).count == 1)

        let snapshot = try await service.record(trade(pnl: 4, at: utc("2024-03-01T23:59:59Z")))
        #expect(snapshot.dailyPnl == 3)
        #expect(snapshot.trades == 1)
        let days = try readDailyMetrics(store.metricsPath)
        #expect(days == [
            DailySummary(dayStart: utc("2024-03-01T00:00:00Z"), pnl: 10, trades: 1, wins: 1, losses: 0, finalState: .calm),
            DailySummary(dayStart: utc("2024-03-01T00:00:00Z"), pnl: 4, trades: 1, wins: 1, losses: 0, finalState: nil,
                         lateTrades: 1),
        ])

        // Nothing waits to be archived again after a restart.
        let restarted = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await restarted.record(trade(pnl: 1, at: utc("2024-03-02T09:00:00Z")))
        #expect(try readDailyMetrics(store.metricsPath).count == 2)
    }

    @Test("a day that is rolled over by an evaluation (not a trade) is still archived")
    func dayRolledByEvaluationIsArchived() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let service = MindsetService(rules: makeRules(), store: store, logger: quietLogger)
        _ = try await service.record(trade(pnl: 25, at: utc("2024-03-01T10:00:00Z")))
        // The first event of the new day is a signal to evaluate, as it usually is.
        _ = try await service.evaluate(proposal(at: utc("2024-03-02T08:00:00Z")))
        _ = try await service.record(trade(pnl: 1, at: utc("2024-03-02T09:00:00Z")))

        let days = (try? readDailyMetrics(store.metricsPath)) ?? []
        #expect(days.count == 1, "the finished day 2024-03-01 (P&L 25) must be in daily_metrics.json")
        #expect(days.first?.pnl == 25)
    }

    @Test("a corrupt daily_metrics.json is moved aside and the finished day starts a new file")
    func corruptMetricsStartsNewFile() throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        try "[{\"broken\":".write(toFile: store.metricsPath, atomically: true, encoding: .utf8)
        let summary = DailySummary(dayStart: utc("2024-03-01T00:00:00Z"), pnl: -12, trades: 3, wins: 1, losses: 2,
                                   finalState: .cautious)

        #expect(throws: Never.self) { try store.append(summary) }
        #expect(dir.contents().contains { $0.hasPrefix("daily_metrics.json.corrupt-") })
        #expect((try? readDailyMetrics(store.metricsPath)) == [summary],
                "the finished day must not be lost because older history was unreadable")
    }

    @Test("MindsetStore round-trips a state with whole-second times exactly")
    func storeRoundTripWholeSeconds() throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path + "/nested/state")
        #expect(try store.loadState() == nil)
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: -3, at: utc("2024-03-01T10:00:00Z"), quantity: 2, entry: 50))
        engine.record(trade(pnl: -3, at: utc("2024-03-01T10:01:00Z"), quantity: 2, entry: 50))
        try store.save(engine.state)
        #expect(try store.loadState() == engine.state)
        // No temporary files are left behind by the atomic write.
        let names = (try FileManager.default.contentsOfDirectory(atPath: dir.path + "/nested/state"))
        #expect(names == ["mindset_state.json"])
    }

    @Test("MindsetStore keeps sub-second precision of the loss time and the clock")
    func storeRoundTripSubSecond() throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        var engine = MindsetEngine(rules: makeRules())
        engine.record(trade(pnl: -3, at: utc("2024-03-01T10:00:00.750Z")))
        try store.save(engine.state)
        let loaded = try #require(try store.loadState())
        // ISO-8601 without fractional seconds truncates: the revenge cooldown restarts 0.75 s early.
        #expect(loaded.lastLossAt == engine.state.lastLossAt)
        #expect(loaded.clock == engine.state.clock)
    }
}
