import Foundation
import Hummingbird
import HummingbirdCore
import HTTPTypes
import NIOCore
import BagbotIPC
import BagbotRuntime

/// `GET /metrics`: the metrics of all four processes in one Prometheus text exposition, each sample labelled with its
/// `daemon`, plus `bagbot_daemon_up` for each (0 when it did not answer within 1 s, so an alert fires while the
/// gateway still answers). Who may read it is `gateway.metrics_access` (docs/observability.md). Scrapes that come
/// together share one gathering, and one gathered less than a second ago is served again (`MetricsCache`): a flood
/// of requests costs the daemons at most one scrape a second.
enum MetricsRoutes {
    static let path = "/metrics"
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        router.get(RouterPath(path)) { request, context in
            try admit(request, context, access: environment.settings.metricsAccess)
            let text = await environment.metrics.text { await gather(environment: environment) }
            return Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        table.note(path, .get)
    }

    /// What a reverse proxy adds: a request that carries one is not taken as local, whatever its TCP peer.
    static let forwardingFields = ["Forwarded", "X-Forwarded-For", "X-Real-IP"].compactMap { HTTPField.Name($0) }

    static func admit(_ request: Request, _ context: GatewayContext, access: GatewaySettings.MetricsAccess) throws {
        switch access {
        case .open:
            return
        case .admin:
            // Behind the whole middleware: the token is checked, rate-limited and recorded like any other call.
            guard try context.requireIdentity().role == .admin else {
                throw APIError.forbidden("admin_required", "this route needs an admin token")
            }
        case .loopback:
            // Behind a proxy on this machine every caller's TCP peer is local: a forwarded request fails closed.
            guard isLoopback(context.channel.remoteAddress), !forwardingFields.contains(where: { request.headers[$0] != nil }) else {
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

/// One gathering of every process's metrics at a time, kept for `maximumAge`: callers that come while one runs wait
/// for it; within `maximumAge` of its end they get it again. The mindset's collector takes a turn on the actor that
/// decides entries, and the routerd connection is the one manual orders use: neither is for anyone to flood.
actor MetricsCache {
    private let maximumAge: Duration
    private var last: (text: String, at: ContinuousClock.Instant)?
    private var running: Task<String, Never>?

    init(maximumAge: Duration = .seconds(1)) {
        self.maximumAge = maximumAge
    }

    func text(gather: @escaping @Sendable () async -> String) async -> String {
        if let last, ContinuousClock.now - last.at < maximumAge { return last.text }
        if let running { return await running.value }
        let task = Task { await gather() }
        running = task
        let text = await task.value
        last = (text, ContinuousClock.now)
        running = nil
        return text
    }
}
