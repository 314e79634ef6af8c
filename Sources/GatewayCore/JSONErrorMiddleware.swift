import Hummingbird

/// The outermost middleware: whatever fails anywhere (an unknown route, a wrong method, a body too large, a refused
/// token, a bug) leaves as `{"error":{"code":"…","message":"…"}}`, never as Hummingbird's plain-text default.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIError.normalize(error, request: request, logger: context.logger).response()
        }
    }
}
