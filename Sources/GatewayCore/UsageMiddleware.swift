import Foundation
import Hummingbird

/// Step 4 of the subscription middleware: every authenticated, admitted call (token, method, route pattern, status,
/// latency, time) goes to the `UsageRecorder`'s bounded buffer; nothing is written on the request path. Errors are
/// turned into their responses here, so their status is the one recorded and the rate-limit fields reach them.
struct UsageMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let environment: GatewayEnvironment

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { return try await next(request, context) }
        let time = environment.clock()
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = APIError.normalize(error, request: request, logger: context.logger).response()
        }
        let elapsed = ContinuousClock.now - started
        let latencyMs = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        environment.usage.record(UsageEntry(
            tokenId: identity.token.id, method: request.method.rawValue, route: context.endpointPath ?? "(unmatched)",
            status: Int(response.status.code), latencyMs: latencyMs, time: time))
        return response
    }
}
