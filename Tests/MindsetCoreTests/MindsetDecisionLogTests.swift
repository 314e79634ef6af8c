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

    @Test("a trade counted from routerd's fill log is logged at info with its closing fill's request id, once")
    func tradeCountedAtInfo() async throws {
        let dir = try TempDir()
        let log = CapturedLog()
        let fills = FakeFillLog()
        let mindset = MindsetService(rules: makeRules(), store: MindsetStore(stateDirectory: dir.file("state")), logger: log.logger,
                                     ledger: fills)
        #expect(await mindset.catchUp(), "linked to an empty log")
        fills.roundTrip(1, opened: 100, closed: 99, at: t0, t0.addingTimeInterval(60))
        #expect(await mindset.catchUp())
        #expect(await mindset.catchUp(), "nothing new: logged once")
        let counted = log.lines.filter { $0.contains("trade counted from routerd's fill log") }
        #expect(counted.count == 1, "\(counted)")
        let line = try #require(counted.first)
        #expect(line.hasPrefix("info ") && line.contains("request_id=r2") && line.contains("strategy=micro_trend") && line.contains("pnl=-1"),
                "\(line)")
    }
}
