import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// Every route the gateway serves under /api × every kind of caller → the expected status, through the whole
/// middleware (`app.test(.router)`), one fresh database per cell so no call depends on another.
@Suite("Route × caller matrix")
struct RouteMatrixTests {
    enum Caller: String, CaseIterable, CustomTestStringConvertible {
        case none, malformed, badChecksum, unknown, expired, revoked, free, pro, enterprise, admin
        var testDescription: String { rawValue }

        /// The 401 code for a caller whose token is refused; nil for a valid one.
        var refusal: String? {
            switch self {
            case .none: "token_missing"
            case .malformed: "token_malformed"
            case .badChecksum: "token_checksum_mismatch"
            case .unknown: "token_unknown"
            case .expired: "token_expired"
            case .revoked: "token_revoked"
            case .free, .pro, .enterprise, .admin: nil
            }
        }
    }

    struct Route: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        /// `{victim}` is replaced by a user token's id, so admin operations have a target.
        var path: String
        var json: String?
        var headers: HTTPFields
        /// The status for each valid caller.
        var user: HTTPResponse.Status
        var admin: HTTPResponse.Status
        /// The Free tier's status where it differs from the other users' (a write: 403 `tier_read_only`).
        var free: HTTPResponse.Status?
        /// The code of a user's 403 when it is not the role's or the tier's.
        var userForbidden: String?
        /// The Enterprise tier's status where it differs from the other users'.
        var enterprise: HTTPResponse.Status?
        /// The code of a 503 when it is not `daemon_unavailable`.
        var unavailable: String?
        var testDescription: String { "\(method.rawValue) \(path)" }

