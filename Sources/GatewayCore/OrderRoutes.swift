import Foundation
import Hummingbird
import HummingbirdCore
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `/api/orders`: routerd's orders (list, one), the trader's manual orders through arsenald (place, with
/// `Idempotency-Key`), and cancels through routerd. Reading is open to every tier; placing and cancelling need a
/// tier that may write (`ReadOnlyTierMiddleware`).
enum OrderRoutes {
    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let daemons = environment.daemons
        router.get("/api/orders") { request, _ in
            let query = try OrderQueryParameters.query(from: request.uri.queryParameters)
            do {
                let page: OrdersResponse = try await daemons.router.call(Methods.routerOrders, query)
                return try JSONResponse.make(OrderPage(orders: page.orders, nextCursor: page.nextCursor.map(OrderQueryParameters.encodeCursor)))
            } catch {
                throw APIError.from(error, daemon: "routerd")
            }
        }
        table.note("/api/orders", .get)

        router.get("/api/orders/:clientOrderId") { _, context in
            let id = try checkedClientOrderId(try context.parameters.require("clientOrderId"))
            let page: OrdersResponse
            do {
                page = try await daemons.router.call(Methods.routerOrders, OrdersQuery(clientOrderId: id, limit: 1))
            } catch {
                throw APIError.from(error, daemon: "routerd")
            }
            guard let order = page.orders.first else { throw APIError(.notFound, "not_found", "no order \(id)") }
            return try JSONResponse.make(order)
        }
        table.note("/api/orders/{clientOrderId}", .get)

        router.delete("/api/orders/:clientOrderId") { _, context in
            let identity = try context.requireIdentity()
            let id = try checkedClientOrderId(try context.parameters.require("clientOrderId"))
            try await checkMayCancel(id, identity: identity, environment: environment)
            do {
                let order: OrderRecord = try await daemons.router.call(Methods.routerCancelOrder, CancelOrderRequest(clientOrderId: id))
                context.logger.notice("order cancel asked", metadata: ["client_order_id": "\(id)", "status": "\(order.status.rawValue)",
                                                                      "by": "\(identity.token.prefix)"])
                return try JSONResponse.make(order)
            } catch {
                throw APIError.from(error, daemon: "routerd")
            }
        }
        table.note("/api/orders/{clientOrderId}", .delete)

        router.post("/api/orders") { request, context in
            try await PlaceOrder.handle(request, context: context, environment: environment)
        }
        table.note("/api/orders", .post)
    }

    /// An admin may cancel any order; any other token only the manual orders its owner placed through
    /// `POST /api/orders`. A strategy's order, another owner's, or one the gateway has no owner for is 403, the same
    /// answer whether or not it exists (the refusal says nothing about other owners' orders).
    static func checkMayCancel(_ id: String, identity: Identity, environment: GatewayEnvironment) async throws {
        guard identity.role != .admin else { return }
        let owner: String?
        do {
            owner = try await environment.orderOwners.owner(of: id)
        } catch {
            throw APIError(.serviceUnavailable, "storage_unavailable", "the gateway cannot tell who placed \(id) now; nothing was cancelled")
        }
        guard owner == identity.owner else {
            throw APIError.forbidden("order_not_yours",
                                     "\(id) is not one of your manual orders (placed with POST /api/orders by a token of \(identity.owner)); "
                                     + "cancelling it needs an admin token")
        }
    }

    struct OrderPage: Encodable {
        var orders: [OrderRecord]
        var nextCursor: String?
    }

    /// A client order id as routerd stores them: 1–36 of letters, digits and `_ - . :`.
    static func checkedClientOrderId(_ id: String) throws -> String {
        guard (1...36).contains(id.utf8.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.:".contains($0)) }) else {
            throw APIError.badRequest("clientOrderId must be 1–36 letters, digits and _ - . :")
        }
        return id
    }
}

/// The query of `GET /api/orders`.
enum OrderQueryParameters {
    static let known: [Substring] = ["symbol", "status", "strategy", "from", "to", "cursor", "limit"]

    static func query(from parameters: FlatDictionary<Substring, Substring>) throws -> OrdersQuery {
        if let unknown = parameters.first(where: { !known.contains($0.key) }) {
            throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: \(known.joined(separator: ", "))")
        }
        var query = try GatewayRoutes.ordersQuery(from: FlatDictionary(parameters.filter { ["symbol", "status", "strategy", "limit"].contains($0.key) }))
        if let from = parameters["from"] { query.createdFrom = try date(from, name: "from") }
        if let to = parameters["to"] { query.createdBefore = try date(to, name: "to") }
        if let from = query.createdFrom, let to = query.createdBefore, from >= to {
            throw APIError.badRequest("from must be before to")
        }
        if let cursor = parameters["cursor"] { query.after = try decodeCursor(String(cursor)) }
        return query
    }

    /// An ISO 8601 time with a zone (`2030-03-17T17:46:40Z`, fractions of a second allowed).
    static func date(_ text: Substring, name: String) throws -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: String(text)) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: String(text)) { return date }
        throw APIError.badRequest("\(name) must be an ISO 8601 time with a zone, such as 2030-03-17T17:46:40Z; got '\(LogExcerpt.of(String(text), limit: 40))'")
    }

    /// The API's cursor is routerd's, base64url-encoded: opaque to clients, checked again by routerd.
    static func encodeCursor(_ cursor: String) -> String { Crypto.base64URL(Array(cursor.utf8)) }

    static func decodeCursor(_ text: String) throws -> String {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard text.utf8.count <= 200, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
              let data = Data(base64Encoded: base64), let cursor = String(data: data, encoding: .utf8), !cursor.isEmpty else {
            throw APIError.badRequest("cursor is not a cursor this API gave out (use nextCursor as it came)")
        }
        return cursor
    }
}
