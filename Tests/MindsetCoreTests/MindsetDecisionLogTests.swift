import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import MindsetCore

@Suite("mindsetd's decision log")
struct MindsetDecisionLogTests {
    let t0 = utc("2024-03-01T10:00:00Z")

    @Test("every decision is logged at info with its request id, strategy and codes: an order's trace holds mindsetd's line")
    func blockedAtInfo() async throws {
        let dir = try TempDir()
        let log = CapturedLog()
        let mindset = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: log.logger,
                                     ledger: FakeFillLog())
        let approved = proposal(at: t0)
        #expect(try await mindset.evaluate(approved).approved)
        _ = try await mindset.lock(LockRequest(reason: "stepping away", time: nil))
        let blocked = proposal(at: t0.addingTimeInterval(1))
        #expect(try await !mindset.evaluate(blocked).approved)
        let decisions = log.lines.filter { $0.contains(" decision ") }
        #expect(decisions.count == 2)
        #expect(decisions.first?.hasPrefix("info decision") == true && decisions.first?.contains("request_id=\(approved.requestId)") == true
                && decisions.first?.contains("approved=true") == true, "\(decisions)")
        let line = try #require(decisions.last)
        #expect(line.hasPrefix("info decision"), "\(line)")
        #expect(line.contains("request_id=\(blocked.requestId)") && line.contains("strategy=micro_trend") && line.contains("codes=locked"), "\(line)")
    }
}
