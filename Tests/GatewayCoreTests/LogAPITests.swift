import Foundation
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import Testing
@testable import GatewayCore

@Suite("GET /api/logs")
struct LogAPITests {
    static func line(_ seconds: Double, _ level: String, _ component: String, _ message: String, _ metadata: [String: String] = [:]) -> LogLine {
        LogLine(time: Date(timeIntervalSince1970: 1_900_000_000 + seconds), level: level, component: component, message: message, metadata: metadata)
    }

    @Test("admin only; every process's lines, newest first, each named; a daemon that does not answer is listed, the rest still come")
    func gathered() async throws {
        let own = RecentLogs(capacity: 10)
        own.append(Self.line(3, "info", "gateway.http", "HTTP API listening"))
        own.append(Self.line(6, "warning", "gateway.routerd-client", "cannot reach peer; retrying with backoff"))
        let h = try APIHarness(recentLogs: own)
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let pro = try await h.token(owner: "pat", tier: .pro)
        let asked = Shared<[LogQuery]>([])
        let mindset = try await FakeDaemon("mindsetd", in: h) { registry in
            let kept = RecentLogs(capacity: 10)
            kept.append(Self.line(1, "notice", "mindsetd", "ready", ["status": "NORMAL"]))
            kept.append(Self.line(5, "error", "mindsetd.engine", "routerd's fills could not be read", ["request_id": "req-7"]))
            registry.registerSync(Methods.logsRecent, LogQuery.self) { query, _ in
                asked.withLock { $0.append(query) }
                return LogLinesResponse(lines: kept.lines(query), capacity: kept.capacity)
            }
        }
        defer { Task { await mindset.stop() } }
        try await h.app.test(.router) { client in
            #expect(try await client.call(.get, "/api/logs", token: pro).errorCode == "admin_required")

            let all = try await client.call(.get, "/api/logs", token: admin)
            #expect(all.status == .ok)
            let page = try all.json()
            let lines = try #require(page["lines"] as? [[String: Any]])
            #expect(lines.map { $0["message"] as? String } == ["cannot reach peer; retrying with backoff", "routerd's fills could not be read",
                                                               "HTTP API listening", "ready"])
            #expect(lines.map { $0["daemon"] as? String } == ["gateway", "mindsetd", "gateway", "mindsetd"])
            #expect((lines.first?["time"] as? String)?.hasPrefix("2030-03-17T17:46:46") == true)
            #expect((lines.last?["metadata"] as? [String: String]) == ["status": "NORMAL"])
            #expect(page["unavailable"] as? [String] == ["arsenald", "routerd"])
            #expect(page["capacity"] as? Int == 10)

            // Filters go to each daemon as given, and apply to the gateway's own lines alike.
            let errors = try await client.call(.get, "/api/logs?level=warning&limit=5", token: admin)
            #expect((try errors.json()["lines"] as? [[String: Any]])?.map { $0["level"] as? String } == ["warning", "error"])
            let one = try await client.call(.get, "/api/logs?requestId=req-7&daemon=mindsetd&component=mindsetd&since=2030-03-17T17:46:40Z",
                                            token: admin)
            #expect((try one.json()["lines"] as? [[String: Any]])?.map { $0["message"] as? String } == ["routerd's fills could not be read"])
            #expect(try one.json()["unavailable"] as? [String] == [], "only mindsetd was asked")
            #expect(asked.withLock { $0.last } == LogQuery(level: nil, component: "mindsetd", since: Date(timeIntervalSince1970: 1_900_000_000),
                                                          requestId: "req-7", limit: 200))

            // `request_id`, the key the lines carry it under, is the same filter; both must name one id.
            let snake = try await client.call(.get, "/api/logs?request_id=req-7&daemon=mindsetd&requestId=req-7", token: admin)
            #expect((try snake.json()["lines"] as? [[String: Any]])?.map { $0["message"] as? String } == ["routerd's fills could not be read"])
            #expect(asked.withLock { $0.last?.requestId } == "req-7")

            for bad in ["level=loud", "limit=0", "limit=1001", "since=yesterday", "component=a%20b", "daemon=nginx", "requestId=a%20b", "grep=x",
                        "request_id=a%01", "requestId=req-7&request_id=req-8", "requestId=req-7&requestId=req-8"] {
                let refused = try await client.call(.get, "/api/logs?\(bad)", token: admin)
                #expect(refused.status == .badRequest, "\(bad)")
            }
        }
    }
}
