import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `GET /metrics`: who may read it under each `gateway.metrics_access`, and one exposition from several processes.
/// (The metrics themselves, from the real daemons, and `promtool check metrics` on them: `MetricsEndToEndTests`.)
@Suite("GET /metrics")
struct MetricsRouteTests {
    @Test("loopback (the default): served without a token over a loopback connection, as Prometheus text with every daemon's up gauge")
    func loopbackServes() async throws {
        let h = try APIHarness()
        try await h.app.test(.live) { client async throws in
            let response = try await client.call(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == MetricsRoutes.contentType)
            let text = String(buffer: response.body)
            // The daemons' sockets do not exist here: each is reported down, the gateway up.
            for daemon in ["mindsetd", "arsenald", "routerd"] {
                #expect(text.contains("bagbot_daemon_up{daemon=\"\(daemon)\"} 0"), "\(daemon) in\n\(text)")
            }
            #expect(text.contains("bagbot_daemon_up{daemon=\"gateway\"} 1"))
            #expect(text.components(separatedBy: "# TYPE bagbot_daemon_up gauge").count == 2, "one header for the family")
            // Through a reverse proxy on this machine the TCP peer is local: a forwarded request is not taken as local.
            for field in ["Forwarded", "X-Forwarded-For", "X-Real-IP"] {
                let forwarded = try await client.call(.get, "/metrics", headers: [HTTPField.Name(field)!: "203.0.113.9"])
                #expect(forwarded.status == .forbidden && forwarded.errorCode == "metrics_loopback_only", "\(field)")
            }
        }
    }

    @Test("a caller that is not on this machine is refused 403 metrics_loopback_only", arguments: [
        "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "192.168.1.127",
    ])
    func loopbackOnly(ip: String) throws {
        let address = try SocketAddress(ipAddress: ip, port: 40_000)
        let local = ip.hasPrefix("127.") || ip == "::1" || ip == "::ffff:127.0.0.1"
        #expect(MetricsRoutes.isLoopback(address) == local)
        #expect(!MetricsRoutes.isLoopback(nil))
    }

    @Test("admin: the whole middleware applies — no token 401, a user 403 admin_required, an admin 200")
    func adminNeedsAToken() async throws {
        var settings = GatewaySettings()
        settings.metricsAccess = .admin
        let h = try APIHarness(settings: settings)
        let user = try await h.token(owner: "alice", tier: .enterprise)
        let admin = try await h.token(owner: "ops", tier: .enterprise, role: .admin)
        try await h.app.test(.router) { client async throws in
            let anonymous = try await client.call(.get, "/metrics")
            #expect(anonymous.status == .unauthorized && anonymous.errorCode == "token_missing")
            let refused = try await client.call(.get, "/metrics", token: user)
            #expect(refused.status == .forbidden && refused.errorCode == "admin_required")
            let served = try await client.call(.get, "/metrics", token: admin)
            #expect(served.status == .ok && String(buffer: served.body).contains("bagbot_daemon_up"))
            #expect(served["X-RateLimit-Limit"] != nil, "rate-limited like any authenticated call")
        }
    }

    @Test("open: anyone, without a token, even with no loopback peer")
    func openServesAnyone() async throws {
        var settings = GatewaySettings()
        settings.metricsAccess = .open
        let h = try APIHarness(settings: settings)
        try await h.app.test(.router) { client async throws in
            #expect(try await client.call(.get, "/metrics").status == .ok)
        }
    }

    @Test("families the processes share come out once, their samples together; a family of another type is left out; help added where missing")
    func mergeGroupsFamilies() {
        let gateway = """
            # TYPE bagbot_daemon_up gauge
            bagbot_daemon_up{daemon="gateway"} 1
            # TYPE process_open_fds gauge
            process_open_fds{daemon="gateway"} 12

            """
        let routerd = """
            # HELP process_open_fds Open file descriptors.
            # TYPE process_open_fds gauge
            process_open_fds{daemon="routerd"} 30
            # TYPE bagbot_orders_total counter
            bagbot_orders_total{daemon="routerd",venue="paper",status="filled"} 3
            # TYPE bagbot_daemon_up counter
            bagbot_daemon_up{daemon="routerd"} 7

            """
        #expect(PrometheusTextMerge.merge([gateway, routerd], help: ["bagbot_orders_total": "Orders.", "process_open_fds": "Not used."]) == """
            # TYPE bagbot_daemon_up gauge
            bagbot_daemon_up{daemon="gateway"} 1
            # HELP process_open_fds Open file descriptors.
            # TYPE process_open_fds gauge
            process_open_fds{daemon="gateway"} 12
            process_open_fds{daemon="routerd"} 30
            # HELP bagbot_orders_total Orders.
            # TYPE bagbot_orders_total counter
            bagbot_orders_total{daemon="routerd",venue="paper",status="filled"} 3

            """)
    }
}

@Suite("MetricsCache")
struct MetricsCacheTests {
    @Test("callers that come together share one gathering; one less than maximumAge old is served again; an older one is gathered anew")
    func oneAtATime() async throws {
        let gathered = Mutex(0)
        let gather: @Sendable () async -> String = {
            let count = gathered.withLock { $0 += 1; return $0 }
            try? await Task.sleep(for: .milliseconds(100))
            return "gathering \(count)"
        }
        // Long enough that no machine is slow enough to outlast it within the test.
        let cache = MetricsCache(maximumAge: .seconds(600))
        let texts = await withTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { await cache.text(gather: gather) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(texts) == ["gathering 1"])
        #expect(await cache.text(gather: gather) == "gathering 1")
        #expect(gathered.withLock { $0 } == 1)
        // Every gathering is too old at once: each call after the last ended gathers again.
        let ageless = MetricsCache(maximumAge: .zero)
        #expect(await ageless.text(gather: gather) == "gathering 2")
        #expect(await ageless.text(gather: gather) == "gathering 3")
    }
}
