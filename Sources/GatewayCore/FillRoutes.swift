import Foundation
import Hummingbird
import HummingbirdCore
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `GET /api/fills`: routerd's recorded executions, newest first, paged by sequence (every tier reads).
enum FillRoutes {
    static let known: [Substring] = ["symbol", "strategy", "order", "before", "limit"]

    struct FillPage: Encodable {
        var fills: [Fill]
        /// Present when more fills match: pass it back as `before`.
        var nextBefore: Int64?
    }

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let daemons = environment.daemons
        router.get("/api/fills") { request, _ in
            let query = try query(from: request.uri.queryParameters)
            let page: FillHistoryPage = try await DaemonCall.ask("routerd") { try await daemons.router.call(Methods.routerFillHistory, query) }
            return try JSONResponse.make(FillPage(fills: page.fills, nextBefore: page.nextBefore))
        }
        table.note("/api/fills", .get)
    }

    static func query(from parameters: FlatDictionary<Substring, Substring>) throws -> FillHistoryQuery {
        if let unknown = parameters.first(where: { !known.contains($0.key) }) {
            throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: \(known.joined(separator: ", "))")
        }
        // Symbol, strategy and limit follow the orders' rules.
        let common = try GatewayRoutes.ordersQuery(from: FlatDictionary(parameters.filter { ["symbol", "strategy", "limit"].contains($0.key) }))
        var query = FillHistoryQuery(symbol: common.symbol, strategyId: common.strategyId, limit: common.limit)
        if let order = parameters["order"] { query.clientOrderId = try OrderRoutes.checkedClientOrderId(String(order)) }
        if let before = parameters["before"] {
            guard let value = Int64(before), value >= 1 else { throw APIError.badRequest("before must be a whole number, 1 or more (a nextBefore)") }
            query.beforeSequence = value
        }
        return query
    }
}
