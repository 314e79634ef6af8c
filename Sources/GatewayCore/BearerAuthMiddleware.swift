import Foundation
import Hummingbird

/// Steps 1, 2 and 5 of the subscription middleware on every request but the public paths (`/healthz`, `/openapi.json`, and `/metrics` as configured): the bearer token (missing or malformed:
/// 401), its validation (bad checksum, unknown, expired, revoked: 401, each with its own code), then the owner's
/// subscription (suspended: 403) and the tier's limits, attached to the context as the caller's `Identity`.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let environment: GatewayEnvironment

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard !environment.isPublic(request.uri.path) else { return try await next(request, context) }
        let started = ContinuousClock.now
        var context = context
        do {
            context.identity = try await authenticate(request, context: context)
        } catch {
            APIMetricsMiddleware.record(request, context, tier: "none", status: APIMetricsMiddleware.status(of: error), since: started)
            throw error
        }
        return try await next(request, context)
    }

    private func authenticate(_ request: Request, context: GatewayContext) async throws -> Identity {
        let presented = try Self.bearerToken(request.headers[.authorization])
        let result: Result<AuthenticatedToken, TokenRejection>
        do {
            result = try await environment.tokens.authenticate(presented, now: environment.clock())
        } catch {
            context.logger.error("token look-up failed", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, "storage_unavailable", "the token store is unavailable")
        }
        return try identity(from: result)
    }

    /// The token of `Authorization: Bearer <token>`. Every request reads it: an ASCII header (any real one) is read as
    /// bytes, anything else by `spelledBearerToken`, whose idea of white space (Unicode's) it keeps.
    static func bearerToken(_ header: String?) throws -> String {
        guard let header else { throw APIError.unauthorized("token_missing", "missing Authorization: Bearer <token>") }
        if let token = try header.utf8.withContiguousStorageIfAvailable({ try asciiBearerToken($0) }), let token { return token }
        return try spelledBearerToken(header)
    }

    /// nil when the header is not all ASCII.
    private static func asciiBearerToken(_ bytes: UnsafeBufferPointer<UInt8>) throws -> String? {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard bytes.contains(where: { !isBlank($0) }) else {
            throw APIError.unauthorized("token_missing", "missing Authorization: Bearer <token>")
        }
        let scheme = "bearer ".utf8
        guard bytes.count >= scheme.count, zip(bytes, scheme).allSatisfy({ byte, expected in
            byte == expected || (expected >= UInt8(ascii: "a") && expected <= UInt8(ascii: "z") && byte == expected - 0x20)
        }) else {
            throw APIError.unauthorized("token_malformed", "the Authorization header must use the Bearer scheme")
        }
        var rest = bytes[scheme.count...]
        while let first = rest.first, isBlank(first) { rest = rest.dropFirst() }
        while let last = rest.last, isBlank(last) { rest = rest.dropLast() }
        return String(decoding: rest, as: UTF8.self)
    }

    static func spelledBearerToken(_ header: String) throws -> String {
        guard !header.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.unauthorized("token_missing", "missing Authorization: Bearer <token>")
        }
        guard header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("token_malformed", "the Authorization header must use the Bearer scheme")
        }
        return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    func identity(from result: Result<AuthenticatedToken, TokenRejection>) throws -> Identity {
        let authenticated: AuthenticatedToken
        switch result {
        case .failure(.malformed):
            throw APIError.unauthorized("token_malformed", "malformed token: expected bgb_ followed by 49 base64url characters")
        case .failure(.badChecksum):
            throw APIError.unauthorized("token_checksum_mismatch", "the token's checksum does not match: it was mistyped or cut short")
        case .failure(.legacyRefused):
            throw APIError.unauthorized("token_legacy_refused", "tokens without checksum are no longer accepted here; ask an admin for a new token")
        case .failure(.unknown): throw APIError.unauthorized("token_unknown", "unknown token")
        case .failure(.expired): throw APIError.unauthorized("token_expired", "token expired")
        case .failure(.revoked): throw APIError.unauthorized("token_revoked", "token revoked (or rotated and its grace period over)")
        case .success(let value): authenticated = value
        }
        if let problem = authenticated.subscriptionProblem {
            throw APIError(.internalServerError, "subscription_unreadable", problem)
        }
        let token = authenticated.token
        let subscription = authenticated.subscription
        guard let tier = subscription?.tier ?? Tier(rawValue: token.tier) else {
            throw APIError.forbidden("tier_unknown", "the token's tier '\(token.tier)' is not one of \(Tier.names)")
        }
        // An admin is never locked out by a subscription: suspending one must not take away the means to undo it.
        if subscription?.status == .suspended && token.role != .admin {
            throw APIError.forbidden("subscription_suspended", "the subscription of \(token.owner) is suspended")
        }
        let limits = environment.settings.tiers[tier].applying(subscription?.overrides)
        return Identity(token: token, tier: tier, limits: limits, subscription: subscription)
    }
}
