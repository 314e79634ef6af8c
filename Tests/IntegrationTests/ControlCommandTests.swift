import Foundation
import BagbotRuntime
import BagbotTestSupport
import Testing

/// `bagbot status|pause|resume|lock|unlock` against the real daemons, finding the gateway and its admin token from
/// the `bagbot up`-style directory as `bagbot token` does.
@Suite("bagbot status, pause, resume, lock, unlock against a running system")
struct ControlCommandTests {
    func bagbot(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        try BagbotCommand.run(arguments, in: directory)
    }

    @Test("each command changes what it says and prints a readable line or table; --json is the gateway's JSON")
    func commands() async throws {
        try await TestSystem.with { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(60)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            let dir = ["--dir", system.root]

            let status = try bagbot(["status"] + dir, in: system.root)
            #expect(status.status == 0, "\(status.output)")
            #expect(status.output.hasPrefix("PROCESS "), "\(status.output)")
            for name in ["gateway", "routerd", "arsenald", "mindsetd"] {
                #expect(status.output.contains("\n\(name) ") && status.output.contains(BagbotVersion.current), "\(status.output)")
            }
            let json = try bagbot(["status", "--json"] + dir, in: system.root)
            let services = (try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])?["services"] as? [String: Any]
            #expect(services?.count == 4, "\(json.output)")

            let paused = try bagbot(["pause", "--reason", "cli test"] + dir, in: system.root)
            #expect(paused.status == 0, "\(paused.output)")
            #expect(paused.output.contains("Trading: paused (cli test)"), "\(paused.output)")
            let account = try await system.get("/api/account", token: admin)
            #expect((try JSONSerialization.jsonObject(with: account.body) as? [String: Any])?["tradingEnabled"] as? Bool == false)
            let resumed = try bagbot(["resume"] + dir, in: system.root)
            #expect(resumed.output.contains("Trading: on"), "\(resumed.output)")

            let locked = try bagbot(["lock", "--reason", "stepping away"] + dir, in: system.root)
            #expect(locked.status == 0, "\(locked.output)")
            #expect(locked.output.contains("Mindset: LOCKED (admin: stepping away)"), "\(locked.output)")
            let unlocked = try bagbot(["unlock"] + dir, in: system.root)
            #expect(unlocked.status == 0, "\(unlocked.output)")
            #expect(!unlocked.output.contains("LOCKED"), "\(unlocked.output)")
            let again = try bagbot(["unlock"] + dir, in: system.root)
            #expect(again.status == 1)
            #expect(again.output.contains("409 conflict"), "\(again.output)")

            // --json: each command prints the gateway's answer as it came.
            func object(_ run: (status: Int32, output: String)) -> [String: Any]? {
                try? JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
            }
            let pausedJSON = object(try bagbot(["pause", "--reason", "json test", "--json"] + dir, in: system.root))
            #expect(pausedJSON?["enabled"] as? Bool == false && pausedJSON?["reason"] as? String == "json test", "\(String(describing: pausedJSON))")
            let resumedJSON = object(try bagbot(["resume", "--json"] + dir, in: system.root))
            #expect(resumedJSON?["enabled"] as? Bool == true, "\(String(describing: resumedJSON))")
            let lockedJSON = object(try bagbot(["lock", "--reason", "json test", "--json"] + dir, in: system.root))
            #expect(lockedJSON?["emotionState"] as? String == "LOCKED", "\(String(describing: lockedJSON))")
            let unlockedJSON = object(try bagbot(["unlock", "--json"] + dir, in: system.root))
            #expect(unlockedJSON?["emotionState"] as? String != "LOCKED" && unlockedJSON?["emotionState"] != nil, "\(String(describing: unlockedJSON))")
        }
    }

    @Test("one paper trade's request id: lines from all four daemons, in time order, from GET /api/logs and `bagbot trace`")
    func traceOfOneTrade() async throws {
        let noStrategies = TestSystem.strategiesOff
        try await TestSystem.with(extraConfig: noStrategies) { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            let placed = try await system.placeOrderOnceUp(token: admin, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#, key: "trace")
            try #require(placed.status == 201, "\(String(decoding: placed.body, as: UTF8.self))")
            let order = (try JSONSerialization.jsonObject(with: placed.body) as? [String: Any])?["order"] as? [String: Any] ?? [:]
            let requestId = try #require(order["requestId"] as? String)

            // Each daemon writes its lines on its own: the order's answer may come before routerd's line is written.
            var lines: [[String: Any]] = []
            var daemons: Set<String> = []
            try? await waitFor("a line of every daemon", timeout: .seconds(15)) {
                let logs = try await system.get("/api/logs?limit=1000&requestId=\(requestId)", token: admin)
                lines = (try JSONSerialization.jsonObject(with: logs.body) as? [String: Any])?["lines"] as? [[String: Any]] ?? []
                daemons = Set(lines.compactMap { $0["daemon"] as? String })
                return daemons.count == 4
            }
            #expect(daemons == ["gateway", "arsenald", "mindsetd", "routerd"], "\(lines.map { "\($0["daemon"] ?? "-"): \($0["message"] ?? "")" })")
            #expect(lines.allSatisfy { line in (line["metadata"] as? [String: String])?.values.contains { $0.contains(requestId) } ?? false },
                    "every line names the request")

            let trace = try bagbot(["trace", requestId, "--dir", system.root], in: system.root)
            #expect(trace.status == 0, "\(trace.output)")
            let printed = trace.output.split(separator: "\n").filter { $0.contains("request_id=") || $0.contains(requestId) }
            let times = printed.map { String($0.prefix(while: { $0 != " " })) }
            #expect(times == times.sorted(), "oldest first: \(trace.output)")
            for daemon in ["gateway", "arsenald", "mindsetd", "routerd"] {
                #expect(printed.contains { $0.contains("  \(daemon)  ") }, "\(daemon) in \(trace.output)")
            }
            #expect(try bagbot(["trace", "not an id", "--dir", system.root], in: system.root).status != 0)
        }
    }

    @Test("a strategy's trade from the tick on: its entry's trace holds arsenald's signal, mindsetd's decision and routerd's order; its exit's ends with mindsetd counting the closed trade")
    func traceOfAStrategysTrade() async throws {
        try await TestSystem.with { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            // The end of a trade's story: mindsetd counts it from routerd's fill log, under its closing fill's request id.
            // A trade closed by the strategy's own exit (through arsenald), not one mindsetd flattened (`mf-…`, which
            // arsenald never sees: a slow run can reach a flatten before the strategy's exit).
            var exitId: String?
            try await system.waitUntil("a strategy's trade to close", timeout: .seconds(150)) {
                let counted = system.log("mindsetd").split(separator: "\n").first {
                    $0.contains("trade counted from routerd's fill log") && !$0.contains("strategy=manual") && !$0.contains("request_id=mf-")
                }
                exitId = counted.flatMap { line in
                    line.split(separator: " ").first { $0.hasPrefix("request_id=") }.map { String($0.dropFirst("request_id=".count)) }
                }
                return exitId != nil && exitId != "-"
            }
            let exit = try #require(exitId)
            let exitLines = try await logLines(system, requestId: exit, token: admin)
            #expect(Set(exitLines.map(\.daemon)).isSuperset(of: ["arsenald", "routerd", "mindsetd"]), "\(exitLines)")
            #expect(exitLines.contains { $0.daemon == "mindsetd" && $0.message == "trade counted from routerd's fill log" }, "\(exitLines)")

            // Its beginning: an entry a strategy proposed on a tick, approved by mindsetd and placed by routerd.
            let signals = try await system.get("/api/signals?limit=1000&outcome=placed", token: admin)
            let records = (try JSONSerialization.jsonObject(with: signals.body) as? [String: Any])?["signals"] as? [[String: Any]] ?? []
            let entry = try #require(records.compactMap { $0["signal"] as? [String: Any] }.first {
                ($0["isEntry"] as? Bool) == true && ($0["strategyId"] as? String) != "manual"
            })
            let entryId = try #require(entry["requestId"] as? String)
            let entryLines = try await logLines(system, requestId: entryId, token: admin)
            #expect(Set(entryLines.map(\.daemon)).isSuperset(of: ["arsenald", "routerd", "mindsetd"]), "\(entryLines)")
            #expect(entryLines.contains { $0.daemon == "mindsetd" && $0.message == "decision" }, "\(entryLines)")
        }
    }

    /// `GET /api/logs?requestId=…`: each line's daemon and message.
    private func logLines(_ system: TestSystem, requestId: String, token: String) async throws -> [(daemon: String, message: String)] {
        let logs = try await system.get("/api/logs?limit=1000&requestId=\(requestId)", token: token)
        let lines = (try JSONSerialization.jsonObject(with: logs.body) as? [String: Any])?["lines"] as? [[String: Any]] ?? []
        return lines.map { ($0["daemon"] as? String ?? "-", $0["message"] as? String ?? "") }
    }

    @Test("a pause routerd is too busy to answer in time says it may still take effect, and it does")
    func pauseThatTimesOut() async throws {
        try await TestSystem.with(extraConfig: "gateway:\n  control_timeout_ms: 1500\n") { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(60)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            // routerd stops answering (as when its switch waits behind a slow venue call), but keeps the request.
            system.signal("routerd", SIGSTOP)
            let paused = try bagbot(["pause", "--reason", "frozen routerd"] + ["--dir", system.root], in: system.root)
            system.signal("routerd", SIGCONT)
            #expect(paused.status == 1, "\(paused.output)")
            #expect(paused.output.contains("504 outcome_unknown"), "\(paused.output)")
            #expect(paused.output.contains("may still take effect; check `bagbot status`"), "\(paused.output)")
            try await system.waitUntil("the pause to take effect once routerd goes on", timeout: .seconds(30)) {
                guard let account = try? await system.get("/api/account", token: admin), account.status == 200 else { return false }
                return (try? JSONSerialization.jsonObject(with: account.body) as? [String: Any])?["tradingEnabled"] as? Bool == false
            }
        }
    }
}
