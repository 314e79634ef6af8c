import Foundation
import Hummingbird
import HummingbirdCore
import BagbotDomain
import BagbotIPC

/// `GET /api/signals`: arsenald's recent signals and what came of each (approved, blocked with the mindset's reasons,
/// below the minimum, not sent, placed), newest first. DESIGN §6 sells signals to every tier ("subscribers pay by tier
/// for access to signals"), and no tier is kept from reading them: every tier reads.
enum SignalRoutes {
    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let arsenal = environment.daemons.arsenal
        router.get("/api/signals") { request, _ in
            let query = try SignalQueryParameters.query(from: request.uri.queryParameters)
            do {
                let page: SignalsResponse = try await arsenal.call(Methods.arsenalSignals, query)
                return try JSONResponse.make(SignalPage(signals: page.signals, nextCursor: page.nextCursor.map(OrderQueryParameters.encodeCursor),
                                                        capacity: page.capacity))
            } catch {
                throw APIError.from(error, daemon: "arsenald")
            }
        }
        table.note("/api/signals", .get)
    }

    struct SignalPage: Encodable {
        var signals: [SignalRecord]
        var nextCursor: String?
        var capacity: Int
    }
}

/// The query of `GET /api/signals`, in the style of `GET /api/orders`'s.
enum SignalQueryParameters {
    static let known: [Substring] = ["strategy", "symbol", "outcome", "since", "cursor", "limit"]

    static func query(from parameters: FlatDictionary<Substring, Substring>) throws -> SignalsQuery {
        if let unknown = parameters.first(where: { !known.contains($0.key) }) {
            throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: \(known.joined(separator: ", "))")
        }
        // strategy, symbol and limit are checked as `GET /api/orders` checks them.
        let shared = try GatewayRoutes.ordersQuery(from: FlatDictionary(parameters.filter { ["symbol", "strategy", "limit"].contains($0.key) }))
        var query = SignalsQuery(strategyId: shared.strategyId, symbol: shared.symbol, limit: shared.limit)
        if let outcome = parameters["outcome"] {
            guard let parsed = SignalOutcome(rawValue: String(outcome)) else {
                throw APIError.badRequest("outcome must be one of \(SignalOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.outcome = parsed
        }
        if let since = parameters["since"] { query.since = try OrderQueryParameters.date(since, name: "since") }
        if let cursor = parameters["cursor"] { query.after = try OrderQueryParameters.decodeCursor(String(cursor)) }
        return query
    }
}
