import Foundation
import BagbotTestSupport
import Testing

/// `GET /metrics` from the four real daemons while they trade on paper: every process's series labelled with its
/// daemon, the families the operator alerts on present, `promtool check metrics` content with it, and a daemon
/// that is down reported as such while the gateway still answers.
@Suite("Metrics end to end", .serialized)
struct MetricsEndToEndTests {
    static func scrape(_ system: TestSystem) async throws -> String {
        let response = try await system.get("/metrics")
        guard response.status == 200 else {
            throw TestFailure("GET /metrics answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test("after two fills: each daemon's series, the alerting families, and promtool accepts the exposition")
    func liveExposition() async throws {
        try await TestSystem.with { system in
            try system.start()
            try await system.waitUntil("two filled orders") { try system.count("SELECT COUNT(*) FROM fills") >= 2 }
            // One authenticated call, so the API's own series exist.
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await system.get("/api/positions", token: admin).status == 200)
            #expect(try await system.get("/api/positions", token: "bgb_not-a-token").status == 401)
            let text = try await Self.scrape(system)
            for daemon in ["gateway", "mindsetd", "arsenald", "routerd"] {
                #expect(text.contains("bagbot_daemon_up{daemon=\"\(daemon)\"} 1"), "\(daemon) up")
                #expect(text.contains("process_resident_memory_bytes{daemon=\"\(daemon)\"}"), "\(daemon)'s RSS")
                #expect(text.contains("process_open_fds{daemon=\"\(daemon)\"}"), "\(daemon)'s descriptors")
            }
            let expected = [
                #"bagbot_ticks_received_total{daemon="arsenald",symbol="BTCUSDT""#,
                #"bagbot_ticks_processed_total{daemon="arsenald",symbol="BTCUSDT""#,
                #"bagbot_signals_total{daemon="arsenald",strategy="#,
                #"bagbot_orders_total{daemon="routerd",venue="paper",status="filled"}"#,
                #"bagbot_fills_total{daemon="routerd",venue="paper"}"#,
                #"bagbot_order_round_trip_seconds_bucket{daemon="routerd",venue="paper",le="#,
                #"bagbot_tick_to_order_seconds_count{daemon="routerd"}"#,
                #"bagbot_orders_unsettled{daemon="routerd"} 0"#,
                #"bagbot_venue_orders_held{daemon="routerd",venue="paper"} 0"#,
                #"bagbot_mindset_emotion_state{daemon="mindsetd",state="CALM"}"#,
                #"bagbot_mindset_decisions_total{daemon="mindsetd",outcome="approved"}"#,
                #"bagbot_mindset_daily_pnl{daemon="mindsetd"}"#,
                #"bagbot_api_requests_total{daemon="gateway",tier="enterprise",route="/api/positions",method="GET",status="200"} 1"#,
                #"bagbot_api_requests_total{daemon="gateway",tier="none",route="/api/positions",method="GET",status="401"} 1"#,
                #"bagbot_api_request_duration_seconds_bucket{daemon="gateway",route="/api/positions",le="#,
                #"bagbot_ipc_reconnects_total{daemon="arsenald",peer="routerd"}"#,
            ]
            for series in expected {
                #expect(text.contains(series), "\(series)")
            }
            // Exactly one emotion state is the current one.
            let current = text.split(separator: "\n").filter { $0.hasPrefix("bagbot_mindset_emotion_state{") && ($0.hasSuffix(" 1.0") || $0.hasSuffix(" 1")) }
            #expect(current.count == 1, "\(current)")

            let directory = try TempDir()
            let file = directory.file("metrics.txt")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let check = try await ToolRun.run(try ToolRun.promtool, ["check", "metrics"], input: file, timeout: .seconds(30))
            #expect(check.status == 0, "promtool check metrics:\n\(check.output)")
            #expect(!check.output.contains("WARN") && !check.output.contains("error"), "promtool's lint:\n\(check.output)")
            try? text.write(toFile: "/tmp/bagbot-metrics-sample.txt", atomically: true, encoding: .utf8)
        }
    }

    @Test("a daemon down: /metrics still answers 200 and reports it with bagbot_daemon_up 0")
    func daemonDown() async throws {
        try await TestSystem.with { system in
            try system.start()
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(60)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            await system.killHard("mindsetd")
            let text = try await Self.scrape(system)
            #expect(text.contains("bagbot_daemon_up{daemon=\"mindsetd\"} 0"))
            #expect(text.contains("bagbot_daemon_up{daemon=\"routerd\"} 1"))
            #expect(!text.contains("process_open_fds{daemon=\"mindsetd\"}"))
        }
    }

    @Test("the shipped Prometheus example and alerting rules: promtool checks them, and each alert fires on the series it names")
    func shippedRules() async throws {
        let promtool = try ToolRun.promtool
        let config = try await ToolRun.run(promtool, ["check", "config", SharedData.repository + "/deploy/prometheus/prometheus.yml"], timeout: .seconds(30))
        #expect(config.status == 0, "promtool check config:\n\(config.output)")
        let rules = try await ToolRun.run(promtool, ["test", "rules", SharedData.repository + "/Tests/Prometheus/bagbot-alerts.test.yml"],
                                          timeout: .seconds(30))
        #expect(rules.status == 0, "promtool test rules:\n\(rules.output)")
    }
}
