import Hummingbird

/// Routes for the admin role only (403 `admin_required` for any other token).
struct RequireAdminMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard try context.requireIdentity().role == .admin else {
            throw APIError.forbidden("admin_required", "this route needs an admin token")
        }
        return try await next(request, context)
    }
}
