import Foundation
import Hummingbird
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// The trader's standing: routerd's positions and account, mindsetd's state, and the self-lockout. Every tier
/// reads; a self-lockout needs a tier that may write.
enum AccountRoutes {
    /// `POST /api/mindset/lockout`.
    struct LockoutBody: Codable {
        /// ISO 8601 with a zone.
        var until: String
        var reason: String

        static let fields: Set<String> = ["until", "reason"]
    }

    /// `mindset.selfLockout`'s request (mindsetd's `SelfLockoutRequest`).
    struct SelfLockoutRequest: Codable, Sendable {
        var until: Date
        var reason: String
    }

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let daemons = environment.daemons

        // The same answer for every caller: requests together share one call (`CoalescedRead`).
        let positions = environment.sharedRead {
            let positions: PositionsResponse = try await DaemonCall.ask("routerd") { try await daemons.router.call(Methods.routerPositions, EmptyBody()) }
            return try JSONResponse.body(positions)
        }
        router.get("/api/positions") { _, _ in JSONResponse.make(body: try await positions.value()) }
        table.note("/api/positions", .get)

        let account = environment.sharedRead {
            let account: AccountSummary = try await DaemonCall.ask("routerd") { try await daemons.router.call(Methods.routerAccount, EmptyBody()) }
            return try JSONResponse.body(account)
        }
        router.get("/api/account") { _, _ in JSONResponse.make(body: try await account.value()) }
        table.note("/api/account", .get)

        router.get("/api/account/equity") { request, _ in
            let parameters = request.uri.queryParameters
            if let unknown = parameters.first(where: { $0.key != "range" }) {
                throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: range")
            }
            let text = parameters["range"].map(String.init) ?? "day"
            guard let range = EquityHistoryQuery.Range(rawValue: text) else {
                throw APIError.badRequest("range must be day or month, got '\(LogExcerpt.of(text, limit: 20))'")
            }
            let history: EquityHistoryResponse = try await DaemonCall.ask("routerd") {
                try await daemons.router.call(Methods.routerEquityHistory, EquityHistoryQuery(range: range))
            }
            return try JSONResponse.make(history)
        }
        table.note("/api/account/equity", .get)

        let mindset = environment.sharedRead {
            let snapshot: JSONValue = try await DaemonCall.ask("mindsetd") { try await daemons.mindset.call(Methods.mindsetState, EmptyBody()) }
            return try JSONResponse.body(MindsetView.api(snapshot))
        }
        router.get("/api/mindset") { _, _ in JSONResponse.make(body: try await mindset.value()) }
        table.note("/api/mindset", .get)

        router.post("/api/mindset/lockout") { request, context in
            let identity = try context.requireIdentity()
            guard let body = try await JSONBody.decode(LockoutBody.self, from: request, context: context, fields: LockoutBody.fields) else {
                throw APIError(.badRequest, "bad_json", "a JSON object body is required")
            }
            let until = try OrderQueryParameters.date(Substring(body.until), name: "until")
            let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...200).contains(reason.count) else { throw APIError.unprocessable("reason must be 1–200 characters") }
            let snapshot: JSONValue = try await DaemonCall.ask("mindsetd") {
                try await daemons.mindset.call(Methods.mindsetSelfLockout, SelfLockoutRequest(until: until, reason: reason))
            }
            context.logger.notice("self-lockout set", metadata: ["until": "\(body.until)", "by": "\(identity.token.prefix)"])
            return try JSONResponse.make(MindsetView.api(snapshot))
        }
        table.note("/api/mindset/lockout", .post)
    }
}

/// mindsetd's `MindsetSnapshot` as the API shows it: the same fields, its times in ISO 8601 like every API time
/// (the socket carries them as Unix seconds). Money stays the decimal strings mindsetd sent.
enum MindsetView {
    static let topLevelTimes: Set<String> = ["dayStart", "cooldownUntil", "revengeWindowUntil", "selfLockoutUntil"]
    /// Arrays whose objects carry `at`.
    static let timedLists: Set<String> = ["recentTransitions", "flattenOrders"]

    static func api(_ snapshot: JSONValue) throws -> JSONValue {
        guard case .object(var fields) = snapshot else {
            throw APIError(.internalServerError, "internal", "mindsetd's state is not a JSON object")
        }
        for key in topLevelTimes {
            if let value = fields[key] { fields[key] = iso(value) }
        }
        for key in timedLists {
            guard case .array(let items)? = fields[key] else { continue }
            fields[key] = .array(items.map { item in
                guard case .object(var entry) = item, let at = entry["at"] else { return item }
                entry["at"] = iso(at)
                return .object(entry)
            })
        }
        return .object(fields)
    }

    /// One of mindsetd's transitions (`mindset_state` events: from, to, reason, at), its time in ISO 8601.
    static func transition(_ transition: JSONValue) throws -> JSONValue {
        guard case .object(var fields) = transition else {
            throw APIError(.internalServerError, "internal", "mindsetd's transition is not a JSON object")
        }
        if let at = fields["at"] { fields["at"] = iso(at) }
        return .object(fields)
    }

    static func iso(_ value: JSONValue) -> JSONValue {
        guard case .number(let seconds) = value else { return value }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .string(formatter.string(from: Date(timeIntervalSince1970: seconds)))
    }
}
