import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

@Suite("Recent signals")
struct RecentSignalsTests {
    static func signal(_ n: Int, strategy: String = "trend", symbol: String = "BTCUSDT") -> Signal {
        Signal(strategyId: strategy, symbol: symbol, side: n % 2 == 0 ? .buy : .sell, quantity: ExactDecimal("0.001")!,
               price: ExactDecimal("9684.84")!, time: Date(timeIntervalSince1970: 1_700_000_000 + Double(n)), strength: 1.5,
               confidence: 0.5, isEntry: true, reason: "signal \(n)", requestId: "run-\(n)")
    }

    static let approved = MindsetDecision(approved: true, sizeMultiplier: 0.5, approvedQuantity: ExactDecimal("0.0005")!,
                                          emotionState: "CALM", reasons: ["grade B: size × 0.50"], codes: ["grade_size"])

    @Test("bounded: the oldest go first, newest first in every answer, and updates to a signal gone are ignored")
    func bounded() throws {
        let recent = RecentSignals(capacity: 5)
        for n in 1...12 { recent.proposed(Self.signal(n)) }
        let page = try recent.page(SignalsQuery(limit: 1_000))
        #expect(page.signals.map(\.signal.requestId) == ["run-12", "run-11", "run-10", "run-9", "run-8"])
        #expect(page.signals.map(\.sequence) == [12, 11, 10, 9, 8])
        #expect(page.capacity == 5)
        #expect(page.nextCursor == nil)
        recent.decided("run-3", Self.approved)
        recent.decided("run-9", Self.approved)
        let after = try recent.page(SignalsQuery())
        #expect(after.signals.map(\.outcome) == [.pending, .pending, .pending, .approved, .pending])
    }

    @Test("each outcome as the trade path settles it, with the decision, the order and the reason")
    func outcomes() throws {
        let recent = RecentSignals(capacity: 10)
        for n in 1...6 { recent.proposed(Self.signal(n)) }
        let blocked = MindsetDecision.blocked("revenge_cooldown", "a loss 2 min ago: cooling down", emotionState: "CAUTIOUS")
        recent.decided("run-1", blocked)
        recent.settled("run-1", .blocked(blocked))
        recent.decided("run-2", Self.approved)
        recent.settled("run-2", .belowMinimum("the approved size 0.0005 is below BTCUSDT's minimum"))
        recent.settled("run-3", .notSent("routerd is unavailable"))
        recent.decided("run-4", Self.approved)
        let order = OrderRecord(clientOrderId: "bb-run-4", venue: .paper, symbol: "BTCUSDT", side: .buy, type: .market,
                                quantity: ExactDecimal("0.0005")!, status: .filled, filledQuantity: ExactDecimal("0.0005")!,
                                strategyId: "trend", requestId: "run-4", createdAt: Date(), updatedAt: Date())
        recent.settled("run-4", .placed(order, Self.approved))
        recent.decided("run-5", Self.approved)
        recent.settled("run-5", .unknown(clientOrderId: "bb-run-5"))
        recent.decided("run-6", Self.approved)

        let records = Dictionary(uniqueKeysWithValues: try recent.page(SignalsQuery()).signals.map { ($0.signal.requestId, $0) })
        #expect(records["run-1"]?.outcome == .blocked)
        #expect(records["run-1"]?.decision?.codes == ["revenge_cooldown"])
        #expect(records["run-1"]?.decision?.reasons == ["a loss 2 min ago: cooling down"])
        #expect(records["run-2"]?.outcome == .belowMinimum)
        #expect(records["run-2"]?.decision?.sizeMultiplier == 0.5)
        #expect(records["run-2"]?.detail?.contains("minimum") == true)
        #expect(records["run-3"]?.outcome == .notSent)
        #expect(records["run-3"]?.detail == "routerd is unavailable")
        #expect(records["run-4"]?.outcome == .placed)
        #expect(records["run-4"]?.clientOrderId == "bb-run-4")
        #expect(records["run-4"]?.orderStatus == .filled)
        #expect(records["run-5"]?.outcome == .unknown)
        #expect(records["run-5"]?.clientOrderId == "bb-run-5")
        #expect(records["run-6"]?.outcome == .approved)
    }

