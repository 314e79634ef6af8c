import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `POST /api/orders` through a socket that keeps arsenald's idempotency rule, and `GET`/`DELETE` through one
/// standing in for routerd: what the gateway sends, answers and keeps.
@Suite("Orders API")
struct OrderAPITests {
    static let order = #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.00200"}"#

    func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String, json: String? = nil,
              key: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        if json != nil { headers[.contentType] = "application/json" }
        if let key { headers[PlaceOrder.keyHeader] = key }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func withArsenal(_ body: (APIHarness, ManualOrderDesk) async throws -> Void) async throws {
        let h = try APIHarness()
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        do {
            try await body(h, desk)
        } catch {
            await arsenal.stop()
            throw error
        }
        await arsenal.stop()
    }

    @Test("a placed order answers 201 with routerd's record, money as the exact strings it was given")
    func placed() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let response = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "p1")
            }
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let json = try response.json()
            #expect(json["outcome"] as? String == "placed")
            let order = try #require(json["order"] as? [String: Any])
            #expect(order["quantity"] as? String == "0.00200")
            #expect(order["filledQuantity"] as? String == "0.00200")
            #expect(order["averageFillPrice"] as? String == "9685.81")
            #expect(order["createdAt"] as? String == "2030-03-17T17:46:40Z")
            #expect(json["clientOrderId"] as? String == order["clientOrderId"] as? String)
            #expect(desk.calls.count == 1)
            #expect(desk.calls.first?.quantity == ExactDecimal("0.00200"))
            #expect(desk.calls.first?.idempotencyKey == IdempotencyStore.arsenalKey(owner: "pat", key: "p1"))
        }
    }

    @Test("a quantity sent as a JSON number is refused before anything is sent")
    func quantityNumber() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let (number, zero, side) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":0.002}"#, key: "q1"),
                 try await call(client, .post, "/api/orders", token: token, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0"}"#, key: "q2"),
                 try await call(client, .post, "/api/orders", token: token, json: #"{"symbol":"BTCUSDT","side":"hold","quantity":"1"}"#, key: "q3"))
            }
            #expect(number.status == .badRequest)
            #expect(number.errorCode == "bad_request")
            #expect(zero.status == .unprocessableContent)
            #expect(side.status == .unprocessableContent)
            #expect(desk.calls.isEmpty)
        }
    }

    @Test("a quantity that is not a plain decimal (exponent, sign, bare point) is 422 and nothing is sent")
    func strictQuantity() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            for quantity in ["1e3", "1E-3", "+5", ".5", "5.", "-0.5", " 0.5", "0x1"] {
                let response = try await h.app.test(.router) { client in
                    try await call(client, .post, "/api/orders", token: token,
                                   json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"\#(quantity)"}"#, key: "strict")
                }
                #expect(response.status == .unprocessableContent, "\(quantity): \(String(buffer: response.body))")
                #expect(response.errorCode == "invalid_value", "\(quantity)")
            }
            #expect(desk.calls.isEmpty)
        }
    }

    @Test("the fingerprint is the exact value: 0.0020, 0.002 and 0.00200 under one key are one request, one order")
    func normalisedFingerprint() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let answers = try await h.app.test(.router) { client in
                var answers: [TestResponse] = []
                for quantity in ["0.0020", "0.002", "0.00200"] {
                    answers.append(try await call(client, .post, "/api/orders", token: token,
                                                  json: #"{"symbol":"btcusdt","side":"buy","quantity":"\#(quantity)"}"#, key: "same"))
                }
                return answers
            }
            #expect(answers.map(\.status) == [.created, .created, .created], "\(answers.map { String(buffer: $0.body) })")
            #expect(answers.dropFirst().allSatisfy { $0["Idempotent-Replayed"] == "true" })
            #expect(desk.calls.count == 1)
            #expect(desk.ordersPlaced == 1)
        }
    }

    @Test("a key stored before quantities were normalised (fingerprint of the text as typed) still replays for the same text")
    func legacyFingerprint() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let tokenId = try await h.tokenId(token)
            let typed = PlaceOrder.Canonical(symbol: "BTCUSDT", side: "buy", quantity: "0.00200", reduceOnly: false)
            let store = h.environment.idempotency
            #expect(try await store.claim(owner: "pat", key: "old", tokenId: tokenId, requestHash: typed.fingerprint, now: h.clock.now())
                    == .claimed(arsenalKey: IdempotencyStore.arsenalKey(owner: "pat", key: "old"), isNew: true, claimedAt: h.clock.now()))
            try await store.complete(owner: "pat", key: "old", claimedAt: h.clock.now(), status: 201, body: Data(#"{"outcome":"placed"}"#.utf8), now: h.clock.now())
            let retry = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "old")
            }
            #expect(retry.status == .created, "\(String(buffer: retry.body))")
            #expect(retry["Idempotent-Replayed"] == "true")
            #expect(desk.calls.isEmpty)
        }
    }

    @Test("a retry with the same Idempotency-Key returns the first answer and sends nothing")
    func retryReplays() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let (first, second, other) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "order-1"),
                 try await call(client, .post, "/api/orders", token: token, json: #"{ "quantity":"0.00200", "side":"buy", "symbol":"BTCUSDT" }"#, key: "order-1"),
                 try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "order-2"))
            }
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(String(buffer: second.body) == String(buffer: first.body), "the same answer, byte for byte")
            #expect(second["Idempotent-Replayed"] == "true")
            #expect(first["Idempotent-Replayed"] == nil)
            #expect(other.status == .created)
            #expect(desk.calls.count == 2, "one call per key")
            #expect(desk.ordersPlaced == 2)
            #expect(desk.calls.first?.idempotencyKey == IdempotencyStore.arsenalKey(owner: "pat", key: "order-1"))
            #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 2)
        }
    }

    @Test("the same key with a different body is 422; the owner's other token shares the key, another owner's same key is its own")
    func keyReuse() async throws {
        try await withArsenal { h, desk in
            let pat = try await h.token(owner: "pat", tier: .pro)
            let patsPhone = try await h.token(owner: "pat", tier: .pro)
            let ezra = try await h.token(owner: "ezra", tier: .enterprise)
            let (first, changed, sameOwner, otherToken) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: pat, json: Self.order, key: "k"),
                 try await call(client, .post, "/api/orders", token: pat, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.003"}"#, key: "k"),
                 try await call(client, .post, "/api/orders", token: patsPhone, json: Self.order, key: "k"),
                 try await call(client, .post, "/api/orders", token: ezra, json: Self.order, key: "k"))
            }
            #expect(sameOwner.status == .created)
            #expect(sameOwner["Idempotent-Replayed"] == "true", "another token of pat's: the same client, the first answer")
            #expect(first.status == .created)
            #expect(changed.status == .unprocessableContent)
            #expect(changed.errorCode == "idempotency_key_reused")
            let message = try #require(changed.errorMessage)
            #expect(message.contains("may have been placed") && message.contains("GET /api/orders"), "\(message)")
            #expect(!message.contains("use a new key"), "never an invitation to send it again blindly")
            #expect(otherToken.status == .created)
            #expect(otherToken["Idempotent-Replayed"] == nil)
            #expect(desk.ordersPlaced == 2, "ezra's key is not pat's: a separate order")
            #expect(desk.calls.compactMap(\.idempotencyKey) == [IdempotencyStore.arsenalKey(owner: "pat", key: "k"),
                                                                IdempotencyStore.arsenalKey(owner: "ezra", key: "k")],
                    "arsenald gets a key per owner")
        }
    }

    @Test("concurrent retries with one key: exactly one order, the others 409 in progress or the first answer")
    func concurrentRetries() async throws {
        try await withArsenal { h, desk in
            desk.set(.fill, delay: .milliseconds(400))
            let token = try await h.token(owner: "pat", tier: .pro)
            let statuses = try await h.app.test(.router) { client in
                try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?, String?).self) { group in
                    for _ in 0..<24 {
                        group.addTask {
                            let response = try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "burst")
                            return (response.status, response.errorCode, response["Retry-After"])
                        }
                    }
                    var all: [(HTTPResponse.Status, String?, String?)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
            }
            #expect(desk.calls.count == 1, "one request reached arsenald")
            #expect(desk.ordersPlaced == 1)
            #expect(statuses.filter { $0.0 == .created }.count >= 1)
            for (status, code, retryAfter) in statuses where status != .created {
                #expect(status == .conflict)
                #expect(code == "idempotency_in_progress")
                #expect(retryAfter == "1")
            }
            // Once the first has answered, every retry gets its answer.
            let after = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "burst")
            }
            #expect(after.status == .created)
            #expect(after["Idempotent-Replayed"] == "true")
            #expect(desk.calls.count == 1)
        }
    }

    @Test("a blocked order answers 409 with the mindset's reasons, and its retry the same")
    func blocked() async throws {
        try await withArsenal { h, desk in
            desk.set(.block(reasons: ["revenge cooldown until 17:50:00"], codes: ["revenge_cooldown"]))
            let token = try await h.token(owner: "pat", tier: .pro)
            let (first, retry) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "b1"),
                 try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "b1"))
            }
            #expect(first.status == .conflict)
            #expect(first.errorCode == "order_blocked")
            let error = try #require(try first.json()["error"] as? [String: Any])
            #expect(error["reasons"] as? [String] == ["revenge cooldown until 17:50:00"])
            #expect(error["codes"] as? [String] == ["revenge_cooldown"])
            #expect(try first.json()["outcome"] as? String == "blocked")
            #expect(retry.status == .conflict)
            #expect(retry["Idempotent-Replayed"] == "true")
            #expect(desk.calls.count == 1)
            #expect(desk.ordersPlaced == 0)
        }
    }

    @Test("a venue's rejection answers 422 order_rejected with the record")
    func rejected() async throws {
        try await withArsenal { h, desk in
            desk.set(.reject("insufficient buying power"))
            let token = try await h.token(owner: "pat", tier: .pro)
            let response = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "r1")
            }
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "order_rejected")
            #expect(response.errorMessage?.contains("insufficient buying power") == true)
            #expect((try response.json()["order"] as? [String: Any])?["status"] as? String == "rejected")
        }
    }

    @Test("arsenald's 'unknown' is 504 order_outcome_unknown, not final: the retry asks arsenald, which returns the order it has")
    func unknownOutcome() async throws {
        try await withArsenal { h, desk in
            desk.set(.unknown)
            let token = try await h.token(owner: "pat", tier: .pro)
            let first = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "u1")
            }
            #expect(first.status == .gatewayTimeout)
            #expect(first.errorCode == "order_outcome_unknown")
            #expect(first.errorMessage?.contains("may have been placed") == true)
            #expect(try first.json()["outcome"] as? String == "unknown")
            #expect(try first.json()["signal"] != nil, "arsenald's answer is passed on")
            #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 0, "no answer kept")
            desk.set(.fill)
            let (unsettled, settled) = try await h.app.test(.router) { client in
                let unsettled = try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "u1")
                desk.settle(key: IdempotencyStore.arsenalKey(owner: "pat", key: "u1"), .filled)
                return (unsettled, try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "u1"))
            }
            #expect(unsettled.status == .gatewayTimeout, "routerd still has it unknown: \(String(buffer: unsettled.body))")
            #expect(unsettled.errorCode == "order_outcome_unknown")
            let retry = settled
            #expect(retry.status == .created)
            #expect(desk.calls.count == 3)
            #expect(desk.ordersPlaced == 1, "arsenald's own key returned the order it had; none placed again")
        }
    }

    @Test("arsenald's key_reused (the gateway forgot the key; arsenald's order under it is another) is 422 idempotency_key_reused")
    func arsenalKeyReused() async throws {
        try await withArsenal { h, desk in
            desk.set(.refuse(.keyReused, "idempotencyKey gabc already names order bb-m-gabc (sell 0.5 BTCUSDT), which is not this request (side buy); nothing was sent"))
            let token = try await h.token(owner: "pat", tier: .pro)
            let response = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "forgotten")
            }
            #expect(response.status == .unprocessableContent, "\(String(buffer: response.body))")
            #expect(response.errorCode == "idempotency_key_reused")
            #expect(response.errorMessage?.contains("already names another order") == true)
            #expect(response.errorMessage?.contains("bb-m-gabc") == true)
            #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 0, "a refusal is not kept as the answer")
        }
    }

    @Test("without an Idempotency-Key: 400 idempotency_key_required, nothing sent")
    func keyRequired() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let response = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order)
            }
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "idempotency_key_required")
            #expect(desk.calls.isEmpty)
        }
    }

    @Test("arsenald not answering in time: 504 order_outcome_unknown naming the order, not 503; the key is released and its retry is one order")
    func timeoutIsOutcomeUnknown() async throws {
        let h = try APIHarness(timeouts: DaemonTimeouts(placeOrder: .milliseconds(1_500)))
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        desk.set(.fill, delay: .seconds(4))
        let token = try await h.token(owner: "pat", tier: .pro)
        let first = try await h.app.test(.router) { client in
            try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "slow")
        }
        #expect(first.status == .gatewayTimeout, "\(String(buffer: first.body))")
        #expect(first.errorCode == "order_outcome_unknown")
        let arsenalKey = IdempotencyStore.arsenalKey(owner: "pat", key: "slow")
        #expect(try first.json()["clientOrderId"] as? String == "bb-m-\(arsenalKey)")
        #expect(first.errorMessage?.contains("GET /api/orders/bb-m-\(arsenalKey)") == true, "\(first.errorMessage ?? "")")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 0, "not kept: no final answer yet")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE run_id = ''") == 1, "released, its fingerprint kept")
        try await waitUntil("the slow call to finish at the fake arsenald") { desk.ordersPlaced == 1 }
        desk.set(.fill)
        let retry = try await h.app.test(.router) { client in
            try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "slow")
        }
        await arsenal.stop()
        #expect(retry.status == .created)
        #expect(desk.calls.map(\.idempotencyKey) == [arsenalKey, arsenalKey])
        #expect(desk.ordersPlaced == 1, "the retry got the order the first call placed")
    }

    @Test("an answer from arsenald that does not decode: 504 order_outcome_unknown, never a 500 or a stored 'not sent'")
    func undecodableAnswer() async throws {
        let h = try APIHarness()
        let calls = Shared(0)
        let arsenal = try await FakeDaemon("arsenald", in: h) { registry in
            registry.register(Methods.arsenalPlaceManualOrder, ManualOrderRequest.self) { _, _ in
                calls.withLock { $0 += 1 }
                return JSONValue.object(["outcome": .string("placed"), "order": .string("not an order")])
            }
        }
        let token = try await h.token(owner: "pat", tier: .pro)
        let (first, retry) = try await h.app.test(.router) { client in
            (try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "garbled"),
             try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "garbled"))
        }
        await arsenal.stop()
        for response in [first, retry] {
            #expect(response.status == .gatewayTimeout, "\(String(buffer: response.body))")
            #expect(response.errorCode == "order_outcome_unknown")
            #expect(response["Idempotent-Replayed"] == nil)
        }
        #expect(calls.withLock { $0 } == 2, "nothing final was stored: the retry asks arsenald again")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 0)
    }

    @Test("a key released after a 504 keeps its fingerprint: the same key with another quantity is 422, arsenald not asked")
    func releasedKeyRefusesAnotherBody() async throws {
        try await withArsenal { h, desk in
            desk.set(.unknown)
            let token = try await h.token(owner: "pat", tier: .pro)
            let close = #"{"symbol":"BTCUSDT","side":"sell","quantity":"0.010","reduceOnly":true}"#
            let larger = #"{"symbol":"BTCUSDT","side":"sell","quantity":"0.030","reduceOnly":true}"#
            let (first, second) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token, json: close, key: "c1"),
                 try await call(client, .post, "/api/orders", token: token, json: larger, key: "c1"))
            }
            #expect(first.status == .gatewayTimeout)
            #expect(second.status == .unprocessableContent, "\(String(buffer: second.body))")
            #expect(second.errorCode == "idempotency_key_reused")
            #expect(desk.calls.count == 1, "the second body never reached arsenald")
        }
    }

    @Test("routerd answering the order as unknown is 504, not a stored 201: a retry tells the outcome once it is settled")
    func routerUnknownIsNotPlaced() async throws {
        try await withArsenal { h, desk in
            desk.set(.placedAs(.unknown))
            let token = try await h.token(owner: "pat", tier: .pro)
            let first = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "r1")
            }
            #expect(first.status == .gatewayTimeout, "\(String(buffer: first.body))")
            #expect(first.errorCode == "order_outcome_unknown")
            #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 0)
            desk.settle(key: IdempotencyStore.arsenalKey(owner: "pat", key: "r1"), .rejected)
            let retry = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "r1")
            }
            #expect(retry.status == .unprocessableContent, "\(String(buffer: retry.body))")
            #expect(retry.errorCode == "order_rejected")
            #expect(desk.ordersPlaced == 1)
        }
    }

    @Test("a key used again after it was forgotten (older than the retention) is 422 naming the old order, never 201 for nothing sent")
    func forgottenKeyIsNotARetry() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let first = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "week")
            }
            #expect(first.status == .created)
            h.clock.advance(h.environment.idempotency.retention + 86_400)
            let token2 = try await h.token(owner: "pat", tier: .pro)
            let (again, replay) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token2, json: Self.order, key: "week"),
                 try await call(client, .post, "/api/orders", token: token2, json: Self.order, key: "week"))
            }
            #expect(again.status == .unprocessableContent, "\(String(buffer: again.body))")
            #expect(again.errorCode == "idempotency_key_reused")
            #expect(again.errorMessage?.contains("longer ago than keys are kept") == true, "\(again.errorMessage ?? "")")
            #expect(try again.json()["outcome"] as? String == "not_sent")
            #expect(replay.status == .unprocessableContent && replay["Idempotent-Replayed"] == "true", "the refusal is the key's answer now")
            #expect(desk.ordersPlaced == 1)
        }
    }

    @Test("a key whose row is gone (released by a gateway before rows were kept, or a restored database) and whose order is recent: answered as the retry it is")
    func retryWithoutRow() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let first = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "gone")
            }
            #expect(first.status == .created)
            try await h.database.write { try $0.execute(sql: "DELETE FROM idempotency_keys") }
            h.clock.advance(60)
            let retry = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "gone")
            }
            #expect(retry.status == .created, "\(String(buffer: retry.body))")
            #expect(desk.ordersPlaced == 1)
        }
    }

    @Test("a first request refused (nothing sent) leaves no row: the corrected request under the same key goes ahead")
    func refusedFirstRequestForgetsKey() async throws {
        try await withArsenal { h, desk in
            desk.set(.refuse(.badRequest, "a reduce-only quantity must be tradable as asked"))
            let token = try await h.token(owner: "pat", tier: .pro)
            let corrected = #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.003"}"#
            let (refused, placed) = try await h.app.test(.router) { client in
                let refused = try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "fix")
                desk.set(.fill)
                return (refused, try await call(client, .post, "/api/orders", token: token, json: corrected, key: "fix"))
            }
            #expect(refused.status == .unprocessableContent && refused.errorCode == "invalid_value")
            #expect(placed.status == .created, "\(String(buffer: placed.body))")
            #expect(desk.ordersPlaced == 1)
        }
    }

    @Test("an order that ended with nothing filled (expired, cancelled) is 422 order_not_filled, never 201; pending_new is 409 order_not_sent",
          arguments: [(OrderStatus.expired, 422, "order_not_filled"), (.cancelled, 422, "order_not_filled"), (.pendingNew, 409, "order_not_sent")])
    func endedUnfilled(status: OrderStatus, code: Int, errorCode: String) async throws {
        try await withArsenal { h, desk in
            desk.set(.placedAs(status))
            let token = try await h.token(owner: "pat", tier: .pro)
            let response = try await h.app.test(.router) { client in
                try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "e1")
            }
            #expect(Int(response.status.code) == code, "\(String(buffer: response.body))")
            #expect(response.errorCode == errorCode)
        }
    }

    @Test("arsenald refusing or down: the key is released and nothing is kept")
    func refusedReleases() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "pat", tier: .pro)
        let down = try await h.app.test(.router) { client in
            try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "d1")
        }
        #expect(down.status == .serviceUnavailable)
        #expect(down.errorCode == "daemon_unavailable")
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'") == 0)

        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        desk.set(.refuse(.badRequest, "quantity 5 is above the largest manual order in BTCUSDT, 0.1 (arsenal.manual_max_quantity)"))
        let (refused, conflict) = try await h.app.test(.router) { client in
            let refused = try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "d1")
            desk.set(.refuse(.conflict, "manual order bb-x for BTCUSDT is still in flight; wait for it to settle"))
            return (refused, try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "d1"))
        }
        #expect(refused.status == .unprocessableContent)
        #expect(refused.errorMessage?.contains("manual_max_quantity") == true)
        #expect(conflict.status == .conflict)
        #expect(conflict.errorCode == "conflict")
        desk.set(.fill)
        let placed = try await h.app.test(.router) { client in
            try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "d1")
        }
        #expect(placed.status == .created, "\(String(buffer: placed.body))")
        #expect(placed["Idempotent-Replayed"] == nil)
        await arsenal.stop()
    }

    @Test("Free is read-only: POST and DELETE are 403 tier_read_only, nothing sent")
    func freeTier() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "fay", tier: .free)
            let (post, delete) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "f"),
                 try await call(client, .delete, "/api/orders/bb-1", token: token))
            }
            #expect(post.status == .forbidden)
            #expect(post.errorCode == "tier_read_only")
            #expect(delete.errorCode == "tier_read_only")
            #expect(desk.calls.isEmpty)
        }
    }

    @Test("GET /api/orders passes filters, time range and cursor to routerd; the cursor is opaque both ways")
    func listing() async throws {
        let h = try APIHarness()
        let queries = Shared<[OrdersQuery]>([])
        let time = Date(timeIntervalSince1970: 1_900_000_000)
        let record = OrderRecord(clientOrderId: "bb-1", venue: .paper, symbol: "BTCUSDT", side: .sell, type: .market,
                                 quantity: ExactDecimal("0.00250")!, status: .filled, filledQuantity: ExactDecimal("0.00250")!,
                                 averageFillPrice: ExactDecimal("9326.275")!, createdAt: time, updatedAt: time)
        let router = try await FakeDaemon("routerd", in: h) { registry in
            registry.registerSync(Methods.routerOrders, OrdersQuery.self) { query, _ in
                queries.withLock { $0.append(query) }
                if query.clientOrderId == "bb-missing" { return OrdersResponse(orders: []) }
                return OrdersResponse(orders: [record], nextCursor: query.after == nil ? "2030-03-17 17:46:40.000|bb-1" : nil)
            }
            registry.registerSync(Methods.routerCancelOrder, CancelOrderRequest.self) { request, _ -> OrderRecord in
                throw IPCError(.conflict, "order \(request.clientOrderId) is already filled")
            }
        }
        let token = try await h.token(owner: "fay", tier: .free)
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let (first, second, one, missing, badCursor, badTime, cancel) = try await h.app.test(.router) { client in
            let first = try await call(client, .get, "/api/orders?symbol=BTCUSDT&status=filled&strategy=manual&from=2030-03-17T00:00:00Z&to=2030-03-18T00:00:00.500Z&limit=1",
                                       token: token)
            let cursor = try #require(try first.json()["nextCursor"] as? String)
            return (first, try await call(client, .get, "/api/orders?limit=1&cursor=\(cursor)", token: token),
                    try await call(client, .get, "/api/orders/bb-1", token: token),
                    try await call(client, .get, "/api/orders/bb-missing", token: token),
                    try await call(client, .get, "/api/orders?cursor=***", token: token),
                    try await call(client, .get, "/api/orders?from=yesterday", token: token),
                    try await call(client, .delete, "/api/orders/bb-1", token: admin))
        }
        await router.stop()
        #expect(first.status == .ok)
        let order = try #require((try first.json()["orders"] as? [[String: Any]])?.first)
        #expect(order["quantity"] as? String == "0.00250")
        #expect(order["averageFillPrice"] as? String == "9326.275")
        #expect(second.status == .ok)
        #expect(try second.json()["nextCursor"] == nil, "the last page has no cursor")
        #expect(one.status == .ok)
        #expect(try one.json()["clientOrderId"] as? String == "bb-1")
        #expect(missing.status == .notFound)
        #expect(badCursor.status == .badRequest)
        #expect(badTime.status == .badRequest)
        #expect(cancel.status == .conflict)
        #expect(cancel.errorMessage?.contains("already filled") == true)
        let sent = queries.withLock { $0 }
        #expect(sent.count == 4, "refused queries never reach routerd")
        #expect(sent[0].symbol == "BTCUSDT" && sent[0].status == .filled && sent[0].strategyId == "manual" && sent[0].limit == 1)
        #expect(sent[0].createdFrom == Date(timeIntervalSince1970: 1_899_936_000))
        #expect(sent[0].createdBefore == Date(timeIntervalSince1970: 1_900_022_400.5))
        #expect(sent[1].after == "2030-03-17 17:46:40.000|bb-1")
    }

    @Test("DELETE: a token cancels its owner's manual orders; another owner's, or a strategy's, is 403 unless the token is an admin's")
    func cancelOwnOrdersOnly() async throws {
        let h = try APIHarness()
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { desk.register($0) }
        let cancels = Shared<[String]>([])
        let router = try await FakeDaemon("routerd", in: h) { registry in
            registry.registerSync(Methods.routerCancelOrder, CancelOrderRequest.self) { request, _ -> OrderRecord in
                cancels.withLock { $0.append(request.clientOrderId) }
                let time = Date(timeIntervalSince1970: 1_900_000_000)
                return OrderRecord(clientOrderId: request.clientOrderId, venue: .paper, symbol: "BTCUSDT", side: .buy, type: .limit,
                                   quantity: ExactDecimal("0.002")!, limitPrice: ExactDecimal("9000")!, status: .cancelled,
                                   createdAt: time, updatedAt: time)
            }
        }
        let pat = try await h.token(owner: "pat", tier: .pro)
        let patsPhone = try await h.token(owner: "pat", tier: .pro)
        let ezra = try await h.token(owner: "ezra", tier: .enterprise)
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let placed = try await h.app.test(.router) { client in
            try await call(client, .post, "/api/orders", token: pat, json: Self.order, key: "mine")
        }
        let patsOrder = try #require(try placed.json()["clientOrderId"] as? String)
        #expect(patsOrder == "bb-m-\(IdempotencyStore.arsenalKey(owner: "pat", key: "mine"))")
        let (byEzra, strategyByPat, byPat, byPatsPhone, strategyByAdmin, patsByAdmin) = try await h.app.test(.router) { client in
            (try await call(client, .delete, "/api/orders/\(patsOrder)", token: ezra),
             try await call(client, .delete, "/api/orders/bb-9fa3d106-7", token: pat),
             try await call(client, .delete, "/api/orders/\(patsOrder)", token: pat),
             try await call(client, .delete, "/api/orders/\(patsOrder)", token: patsPhone),
             try await call(client, .delete, "/api/orders/bb-9fa3d106-7", token: admin),
             try await call(client, .delete, "/api/orders/\(patsOrder)", token: admin))
        }
        await router.stop()
        await arsenal.stop()
        for refused in [byEzra, strategyByPat] {
            #expect(refused.status == .forbidden, "\(String(buffer: refused.body))")
            #expect(refused.errorCode == "order_not_yours")
            #expect(refused.errorMessage?.contains("admin token") == true)
        }
        for allowed in [byPat, byPatsPhone, strategyByAdmin, patsByAdmin] {
            #expect(allowed.status == .ok, "\(String(buffer: allowed.body))")
        }
        #expect(cancels.withLock { $0 } == [patsOrder, patsOrder, "bb-9fa3d106-7", patsOrder], "refused cancels never reach routerd")
    }

    @Test("bad Idempotency-Key headers are 400")
    func badKey() async throws {
        try await withArsenal { h, desk in
            let token = try await h.token(owner: "pat", tier: .pro)
            let (long, space) = try await h.app.test(.router) { client in
                (try await call(client, .post, "/api/orders", token: token, json: Self.order, key: String(repeating: "k", count: 256)),
                 try await call(client, .post, "/api/orders", token: token, json: Self.order, key: "a b"))
            }
            #expect(long.status == .badRequest)
            #expect(space.status == .badRequest)
            #expect(desk.calls.isEmpty)
        }
    }
}

