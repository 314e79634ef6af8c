import BagbotTestSupport
import Foundation
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

        let entry = await service.evaluate(proposal(at: utc("2024-03-01T11:00:00Z")))
        #expect(!entry.approved)
        #expect(entry.reasons.first?.hasPrefix("state not saved") == true)
        let exit = await service.evaluate(proposal(at: utc("2024-03-01T11:00:01Z"), isEntry: false))
        #expect(exit.approved)

        // Once saving works again, entries are judged normally.
        try FileManager.default.removeItem(atPath: dir.file("state"))
        let later = await service.evaluate(proposal(at: utc("2024-03-01T11:30:00Z")))
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
        _ = await service.lock(LockRequest(reason: "tilted", time: utc("2024-03-01T10:00:00Z")))
        // The disk goes away; the next day's first proposal would lift the lock, in memory only.
        try FileManager.default.removeItem(atPath: dir.file("state"))
        try dir.write("state", "not a directory")
        let entry = await service.evaluate(proposal(at: utc("2024-03-02T09:00:00Z")))
        #expect(!entry.approved, "a restart now would find the lock: no entry may rest on its lifting")
        #expect(entry.reasons.first?.hasPrefix("state not saved") == true)
        #expect(await service.evaluate(proposal(at: utc("2024-03-02T09:00:01Z"), isEntry: false)).approved, "exits still pass")
    }

    @Test("a trade resent after a failed save counts once")
    func resendAfterFailedSave() async throws {
        let dir = try TempDir()
        let service = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
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
        _ = await service.evaluate(proposal(at: utc("2024-03-01T10:00:00Z")))
        let path = dir.file("state/mindset_state.json")
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = await service.evaluate(proposal(at: utc("2024-03-01T10:00:30Z")))
        _ = await service.evaluate(proposal(at: utc("2024-03-01T10:01:00Z")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == saved)
        _ = await service.evaluate(proposal(at: utc("2024-03-02T10:00:00Z")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != saved, "a new day is saved")
    }
}
