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

/// What `/healthz` returns: the gateway itself and every daemon's own health report.
public struct SystemHealth: Codable, Sendable {
    public struct ServiceHealth: Codable, Sendable {
        public var status: String
        public var connection: String
        public var report: HealthReport?
        public var error: String?
    }

    public var status: String
    public var services: [String: ServiceHealth]
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
    static func build(environment: GatewayEnvironment) -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self, options: .autoGenerateHeadEndpoints)
        // The subscription middleware, in the order; each passes anything outside /api through untouched.
        // Added before any route, so every route and the not-found answer go through them.
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: BearerAuthMiddleware(environment: environment))
        router.add(middleware: RateLimitMiddleware(environment: environment))
        router.add(middleware: UsageMiddleware(environment: environment))
        router.add(middleware: ReadOnlyTierMiddleware())

        let table = RouteTable()
        router.get("/healthz") { _, _ in
            let health = await systemHealth(daemons: environment.daemons, started: environment.started)
            return try JSONResponse.make(health, status: health.status == "ok" ? .ok : .serviceUnavailable)
        }
        table.note("/healthz", .get)

        addTradingRoutes(to: router, table: table, daemons: environment.daemons)
        SubscriptionRoutes.add(to: router, table: table, environment: environment)
        AdminRoutes.add(to: router, table: table, environment: environment)
        table.registerMethodNotAllowed(on: router)
        return router
    }

    /// Read-only views of routerd: any valid token (every tier reads).
    static func addTradingRoutes(to router: Router<GatewayContext>, table: RouteTable, daemons: DaemonClients) {
        router.get("/api/orders") { request, _ in
            let query = try ordersQuery(from: request.uri.queryParameters)
            do {
                let response: OrdersResponse = try await daemons.router.call(Methods.routerOrders, query)
                return try JSONResponse.make(response)
            } catch {
                throw APIError.from(error, daemon: "routerd")
            }
        }
        table.note("/api/orders", .get)
        router.get("/api/positions") { _, _ in
            do {
                let response: PositionsResponse = try await daemons.router.call(Methods.routerPositions, EmptyBody())
                return try JSONResponse.make(response)
            } catch {
                throw APIError.from(error, daemon: "routerd")
            }
        }
        table.note("/api/positions", .get)
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

    static func systemHealth(daemons: DaemonClients, started: Date) async -> SystemHealth {
        var services: [String: SystemHealth.ServiceHealth] = [
            "gateway": .init(status: "ok", connection: "self",
                             report: HealthReport(service: "gateway", status: "ok", summary: "serving HTTP",
                                                  uptimeSeconds: Date().timeIntervalSince(started)).withProcessDetails(),
                             error: nil),
        ]
        await withTaskGroup(of: (String, SystemHealth.ServiceHealth).self) { group in
            for client in daemons.all {
                group.addTask {
                    do {
                        let report: HealthReport = try await client.call(Methods.health, EmptyBody(), timeout: .seconds(1))
                        return (client.peerService, .init(status: report.status, connection: client.state.summary, report: report, error: nil))
                    } catch {
                        return (client.peerService, .init(status: "unreachable", connection: client.state.summary, report: nil, error: "\(error)"))
                    }
                }
            }
            for await (name, health) in group { services[name] = health }
        }
        let allOK = services.values.allSatisfy { $0.status == "ok" }
        return SystemHealth(status: allOK ? "ok" : "degraded", services: services)
    }
}
