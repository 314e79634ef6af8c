import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `/api/strategy` through a socket answering as arsenald's registry does (its refusals included).
@Suite("Strategy API")
struct StrategyAPITests {
    static func info(_ id: String, enabled: Bool, entryZ: Double = 2) -> StrategyInfo {
        StrategyInfo(id: id, kind: id, description: "test strategy", enabled: enabled, symbols: ["BTCUSDT"],
                     baseQuantity: ["BTCUSDT": ExactDecimal("0.01")!],
                     parameters: [StrategyParameterInfo(name: "entry_z", type: .number, value: entryZ, defaultValue: 2, minimum: 0.1, maximum: 20,
                                                        description: "z", source: .default)],
                     positions: ["BTCUSDT": ExactDecimal("-0.01")!], signals: 1, fills: 1, realizedPnl: ExactDecimal("-0.00971325")!, trades: 1, wins: 0)
    }

    /// The registry: `mean_reversion` only; `entry_z` within 0.1…20.
    static func register(_ registry: IPCMethodRegistry, enabled: Shared<Bool>, received: Shared<[String]>) {
        @Sendable func known(_ id: String) throws {
            guard id == "mean_reversion" else { throw IPCError(.notFound, "no strategy \(id); registered: mean_reversion") }
        }
        registry.registerSync(Methods.arsenalStrategies, EmptyBody.self) { _, _ in
            StrategiesResponse(strategies: [info("mean_reversion", enabled: enabled.withLock { $0 })])
        }
        registry.registerSync(Methods.arsenalStrategy, StrategyIdRequest.self) { request, _ in
            try known(request.id)
            return info(request.id, enabled: enabled.withLock { $0 })
        }
        registry.registerSync(Methods.arsenalEnable, StrategyIdRequest.self) { request, _ in
            try known(request.id)
            received.withLock { $0.append("enable") }
            enabled.withLock { $0 = true }
            return info(request.id, enabled: true)
        }
        registry.registerSync(Methods.arsenalDisable, StrategyIdRequest.self) { request, _ in
            try known(request.id)
            received.withLock { $0.append("disable") }
            enabled.withLock { $0 = false }
            return info(request.id, enabled: false)
        }
        registry.registerSync(Methods.arsenalSetParameters, SetStrategyParametersRequest.self) { request, _ in
            try known(request.id)
            received.withLock { $0.append("set \(request.parameters.keys.sorted())") }
            guard request.parameters.keys.sorted() == ["entry_z"], case .number(let value)? = request.parameters["entry_z"] else {
                throw IPCError(.badRequest, "mean_reversion: unknown parameter; known: entry_z")
            }
            guard (0.1...20).contains(value) else { throw IPCError(.badRequest, "mean_reversion: entry_z: must be 0.1…20, got \(value)") }
            return info(request.id, enabled: enabled.withLock { $0 }, entryZ: value)
        }
        registry.registerSync(Methods.arsenalPerformance, PerformanceQuery.self) { query, _ in
            PerformanceResponse(strategies: [], throughSequence: 0, databaseId: "db-\(query.strategyId ?? "all")")
        }
    }

