import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// What the routes really answer, against what `/openapi.json` says they answer: every example in the document
/// is the exact body of the situation it names, and representative answers of every kind (successes through fake
/// daemons, the middleware's refusals, the daemons' absence) have a documented status, error code, headers and body
/// shape (Tests/Peers/check_openapi.py validates them with the document's own schemas).
@Suite("OpenAPI document against the routes' answers")
struct OpenAPIAnswersTests {
    /// A real answer, as check_openapi.py reads it: where the document describes it (`path` of an operation, or
    /// `response`, a name in components.responses) and what came.
    static func answer(_ response: TestResponse, _ method: HTTPRequest.Method, path: String? = nil, component: String? = nil) -> [String: Any] {
        var headers: [String: String] = [:]
        for field in response.headers { headers[field.name.rawName] = field.value }
        let body = response.body.readableBytes == 0 ? nil : try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
        var answer: [String: Any] = ["method": method.rawValue, "status": Int(response.status.code), "headers": headers,
                                     "contentType": response.headers[.contentType] ?? "", "body": body ?? NSNull()]
        if let path { answer["path"] = path }
        if let component { answer["response"] = component }
        return answer
    }

    /// Every named example of the document (in `components.responses` and the operations' responses), by name.
    static func examples(in value: Any) -> [String: Any] {
        var found: [String: Any] = [:]
        if let object = value as? [String: Any] {
            if let examples = object["examples"] as? [String: [String: Any]], object["schema"] != nil {
                for (name, example) in examples { found[name] = example["value"] }
            }
            for child in object.values { found.merge(examples(in: child)) { first, _ in first } }
        } else if let array = value as? [Any] {
            for child in array { found.merge(examples(in: child)) { first, _ in first } }
        }
        return found
    }

