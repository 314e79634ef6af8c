import Hummingbird
import Metrics
import NIOConcurrencyHelpers

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
        let (requests, duration) = handles.series(tier: tier, route: route, method: request.method.rawValue, status: status)
        requests.increment()
        duration.record(duration: ContinuousClock.now - started)
    }

    /// Made once per series and kept for the life of the process, which bootstraps its metrics before its first
    /// request (`DaemonRunner`).
    static let handles = APIMetricHandles()

    static func status(of error: any Error) -> Int {
        (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
    }
}

/// The handles of `bagbot_api_requests_total` and `bagbot_api_request_duration_seconds`, one per series. Making a
/// handle takes swift-prometheus's registry lock and its label checks (about 3 % of the gateway's CPU under wrk when
/// made per request). The series are bounded: tiers, route patterns, the methods the HTTP parser knows, statuses.
final class APIMetricHandles: Sendable {
    private struct Series: Hashable {
        var tier: String
        var route: String
        var method: String
        var status: Int
    }

    private struct Handles {
        var requests: [Series: Metrics.Counter] = [:]
        var durations: [String: Metrics.Timer] = [:]
    }

    private let handles = NIOLockedValueBox(Handles())

    func series(tier: String, route: String, method: String, status: Int) -> (requests: Metrics.Counter, duration: Metrics.Timer) {
        let series = Series(tier: tier, route: route, method: method, status: status)
        return handles.withLockedValue { handles in
            if handles.requests[series] == nil {
                handles.requests[series] = Metrics.Counter(label: "bagbot_api_requests_total",
                                                           dimensions: [("tier", tier), ("route", route), ("method", method), ("status", String(status))])
            }
            if handles.durations[route] == nil {
                handles.durations[route] = Metrics.Timer(label: "bagbot_api_request_duration_seconds", dimensions: [("route", route)])
            }
            let requests = handles.requests[series]!
            let duration = handles.durations[route]!
            return (requests, duration)
        }
    }
}