    @Test("list, one, enable, disable, parameters and performance; refusals keep arsenald's meaning")
    func routes() async throws {
        let h = try APIHarness()
        let enabled = Shared(false)
        let received = Shared<[String]>([])
        let arsenal = try await FakeDaemon("arsenald", in: h) { Self.register($0, enabled: enabled, received: received) }
        let pro = try await h.token(owner: "pat", tier: .pro)
        let free = try await h.token(owner: "fay", tier: .free)
        let results = try await h.app.test(.router) { client in
            [
                try await client.call(.get, "/api/strategy", token: free),
                try await client.call(.get, "/api/strategy/mean_reversion", token: free),
                try await client.call(.get, "/api/strategy/nope", token: free),
                try await client.call(.post, "/api/strategy/mean_reversion/enable", token: free),
                try await client.call(.post, "/api/strategy/mean_reversion/enable", token: pro),
                try await client.call(.post, "/api/strategy/nope/disable", token: pro),
                try await client.call(.put, "/api/strategy/mean_reversion/parameters", token: pro, json: #"{"entry_z":2.5}"#),
                try await client.call(.put, "/api/strategy/mean_reversion/parameters", token: pro, json: #"{"entry_z":99}"#),
                try await client.call(.put, "/api/strategy/mean_reversion/parameters", token: pro, json: #"[1]"#),
                try await client.call(.put, "/api/strategy/mean_reversion/parameters", token: pro, json: #"{}"#),
                try await client.call(.get, "/api/strategy/mean_reversion/performance", token: free),
                try await client.call(.get, "/api/strategy/nope/performance", token: free),
                try await client.call(.post, "/api/strategy/mean_reversion/disable", token: pro, json: #"{"why":"x"}"#),
            ]
        }
        await arsenal.stop()
        let statuses = results.map(\.status.code)
        #expect(statuses == [200, 200, 404, 403, 200, 404, 200, 422, 400, 422, 200, 404, 400], "\(results.map { String(buffer: $0.body) })")
        let listed = try results[0].json()
        let first = try #require((listed["strategies"] as? [[String: Any]])?.first)
        #expect(first["realizedPnl"] as? String == "-0.00971325")
        #expect((first["baseQuantity"] as? [String: String])?["BTCUSDT"] == "0.01")
        #expect(results[2].errorCode == "not_found")
        #expect(results[3].errorCode == "tier_read_only")
        #expect(try results[4].json()["enabled"] as? Bool == true)
        #expect(results[7].errorCode == "invalid_value")
        #expect(results[7].errorMessage?.contains("entry_z: must be 0.1…20") == true)
        #expect(results[8].errorCode == "bad_json")
        #expect(try results[10].json()["databaseId"] as? String == "db-mean_reversion")
        #expect(results[12].errorCode == "unknown_field")
        #expect(received.withLock { $0 } == ["enable", "set [\"entry_z\"]", "set [\"entry_z\"]"], "refused before arsenald: Free, bad JSON, {} and an unknown field")
    }
}

/// Account, mindset and admin control through sockets standing in for routerd and mindsetd.
@Suite("Account, mindset and admin API")
struct ControlAPITests {
    @Test("pause, resume, lock and unlock that get no answer in time are 504 outcome_unknown: the change may still take effect")
    func controlTimeouts() async throws {
        let h = try APIHarness(timeouts: DaemonTimeouts(control: .milliseconds(300)))
        let applied = Shared<[String]>([])
        let router = try await FakeDaemon("routerd", in: h) { registry in
            registry.register(Methods.routerPause, PauseRequest.self) { request, _ in
                try await Task.sleep(for: .seconds(1))
                applied.withLock { $0.append("pause") }
                return TradingSwitchState(enabled: false, reason: request.reason, changedAt: APIHarness.start)
            }
            // Resumed, but the answer is not a switch state the gateway can read.
            registry.registerSync(Methods.routerResume, EmptyBody.self) { _, _ -> JSONValue in
                applied.withLock { $0.append("resume") }
                return .object(["enabled": .string("yes")])
            }
        }
        let mindset = try await FakeDaemon("mindsetd", in: h) { registry in
            struct Reason: Codable, Sendable { var reason: String }
            registry.register(Methods.mindsetLock, Reason.self) { _, _ -> JSONValue in
                try await Task.sleep(for: .seconds(1))
                applied.withLock { $0.append("lock") }
                return .object(["emotionState": .string("LOCKED")])
            }
            // An answer that cannot be read as the mindset's state: the unlock happened all the same.
            registry.registerSync(Methods.mindsetUnlock, Reason.self) { _, _ -> String in
                applied.withLock { $0.append("unlock") }
                return "not an object"
            }
        }
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let results = try await h.app.test(.router) { client in
            [
                try await client.call(.post, "/api/admin/pause", token: admin, json: #"{"reason":"maintenance"}"#),
                try await client.call(.post, "/api/admin/resume", token: admin),
                try await client.call(.post, "/api/admin/mindset/lock", token: admin, json: #"{"reason":"stepping away"}"#),
                try await client.call(.post, "/api/admin/mindset/unlock", token: admin),
            ]
        }
        try await waitUntil("the slow changes to be carried out") { applied.withLock { $0.count } == 4 }
        await router.stop()
        await mindset.stop()
        for response in results {
            #expect(response.status == .gatewayTimeout, "\(String(buffer: response.body))")
            #expect(response.errorCode == "outcome_unknown")
            #expect(response.errorMessage?.contains("may still take effect; check `bagbot status`") == true, "\(response.errorMessage ?? "")")
        }
        #expect(applied.withLock { $0 }.sorted() == ["lock", "pause", "resume", "unlock"],
                "each took effect although the gateway gave up waiting or could not read the answer")
    }

    @Test("pause, resume, status, lock and unlock reach their daemons; mindset times are ISO 8601")
    func adminControl() async throws {
        let h = try APIHarness()
        let paused = Shared<[String?]>([])
        let router = try await FakeDaemon("routerd", in: h) { registry in
            registry.registerSync(Methods.routerPause, PauseRequest.self) { request, _ in
                paused.withLock { $0.append(request.reason) }
                return TradingSwitchState(enabled: false, reason: request.reason, changedAt: APIHarness.start)
            }
            registry.registerSync(Methods.routerResume, EmptyBody.self) { _, _ in
                TradingSwitchState(enabled: true, reason: nil, changedAt: APIHarness.start)
            }
        }
        let locks = Shared<[String]>([])
        let mindset = try await FakeDaemon("mindsetd", in: h) { registry in
            struct Reason: Codable, Sendable { var reason: String }
            @Sendable func snapshot(_ locked: Bool, _ reason: String?) -> JSONValue {
                var fields: [String: JSONValue] = ["emotionState": .string(locked ? "LOCKED" : "CALM"), "dailyPnl": .string("-1.50"),
                                                   "dayStart": .number(1_899_936_000),
                                                   "recentTransitions": .array([.object(["from": .string("CALM"), "to": .string("LOCKED"),
                                                                                          "reason": .string("admin: x"), "at": .number(1_900_000_000.5)])])]
                if let reason { fields["lockReason"] = .string("admin: \(reason)") }
                return .object(fields)
            }
            registry.registerSync(Methods.mindsetLock, Reason.self) { request, _ in
                locks.withLock { $0.append("lock \(request.reason)") }
                return snapshot(true, request.reason)
            }
            registry.registerSync(Methods.mindsetUnlock, Reason.self) { request, _ -> JSONValue in
                locks.withLock { $0.append("unlock \(request.reason)") }
                throw IPCError(.conflict, "locked by the daily loss limit: only the daily reset lifts it")
            }
            registry.registerSync(Methods.mindsetState, EmptyBody.self) { _, _ in snapshot(false, nil) }
        }
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let pro = try await h.token(owner: "pat", tier: .pro)
        let results = try await h.app.test(.router) { client in
            [
                try await client.call(.post, "/api/admin/pause", token: admin, json: #"{"reason":"maintenance"}"#),
                try await client.call(.post, "/api/admin/pause", token: admin),
                try await client.call(.post, "/api/admin/resume", token: admin),
                try await client.call(.get, "/api/admin/status", token: admin),
                try await client.call(.post, "/api/admin/mindset/lock", token: admin, json: #"{"reason":"stepping away"}"#),
                try await client.call(.post, "/api/admin/mindset/lock", token: admin, json: #"{"reason":"  "}"#),
                try await client.call(.post, "/api/admin/mindset/unlock", token: admin),
                try await client.call(.get, "/api/mindset", token: pro),
                try await client.call(.post, "/api/admin/pause", token: pro),
            ]
        }
        await router.stop()
        await mindset.stop()
        #expect(results.map(\.status.code) == [200, 200, 200, 200, 200, 422, 409, 200, 403], "\(results.map { String(buffer: $0.body) })")
        #expect(paused.withLock { $0 }.first == "maintenance")
        #expect((paused.withLock { $0 }.last ?? nil)?.hasPrefix("paused by admin bgb_") == true)
        #expect(try results[2].json()["enabled"] as? Bool == true)
        let services = try #require(try results[3].json()["services"] as? [String: [String: Any]])
        #expect(services["routerd"]?["state"] as? String == "up")
        #expect(services["routerd"]?["version"] as? String == "9.9.9")
        #expect((services["routerd"]?["counters"] as? [String: String])?["ticks"] == "7")
        #expect(services["arsenald"]?["state"] as? String == "down")
        #expect(services["gateway"]?["version"] as? String == BagbotVersion.current)
        let locked = try results[4].json()
        #expect(locked["lockReason"] as? String == "admin: stepping away")
        #expect(locked["dayStart"] as? String == "2030-03-17T00:00:00.000Z")
        #expect((locked["recentTransitions"] as? [[String: Any]])?.first?["at"] as? String == "2030-03-17T17:46:40.500Z")
        #expect(locked["dailyPnl"] as? String == "-1.50")
        #expect(results[6].errorCode == "conflict")
        #expect(locks.withLock { $0 }.count == 2, "the blank reason never reached mindsetd")
        #expect(locks.withLock { $0 }.last?.hasPrefix("unlock unlocked by admin bgb_") == true)
        #expect(results[8].errorCode == "admin_required")
    }

    @Test("/healthz says up or down per process, nothing else")
    func healthz() async throws {
        let h = try APIHarness()
        let router = try await FakeDaemon("routerd", in: h) { _ in }
        let response = try await h.app.test(.router) { client in try await client.call(.get, "/healthz") }
        await router.stop()
        #expect(response.status == .serviceUnavailable)
        let json = try response.json()
        #expect(json["status"] as? String == "degraded")
        #expect(json["services"] as? [String: String] == ["gateway": "up", "routerd": "up", "mindsetd": "down", "arsenald": "down"])
        #expect(Set(json.keys) == ["status", "services"])
    }
}
