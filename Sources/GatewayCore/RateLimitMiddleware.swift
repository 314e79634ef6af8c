import Foundation
import HTTPTypes
import Hummingbird

/// Steps 3 and 6 of the subscription middleware: the owner's per-minute and per-day quotas (`RateLimiter`), and the
/// rate-limit fields on every authenticated response, refused or not:
///
///     X-RateLimit-Limit: 60            (the quota that will refuse first: fewer remaining, the minute on a tie)
///     X-RateLimit-Remaining: 12
///     X-RateLimit-Reset: 41            (seconds, not a date)
///     RateLimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400
///     RateLimit: "minute";r=12;t=41, "day";r=940;t=3600
///
/// (draft-ietf-httpapi-ratelimit-headers-10: both fields are Structured Field lists of a String policy name with
/// Integer parameters.) A refusal is 429 with `Retry-After` and is recorded as a call that consumed nothing.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let environment: GatewayEnvironment

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { return try await next(request, context) }
        let now = environment.clock()
        if !environment.limiter.knows(identity.owner) {
            // A restarted gateway goes on from what `usage_logs` holds, so a restart grants no fresh quota.
            let seed: RateLimiter.Seed
            do {
                seed = try await UsageQueries.seed(database: environment.tokens.database, owner: identity.owner, now: now)
            } catch {
                context.logger.error("reading usage_logs for the rate limiter failed", metadata: ["error": "\(error)"])
                throw APIError(.serviceUnavailable, "storage_unavailable", "the usage store is unavailable")
            }
            environment.limiter.seed(identity.owner, seed)
        }
        let decision = environment.limiter.decide(owner: identity.owner, limits: identity.limits, now: now)
        var response: Response
        if decision.admitted {
            var context = context
            context.rateDecision = decision
            do {
                response = try await next(request, context)
            } catch {
                response = APIError.normalize(error, request: request, logger: context.logger).response()
            }
        } else {
            let refused = decision.day.map { $0.remaining == 0 } == true ? "daily" : "per-minute"
            let quota = refused == "daily" ? decision.day?.quota ?? 0 : decision.minute.quota
            response = APIError(.tooManyRequests, "rate_limited",
                                "the \(refused) quota of \(quota) requests is used up; retry in \(decision.retryAfter ?? 1) s").response()
            response.headers[.retryAfter] = String(decision.retryAfter ?? 1)
            environment.usage.record(UsageEntry(
                tokenId: identity.token.id, method: request.method.rawValue, route: context.endpointPath ?? "(unmatched)",
                status: 429, latencyMs: 0, time: now))
        }
        Self.applyHeaders(decision, to: &response.headers)
        return response
    }

    static let policyField = HTTPField.Name("RateLimit-Policy")!
    static let limitField = HTTPField.Name("RateLimit")!
    static let xLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let xRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let xReset = HTTPField.Name("X-RateLimit-Reset")!

    static func applyHeaders(_ decision: RateDecision, to headers: inout HTTPFields) {
        let tightest = decision.tightest
        headers[xLimit] = String(tightest.quota)
        headers[xRemaining] = String(tightest.remaining)
        headers[xReset] = String(tightest.reset)
        // Appended piece by piece: on every response, where interpolating and joining showed as 2 % of the gateway.
        var policy = "", limit = ""
        policy.reserveCapacity(64)
        limit.reserveCapacity(64)
        func append(_ quota: QuotaState) {
            if !policy.isEmpty {
                policy += ", "
                limit += ", "
            }
            policy += "\""; policy += quota.name; policy += "\";q="; policy += String(quota.quota); policy += ";w="; policy += String(quota.window)
            limit += "\""; limit += quota.name; limit += "\";r="; limit += String(quota.remaining); limit += ";t="; limit += String(quota.reset)
        }
        append(decision.minute)
        if let day = decision.day { append(day) }
        headers[policyField] = policy
        headers[limitField] = limit
    }
}
