import Foundation
import Hummingbird

/// Request context carrying the authenticated token, if any.
public struct GatewayContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var token: APIToken?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Checks `Authorization: Bearer <token>` on every route it guards: 401 for a missing, malformed,
/// unknown, expired or revoked token; 403 when the token's role is not enough.
public struct BearerAuthMiddleware: RouterMiddleware {
    public typealias Context = GatewayContext
    let tokens: TokenStore
    let requiredRole: TokenRole

    public init(tokens: TokenStore, requiredRole: TokenRole) {
        self.tokens = tokens
        self.requiredRole = requiredRole
    }

    public func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("missing Authorization: Bearer <token>")
        }
        guard header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("the Authorization header must use the Bearer scheme")
        }
        let presented = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let result: Result<APIToken, TokenRejection>
        do {
            result = try await tokens.authenticate(presented)
        } catch {
            throw APIError(.serviceUnavailable, "storage_unavailable", "token store unavailable")
        }
        switch result {
        case .failure(.malformed): throw APIError.unauthorized("malformed token")
        case .failure(.unknown): throw APIError.unauthorized("unknown token")
        case .failure(.expired): throw APIError.unauthorized("token expired")
        case .failure(.revoked): throw APIError.unauthorized("token revoked")
        case .success(let token):
            if requiredRole == .admin && token.role != .admin {
                throw APIError.forbidden("this route needs an admin token")
            }
            var context = context
            context.token = token
            return try await next(request, context)
        }
    }
}
