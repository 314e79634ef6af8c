import Hummingbird

/// A read-only subscription (Free by default) may only read: any method but GET and HEAD is 403 `tier_read_only`,
/// except on `/api/subscription` (a subscriber may always rotate or revoke their own token) and `/api/admin` (which
/// the admin role governs).
struct ReadOnlyTierMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if let identity = context.identity, identity.limits.readOnly,
           request.method != .get, request.method != .head,
           !path.hasPrefix("/api/subscription/"), !path.hasPrefix("/api/admin/") {
            throw APIError.forbidden("tier_read_only", "the \(identity.tier.rawValue) tier is read-only; \(request.method.rawValue) needs Pro or above")
        }
        return try await next(request, context)
    }
}
