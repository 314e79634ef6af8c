import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotDomain
import BagbotIPC
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// An `Idempotency-Key` is the owner's, not the token's: rotating the token (or using another of the owner's tokens)
/// between a timed-out request and its retry must not make the retry a second order. Keys stored or given up
/// under the earlier per-token rule keep naming their orders.
@Suite("Idempotency keys per owner")
struct IdempotencyOwnerTests {
    static let order = #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.002"}"#

    func post(_ h: APIHarness, token: String, key: String, json: String = IdempotencyOwnerTests.order) async throws -> TestResponse {
        try await h.app.test(.router) { client in
            try await client.call(.post, "/api/orders", token: token, json: json, headers: [PlaceOrder.keyHeader: key])
        }
    }

    @Test("token A times out at arsenald, A is rotated to B, B retries with the key: the same arsenald key, one order")
    func rotationBetweenRetries() async throws {
        let h = try APIHarness(timeouts: DaemonTimeouts(placeOrder: .milliseconds(1_500)))
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        desk.set(.fill, delay: .seconds(4))
        let a = try await h.token(owner: "pat", tier: .pro)
        let first = try await post(h, token: a, key: "K")
        #expect(first.status == .gatewayTimeout, "\(String(buffer: first.body))")
        try await waitUntil("the timed-out call to finish at the fake arsenald") { desk.ordersPlaced == 1 }

        let rotated = try await h.tokens.rotate(id: try await h.tokenId(a), graceSeconds: 0, now: h.clock.now())
        desk.set(.fill)
        let second = try await post(h, token: rotated.secret, key: "K")
        let oldToken = try await post(h, token: a, key: "K")
        await arsenal.stop()
        #expect(second.status == .created, "\(String(buffer: second.body))")
        #expect(desk.calls.count == 2)
        #expect(desk.calls[0].idempotencyKey == desk.calls[1].idempotencyKey, "the same order at arsenald")
        #expect(desk.calls[0].idempotencyKey == IdempotencyStore.arsenalKey(owner: "pat", key: "K"))
        #expect(desk.ordersPlaced == 1, "one order")
        #expect(oldToken.status == .unauthorized, "A is rotated out")
    }

    /// A database as the per-token gateway (migration v6) left it, with one of pat's tokens; the token's secret and id.
    static func perTokenDatabase(_ dir: TempDir, rows: (String) -> [String] = { _ in [] }) async throws -> (secret: String, id: String) {
        let pool = try DatabasePool(path: dir.file("bagbot.db"))
        try BagbotDatabase.migrator.migrate(pool, upTo: "v6-gateway-idempotency")
        let created = try await TokenStore(database: pool, acceptLegacyTokens: true)
            .create(owner: "pat", role: .user, tier: .pro, expiresAt: nil, now: APIHarness.start)
        for sql in rows(created.token.id) { try await pool.write { try $0.execute(sql: sql) } }
        return (created.secret, created.token.id)
    }

