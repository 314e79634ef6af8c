import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `GET /api/signals` through the whole middleware against a fake arsenald that records the queries it is asked.
@Suite("GET /api/signals")
struct SignalAPITests {
    static let record = SignalRecord(
        sequence: 7, recordedAt: Date(timeIntervalSince1970: 1_900_000_000),
        signal: Signal(strategyId: "mean_reversion", symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.00200")!,
                       price: ExactDecimal("9684.84")!, time: Date(timeIntervalSince1970: 1_899_999_999), strength: 1.25, confidence: 0.5,
                       isEntry: true, reason: "z −2.6 below the mean", requestId: "a1b2c3d4-7"),
        outcome: .blocked,
        decision: MindsetDecision.blocked("revenge_cooldown", "a loss 2 min ago: no entries for 3 more minutes", emotionState: "CAUTIOUS"))

    /// A fake arsenald answering `arsenal.signals` with `record` and a cursor, keeping each query.
    static func arsenald(_ h: APIHarness, queries: Shared<[SignalsQuery]>) async throws -> FakeDaemon {
        try await FakeDaemon("arsenald", in: h) { registry in
            registry.registerSync(Methods.arsenalSignals, SignalsQuery.self) { query, _ in
                queries.withLock { $0.append(query) }
                if query.after == "gone" { throw IPCError(.badRequest, "cursor is from before arsenald restarted") }
                return SignalsResponse(signals: [Self.record], nextCursor: "abcd1234:7", capacity: 1_000)
            }
        }
    }

    @Test("every tier reads: the page as arsenald gave it, times in ISO 8601, money as strings, an opaque cursor that comes back")
    func page() async throws {
        let h = try APIHarness()
        let queries = Shared<[SignalsQuery]>([])
        let arsenal = try await Self.arsenald(h, queries: queries)
        let free = try await h.token(owner: "fay", tier: .free)
        try await h.app.test(.router) { client in
            let response = try await client.call(.get, "/api/signals?strategy=mean_reversion&symbol=BTCUSDT&outcome=blocked"
                                                 + "&since=2030-03-17T00:00:00Z&limit=5", token: free)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let body = try response.json()
            #expect(body["capacity"] as? Int == 1_000)
            let signals = try #require(body["signals"] as? [[String: Any]])
            #expect(signals.count == 1)
            #expect(signals[0]["outcome"] as? String == "blocked")
            #expect(signals[0]["recordedAt"] as? String == "2030-03-17T17:46:40Z")
            let signal = try #require(signals[0]["signal"] as? [String: Any])
            #expect(signal["quantity"] as? String == "0.00200")
            #expect(signal["price"] as? String == "9684.84")
            let decision = try #require(signals[0]["decision"] as? [String: Any])
            #expect(decision["codes"] as? [String] == ["revenge_cooldown"])
            let cursor = try #require(body["nextCursor"] as? String)
            #expect(!cursor.contains(":"), "opaque")
            let next = try await client.call(.get, "/api/signals?cursor=\(cursor)", token: free)
            #expect(next.status == .ok)
        }
        await arsenal.stop()
        let asked = queries.withLock { $0 }
        #expect(asked.first == SignalsQuery(strategyId: "mean_reversion", symbol: "BTCUSDT", outcome: .blocked,
                                            since: Date(timeIntervalSince1970: 1_900_000_000 - 64_000), limit: 5))
        #expect(asked.last?.after == "abcd1234:7")
    }

    @Test("bad filters are 400 before arsenald is asked; a cursor arsenald refuses is 400; arsenald down is 503")
    func refusals() async throws {
        let h = try APIHarness()
        let pro = try await h.token(owner: "pat", tier: .pro)
        try await h.app.test(.router) { client in
            let down = try await client.call(.get, "/api/signals", token: pro)
            #expect(down.status == .serviceUnavailable)
            #expect(down.errorCode == "daemon_unavailable")
            #expect(down.errorMessage?.contains("arsenald") == true)
        }
        let queries = Shared<[SignalsQuery]>([])
        let arsenal = try await Self.arsenald(h, queries: queries)
        try await h.app.test(.router) { client in
            for query in ["outcome=lost", "limit=0", "limit=1001", "since=yesterday", "strategy=a%20b", "symbol=BTC-USDT", "cursor=***",
                          "status=filled"] {
                let response = try await client.call(.get, "/api/signals?\(query)", token: pro)
                #expect(response.status == .badRequest, "\(query): \(String(buffer: response.body))")
                #expect(response.errorCode == "bad_request")
            }
            let gone = try await client.call(.get, "/api/signals?cursor=\(OrderQueryParameters.encodeCursor("gone"))", token: pro)
            #expect(gone.status == .badRequest)
            #expect(gone.errorMessage?.contains("restarted") == true)
        }
        await arsenal.stop()
        #expect(queries.withLock { $0.count } == 1, "only the cursor reached arsenald")
    }
}