    @Test("filters by strategy, symbol, outcome and time, each alone and together")
    func filters() throws {
        let clock = Locked(Date(timeIntervalSince1970: 2_000_000_000))
        let recent = RecentSignals(capacity: 100, clock: { clock.get() })
        for n in 1...20 {
            recent.proposed(Self.signal(n, strategy: n % 2 == 0 ? "trend" : "mean_reversion", symbol: n % 3 == 0 ? "ETHUSDT" : "BTCUSDT"))
            if n % 4 == 0 { recent.decided("run-\(n)", MindsetDecision.blocked("locked", "locked", emotionState: "LOCKED")) }
            clock.update { $0 = $0.addingTimeInterval(10) }
        }
        func ids(_ query: SignalsQuery) throws -> [Int] {
            try recent.page(query).signals.map { Int($0.signal.requestId.dropFirst(4))! }
        }
        #expect(try ids(SignalsQuery(strategyId: "trend")) == [20, 18, 16, 14, 12, 10, 8, 6, 4, 2])
        #expect(try ids(SignalsQuery(symbol: "ETHUSDT")) == [18, 15, 12, 9, 6, 3])
        #expect(try ids(SignalsQuery(outcome: .blocked)) == [20, 16, 12, 8, 4])
        // Signal n was recorded at start + 10 (n − 1) s.
        #expect(try ids(SignalsQuery(since: Date(timeIntervalSince1970: 2_000_000_000 + 150))) == [20, 19, 18, 17, 16])
        #expect(try ids(SignalsQuery(strategyId: "trend", symbol: "ETHUSDT", outcome: .blocked)) == [12])
        #expect(try ids(SignalsQuery(strategyId: "nobody")) == [])
    }

    @Test("cursor paging walks every match once, newest first, unshifted by signals recorded meanwhile")
    func paging() throws {
        let recent = RecentSignals(capacity: 50)
        for n in 1...23 { recent.proposed(Self.signal(n, strategy: n % 2 == 0 ? "trend" : "other")) }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try recent.page(SignalsQuery(strategyId: "trend", limit: 4, after: cursor))
            seen += page.signals.map(\.signal.requestId)
            cursor = page.nextCursor
            pages += 1
            // A newer signal arriving between pages is not in the later pages (they go on from the cursor).
            recent.proposed(Self.signal(100 + pages, strategy: "trend"))
        } while cursor != nil && pages < 20
        #expect(seen == [22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2].map { "run-\($0)" })
        #expect(pages == 3)
    }

    @Test("a limit out of range or a cursor of another run or not a cursor is refused as bad_request")
    func refusals() throws {
        let recent = RecentSignals(capacity: 10)
        for n in 1...3 { recent.proposed(Self.signal(n)) }
        let cursor = try #require(try recent.page(SignalsQuery(limit: 1)).nextCursor)
        #expect(try recent.page(SignalsQuery(limit: 1, after: cursor)).signals.map(\.sequence) == [2])
        let other = RecentSignals(capacity: 10)
        for n in 1...3 { other.proposed(Self.signal(n)) }
        for query in [SignalsQuery(limit: 0), SignalsQuery(limit: 1_001), SignalsQuery(after: cursor.replacingOccurrences(of: ":", with: "-")),
                      SignalsQuery(after: "zz:1")] {
            #expect(throws: IPCError.self) { try other.page(query) }
            do { _ = try other.page(query) } catch let error as IPCError { #expect(error.code == .badRequest) }
        }
        do {
            _ = try other.page(SignalsQuery(after: cursor))
            Issue.record("a cursor of another run was accepted")
        } catch let error as IPCError {
            #expect(error.message.contains("restarted"))
        }
    }

    @Test("the trade path records every signal with its outcome: placed, blocked, below the minimum")
    func tradePathRecords() async throws {
        let h = Harness()
        await h.coordinator.setSymbolRules([SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01,
                                                        stepSize: 0.001, minQuantity: 0.5, maxQuantity: 100, shortSelling: true)])
        h.mindset.approveFraction.set(1)
        h.strategy.configure { $0.quantity = 1 }
        await h.tickAt(1)
        await h.coordinator.handle(order: order(h.router.placed.get().last!, status: .filled))
        h.mindset.approveFraction.set(nil)
        await h.tickAt(2)
        h.mindset.approveFraction.set(0.1)
        await h.tickAt(3)

        let records = try h.coordinator.recentSignals.page(SignalsQuery()).signals
        #expect(records.map(\.outcome) == [.belowMinimum, .blocked, .placed], "\(records)")
        #expect(records.map(\.signal) == h.strategy.emitted.reversed())
        let placed = records[2]
        #expect(placed.clientOrderId == "bb-\(placed.signal.requestId)")
        #expect(placed.decision?.approved == true)
        #expect(records[1].decision?.approved == false)
        #expect(records[0].decision?.sizeMultiplier == 0.1)
    }
}
