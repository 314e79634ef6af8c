import Foundation
import Hummingbird

/// A token as the API shows it: its public facts and its state now; never the secret.
struct TokenView: Codable, Equatable {
    var id: String
    var prefix: String
    var owner: String
    var role: TokenRole
    var tier: String
    var state: String
    var createdAt: Date
    var expiresAt: Date?
    var revokedAt: Date?
    /// Written in batches with the usage log, so up to `gateway.usage.flush_interval_ms` behind.
    var lastUsedAt: Date?
    var rotatedTo: String?

    init(_ token: APIToken, now: Date) {
        id = token.id
        prefix = token.prefix
        owner = token.owner
        role = token.role
        tier = token.tier
        state = token.state(at: now).rawValue
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
        lastUsedAt = token.lastUsedAt
        rotatedTo = token.rotatedTo
    }
}

/// A new token: the secret, shown this once, and its public facts.
struct IssuedToken: Codable {
    var token: String
    var details: TokenView
}

/// `POST …/rotate`'s answer: the new token and until when the old one still works.
struct RotatedToken: Codable {
    var token: String
    var details: TokenView
    var previous: TokenView
}

/// `{"graceSeconds": n}`, optional: how long the old token keeps working after a rotation (0 … 7 days; default 0).
struct RotateRequest: Codable {
    var graceSeconds: Int?

    static let fields: Set<String> = ["graceSeconds"]

    static func graceSeconds(from request: Request, context: GatewayContext) async throws -> Int {
        let body = try await JSONBody.decode(RotateRequest.self, from: request, context: context, fields: fields, emptyIsAllowed: true)
        let grace = body?.graceSeconds ?? 0
        guard (0...TokenStore.maximumGraceSeconds).contains(grace) else {
            throw APIError.unprocessable("graceSeconds must be 0…\(TokenStore.maximumGraceSeconds) (7 days), got \(grace)")
        }
        return grace
    }
}

/// `/api/subscription`: what a subscriber may see and do with their own token, on any tier.
enum SubscriptionRoutes {
    struct UsageReport: Codable {
        var owner: String
        var days: [UsageQueries.DayUsage]
    }

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let answers = MeAnswers()
        router.get("/api/subscription/me") { _, context in
            let identity = try context.requireIdentity()
            guard let decision = context.rateDecision else { throw APIError(.internalServerError, "internal", "route reached without a rate decision") }
            let now = environment.clock()
            let account = MeAnswers.Account(
                owner: identity.owner, role: identity.role, tier: identity.tier, status: identity.subscription?.status ?? .active,
                limits: identity.limits, overrides: identity.subscription?.overrides, token: TokenView(identity.token, now: now))
            let usage = MeAnswers.Usage(today: decision.usedToday, remainingToday: decision.day?.remaining,
                                        remainingThisMinute: decision.minute.remaining,
                                        dayResetsAt: RateLimiter.startOfUTCDay(now).addingTimeInterval(86_400))
            return JSONResponse.make(body: try answers.body(account: account, usage: usage))
        }
        table.note("/api/subscription/me", .get)

        router.get("/api/subscription/usage") { request, context in
            let identity = try context.requireIdentity()
            let days = try UsageQueries.days(request.uri.queryParameters)
            let report = try await UsageQueries.byDayAndRoute(database: environment.tokens.database, owner: identity.owner, days: days, now: environment.clock())
            return try JSONResponse.make(UsageReport(owner: identity.owner, days: report))
        }
        table.note("/api/subscription/usage", .get)

        router.post("/api/subscription/rotate") { request, context in
            let identity = try context.requireIdentity()
            let grace = try await RotateRequest.graceSeconds(from: request, context: context)
            let now = environment.clock()
            let rotated = try await environment.tokens.rotate(id: identity.token.id, graceSeconds: grace, now: now)
            context.logger.notice("token rotated by its owner", metadata: [
                "owner": "\(identity.owner)", "old": "\(rotated.old.prefix)", "new": "\(rotated.token.prefix)", "grace_seconds": "\(grace)",
            ])
            return try JSONResponse.make(RotatedToken(token: rotated.secret, details: TokenView(rotated.token, now: now),
                                                      previous: TokenView(rotated.old, now: now)), status: .created)
        }
        table.note("/api/subscription/rotate", .post)

        router.delete("/api/subscription/token") { _, context in
            let identity = try context.requireIdentity()
            let now = environment.clock()
            let revoked = try await environment.tokens.revoke(id: identity.token.id, now: now)
            context.logger.notice("token revoked by its owner", metadata: ["owner": "\(identity.owner)", "token": "\(revoked.prefix)"])
            return try JSONResponse.make(TokenView(revoked, now: now))
        }
        table.note("/api/subscription/token", .delete)
    }
}
