import Hummingbird

/// Notes the end of every API request other than a shared read (`GET` or `HEAD` of one) as a change (`SharedReadChanges`): whatever it did or
/// showed its client (an order placed, a pause, the orders as they now are), a shared read's call that started before
/// it must not answer a request that comes after it. Before the response goes out, so a client that has the response
/// can never be answered from before it.
struct SharedReadChangesMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let changes: SharedReadChanges

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        let reads = request.method == .get || request.method == .head
        guard !reads || !GatewayEnvironment.sharedReadPaths.contains(request.uri.path) else { return try await next(request, context) }
        defer { changes.noteChange() }
        return try await next(request, context)
    }
}
