import BagbotTestSupport
import Foundation
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
        _ = await service.record(trade(pnl: -10, at: utc("2024-03-01T10:00:00Z")))
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
    }
}
