import Foundation
import Hummingbird
import BagbotIPC

/// `/api/admin`: token and subscription management, for admin tokens only.
enum AdminRoutes {
    /// `POST /api/admin/tokens`.
    struct CreateToken: Codable {
        var owner: String
        /// free, pro or enterprise; for an owner without a subscription (default free). An owner who has one keeps
        /// its tier: leave this out or give the same.
        var tier: String?
        /// user (default) or admin.
        var role: String?
        /// 1…3650; none: the token does not expire.
        var expiresInDays: Int?

        static let fields: Set<String> = ["owner", "tier", "role", "expiresInDays"]
    }

    /// `GET /api/admin/usage`: every subscriber's calls over the last `days` UTC days.
    struct OwnersUsage: Codable, Sendable {
        var days: Int
        var owners: [UsageQueries.OwnerUsage]
    }

    /// `PUT /api/admin/subscriptions/{owner}`.
    struct PutSubscription: Codable {
        var tier: String
        /// active (default) or suspended: a suspended subscriber's tokens are refused with 403 (admins excepted).
        var status: String?
        /// Each one replaces its tier's limit; null or absent keeps the tier's. The whole object replaces the stored
        /// overrides: leave it out to clear them.
        var overrides: LimitOverrides?

        static let fields: Set<String> = ["tier", "status", "overrides"]
    }

    struct SubscriptionView: Codable {
        var subscription: Subscription
        /// The tier's limits with the overrides applied: what the rate limiter uses.
        var limits: TierLimits
    }

    struct TokenList: Codable {
        var tokens: [TokenView]
    }

    /// Owners are names an admin chooses: 1–64 letters, digits and . _ @ -.
    static func checkedOwner(_ owner: String) throws -> String {
        guard (1...64).contains(owner.utf8.count),
              owner.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._@-".contains($0)) })
        else { throw APIError.unprocessable("owner must be 1–64 letters, digits and . _ @ -, got '\(LogExcerpt.of(owner, limit: 40))'") }
        return owner
    }

    static func tier(_ text: String) throws -> Tier {
        guard let tier = Tier(rawValue: text) else { throw APIError.unprocessable("tier must be one of \(Tier.names), got '\(LogExcerpt.of(text, limit: 40))'") }
        return tier
    }

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let admin = router.group("/api/admin").add(middleware: RequireAdminMiddleware())

        admin.post("tokens") { request, context in
            let identity = try context.requireIdentity()
            guard let body = try await JSONBody.decode(CreateToken.self, from: request, context: context, fields: CreateToken.fields) else {
                throw APIError(.badRequest, "bad_json", "a JSON object body is required")
            }
            let owner = try checkedOwner(body.owner)
            let tier = try body.tier.map(Self.tier)
            let roleText = body.role ?? TokenRole.user.rawValue
            guard let role = TokenRole(rawValue: roleText) else {
                throw APIError.unprocessable("role must be user or admin, got '\(LogExcerpt.of(roleText, limit: 40))'")
            }
            let now = environment.clock()
            var expiresAt: Date?
            if let days = body.expiresInDays {
                guard (1...3_650).contains(days) else { throw APIError.unprocessable("expiresInDays must be 1…3650, got \(days)") }
                expiresAt = now.addingTimeInterval(Double(days) * 86_400)
            }
            let created = try await environment.tokens.create(owner: owner, role: role, tier: tier, expiresAt: expiresAt, now: now)
            context.logger.notice("token created", metadata: [
                "owner": "\(owner)", "role": "\(role.rawValue)", "token": "\(created.token.prefix)",
                "by": "\(identity.token.prefix)",
            ])
            return try JSONResponse.make(IssuedToken(token: created.secret, details: TokenView(created.token, now: now)), status: .created)
        }
        table.note("/api/admin/tokens", .post)

        admin.get("tokens") { request, _ in
            let parameters = request.uri.queryParameters
            if let unknown = parameters.first(where: { $0.key != "owner" }) {
                throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: owner")
            }
            let owner = try parameters["owner"].map { try checkedOwner(String($0)) }
            let now = environment.clock()
            let tokens = try await environment.tokens.list(owner: owner)
            return try JSONResponse.make(TokenList(tokens: tokens.map { TokenView($0, now: now) }))
        }
        table.note("/api/admin/tokens", .get)

        admin.get("usage") { request, _ in
            let days = try UsageQueries.days(request.uri.queryParameters)
            let owners = try await UsageQueries.byOwner(database: environment.tokens.database, days: days, now: environment.clock())
            return try JSONResponse.make(OwnersUsage(days: days, owners: owners))
        }
        table.note("/api/admin/usage", .get)

        admin.delete("tokens/:id") { _, context in
            let identity = try context.requireIdentity()
            let id = try context.parameters.require("id")
            let now = environment.clock()
            let revoked = try await environment.tokens.revoke(id: id, now: now)
            context.logger.notice("token revoked", metadata: ["token": "\(revoked.prefix)", "owner": "\(revoked.owner)",
                                                              "by": "\(identity.token.prefix)"])
            return try JSONResponse.make(TokenView(revoked, now: now))
        }
        table.note("/api/admin/tokens/{id}", .delete)

        admin.post("tokens/:id/rotate") { request, context in
            let identity = try context.requireIdentity()
            let id = try context.parameters.require("id")
            let grace = try await RotateRequest.graceSeconds(from: request, context: context)
            let now = environment.clock()
            let rotated = try await environment.tokens.rotate(id: id, graceSeconds: grace, now: now)
            context.logger.notice("token rotated", metadata: ["old": "\(rotated.old.prefix)", "new": "\(rotated.token.prefix)",
                                                              "grace_seconds": "\(grace)", "by": "\(identity.token.prefix)"])
            return try JSONResponse.make(RotatedToken(token: rotated.secret, details: TokenView(rotated.token, now: now),
                                                      previous: TokenView(rotated.old, now: now)), status: .created)
        }
        table.note("/api/admin/tokens/{id}/rotate", .post)

        admin.put("subscriptions/:owner") { request, context in
            let identity = try context.requireIdentity()
            let owner = try checkedOwner(try context.parameters.require("owner"))
            guard let body = try await JSONBody.decode(PutSubscription.self, from: request, context: context, fields: PutSubscription.fields,
                                                       nested: ["overrides": ["perMinute", "perDay", "readOnly"]]) else {
                throw APIError(.badRequest, "bad_json", "a JSON object body is required")
            }
            let tier = try Self.tier(body.tier)
            let statusText = body.status ?? SubscriptionStatus.active.rawValue
            guard let status = SubscriptionStatus(rawValue: statusText) else {
                throw APIError.unprocessable("status must be active or suspended, got '\(LogExcerpt.of(statusText, limit: 40))'")
            }
            if let problem = body.overrides?.problem { throw APIError.unprocessable(problem) }
            let overrides = body.overrides.flatMap { $0.isEmpty ? nil : $0 }
            let subscription = Subscription(owner: owner, tier: tier, status: status, overrides: overrides)
            let created = try await environment.tokens.putSubscription(subscription, now: environment.clock())
            context.logger.notice("subscription set", metadata: ["owner": "\(owner)", "tier": "\(tier.rawValue)", "status": "\(status.rawValue)",
                                                                 "by": "\(identity.token.prefix)"])
            let view = SubscriptionView(subscription: subscription, limits: environment.settings.tiers[tier].applying(overrides))
            return try JSONResponse.make(view, status: created ? .created : .ok)
        }
        table.note("/api/admin/subscriptions/{owner}", .put)
    }
}
