import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import BagbotIPC
import BagbotRuntime

/// `GET /metrics`: the metrics of all four processes in one Prometheus text exposition, each sample labelled with its
/// `daemon`, plus `bagbot_daemon_up` for each (0 when it did not answer within 1 s, so an alert fires while the
/// gateway still answers). Who may read it is `gateway.metrics_access` (docs/observability.md).
enum MetricsRoutes {
    static let path = "/metrics"
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        router.get(RouterPath(path)) { request, context in
            try admit(context, access: environment.settings.metricsAccess)
            let text = await gather(environment: environment)
            return Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        table.note(path, .get)
    }

    static func admit(_ context: GatewayContext, access: GatewaySettings.MetricsAccess) throws {
        switch access {
        case .open:
            return
        case .admin:
            // Behind the whole middleware: the token is checked, rate-limited and recorded like any other call.
            guard try context.requireIdentity().role == .admin else {
                throw APIError.forbidden("admin_required", "this route needs an admin token")
            }
        case .loopback:
            guard isLoopback(context.channel.remoteAddress) else {
                throw APIError.forbidden("metrics_loopback_only",
                                         "metrics are served to this machine only; set gateway.metrics_access to admin to scrape from elsewhere with a token")
            }
        }
    }

    /// 127.0.0.0/8, ::1, or 127.x seen through an IPv4-mapped IPv6 address.
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress?.lowercased() else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    static func gather(environment: GatewayEnvironment) async -> String {
        var answered: [String: String] = [:]
        await withTaskGroup(of: (String, String?).self) { group in
            for client in environment.daemons.all {
                group.addTask {
                    let answer: MetricsExposition? = try? await client.call(Methods.metricsScrape, EmptyBody(), timeout: .seconds(1))
                    return (client.peerService, answer?.text)
                }
            }
            for await (name, text) in group { answered[name] = text }
        }
        // Set before the gateway's own exposition is read, so this scrape carries them.
        ProcessMetrics.recordUp(daemon: "gateway", isUp: true)
        for client in environment.daemons.all {
            ProcessMetrics.recordUp(daemon: client.peerService, isUp: answered[client.peerService] != nil)
        }
        let daemons = environment.daemons.all.compactMap { answered[$0.peerService] }
        return PrometheusTextMerge.merge([await ProcessMetrics.exposition()] + daemons, help: MetricHelp.text)
    }
}
