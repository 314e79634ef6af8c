import BagbotTestSupport
import Foundation
import BagbotStorage
import BagbotIPC
import Testing
@testable import MindsetCore

@Suite("MindsetService when its state cannot be saved")
struct MindsetUnsavedStateTests {
    @Test("no new entries while mindset_state.json cannot be written (a restart would forget a lock); exits still pass")
    func entriesBlockedWhileStateUnsaved() async throws {
        let dir = try TempDir()
        // The state directory's place is taken by a file, so every save fails.
        try dir.write("state", "not a directory")
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        await #expect(throws: IPCError.self, "a trade is acknowledged only once the state that counts it is saved") {
            _ = try await service.record(trade(pnl: -10, at: utc("2024-03-01T10:00:00Z")))
        }
        #expect(await service.isHealthy == false)

        let entry = try await service.evaluate(proposal(at: utc("2024-03-01T11:00:00Z")))
        #expect(!entry.approved)
        #expect(entry.codes == ["state_not_saved"])
        let exit = try await service.evaluate(proposal(at: utc("2024-03-01T11:00:01Z"), isEntry: false))
        #expect(exit.approved)

        // Once saving works again, entries are judged normally.
        try FileManager.default.removeItem(atPath: dir.file("state"))
        let later = try await service.evaluate(proposal(at: utc("2024-03-01T11:30:00Z")))
        #expect(later.approved)
        #expect(await service.isHealthy)
        // The trade sent again (the caller heard an error) is not counted twice.
        let again = try await service.record(trade(pnl: -10, at: utc("2024-03-01T10:00:00Z"), id: "unsaved-1"))
        #expect(again.trades == 2, "the first send had no id; this one is a new trade")
    }

    @Test("an approval that rests on an unsaved change is not given: a new day lifts a lock only once that is saved")
    func approvalWaitsForTheSave() async throws {
        let dir = try TempDir()
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        _ = try await service.lock(LockRequest(reason: "tilted", time: utc("2024-03-01T10:00:00Z")))
        // The disk goes away; the next day's first proposal would lift the lock, in memory only.
        try FileManager.default.removeItem(atPath: dir.file("state"))
        try dir.write("state", "not a directory")
        let entry = try await service.evaluate(proposal(at: utc("2024-03-02T09:00:00Z")))
        #expect(!entry.approved, "a restart now would find the lock: no entry may rest on its lifting")
        #expect(entry.codes == ["state_not_saved"])
        #expect(try await service.evaluate(proposal(at: utc("2024-03-02T09:00:01Z"), isEntry: false)).approved, "exits still pass")
    }

    @Test("a trade resent after a failed save counts once")
    func resendAfterFailedSave() async throws {
        let dir = try TempDir()
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        try FileManager.default.removeItem(atPath: dir.file("state"))
        try dir.write("state", "not a directory")
        let lost = trade(pnl: -10, at: utc("2024-03-01T10:00:00Z"), id: "bb-7-fill")
        await #expect(throws: IPCError.self) { _ = try await service.record(lost) }
        try FileManager.default.removeItem(atPath: dir.file("state"))
        let snapshot = try await service.record(lost)
        #expect(snapshot.trades == 1)
        #expect(snapshot.dailyPnl == -10)
        let restarted = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        #expect(await restarted.snapshot().trades == 1, "and it is saved")
    }

    @Test("evaluate writes nothing when only the clock moved")
    func noWriteForTheClockAlone() async throws {
        let dir = try TempDir()
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        _ = try await service.evaluate(proposal(at: utc("2024-03-01T10:00:00Z")))
        let path = dir.file("state/mindset_state.json")
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = try await service.evaluate(proposal(at: utc("2024-03-01T10:00:30Z")))
        _ = try await service.evaluate(proposal(at: utc("2024-03-01T10:01:00Z")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == saved)
        _ = try await service.evaluate(proposal(at: utc("2024-03-02T10:00:00Z")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != saved, "a new day is saved")
    }

    @Test("an admin lock that cannot be saved is answered with an error, and entries wait meanwhile")
    func unsavedLock() async throws {
        let dir = try TempDir()
        try dir.write("state", "not a directory")
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        await #expect(throws: IPCError.self) { _ = try await service.lock(LockRequest(reason: "stop", time: utc("2024-03-01T10:00:00Z"))) }
        #expect(!(try await service.evaluate(proposal(at: utc("2024-03-01T10:00:01Z")))).approved)
    }

    @Test("a lock made at start over an unreadable state file is saved as soon as the disk allows, so a later restart keeps it")
    func startupLockReachesTheDisk() async throws {
        let dir = try TempDir()
        // mindset_state.json is a directory: unreadable, and no file can be renamed onto it.
        try FileManager.default.createDirectory(atPath: dir.file("state/mindset_state.json"), withIntermediateDirectories: true)
        let first = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        #expect(await first.isHealthy == false)
        try FileManager.default.removeItem(atPath: dir.file("state/mindset_state.json"))
        #expect(!(try await first.evaluate(proposal(at: Date()))).approved)
        let restarted = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        #expect(await restarted.snapshot().emotionState == "LOCKED")
    }

    @Test("a finished day goes to daily_metrics.json only after the state that lists it is saved")
    func archiveAfterSave() async throws {
        let dir = try TempDir()
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        _ = try await service.record(trade(pnl: -1, at: utc("2024-03-02T09:00:00Z"), id: "today"))
        // Saving fails from here: mindset_state.json is put aside and a directory takes its place.
        let statePath = dir.file("state/mindset_state.json"), aside = dir.file("saved.json")
        try FileManager.default.moveItem(atPath: statePath, toPath: aside)
        try FileManager.default.createDirectory(atPath: statePath + "/x", withIntermediateDirectories: true)
        let late = trade(pnl: 5, at: utc("2024-03-01T23:00:00Z"), id: "late-gain")
        await #expect(throws: IPCError.self) { _ = try await service.record(late) }
        #expect(try AtomicFile.readJSON([DailySummary].self, from: dir.file("state/daily_metrics.json")) == [],
                "not appended while the state that lists it is not saved")
        // The disk is back, mindsetd restarts from its last saved state, and arsenald sends the trade again.
        try FileManager.default.removeItem(atPath: statePath)
        try FileManager.default.moveItem(atPath: aside, toPath: statePath)
        let restarted = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        _ = try await restarted.record(late)
        let days = try #require(try AtomicFile.readJSON([DailySummary].self, from: dir.file("state/daily_metrics.json")))
        #expect(days.filter { $0.lateTrades == 1 }.count == 1, "the late gain is in the history once")
    }
}