    @Test("per-token rows are carried over to the owner: a final answer replays for any of pat's tokens; a running one keeps its arsenald key")
    func carriedOverRows() async throws {
        let dir = try TempDir()
        let hash = PlaceOrder.Canonical(symbol: "BTCUSDT", side: "buy", quantity: "0.002", reduceOnly: false).fingerprint
        let old = try await Self.perTokenDatabase(dir) { tokenId in [
            """
            INSERT INTO idempotency_keys (token_id, key, request_hash, state, run_id, status, response, created_at, claimed_at, completed_at)
            VALUES ('\(tokenId)', 'done-key', '\(hash)', 'done', 'old-run', 201, CAST('{"outcome":"placed","stored":true}' AS BLOB),
                    '2030-03-17 17:00:00.000', '2030-03-17 17:00:00.000', '2030-03-17 17:00:01.000')
            """,
            """
            INSERT INTO idempotency_keys (token_id, key, request_hash, state, run_id, created_at, claimed_at)
            VALUES ('\(tokenId)', 'running-key', '\(hash)', 'running', 'old-run', '2030-03-17 17:00:00.000', '2030-03-17 17:00:00.000')
            """,
        ] }
        let h = try APIHarness(dir: dir, runId: "after-upgrade")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE owner = 'pat' AND arsenal_key IS NULL") == 2)
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        let rotated = try await h.tokens.rotate(id: old.id, graceSeconds: 3_600, now: h.clock.now())
        let replayOld = try await post(h, token: old.secret, key: "done-key")
        let replayNew = try await post(h, token: rotated.secret, key: "done-key")
        let takenOver = try await post(h, token: rotated.secret, key: "running-key")
        await arsenal.stop()
        for replay in [replayOld, replayNew] {
            #expect(replay.status == .created)
            #expect(replay["Idempotent-Replayed"] == "true")
            #expect(String(buffer: replay.body) == #"{"outcome":"placed","stored":true}"#)
        }
        #expect(takenOver.status == .created, "\(String(buffer: takenOver.body))")
        #expect(desk.calls.map(\.idempotencyKey) == [IdempotencyStore.legacyArsenalKey(tokenId: old.id, key: "running-key")],
                "the running request's order is the one its token's key named")
    }

    @Test("the legacy look-up failing (routerd down) leaves no row: the retry looks again and names the order under the old key")
    func legacyLookupFailsThenRetried() async throws {
        let dir = try TempDir()
        let old = try await Self.perTokenDatabase(dir)
        let h = try APIHarness(dir: dir, runId: "after-upgrade")
        try await h.database.write { try $0.execute(sql: "UPDATE idempotency_legacy_tokens SET until = ?", arguments: [h.clock.now().addingTimeInterval(86_400)]) }
        let legacyKey = IdempotencyStore.legacyArsenalKey(tokenId: old.id, key: "lost")
        let time = Date(timeIntervalSince1970: 1_900_000_000)
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        let down = try await post(h, token: old.secret, key: "lost")
        let router = try await FakeDaemon("routerd", in: h) { registry in
            registry.registerSync(Methods.routerOrders, OrdersQuery.self) { query, _ in
                guard query.clientOrderId == "bb-m-\(legacyKey)" else { return OrdersResponse(orders: []) }
                return OrdersResponse(orders: [OrderRecord(
                    clientOrderId: "bb-m-\(legacyKey)", venue: .paper, symbol: "BTCUSDT", side: .buy, type: .market, quantity: ExactDecimal("0.002")!,
                    status: .filled, filledQuantity: ExactDecimal("0.002")!, strategyId: "manual", createdAt: time, updatedAt: time)])
            }
        }
        let retry = try await post(h, token: old.secret, key: "lost")
        await arsenal.stop()
        await router.stop()
        #expect(down.status == .serviceUnavailable, "\(String(buffer: down.body))")
        #expect(retry.status == .created, "\(String(buffer: retry.body))")
        #expect(desk.calls.map(\.idempotencyKey) == [legacyKey], "the retry names the old order; no second one under the owner's key")
    }

    @Test("a per-token key given up before the upgrade (no row): inside the legacy window the retry names routerd's order under it")
    func releasedLegacyKey() async throws {
        let dir = try TempDir()
        let old = try await Self.perTokenDatabase(dir)
        let h = try APIHarness(dir: dir, runId: "after-upgrade")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_legacy_tokens WHERE token_id = ?", [old.id]) == 1)
        // The migration's window is 7 days from the real time of the upgrade; this test's clock is its own.
        try await h.database.write { try $0.execute(sql: "UPDATE idempotency_legacy_tokens SET until = ?", arguments: [h.clock.now().addingTimeInterval(86_400)]) }
        let legacyKey = IdempotencyStore.legacyArsenalKey(tokenId: old.id, key: "lost")
        let lookups = Shared<[String]>([])
        let time = Date(timeIntervalSince1970: 1_900_000_000)
        let router = try await FakeDaemon("routerd", in: h) { registry in
            registry.registerSync(Methods.routerOrders, OrdersQuery.self) { query, _ in
                lookups.withLock { $0.append(query.clientOrderId ?? "") }
                guard query.clientOrderId == "bb-m-\(legacyKey)" else { return OrdersResponse(orders: []) }
                return OrdersResponse(orders: [OrderRecord(
                    clientOrderId: "bb-m-\(legacyKey)", venue: .paper, symbol: "BTCUSDT", side: .buy, type: .market, quantity: ExactDecimal("0.002")!,
                    status: .filled, filledQuantity: ExactDecimal("0.002")!, strategyId: "manual", createdAt: time, updatedAt: time)])
            }
        }
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        let lost = try await post(h, token: old.secret, key: "lost")
        let fresh = try await post(h, token: old.secret, key: "fresh")
        h.clock.advance(2 * 86_400)
        let later = try await post(h, token: old.secret, key: "later")
        await arsenal.stop()
        await router.stop()
        #expect([lost.status, fresh.status, later.status] == [.created, .created, .created])
        #expect(desk.calls.map(\.idempotencyKey) == [legacyKey, IdempotencyStore.arsenalKey(owner: "pat", key: "fresh"),
                                                     IdempotencyStore.arsenalKey(owner: "pat", key: "later")])
        #expect(lookups.withLock { $0 } == ["bb-m-\(legacyKey)", "bb-m-\(IdempotencyStore.legacyArsenalKey(tokenId: old.id, key: "fresh"))"],
                "routerd is asked only inside the window")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_legacy_tokens") == 0, "the window's rows are gone once it is over")
    }
}
