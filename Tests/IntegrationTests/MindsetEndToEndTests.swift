import Foundation
import BagbotDomain
import BagbotIPC
import GRDB
import Testing

/// The mindset's guarantees with the real daemons: routerd's real fill log and paper venue, mindsetd's real
/// state files. In TradePathTests' suite, so they run one at a time with its tests.
extension TradePathTests {
    struct Reason: Encodable, Sendable { var reason: String }
    struct MindsetStatus: Decodable, Sendable {
        var emotionState: String
        var lockReason: String?
        var countedFillSequence: Int64
        var flattenOrders: [FlattenOrder]

        struct FlattenOrder: Decodable, Sendable {
            var clientOrderId: String
            var outcome: String
        }
    }

    /// Places a market order at routerd for strategy "e2e", once routerd has a price; returns its fill's sequence.
    @discardableResult
    func trade(_ system: TestSystem, _ side: Side, _ quantity: ExactDecimal) async throws -> OrderRecord {
        var placed: OrderRecord?
        try await system.waitUntil("routerd fills a \(side.rawValue) (it has a price)", timeout: .seconds(30)) {
            let request = PlaceOrderRequest(clientOrderId: "e2e-" + UUID().uuidString.prefix(8), symbol: "BTCUSDT", side: side,
                                            quantity: quantity, strategyId: "e2e")
            placed = try? await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self)
            return placed?.status == .filled
        }
        return try #require(placed)
    }

    /// Waits until mindsetd answers (it may take seconds to start on a loaded machine).
    func mindsetAnswers(_ system: TestSystem) async throws {
        try await system.waitUntil("mindsetd to answer", timeout: .seconds(30)) {
            (try? await system.call("mindsetd", Methods.mindsetState, as: MindsetStatus.self)) != nil
        }
    }

    /// The last fill's sequence and market time in routerd's log.
    func lastFill(_ system: TestSystem) throws -> (sequence: Int64, time: Date) {
        try system.database().read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT sequence, time FROM fills ORDER BY sequence DESC LIMIT 1"))
            return (row["sequence"], row["time"])
        }
    }

    /// An entry for strategy "e2e" at the market time of routerd's last fill (the replay's clock, not the wall's),
    /// carrying the fills seen, as arsenald's would.
    func entry(_ system: TestSystem, id: String) throws -> TradeProposal {
        let (sequence, time) = try lastFill(system)
        return TradeProposal(strategyId: "e2e", symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.001")!, price: 9_700,
                             time: time.addingTimeInterval(1), strength: 1, confidence: 0.5, isEntry: true, requestId: id, fillSequence: sequence)
    }

    @Test("on_locked: flatten, real daemons: an admin lock closes the open position with one reduce-only order through routerd")
    func flattenOnLock() async throws {
        try await TestSystem.with(extraConfig: "mindset:\n  on_locked: flatten\n") { system in
            try system.start(["routerd", "mindsetd"])
            try await trade(system, .buy, ExactDecimal("0.002")!)
            try await mindsetAnswers(system)
            _ = try await system.call("mindsetd", Methods.mindsetLock, Reason(reason: "end to end"), as: MindsetStatus.self)
            let flattened = "SELECT COUNT(*) FROM orders WHERE client_order_id LIKE 'mf-%' AND status = 'filled' AND reduce_only = 1 AND side = 'sell' AND strategy_id = 'e2e'"
            try await system.waitUntil("mindsetd's reduce-only sell to close the position", timeout: .seconds(30)) {
                try system.count(flattened) == 1
            }
            let positions = try await system.call("routerd", Methods.routerStrategyPositions, as: StrategyPositionsResponse.self)
            #expect(positions.positions.filter { $0.strategyId == "e2e" }.allSatisfy { $0.quantity.isZero }, "\(positions.positions)")
            // Flat: later polls send nothing more, past the 5 s retry interval too.
            try await Task.sleep(for: .seconds(7))
            let status = try await system.call("mindsetd", Methods.mindsetState, as: MindsetStatus.self)
            #expect(status.flattenOrders.map(\.outcome) == ["filled"], "\(status.flattenOrders)")
            #expect(try system.count("SELECT COUNT(*) FROM orders WHERE client_order_id LIKE 'mf-%'") == 1)
        }
    }

    @Test("a state directory that cannot be written (read-only mount): a loss it cannot save blocks entries through kill -9 restarts, and locks once saved",
          .enabled(if: TestSystem.canMountPrivately, "needs root and unshare (CI has both)"))
    func unwritableStateBlocksEntries() async throws {
        try await TestSystem.with(extraConfig: "mindset:\n  max_consecutive_losses: 1\n") { system in
            let stateFile = system.root + "/state/state/mindset_state.json"
            try system.start(["routerd", "mindsetd"])
            try await system.waitUntil("mindsetd to save its link to routerd's fill log", timeout: .seconds(30)) {
                FileManager.default.fileExists(atPath: stateFile)
            }
            await system.stop("mindsetd")
            try system.start("mindsetd", readOnlyStateFiles: true)
            try await mindsetAnswers(system)
            let saved = try Data(contentsOf: URL(fileURLWithPath: stateFile))

            // Round trips until one loses (the spread and fees make most lose; the replay may move up in between).
            try await system.waitUntil("a losing round trip at routerd", timeout: .seconds(60)) {
                try await trade(system, .buy, ExactDecimal("0.001")!)
                try await trade(system, .sell, ExactDecimal("0.001")!)
                return try closedTrades(system, since: nil).pnl.isNegative
            }
            for attempt in 1...2 {
                let decision = try await system.call("mindsetd", Methods.mindsetEvaluate, try entry(system, id: "ro-\(attempt)"), as: MindsetDecision.self)
                #expect(!decision.approved, "attempt \(attempt): \(decision.reasons)")
                // Counted in memory but not saved (state_not_saved), or not counted as the save failed (trades_pending).
                #expect(["trades_pending", "state_not_saved"].contains(decision.codes.first ?? ""), "attempt \(attempt): \(decision.reasons)")
                #expect(await system.health("mindsetd")?.status == "degraded")
                #expect(try Data(contentsOf: URL(fileURLWithPath: stateFile)) == saved, "nothing was written")
                await system.killHard("mindsetd")
                try system.start("mindsetd", readOnlyStateFiles: attempt == 1)
                try await mindsetAnswers(system)
            }
            // Writable again: the loss is counted from routerd's log, saved, and locks.
            let decision = try await system.call("mindsetd", Methods.mindsetEvaluate, try entry(system, id: "rw"), as: MindsetDecision.self)
            #expect(!decision.approved)
            #expect(decision.codes == ["locked"], "\(decision.reasons)")
            let onDisk = try String(contentsOfFile: stateFile, encoding: .utf8)
            #expect(onDisk.contains("\"LOCKED\""))
        }
    }

    @Test("the loss/entry race, real daemons: with mindsetd's poll slowed to 10 s, an entry right after a losing fill is judged with the loss counted")
    func lossCountsBeforeTheNextEntry() async throws {
        // The race is there only when the entry comes before mindsetd's poll counted the loss; a poll may fall
        // between the fill and the entry (about one time in ten), so up to three fresh systems are tried.
        for _ in 1...3 {
            let raced = try await TestSystem.with(speed: "1", extraConfig: "mindset:\n  fill_poll_seconds: 10\n  revenge_cooldown_seconds: 300\n") { system in
                try system.start(["routerd", "mindsetd"])
                // Linked to the empty log first, so every later fill counts.
                try await system.waitUntil("mindsetd to save its link to routerd's fill log", timeout: .seconds(30)) {
                    FileManager.default.fileExists(atPath: system.root + "/state/state/mindset_state.json")
                }
                try await system.waitUntil("a losing round trip at routerd", timeout: .seconds(60)) {
                    try await trade(system, .buy, ExactDecimal("0.001")!)
                    try await trade(system, .sell, ExactDecimal("0.001")!)
                    return try closedTrades(system, since: nil).pnl.isNegative
                }
                let counted = try await system.call("mindsetd", Methods.mindsetState, as: MindsetStatus.self).countedFillSequence
                guard counted < (try lastFill(system)).sequence else { return false }
                // Before mindsetd's next poll: the entry names the fills seen, so they are counted first.
                let decision = try await system.call("mindsetd", Methods.mindsetEvaluate, try entry(system, id: "race"), as: MindsetDecision.self)
                #expect(!decision.approved)
                #expect(decision.codes == ["revenge_cooldown"], "\(decision.reasons)")
                return true
            }
            if raced { return }
        }
        Issue.record("mindsetd's poll counted the loss before the entry in three systems out of three: the race was never run")
    }
}
