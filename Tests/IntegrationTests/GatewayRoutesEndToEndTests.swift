import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing

/// The gateway's routes against the four real daemons: a daemon down (each in turn) is a 503 on its routes and back to 200 when it
/// returns (the gateway stays up), and a manual order with an Idempotency-Key goes out once however often it is sent.
@Suite("Gateway routes end to end", .serialized)
struct GatewayRoutesEndToEndTests {
    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    static func errorCode(_ data: Data) -> String? {
        (json(data)["error"] as? [String: Any])?["code"] as? String
    }

    @Test("kill arsenald: its routes answer 503 daemon_unavailable, the others 200; restarted, 200 again; then routerd, then mindsetd")
    func daemonDownAndBack() async throws {
        try await TestSystem.with { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            // Every daemon up behind the gateway (its clients connect with a backoff of their own) before one goes.
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(60)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            #expect(try await system.get("/api/strategy", token: admin).status == 200)
            await system.killHard("arsenald")
            try await system.waitUntil("arsenald's routes to answer 503", timeout: .seconds(30)) {
                (try? await system.get("/api/strategy", token: admin))?.status == 503
            }
            let down = try await system.get("/api/strategy/mean_reversion", token: admin)
            #expect(down.status == 503)
            #expect(Self.errorCode(down.body) == "daemon_unavailable", "\(String(decoding: down.body, as: UTF8.self))")
            let order = try await system.send("POST", "/api/orders", token: admin, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#,
                                              headers: ["Idempotency-Key": "while-down"])
            #expect(order.status == 503)
            #expect(Self.errorCode(order.body) == "daemon_unavailable")
            let health = try await system.get("/healthz")
            #expect(health.status == 503)
            #expect(Self.json(health.body)["services"] as? [String: String]
                    == ["gateway": "up", "mindsetd": "up", "routerd": "up", "arsenald": "down"])
            // routerd's routes do not depend on arsenald.
            #expect(try await system.get("/api/positions", token: admin).status == 200)
            #expect(try await system.get("/api/account", token: admin).status == 200)
            let status = try await system.get("/api/admin/status", token: admin)
            #expect(status.status == 200)
            let services = Self.json(status.body)["services"] as? [String: [String: Any]] ?? [:]
            #expect(services["arsenald"]?["state"] as? String == "down")
            #expect(services["routerd"]?["state"] as? String == "up")
            #expect(services["routerd"]?["version"] as? String != nil)
            // The logs of the three processes still up, arsenald's named missing; each daemon's "ready" line among them.
            let logs = try await system.get("/api/logs?limit=1000", token: admin)
            #expect(logs.status == 200)
            let page = Self.json(logs.body)
            #expect(page["unavailable"] as? [String] == ["arsenald"])
            let lines = page["lines"] as? [[String: Any]] ?? []
            #expect(Set(lines.compactMap { $0["daemon"] as? String }) == ["gateway", "mindsetd", "routerd"])
            for daemon in ["mindsetd", "routerd", "gateway"] {
                let own = Self.json(try await system.get("/api/logs?daemon=\(daemon)&component=\(daemon)&limit=1000", token: admin).body)
                let said = own["lines"] as? [[String: Any]] ?? []
                #expect(said.contains { $0["message"] as? String == "ready" && $0["daemon"] as? String == daemon }, "\(daemon) said ready")
            }
            let warnings = Self.json(try await system.get("/api/logs?level=warning&daemon=gateway", token: admin).body)["lines"] as? [[String: Any]] ?? []
            #expect(warnings.contains { ($0["component"] as? String)?.hasPrefix("gateway.arsenald") == true }, "the gateway's warnings about arsenald")
            #expect(warnings.allSatisfy { ["warning", "error", "critical"].contains($0["level"] as? String ?? "") })

            try system.start("arsenald")
            try await system.waitUntil("arsenald's routes to answer 200 again", timeout: .seconds(60)) {
                (try? await system.get("/api/strategy", token: admin))?.status == 200
            }
            #expect(try await system.get("/api/strategy/mean_reversion", token: admin).status == 200)
            try await system.waitUntil("/healthz to be ok again", timeout: .seconds(30)) {
                (try? await system.get("/healthz"))?.status == 200
            }

            // The same for routerd's routes and mindsetd's, one daemon at a time.
            for (daemon, route) in [("routerd", "/api/positions"), ("mindsetd", "/api/mindset")] {
                await system.killHard(daemon)
                try await system.waitUntil("\(daemon)'s route to answer 503", timeout: .seconds(30)) {
                    (try? await system.get(route, token: admin))?.status == 503
                }
                let gone = try await system.get(route, token: admin)
                #expect(Self.errorCode(gone.body) == "daemon_unavailable", "\(daemon): \(String(decoding: gone.body, as: UTF8.self))")
                #expect(try await system.get("/api/subscription/me", token: admin).status == 200, "the gateway itself stays up")
                try system.start(daemon)
                try await system.waitUntil("\(daemon)'s route to answer 200 again", timeout: .seconds(60)) {
                    (try? await system.get(route, token: admin))?.status == 200
                }
            }
        }
    }

    @Test("POST /api/orders with an Idempotency-Key, sent three times: one order at routerd, the same answer each time")
    func idempotentManualOrder() async throws {
        try await TestSystem.with { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            let body = #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#
            // arsenald needs a tick of the symbol (a price to propose at) and its connections up.
            var first: (status: Int, body: Data) = (0, Data())
            try await system.waitUntil("a first manual order to be answered", timeout: .seconds(90)) {
                first = (try? await system.send("POST", "/api/orders", token: admin, json: body, headers: ["Idempotency-Key": "e2e-1"]))
                    ?? (0, Data())
                return first.status != 0 && first.status != 503
            }
            let text = String(decoding: first.body, as: UTF8.self)
            #expect([201, 409, 422].contains(first.status), "\(text)")
            let second = try await system.send("POST", "/api/orders", token: admin, json: body, headers: ["Idempotency-Key": "e2e-1"])
            let third = try await system.send("POST", "/api/orders", token: admin, json: body, headers: ["Idempotency-Key": "e2e-1"])
            #expect(second.status == first.status)
            #expect(second.body == first.body, "the first answer, byte for byte")
            #expect(third.body == first.body)
            let clientOrderId = Self.json(first.body)["clientOrderId"] as? String ?? ""
            #expect(clientOrderId.hasPrefix("bb-m-g"), "\(text)")
            #expect(try system.count("SELECT COUNT(*) FROM orders WHERE client_order_id LIKE 'bb-m-%'") == (first.status == 409 ? 0 : 1))
            if first.status == 201 {
                let order = Self.json(first.body)["order"] as? [String: Any] ?? [:]
                #expect(order["quantity"] as? String == "0.00100" || order["quantity"] as? String == "0.001", "\(order)")
                // Under a loaded suite routerd has answered this query later than the gateway's 2 s timeout (503
                // daemon_unavailable, twice in a day): asked again then; what is checked here is the order, not the wait.
                var fetched: (status: Int, body: Data) = (0, Data())
                try await system.waitUntil("the order from GET /api/orders/{id}", timeout: .seconds(30)) {
                    fetched = try await system.get("/api/orders/\(clientOrderId)", token: admin)
                    return fetched.status != 503
                }
                #expect(fetched.status == 200, "\(String(decoding: fetched.body, as: UTF8.self))")
                #expect(Self.json(fetched.body)["clientOrderId"] as? String == clientOrderId)
            }
            let changed = try await system.send("POST", "/api/orders", token: admin, json: #"{"symbol":"BTCUSDT","side":"sell","quantity":"0.001"}"#,
                                                headers: ["Idempotency-Key": "e2e-1"])
            #expect(changed.status == 422)
            #expect(Self.errorCode(changed.body) == "idempotency_key_reused")
        }
    }

    @Test("a manual order the real mindset blocks: 409 order_blocked with its reasons and codes, nothing at routerd")
    func blockedManualOrder() async throws {
        let config = TestSystem.strategiesOff
        try await TestSystem.with(extraConfig: config) { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            let buy = #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#
            // The system is up when an order goes through.
            let first = try await system.placeOrderOnceUp(token: admin, json: buy, key: "before-lock")
            try #require(first.status == 201, "\(first.status) \(String(decoding: first.body, as: UTF8.self).prefix(400))")
            let ordersBefore = try system.count("SELECT COUNT(*) FROM orders")

            let lock = try await system.send("POST", "/api/admin/mindset/lock", token: admin, json: #"{"reason":"no more today"}"#)
            #expect(lock.status == 200, "\(String(decoding: lock.body, as: UTF8.self))")
            let blocked = try await system.send("POST", "/api/orders", token: admin, json: buy, headers: ["Idempotency-Key": "while-locked"])
            let text = String(decoding: blocked.body, as: UTF8.self)
            #expect(blocked.status == 409, "\(text)")
            let error = Self.json(blocked.body)["error"] as? [String: Any] ?? [:]
            #expect(error["code"] as? String == "order_blocked", "\(text)")
            let reasons = error["reasons"] as? [String] ?? []
            #expect(!reasons.isEmpty && (error["codes"] as? [String] ?? []).isEmpty == false, "\(text)")
            #expect((error["message"] as? String)?.contains(reasons.first ?? "?") == true, "\(text)")
            #expect(try system.count("SELECT COUNT(*) FROM orders") == ordersBefore, "nothing reached routerd")
            _ = try await system.send("POST", "/api/admin/mindset/unlock", token: admin, json: "{}")
        }
    }

    @Test("what the dashboard reads: fills newest first and paged, the equity curve routerd samples, every subscriber's usage")
    func historyRoutes() async throws {
        // No strategy trades, so nothing but the mindset's own rules stands between the manual orders and routerd.
        let config = "router:\n  account:\n    equity_sample_seconds: 10\n" + TestSystem.strategiesOff
        try await TestSystem.with(extraConfig: config) { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            // A manual round trip: a buy and a reduce-only sell, a fill each.
            for (index, order) in [#""side":"buy""#, #""side":"sell","reduceOnly":true"#].enumerated() {
                let answer = try await system.placeOrderOnceUp(token: admin, json: #"{"symbol":"BTCUSDT",\#(order),"quantity":"0.001"}"#,
                                                               key: "history-\(index)")
                try #require(answer.status == 201, "order \(index): \(answer.status) \(String(decoding: answer.body, as: UTF8.self).prefix(400))")
            }
            let first = try await system.get("/api/fills?strategy=manual&limit=1", token: admin)
            #expect(first.status == 200)
            let page = Self.json(first.body)
            let fills = page["fills"] as? [[String: Any]] ?? []
            let sequences = fills.compactMap { $0["sequence"] as? Int }
            #expect(fills.count == 1 && fills.first?["side"] as? String == "sell", "newest first: \(fills)")
            #expect(fills.allSatisfy { $0["price"] is String && $0["quantity"] is String }, "money as decimal strings")
            let next = try #require(page["nextBefore"] as? Int)
            let rest = Self.json(try await system.get("/api/fills?strategy=manual&limit=3&before=\(next)", token: admin).body)
            let older = rest["fills"] as? [[String: Any]] ?? []
            #expect(older.count == 1 && older.first?["side"] as? String == "buy" && rest["nextBefore"] == nil, "\(rest)")
            #expect((older.first?["sequence"] as? Int ?? .max) < (sequences.first ?? 0))
            let order = try #require(fills.first?["clientOrderId"] as? String)
            let ofOrder = Self.json(try await system.get("/api/fills?order=\(order)", token: admin).body)["fills"] as? [[String: Any]] ?? []
            #expect(!ofOrder.isEmpty && ofOrder.allSatisfy { $0["clientOrderId"] as? String == order })
            #expect(try await system.get("/api/fills?before=0", token: admin).status == 400)
            #expect(try await system.get("/api/fills?side=buy", token: admin).status == 400)

            // routerd samples every 10 s here, the least it may (the day's curve shows the last sample of each minute).
            try await system.waitUntil("routerd to write equity samples", timeout: .seconds(40)) {
                ((try? system.count("SELECT COUNT(*) FROM equity_samples")) ?? 0) >= 2
            }
            let answer = Self.json(try await system.get("/api/account/equity?range=day", token: admin).body)
            let samples = answer["samples"] as? [[String: Any]] ?? []
            let minutes = samples.compactMap { ($0["time"] as? String)?.prefix(16) }
            #expect(!samples.isEmpty && minutes.count == Set(minutes).count, "one point a minute: \(minutes)")
            #expect(samples.allSatisfy { (($0["equity"] as? String).flatMap { ExactDecimal($0) }).map { $0 > 90_000 } ?? false }, "\(samples.prefix(2))")
            let month = try await system.get("/api/account/equity?range=month", token: admin)
            #expect(month.status == 200 && Self.json(month.body)["currency"] as? String == "USD")
            #expect(try await system.get("/api/account/equity?range=year", token: admin).status == 400)

            // The admin's own calls are recorded in batches: the usage table names the owner.
            try await system.waitUntil("the admin's calls in the usage", timeout: .seconds(30)) {
                let usage = Self.json((try? await system.get("/api/admin/usage?days=1", token: admin))?.body ?? Data())
                return (usage["owners"] as? [[String: Any]] ?? []).contains { ($0["counted"] as? Int ?? 0) >= 5 }
            }
            #expect(try await system.get("/api/admin/usage?days=91", token: admin).status == 400)
        }
    }
}
