import Hummingbird
import Metrics

/// Every API call in Prometheus: `bagbot_api_requests_total` by tier, route pattern, method and status, and
/// `bagbot_api_request_duration_seconds` by route. Right after the token check, so the caller's tier is known; the
/// calls that check refuses are counted by `BearerAuthMiddleware` under tier `none`, as are the public paths here.
struct APIMetricsMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let tier = context.identity?.tier.rawValue ?? "none"
        do {
            let response = try await next(request, context)
            Self.record(request, context, tier: tier, status: Int(response.status.code), since: started)
            return response
        } catch {
            Self.record(request, context, tier: tier, status: Self.status(of: error), since: started)
            throw error
        }
    }

    static func record(_ request: Request, _ context: GatewayContext, tier: String, status: Int, since started: ContinuousClock.Instant) {
        // The pattern, never the path: one series per route, whatever ids the callers send.
        let route = context.endpointPath ?? "unmatched"
        Metrics.Counter(label: "bagbot_api_requests_total",
                dimensions: [("tier", tier), ("route", route), ("method", request.method.rawValue), ("status", String(status))]).increment()
        Metrics.Timer(label: "bagbot_api_request_duration_seconds", dimensions: [("route", route)])
            .record(duration: ContinuousClock.now - started)
    }

    static func status(of error: any Error) -> Int {
        (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
    }
}