/// The key table itself: claims under concurrency and across a gateway restart.
@Suite("Idempotency store")
struct IdempotencyStoreTests {
    static func fresh(at time: Date = APIHarness.start) -> IdempotencyClaim {
        .claimed(arsenalKey: IdempotencyStore.arsenalKey(owner: "pat", key: "k"), isNew: true, claimedAt: time)
    }
    static func takenOver(at time: Date = APIHarness.start) -> IdempotencyClaim {
        .claimed(arsenalKey: IdempotencyStore.arsenalKey(owner: "pat", key: "k"), isNew: false, claimedAt: time)
    }

    @Test("of many concurrent claims of one key exactly one wins, whichever of the owner's tokens sends it")
    func concurrentClaims() async throws {
        let h = try APIHarness()
        let store = h.environment.idempotency
        let claims = try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
            for index in 0..<50 {
                group.addTask { try await store.claim(owner: "pat", key: "k", tokenId: "t\(index % 2)", requestHash: "h", now: APIHarness.start) }
            }
            var all: [IdempotencyClaim] = []
            for try await claim in group { all.append(claim) }
            return all
        }
        #expect(claims.filter { $0 == Self.fresh() }.count == 1)
        #expect(claims.filter { $0 == .inProgress }.count == 49)
    }

    @Test("after a restart a claim left running is taken over once, and its retry goes to arsenald under the same key")
    func restartTakesOver() async throws {
        let dir = try TempDir()
        let before = try APIHarness(dir: dir, runId: "run-a")
        #expect(try await before.environment.idempotency.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: APIHarness.start)
                == Self.fresh())
        // The gateway dies here: no answer stored, no release.
        let after = try APIHarness(dir: dir, runId: "run-b")
        let store = after.environment.idempotency
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t2", requestHash: "other", now: APIHarness.start) == .mismatch)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t2", requestHash: "h", now: APIHarness.start) == Self.takenOver())
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: APIHarness.start) == .inProgress)
        try await store.complete(owner: "pat", key: "k", claimedAt: APIHarness.start, status: 201, body: Data("{}".utf8), now: APIHarness.start)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t3", requestHash: "h", now: APIHarness.start) == .replay(status: 201, body: Data("{}".utf8)))
        #expect(IdempotencyStore.arsenalKey(owner: "pat", key: "k") == IdempotencyStore.arsenalKey(owner: "pat", key: "k"))
        #expect(IdempotencyStore.arsenalKey(owner: "pat", key: "k") != IdempotencyStore.arsenalKey(owner: "ezra", key: "k"))
        #expect(IdempotencyStore.arsenalKey(owner: "pat", key: "k") != IdempotencyStore.legacyArsenalKey(tokenId: "pat", key: "k"),
                "an owner named like a token id does not collide with the token derivation")
        #expect(IdempotencyStore.arsenalKey(owner: "pat", key: "k").utf8.count == 31)
    }

    @Test("a request whose claim was taken over neither releases nor completes the claim that took it")
    func staleClaimCannotTouchTakeover() async throws {
        let h = try APIHarness()
        let store = h.environment.idempotency
        let start = APIHarness.start, later = APIHarness.start.addingTimeInterval(store.staleAfter + 1)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: start) == Self.fresh())
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: later) == Self.takenOver(at: later))
        try await store.release(owner: "pat", key: "k", claimedAt: start)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: later.addingTimeInterval(1)) == .inProgress,
                "the stale request's release left the takeover's claim alone")
        #expect(try await store.complete(owner: "pat", key: "k", claimedAt: start, status: 409, body: Data("{}".utf8), now: later) == false)
        #expect(try await store.complete(owner: "pat", key: "k", claimedAt: later, status: 201, body: Data("[]".utf8), now: later))
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: later) == .replay(status: 201, body: Data("[]".utf8)))
    }

    @Test("a released key is claimed again by its retry (not anew) and still refuses another request")
    func releasedKeyKept() async throws {
        let h = try APIHarness()
        let store = h.environment.idempotency
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: APIHarness.start) == Self.fresh())
        try await store.release(owner: "pat", key: "k", claimedAt: APIHarness.start)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t2", requestHash: "other", now: APIHarness.start) == .mismatch)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t2", requestHash: "h", now: APIHarness.start) == Self.takenOver())
    }

    @Test("a key is kept for the retention after its last use, not after its first claim")
    func retentionFromLastUse() async throws {
        let h = try APIHarness()
        let store = h.environment.idempotency
        let start = APIHarness.start
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: start) == Self.fresh())
        try await store.release(owner: "pat", key: "k", claimedAt: start)
        let used = start.addingTimeInterval(store.retention - 60)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: used) == Self.takenOver(at: used))
        #expect(try await store.complete(owner: "pat", key: "k", claimedAt: used, status: 201, body: Data("{}".utf8), now: used))
        let retried = start.addingTimeInterval(store.retention + 60)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: retried) == .replay(status: 201, body: Data("{}".utf8)))
    }

    @Test("keys are kept at least 24 h, then forgotten")
    func retention() async throws {
        let h = try APIHarness()
        let store = h.environment.idempotency
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: APIHarness.start) == Self.fresh())
        try await store.complete(owner: "pat", key: "k", claimedAt: APIHarness.start, status: 201, body: Data("{}".utf8), now: APIHarness.start)
        let dayLater = APIHarness.start.addingTimeInterval(86_400 + 1)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: dayLater) == .replay(status: 201, body: Data("{}".utf8)))
        let beyond = APIHarness.start.addingTimeInterval(store.retention + 1)
        #expect(try await store.claim(owner: "pat", key: "k", tokenId: "t1", requestHash: "h", now: beyond) == Self.fresh(at: beyond))
    }
}
