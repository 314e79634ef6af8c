import Foundation
import Hummingbird
import HummingbirdCore
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// The daemons behind the API.
public struct DaemonClients: Sendable {
    public let mindset: IPCClient
    public let arsenal: IPCClient
    public let router: IPCClient

    var all: [IPCClient] { [mindset, arsenal, router] }
}

/// What `/healthz` returns: whether each process is up, and nothing else (no equity, no counters: it needs no
/// token). `status` is `ok` when every one is up, else `degraded` (with 503).
public struct SystemHealth: Codable, Sendable {
    public var status: String
    /// gateway, mindsetd, arsenald, routerd → `up` or `down`.
    public var services: [String: String]
}

/// Every method a path registers, so the others can answer 405 with `Allow` instead of Hummingbird's 404.
final class RouteTable {
    private(set) var methods: [String: [HTTPRequest.Method]] = [:]

    func note(_ path: String, _ method: HTTPRequest.Method) {
        methods[path, default: []].append(method)
    }

    static let answered: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    /// Registers a 405 for every other common method of each noted path (HEAD is generated for every GET).
    func registerMethodNotAllowed(on router: Router<GatewayContext>) {
        for (path, registered) in methods {
            let allowed = registered.contains(.get) ? registered + [.head] : registered
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in Self.answered where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError(.methodNotAllowed, "method_not_allowed",
                                   "\(request.method.rawValue) is not allowed on \(path); allowed: \(allow)", headers: [.allow: allow])
                }
            }
        }
    }
}

enum GatewayRoutes {
    /// The router; `table` receives every route it registers (tests walk it).
    static func build(environment: GatewayEnvironment, table: RouteTable = RouteTable()) -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self, options: .autoGenerateHeadEndpoints)
        // First, a path the router would read differently from the checks below (`//api/…`) is refused outright.
        // Then the subscription middleware, in the order; only the public paths pass without a token.
        // Added before any route, so every route and the not-found answer go through them.
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        // The dashboard's static files need no token: they hold no data (and only `/` and `/assets/` reach the disk).
        router.add(middleware: DashboardMiddleware(directory: environment.dashboardDirectory))
        router.add(middleware: BearerAuthMiddleware(environment: environment))
        router.add(middleware: APIMetricsMiddleware())
        router.add(middleware: RateLimitMiddleware(environment: environment))
        router.add(middleware: UsageMiddleware(environment: environment))
        router.add(middleware: ReadOnlyTierMiddleware())
        router.add(middleware: SharedReadChangesMiddleware(changes: environment.sharedReadChanges))

        router.get("/healthz") { _, _ in
            let health = await systemHealth(daemons: environment.daemons)
            return try JSONResponse.make(health, status: health.status == "ok" ? .ok : .serviceUnavailable)
        }
        table.note("/healthz", .get)
        // The API's OpenAPI 3.1 document (OpenAPIDocument), public like /healthz.
        router.get("/openapi.json") { _, _ in try OpenAPIDocument.response() }
        table.note("/openapi.json", .get)
        MetricsRoutes.add(to: router, table: table, environment: environment)

        OrderRoutes.add(to: router, table: table, environment: environment)
        FillRoutes.add(to: router, table: table, environment: environment)
        StrategyRoutes.add(to: router, table: table, environment: environment)
        AccountRoutes.add(to: router, table: table, environment: environment)
        SignalRoutes.add(to: router, table: table, environment: environment)
        EventRoutes.add(to: router, table: table, environment: environment)
        LogRoutes.add(to: router, table: table, environment: environment)
        SubscriptionRoutes.add(to: router, table: table, environment: environment)
        AdminRoutes.add(to: router, table: table, environment: environment)
        AdminControlRoutes.add(to: router, table: table, environment: environment)
        table.registerMethodNotAllowed(on: router)
        return router
    }

    static func ordersQuery(from parameters: FlatDictionary<Substring, Substring>) throws -> OrdersQuery {
        let known: Set<Substring> = ["symbol", "status", "strategy", "limit"]
        if let unknown = parameters.first(where: { !known.contains($0.key) }) {
            throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: symbol, status, strategy, limit")
        }
        var query = OrdersQuery()
        if let symbol = parameters["symbol"] {
            guard !symbol.isEmpty, symbol.count <= 32, symbol.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw APIError.badRequest("symbol must be 1–32 letters and digits")
            }
            query.symbol = String(symbol)
        }
        if let status = parameters["status"] {
            guard let parsed = OrderStatus(rawValue: String(status)) else {
                throw APIError.badRequest("status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = parsed
        }
        if let strategy = parameters["strategy"] {
            guard (1...64).contains(strategy.utf8.count),
                  strategy.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._:-".contains($0)) }) else {
                throw APIError.badRequest("strategy must be 1–64 letters, digits and . _ : -")
            }
            query.strategyId = String(strategy)
        }
        if let limit = parameters["limit"] {
            guard let value = Int(limit), (1...1_000).contains(value) else {
                throw APIError.badRequest("limit must be a whole number from 1 to 1000")
            }
            query.limit = value
        }
        return query
    }

    /// A daemon is up when it answers `health` within 1 s (all three asked at once).
    static func systemHealth(daemons: DaemonClients) async -> SystemHealth {
        var services = ["gateway": "up"]
        await withTaskGroup(of: (String, Bool).self) { group in
            for client in daemons.all {
                group.addTask {
                    let report: HealthReport? = try? await client.call(Methods.health, EmptyBody(), timeout: .seconds(1))
                    return (client.peerService, report != nil)
                }
            }
            for await (name, up) in group { services[name] = up ? "up" : "down" }
        }
        let allUp = services.values.allSatisfy { $0 == "up" }
        return SystemHealth(status: allUp ? "ok" : "degraded", services: services)
    }
}