        init(method: HTTPRequest.Method, path: String, json: String? = nil, headers: HTTPFields = [:], user: HTTPResponse.Status,
             admin: HTTPResponse.Status, free: HTTPResponse.Status? = nil, userForbidden: String? = nil,
             enterprise: HTTPResponse.Status? = nil, unavailable: String? = nil) {
            self.method = method
            self.path = path
            self.json = json
            self.headers = headers
            self.user = user
            self.admin = admin
            self.free = free
            self.userForbidden = userForbidden
            self.enterprise = enterprise
            self.unavailable = unavailable
        }
    }

    static let routes: [Route] = [
        Route(method: .get, path: "/api/subscription/me", user: .ok, admin: .ok),
        Route(method: .get, path: "/api/subscription/usage", user: .ok, admin: .ok),
        Route(method: .post, path: "/api/subscription/rotate", json: #"{"graceSeconds":60}"#, user: .created, admin: .created),
        Route(method: .delete, path: "/api/subscription/token", user: .ok, admin: .ok),
        Route(method: .post, path: "/api/admin/tokens", json: #"{"owner":"newbie","tier":"pro","role":"user","expiresInDays":30}"#,
              user: .forbidden, admin: .created),
        Route(method: .get, path: "/api/admin/tokens", user: .forbidden, admin: .ok),
        Route(method: .get, path: "/api/admin/usage?days=7", user: .forbidden, admin: .ok),
        Route(method: .delete, path: "/api/admin/tokens/{victim}", user: .forbidden, admin: .ok),
        Route(method: .post, path: "/api/admin/tokens/{victim}/rotate", user: .forbidden, admin: .created),
        Route(method: .put, path: "/api/admin/subscriptions/newbie", json: #"{"tier":"pro","status":"active","overrides":{"perMinute":120}}"#,
              user: .forbidden, admin: .created),
        // No daemon is running: every valid token gets through the middleware to the daemon's 503, except where the
        // tier (Free is read-only) or the role (admin routes) refuses first.
        Route(method: .get, path: "/api/orders", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/orders?status=filled&from=2030-03-17T00:00:00Z&limit=10", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/orders/bb-abc-1", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .post, path: "/api/orders", json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#,
              headers: [PlaceOrder.keyHeader: "matrix-1"], user: .serviceUnavailable, admin: .serviceUnavailable, free: .forbidden),
        // Not a manual order of the caller's owner: only an admin may cancel it.
        Route(method: .delete, path: "/api/orders/bb-abc-1", user: .forbidden, admin: .serviceUnavailable, free: .forbidden,
              userForbidden: "order_not_yours"),
        Route(method: .get, path: "/api/fills?symbol=BTCUSDT&limit=10", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/positions", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/account", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/account/equity", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/mindset", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/signals", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/signals?outcome=blocked&since=2030-03-17T00:00:00Z&limit=10", user: .serviceUnavailable,
              admin: .serviceUnavailable),
        // Enterprise and admin only; the harness runs no event feed, so those two get its 503 (EventStreamTests stream).
        Route(method: .get, path: "/api/events", user: .forbidden, admin: .serviceUnavailable, free: .forbidden, userForbidden: "tier_forbidden",
              enterprise: .serviceUnavailable, unavailable: "events_unavailable"),
        Route(method: .post, path: "/api/mindset/lockout", json: #"{"until":"2030-03-18T00:00:00Z","reason":"sleep"}"#,
              user: .serviceUnavailable, admin: .serviceUnavailable, free: .forbidden),
        Route(method: .get, path: "/api/strategy", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .get, path: "/api/strategy/mean_reversion", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .post, path: "/api/strategy/mean_reversion/enable", user: .serviceUnavailable, admin: .serviceUnavailable, free: .forbidden),
        Route(method: .post, path: "/api/strategy/mean_reversion/disable", user: .serviceUnavailable, admin: .serviceUnavailable, free: .forbidden),
        Route(method: .put, path: "/api/strategy/mean_reversion/parameters", json: #"{"entry_z":2.5}"#,
              user: .serviceUnavailable, admin: .serviceUnavailable, free: .forbidden),
        Route(method: .get, path: "/api/strategy/mean_reversion/performance", user: .serviceUnavailable, admin: .serviceUnavailable),
        Route(method: .post, path: "/api/admin/pause", json: #"{"reason":"maintenance"}"#, user: .forbidden, admin: .serviceUnavailable),
        Route(method: .post, path: "/api/admin/resume", user: .forbidden, admin: .serviceUnavailable),
        // The status route reports each daemon down; it answers itself.
        Route(method: .get, path: "/api/admin/status", user: .forbidden, admin: .ok),
        // Logs answer themselves too: the daemons' are listed as unavailable.
        Route(method: .get, path: "/api/logs?level=warning&limit=10", user: .forbidden, admin: .ok),
        Route(method: .post, path: "/api/admin/mindset/lock", json: #"{"reason":"stepping away"}"#, user: .forbidden, admin: .serviceUnavailable),
        Route(method: .post, path: "/api/admin/mindset/unlock", user: .forbidden, admin: .serviceUnavailable),
    ]

    /// Whether the concrete `path` (its query left off) is an instance of `pattern` (`{name}` matches one segment).
    static func path(_ path: String, matches pattern: String) -> Bool {
        let concrete = path.split(separator: "?", maxSplits: 1)[0].split(separator: "/", omittingEmptySubsequences: false)
        let template = pattern.split(separator: "/", omittingEmptySubsequences: false)
        return concrete.count == template.count && zip(concrete, template).allSatisfy { piece, part in
            (part.hasPrefix("{") && part.hasSuffix("}") && !piece.isEmpty) || piece == part
        }
    }

    @Test("the matrix has a row for every /api operation the gateway serves")
    func everyRouteInTheMatrix() {
        // OpenAPITests holds the document's operations to the router's, so these are the routes served.
        let served = OpenAPIDocument.routes.filter { $0.path.hasPrefix("/api/") }
        #expect(served.count >= 30, "the document lists the API's operations: \(served.count)")
        for operation in served {
            let rows = Self.routes.filter { $0.method.rawValue == operation.method.rawValue && Self.path($0.path, matches: operation.path) }
            #expect(!rows.isEmpty, "no matrix row for \(operation.method.rawValue) \(operation.path)")
        }
        #expect(Self.path("/api/orders/bb-1?x=1", matches: "/api/orders/{clientOrderId}"))
        #expect(!Self.path("/api/orders", matches: "/api/orders/{clientOrderId}"))
        #expect(!Self.path("/api/orders/bb-1/x", matches: "/api/orders/{clientOrderId}"))
    }

    /// The Authorization value for `caller` in `h` (a second admin exists, so the admin may revoke its own token).
    static func authorization(_ caller: Caller, in h: APIHarness) async throws -> String? {
        switch caller {
        case .none: return nil
        case .malformed: return "Bearer bgb_not-a-token"
        case .badChecksum:
            let token = try await h.token(owner: "typo", tier: .pro)
            return "Bearer " + String(token.dropLast()) + (token.last == "x" ? "y" : "x")
        case .unknown: return "Bearer " + (try APITokenFormat.generate())
        case .expired:
            let token = try await h.token(owner: "late", tier: .pro, expiresInDays: 1)
            h.clock.advance(86_400)
            return "Bearer " + token
        case .revoked:
            let token = try await h.token(owner: "gone", tier: .pro)
            _ = try await h.tokens.revoke(id: try await h.tokenId(token), now: h.clock.now())
            return "Bearer " + token
        case .free: return "Bearer " + (try await h.token(owner: "fay", tier: .free))
        case .pro: return "Bearer " + (try await h.token(owner: "pat", tier: .pro))
        case .enterprise: return "Bearer " + (try await h.token(owner: "ezra", tier: .enterprise))
        case .admin:
            _ = try await h.token(owner: "spare-admin", tier: .enterprise, role: .admin)
            return "Bearer " + (try await h.token(owner: "root", tier: .enterprise, role: .admin))
        }
    }

    @Test("each route answers each caller as expected", arguments: routes, Caller.allCases)
    func matrix(route: Route, caller: Caller) async throws {
        let h = try APIHarness()
        let victim = try await h.tokenId(try await h.token(owner: "victim", tier: .pro))
        let authorization = try await Self.authorization(caller, in: h)
        let path = route.path.replacingOccurrences(of: "{victim}", with: victim)
        let response = try await h.app.test(.router) { client async throws in
            try await client.call(route.method, path, authorization: authorization, json: route.json, headers: route.headers)
        }
        let body = String(buffer: response.body)
        if let refusal = caller.refusal {
            #expect(response.status == .unauthorized, "\(body)")
            #expect(response.errorCode == refusal, "\(body)")
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"bagbot\"") == true)
            #expect(response["X-RateLimit-Limit"] == nil, "a refused token gets no rate-limit fields")
        } else {
            let expected = caller == .admin ? route.admin : caller == .free ? (route.free ?? route.user)
                : caller == .enterprise ? (route.enterprise ?? route.user) : route.user
            #expect(response.status == expected, "\(body)")
            if response.status == .forbidden {
                let expectedCode = route.path.hasPrefix("/api/admin/") || route.path.hasPrefix("/api/logs") ? "admin_required"
                    : route.path == "/api/events" ? "tier_forbidden"
                    : caller == .free ? "tier_read_only" : route.userForbidden ?? "tier_read_only"
                #expect(response.errorCode == expectedCode, "\(body)")
            }
            if response.status == .serviceUnavailable { #expect(response.errorCode == (route.unavailable ?? "daemon_unavailable"), "\(body)") }
            if response.status.code >= 400 { #expect(response.errorCode != nil, "an error body: \(body)") }
            // Every authenticated response carries the rate-limit fields, errors included.
            #expect(response["X-RateLimit-Limit"] != nil)
            #expect(response["X-RateLimit-Remaining"] != nil)
            #expect(response["X-RateLimit-Reset"] != nil)
            #expect(response["RateLimit-Policy"] != nil)
            #expect(response["RateLimit"] != nil)
        }
    }
}
