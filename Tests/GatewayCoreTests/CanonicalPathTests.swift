import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// Hummingbird's router skips empty segments, so `//api/orders` reached the orders route while the middleware saw a
/// path outside `/api` and let it through with no token. Every spelling of a route the router would read as that
/// route is refused before any check or daemon sees it, and only `/healthz` and `/openapi.json` are served without a token.
@Suite("Canonical paths and the public allowlist")
struct CanonicalPathTests {
    /// Every request method of the three daemons, each answered (and counted) by the fakes below.
    static let daemonMethods = [
        Methods.mindsetEvaluate, Methods.mindsetState, Methods.mindsetLock, Methods.mindsetUnlock, Methods.mindsetSelfLockout,
        Methods.routerPlaceOrder, Methods.routerCancelOrder, Methods.routerOrders, Methods.routerPositions, Methods.routerAccount,
        Methods.routerTicksProcessed, Methods.routerStrategyPositions, Methods.routerFills, Methods.routerPause, Methods.routerResume,
        Methods.routerSymbolRules, Methods.arsenalStrategies, Methods.arsenalStrategy, Methods.arsenalEnable, Methods.arsenalDisable,
        Methods.arsenalSetParameters, Methods.arsenalPerformance, Methods.arsenalPlaceManualOrder,
    ]

    /// The spellings of `path` that a lenient router resolves to it: a leading `//`, an empty segment after the first,
    /// a `.` segment, a trailing `/`, and percent-encoded `/` and `.`.
    static func variants(of path: String) -> [String] {
        let segments = path.dropFirst().split(separator: "/").map(String.init)
        let first = segments[0]
        let rest = segments.dropFirst().joined(separator: "/")
        var forms = ["/" + path, "/." + path, path + "/", "/\(first)/./\(rest)", "/%2e" + path]
        if !rest.isEmpty {
            forms += ["/\(first)//\(rest)", "/\(first)%2F\(rest)", "/\(first)/../\(first)/\(rest)"]
        }
        return forms
    }

    /// Every route the gateway registers, parameters filled in, HEAD for every GET.
    static func routes(of h: APIHarness) -> [(HTTPRequest.Method, String)] {
        let table = RouteTable()
        _ = GatewayRoutes.build(environment: h.environment, table: table)
        var routes: [(HTTPRequest.Method, String)] = []
        for (path, methods) in table.methods {
            let filled = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "x1", options: .regularExpression)
            for method in methods + (methods.contains(.get) ? [.head] : []) { routes.append((method, filled)) }
        }
        return routes.sorted { ($0.1, $0.0.rawValue) < ($1.1, $1.0.rawValue) }
    }

    @Test("for every route, the //, /api//…, /./ and percent-encoded spellings without a token are 400, and no daemon is called")
    func everyRouteEveryVariant() async throws {
        let h = try APIHarness()
        let calls = Shared(0)
        var fakes: [FakeDaemon] = []
        for peer in ["mindsetd", "arsenald", "routerd"] {
            fakes.append(try await FakeDaemon(peer, in: h) { registry in
                for method in Self.daemonMethods {
                    registry.registerSync(method, JSONValue.self) { _, _ in
                        calls.withLock { $0 += 1 }
                        return JSONValue.object([:])
                    }
                }
            })
        }
        let routes = Self.routes(of: h)
        #expect(routes.count > 30, "the table lists every route: \(routes.count)")
        let answers = try await h.app.test(.router) { client async throws -> [String] in
            var answers: [String] = []
            for (method, path) in routes {
                for variant in Self.variants(of: path) {
                    let json = [.post, .put].contains(method) ? #"{"reason":"x","symbol":"BTCUSDT","side":"buy","quantity":"1"}"# : nil
                    let response = try await client.call(method, variant, json: json)
                    if response.status != .badRequest || (method != .head && response.errorCode != "non_canonical_path") {
                        answers.append("\(method.rawValue) \(variant): \(response.status.code) \(String(buffer: response.body))")
                    }
                }
            }
            return answers
        }
        for fake in fakes { await fake.stop() }
        #expect(answers.isEmpty, "\(answers.joined(separator: "\n"))")
        #expect(calls.withLock { $0 } == 0, "no daemon was asked anything")
        #expect(fakes.map { $0.healthCalls.withLock { $0 } } == [0, 0, 0])
        #expect(try h.count("SELECT COUNT(*) FROM idempotency_keys") == 0)
    }

    @Test("only /healthz, /openapi.json, the dashboard's files and (from this machine) /metrics are public: every other path, a route or not, needs a token first (401 before 404)")
    func allowlist() async throws {
        let h = try APIHarness()
        #expect(GatewayEnvironment.publicPaths == ["/healthz", "/openapi.json"])
        let routes = Self.routes(of: h).filter { !GatewayEnvironment.publicPaths.contains($0.1) && $0.1 != MetricsRoutes.path }
        try await h.app.test(.router) { client async throws in
            // No connection here, so no loopback peer: refused by where it comes from, not for want of a token.
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .forbidden && String(buffer: metrics.body).contains("metrics_loopback_only"))
            for (method, path) in routes + [(.post, "/"), (.get, "/assetsx"), (.get, "/Metrics"), (.get, "/API/orders"), (.post, "/healthz/x")] {
                let response = try await client.call(method, path)
                #expect(response.status == .unauthorized, "\(method.rawValue) \(path): \(String(buffer: response.body))")
            }
            #expect(try await client.call(.get, "/healthz").status != .unauthorized)
            #expect(try await client.call(.get, "/openapi.json").status == .ok)
            // The dashboard's paths reach only its files (none installed in this harness), never a route.
            for path in ["/", "/index.html", "/assets/app.js"] {
                let page = try await client.call(.get, path)
                #expect(page.status == .notFound && String(buffer: page.body).contains("dashboard_not_installed"), "\(path)")
            }
        }
    }

    @Test("a route reached without an identity refuses with 401, never acting for nobody")
    func requireIdentityIs401() async throws {
        let router = Router(context: GatewayContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.post("/unguarded") { _, context -> Response in
            _ = try context.requireIdentity()
            return Response(status: .ok)
        }
        router.group("/admin").add(middleware: RequireAdminMiddleware()).post("x") { _, _ in Response(status: .ok) }
        let app = Application(router: router)
        try await app.test(.router) { client async throws in
            for path in ["/unguarded", "/admin/x"] {
                let response = try await client.call(.post, path)
                #expect(response.status == .unauthorized, "\(path)")
                #expect(response.errorCode == "token_missing", "\(path)")
            }
        }
    }

    @Test("what counts as canonical", arguments: [
        ("/api/orders", true), ("/api/admin/subscriptions/a%40b.c", true), ("/healthz", true), ("/openapi.json", true), ("/", true),
        ("//api/orders", false), ("/api//orders", false), ("/api/orders/", false), ("/./api/orders", false),
        ("/api/../api/orders", false), ("/api%2Forders", false), ("/api%2forders", false), ("/api/orders/%2E%2E", false),
        ("/api/orders/a%5Cb", false), ("/api/orders\\x", false), ("api/orders", false),
    ])
    func canonical(path: String, accepted: Bool) {
        #expect((CanonicalPathMiddleware.problem(path) == nil) == accepted, "\(path)")
    }
}