    static func same(_ body: ByteBuffer, _ example: Any?) -> Bool {
        guard let example, let actual = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) else { return false }
        return (actual as? NSObject)?.isEqual(example) == true
    }

    @Test("every example in the document is exactly what its situation answers")
    func examplesAreReal() async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let pro = try await h.token(owner: "pat", tier: .pro)
        let free = try await h.token(owner: "fay", tier: .free)
        try await h.app.test(.router) { client async throws in
            let documented = Self.examples(in: try await OpenAPITests.document(client))
            var rateLimited = try await client.call(.get, "/api/subscription/me", token: free)
            for _ in 0..<60 { rateLimited = try await client.call(.get, "/api/subscription/me", token: free) }
            let padding = String(repeating: "x", count: GatewayContext.maximumBodyBytes)
            // Each example's name → the request that makes its situation, and the status it answers.
            let situations: [String: (HTTPResponse.Status, TestResponse)] = [
                "token_missing": (.unauthorized, try await client.call(.get, "/api/orders")),
                "no_route": (.notFound, try await client.call(.get, "/nowhere", token: pro)),
                "method_not_allowed": (.methodNotAllowed, try await client.call(.patch, "/api/subscription/me", token: pro)),
                "payload_too_large": (.contentTooLarge, try await client.call(.post, "/api/admin/tokens", token: admin,
                                                                               json: #"{"owner":"big","pad":"\#(padding)"}"#)),
                "rate_limited": (.tooManyRequests, rateLimited),
                "idempotency_key_required": (.badRequest, try await client.call(.post, "/api/orders", token: pro,
                                                                                json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#)),
            ]
            #expect(Set(documented.keys) == Set(situations.keys), "each example needs its situation here, each situation its example")
            for (name, (status, response)) in situations {
                #expect(response.status == status, "\(name): \(response.status.code) \(String(buffer: response.body))")
                #expect(Self.same(response.body, documented[name]),
                        "\(name): the route answers \(String(buffer: response.body)), the document shows \(String(describing: documented[name]))")
            }
        }
    }

    @Test("real answers of every kind have the status, error code, headers and body the document gives them")
    func answersMatchTheDocument() async throws {
        let logs = RecentLogs(capacity: 100)
        logs.append(LogLine(time: Date(timeIntervalSince1970: 1_900_000_000), level: "info", component: "gateway.http", message: "HTTP API listening",
                            metadata: ["url": "http://127.0.0.1:8080"]))
        let h = try APIHarness(recentLogs: logs)
        let desk = ManualOrderDesk()
        let arsenal = try await FakeDaemon("arsenald", in: h) { registry in
            desk.register(registry)
            registry.registerSync(Methods.arsenalStrategies, EmptyBody.self) { _, _ in StrategiesResponse(strategies: [Self.strategy]) }
            registry.registerSync(Methods.arsenalStrategy, StrategyIdRequest.self) { request, _ in
                guard request.id == Self.strategy.id else { throw IPCError(.notFound, "no strategy \(request.id); registered: mean_reversion") }
                return Self.strategy
            }
            registry.registerSync(Methods.arsenalSignals, SignalsQuery.self) { _, _ in
                SignalsResponse(signals: [SignalAPITests.record], nextCursor: "abcd1234:7", capacity: 1_000)
            }
        }
        let routerd = try await FakeDaemon("routerd", in: h) { registry in
            registry.registerSync(Methods.routerOrders, OrdersQuery.self) { query, _ in
                query.clientOrderId == "nobody" ? OrdersResponse(orders: []) : OrdersResponse(orders: [Self.order], nextCursor: "2030-03-17 17:46:40.000|bb-1")
            }
            registry.registerSync(Methods.routerPositions, EmptyBody.self) { _, _ in
                PositionsResponse(positions: [Position(venue: .paper, symbol: "BTCUSDT", quantity: ExactDecimal("-0.00200")!,
                                                       averagePrice: ExactDecimal("9685.81")!, realizedPnl: ExactDecimal("-1.25")!,
                                                       lastPrice: ExactDecimal("9690.00")!, unrealizedPnl: ExactDecimal("-0.00838")!)])
            }
        }
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let pro = try await h.token(owner: "pat", tier: .pro)
        let free = try await h.token(owner: "fay", tier: .free)
        let order = #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.00200"}"#
        let answers = try await h.app.test(.router) { client async throws -> [[String: Any]] in
            var answers: [[String: Any]] = []
            func expect(_ status: HTTPResponse.Status, _ response: TestResponse, _ method: HTTPRequest.Method, path: String? = nil,
                        component: String? = nil) {
                #expect(response.status == status, "\(method.rawValue) \(path ?? component ?? ""): \(String(buffer: response.body))")
                answers.append(Self.answer(response, method, path: path, component: component))
            }
            expect(.ok, try await client.call(.get, "/openapi.json"), .get, path: "/openapi.json")
            expect(.serviceUnavailable, try await client.call(.get, "/healthz"), .get, path: "/healthz")
            // The middleware and Hummingbird's own refusals.
            expect(.unauthorized, try await client.call(.get, "/api/orders"), .get, path: "/api/orders")
            expect(.unauthorized, try await client.call(.get, "/api/orders", authorization: "Bearer bgb_nope"), .get, path: "/api/orders")
            expect(.badRequest, try await client.call(.get, "/api//orders", token: pro), .get, path: "/api/orders")
            expect(.forbidden, try await client.call(.post, "/api/orders", token: free, json: order, headers: Self.key("f1")), .post, path: "/api/orders")
            expect(.forbidden, try await client.call(.get, "/api/admin/tokens", token: pro), .get, path: "/api/admin/tokens")
            expect(.notFound, try await client.call(.get, "/nowhere", token: pro), .get, component: "NoRoute")
            expect(.methodNotAllowed, try await client.call(.put, "/api/orders", token: pro), .put, component: "MethodNotAllowed")
            // Orders through the fake arsenald and routerd.
            expect(.created, try await client.call(.post, "/api/orders", token: pro, json: order, headers: Self.key("k1")), .post, path: "/api/orders")
            expect(.created, try await client.call(.post, "/api/orders", token: pro, json: order, headers: Self.key("k1")), .post, path: "/api/orders")
            desk.set(.block(reasons: ["3 losses in a row: cooling down"], codes: ["revenge_cooldown"]))
            expect(.conflict, try await client.call(.post, "/api/orders", token: pro, json: order, headers: Self.key("k2")), .post, path: "/api/orders")
            desk.set(.reject("insufficient funds"))
            expect(.unprocessableContent, try await client.call(.post, "/api/orders", token: pro, json: order, headers: Self.key("k3")), .post, path: "/api/orders")
            desk.set(.unknown)
            expect(.gatewayTimeout, try await client.call(.post, "/api/orders", token: pro, json: order, headers: Self.key("k4")), .post, path: "/api/orders")
            expect(.unprocessableContent, try await client.call(.post, "/api/orders", token: pro, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"1e3"}"#,
                                                                headers: Self.key("k5")), .post, path: "/api/orders")
            expect(.badRequest, try await client.call(.post, "/api/orders", token: pro, json: #"{"symbol":"BTCUSDT","sides":"buy"}"#, headers: Self.key("k6")),
                   .post, path: "/api/orders")
            expect(.ok, try await client.call(.get, "/api/orders?status=filled&limit=1", token: pro), .get, path: "/api/orders")
            expect(.badRequest, try await client.call(.get, "/api/orders?cursor=***", token: pro), .get, path: "/api/orders")
            expect(.ok, try await client.call(.get, "/api/orders/bb-1", token: pro), .get, path: "/api/orders/{clientOrderId}")
            expect(.notFound, try await client.call(.get, "/api/orders/nobody", token: pro), .get, path: "/api/orders/{clientOrderId}")
            expect(.forbidden, try await client.call(.delete, "/api/orders/bb-1", token: pro), .delete, path: "/api/orders/{clientOrderId}")
            expect(.ok, try await client.call(.get, "/api/positions", token: pro), .get, path: "/api/positions")
            // Strategies through the fake arsenald.
            expect(.ok, try await client.call(.get, "/api/strategy", token: free), .get, path: "/api/strategy")
            expect(.ok, try await client.call(.get, "/api/strategy/mean_reversion", token: free), .get, path: "/api/strategy/{id}")
            expect(.notFound, try await client.call(.get, "/api/strategy/trend", token: free), .get, path: "/api/strategy/{id}")
            expect(.badRequest, try await client.call(.get, "/api/strategy/no%20such", token: free), .get, path: "/api/strategy/{id}")
            // Signals through the fake arsenald; the event stream's refusals (its stream is EventStreamTests').
            expect(.ok, try await client.call(.get, "/api/signals?outcome=blocked&limit=1", token: free), .get, path: "/api/signals")
            expect(.badRequest, try await client.call(.get, "/api/signals?outcome=lost", token: free), .get, path: "/api/signals")
            expect(.forbidden, try await client.call(.get, "/api/events", token: pro), .get, path: "/api/events")
            expect(.badRequest, try await client.call(.get, "/api/events", token: admin, headers: [EventRoutes.lastEventIdHeader: "x"]),
                   .get, path: "/api/events")
            expect(.serviceUnavailable, try await client.call(.get, "/api/events", token: admin), .get, path: "/api/events")
            // Tokens and subscriptions, against the real store.
            expect(.ok, try await client.call(.get, "/api/subscription/me", token: pro), .get, path: "/api/subscription/me")
            expect(.ok, try await client.call(.get, "/api/subscription/usage?days=2", token: pro), .get, path: "/api/subscription/usage")
            expect(.badRequest, try await client.call(.get, "/api/subscription/usage?days=91", token: pro), .get, path: "/api/subscription/usage")
            let created = try await client.call(.post, "/api/admin/tokens", token: admin, json: #"{"owner":"eve","tier":"pro","expiresInDays":30}"#)
            expect(.created, created, .post, path: "/api/admin/tokens")
            expect(.conflict, try await client.call(.post, "/api/admin/tokens", token: admin, json: #"{"owner":"eve","tier":"free"}"#),
                   .post, path: "/api/admin/tokens")
            expect(.unprocessableContent, try await client.call(.post, "/api/admin/tokens", token: admin, json: #"{"owner":"a b"}"#),
                   .post, path: "/api/admin/tokens")
            expect(.ok, try await client.call(.get, "/api/admin/tokens", token: admin), .get, path: "/api/admin/tokens")
            let subscription = #"{"tier":"pro","status":"active","overrides":{"perMinute":120,"perDay":null}}"#
            expect(.created, try await client.call(.put, "/api/admin/subscriptions/gil", token: admin, json: subscription),
                   .put, path: "/api/admin/subscriptions/{owner}")
            expect(.ok, try await client.call(.put, "/api/admin/subscriptions/gil", token: admin, json: subscription),
                   .put, path: "/api/admin/subscriptions/{owner}")
            expect(.ok, try await client.call(.get, "/api/admin/status", token: admin), .get, path: "/api/admin/status")
            expect(.ok, try await client.call(.get, "/api/logs?level=info&limit=5", token: admin), .get, path: "/api/logs")
            expect(.badRequest, try await client.call(.get, "/api/logs?daemon=nginx", token: admin), .get, path: "/api/logs")
            let eve = try #require((try created.json()["details"] as? [String: Any])?["id"] as? String)
            expect(.created, try await client.call(.post, "/api/admin/tokens/\(eve)/rotate", token: admin, json: #"{"graceSeconds":60}"#),
                   .post, path: "/api/admin/tokens/{id}/rotate")
            expect(.conflict, try await client.call(.post, "/api/admin/tokens/\(eve)/rotate", token: admin), .post, path: "/api/admin/tokens/{id}/rotate")
            expect(.ok, try await client.call(.delete, "/api/admin/tokens/\(eve)", token: admin), .delete, path: "/api/admin/tokens/{id}")
            expect(.notFound, try await client.call(.delete, "/api/admin/tokens/nobody", token: admin), .delete, path: "/api/admin/tokens/{id}")
            expect(.serviceUnavailable, try await client.call(.post, "/api/admin/mindset/lock", token: admin, json: #"{"reason":"away"}"#),
                   .post, path: "/api/admin/mindset/lock")
            expect(.created, try await client.call(.post, "/api/subscription/rotate", token: pro), .post, path: "/api/subscription/rotate")
            expect(.ok, try await client.call(.delete, "/api/subscription/token", token: free), .delete, path: "/api/subscription/token")
            return answers
        }
        await arsenal.stop()
        await routerd.stop()

        // The error codes, checked here too (check_openapi.py checks them with the rest of each body).
        for answer in answers {
            guard let status = answer["status"] as? Int, status >= 400, let path = answer["path"] as? String,
                  let method = answer["method"] as? String else { continue }
            let code = ((answer["body"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
            let documented = Self.documentedCodes(method: method, path: path, status: status)
            if documented.isEmpty && code == nil { continue }  // not an error body (/healthz's 503)
            #expect(code.map { documented.contains($0) } == true, "\(method) \(path) \(status) answered \(code ?? "no code"); documented: \(documented)")
        }
        let dir = try TempDir()
        let spec = dir.file("openapi.json")
        try (try #require(OpenAPIDocument.json)).write(to: URL(fileURLWithPath: spec))
        let file = dir.file("answers.json")
        try JSONSerialization.data(withJSONObject: answers).write(to: URL(fileURLWithPath: file))
        let (status, output) = try await TestPeers.run("check_openapi.py", [spec, "--answers", file])
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(answers.count) answers checked"), "\(output)")
    }

    static func key(_ key: String) -> HTTPFields { [PlaceOrder.keyHeader: key] }

    /// The codes the Swift data documents for one operation's status (401 and the other shared answers included).
    static func documentedCodes(method: String, path: String, status: Int) -> [String] {
        guard let operation = OpenAPIDocument.routes.first(where: { $0.method.rawValue == method && $0.path == path })?.operation,
              var response = operation.responses[String(status)] else { return [] }
        if let ref = response.ref, let shared = OpenAPIComponents.responses[String(ref.split(separator: "/").last ?? "")] { response = shared }
        guard let schema = response.content?[OpenAPIResponse.jsonType]?.schema else { return [] }
        return schema.allOf?.compactMap { $0.properties?["error"]?.properties?["code"]?.enumValues }.flatMap { $0 } ?? []
    }

    static let order = OrderRecord(
        clientOrderId: "bb-1", venue: .paper, symbol: "BTCUSDT", side: .buy, type: .market, quantity: ExactDecimal("0.00200")!,
        status: .filled, filledQuantity: ExactDecimal("0.00200")!, averageFillPrice: ExactDecimal("9685.81")!,
        exchangeOrderId: "paper-bb-1", strategyId: "mean_reversion", requestId: "1",
        createdAt: Date(timeIntervalSince1970: 1_900_000_000), updatedAt: Date(timeIntervalSince1970: 1_900_000_001))

    static let strategy = StrategyInfo(
        id: "mean_reversion", kind: "mean_reversion", description: "Fades a price stretched beyond its rolling mean", enabled: true,
        symbols: ["BTCUSDT"], baseQuantity: ["BTCUSDT": ExactDecimal("0.01")!],
        parameters: [StrategyParameterInfo(name: "entry_z", type: .number, value: 2.5, defaultValue: 2, minimum: 0.1, maximum: 20,
                                           description: "Enter toward the mean", source: .runtime)],
        positions: ["BTCUSDT": ExactDecimal("-0.01")!], signals: 4, fills: 3, realizedPnl: ExactDecimal("-0.59430261")!, trades: 2, wins: 1)
}
