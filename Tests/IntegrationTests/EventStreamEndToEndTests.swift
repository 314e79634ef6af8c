import Foundation
import BagbotTestSupport
import Testing

/// `GET /api/events` and `GET /api/signals` against the four real daemons replaying real ticks, over real HTTP on
/// loopback: a trade's signal, decision, order and fill arrive in that order; a client that disconnects and resumes with
/// `Last-Event-ID` misses nothing and gets nothing twice; the signal is listed with its outcome.
@Suite("Event stream end to end", .serialized)
struct EventStreamEndToEndTests {
    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// The first fill whose order, decision and signal are all in `events`, with their positions.
    static func tradeInOrder(_ events: [EventStreamClient.Event]) -> (signal: Int, decision: Int, order: Int, fill: Int, requestId: String)? {
        for (fillIndex, fill) in events.enumerated() where fill.event == "fill" {
            guard let clientOrderId = fill.json["clientOrderId"] as? String, let requestId = fill.json["requestId"] as? String,
                  let order = events.firstIndex(where: { $0.event == "order" && $0.json["clientOrderId"] as? String == clientOrderId }),
                  let signal = events.firstIndex(where: { $0.event == "signal" && $0.json["requestId"] as? String == requestId }),
                  let decision = events.firstIndex(where: {
                      $0.event == "decision" && ($0.json["signal"] as? [String: Any])?["requestId"] as? String == requestId
                  }) else { continue }
            return (signal, decision, order, fillIndex, requestId)
        }
        return nil
    }

    @Test("signal → decision → order → fill in order; disconnect and resume with Last-Event-ID; /api/signals lists it")
    func streamResumeAndSignals() async throws {
        try await TestSystem.with { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(90)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            let first = try await EventStreamClient.connect(port: system.port, token: admin)
            #expect(first.status == 200, "\(first.errorBody ?? "")")
            #expect(first.events.isEmpty || first.events[0].event == "daemons")
            // The strategies trade on the replay; a manual order now and then makes sure a trade happens.
            var orders = 0
            try await system.waitUntil("a trade's signal, decision, order and fill on the stream", timeout: .seconds(180), every: .seconds(2)) {
                if Self.tradeInOrder(first.events) != nil { return true }
                orders += 1
                if orders % 5 == 1 {
                    _ = try? await system.send("POST", "/api/orders", token: admin, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#,
                                               headers: ["Idempotency-Key": "sse-\(orders)"])
                }
                return false
            }
            // In causal order although they come on two connections: arsenald's signal then decision, then routerd's order
            // then fill (docs/api.md, "Events": routerd's events of a trade wait for its decision).
            let trade = try #require(Self.tradeInOrder(first.events))
            #expect(trade.signal < trade.decision, "\(first.events)")
            #expect(trade.decision < trade.order, "\(first.events)")
            #expect(trade.order < trade.fill)
            #expect(first.events.first?.event == "daemons")
            let daemons = first.events.first?.json as? [String: String]
            #expect(daemons?.keys.sorted() == ["arsenald", "mindsetd", "routerd"])
            // Ids strictly increasing by one across every kind, ticks included.
            let ids = first.numbered.compactMap { UInt64($0.id ?? "") }
            #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 + 1 == $1 }, "\(ids.prefix(50))")
            #expect(first.numbered.contains { $0.event == "tick" })
            let fill = first.events[trade.fill].json
            #expect(fill["quantity"] is String && fill["price"] is String, "money as decimal strings: \(fill)")

            // Disconnect; events go on (sampled ticks at least); resume where the first connection stopped.
            await first.close()
            let last = try #require(first.numbered.last?.id)
            try await Task.sleep(for: .seconds(3))
            let second = try await EventStreamClient.connect(port: system.port, token: admin, lastEventId: last)
            #expect(second.status == 200)
            try await second.wait(for: "events after \(last)", timeout: .seconds(60)) { $0.numbered.count >= 5 }
            #expect(!second.events.contains { $0.event == "missed" })
            let resumed = second.numbered.compactMap { UInt64($0.id ?? "") }
            #expect(resumed.first == UInt64(last)! + 1, "no gap, no duplicate: \(last) then \(resumed.prefix(5))")
            #expect(zip(resumed, resumed.dropFirst()).allSatisfy { $0 + 1 == $1 })

            // A change of the mindset's state is a `mindset_state` event: mindsetd's transition, its time in ISO 8601.
            let lock = try await system.send("POST", "/api/admin/mindset/lock", token: admin, json: #"{"reason":"sse lock"}"#)
            #expect(lock.status == 200, "\(String(decoding: lock.body, as: UTF8.self))")
            try await second.wait(for: "the lock's mindset_state event", timeout: .seconds(30)) { client in
                client.events.contains { $0.event == "mindset_state" && $0.json["to"] as? String == "LOCKED" }
            }
            let locked = try #require(second.events.first { $0.event == "mindset_state" && $0.json["to"] as? String == "LOCKED" })
            #expect((locked.json["reason"] as? String)?.contains("sse lock") == true, "\(locked.json)")
            #expect((locked.json["at"] as? String)?.hasSuffix("Z") == true, "\(locked.json)")
            #expect(locked.id != nil)
            _ = try await system.send("POST", "/api/admin/mindset/unlock", token: admin, json: "{}")
            try await second.wait(for: "the unlock's mindset_state event", timeout: .seconds(30)) { client in
                client.events.contains { $0.event == "mindset_state" && $0.json["from"] as? String == "LOCKED" }
            }
            await second.close()

            // The trade's signal in arsenald's recent signals, with its outcome and order.
            let page = try await system.get("/api/signals?limit=1000", token: admin)
            #expect(page.status == 200, "\(String(decoding: page.body, as: UTF8.self))")
            let records = Self.json(page.body)["signals"] as? [[String: Any]] ?? []
            let record = records.first { ($0["signal"] as? [String: Any])?["requestId"] as? String == trade.requestId }
            #expect(record?["outcome"] as? String == "placed", "\(records.prefix(3))")
            #expect(record?["clientOrderId"] as? String == "bb-\(trade.requestId)")
            #expect((record?["decision"] as? [String: Any])?["approved"] as? Bool == true)
            let placedPage = try await system.get("/api/signals?outcome=placed&limit=5", token: admin)
            let placed = Self.json(placedPage.body)["signals"] as? [[String: Any]] ?? []
            #expect(!placed.isEmpty && placed.allSatisfy { $0["outcome"] as? String == "placed" })
        }
    }

    @Test("arsenald killed: the stream stays open and says daemon_down; restarted: daemon_up; the gateway stopped: it ends cleanly")
    func daemonDownAndUp() async throws {
        try await TestSystem.with { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(90)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            let stream = try await EventStreamClient.connect(port: system.port, token: admin)
            // /healthz is up once the gateway's route clients are; its event connections may follow a moment later:
            // each daemon the first notice says is down must then say daemon_up.
            try await stream.wait(for: "every daemon's events to reach the gateway", timeout: .seconds(60)) { client in
                guard let notice = client.events.first(where: { $0.event == "daemons" })?.json as? [String: String] else { return false }
                let upLater = Set(client.events.filter { $0.event == "daemon_up" }.compactMap { $0.json["daemon"] as? String })
                return notice.allSatisfy { $0.value == "up" || upLater.contains($0.key) }
            }
            await system.killHard("arsenald")
            try await stream.wait(for: "daemon_down arsenald", timeout: .seconds(30)) { client in
                client.events.contains { $0.event == "daemon_down" && $0.json["daemon"] as? String == "arsenald" }
            }
            #expect(try await system.get("/api/signals", token: admin).status == 503)
            try system.start("arsenald")
            try await stream.wait(for: "daemon_up arsenald", timeout: .seconds(90)) { client in
                guard let down = client.events.lastIndex(where: { $0.event == "daemon_down" && $0.json["daemon"] as? String == "arsenald" }) else {
                    return false
                }
                return client.events[down...].contains { $0.event == "daemon_up" && $0.json["daemon"] as? String == "arsenald" }
            }
            #expect(stream.ended == nil, "the stream stayed open")
            // The gateway stopping ends the open stream cleanly, and is not held up by it.
            let status = await system.stop("gateway")
            #expect(status == 0, "\(system.log("gateway").suffix(2_000))")
            try await stream.wait(for: "the stream to end with the gateway", timeout: .seconds(30)) { $0.ended != nil }
            #expect(stream.ended == "finished")
            #expect(stream.comments.contains { $0.contains("stopping") })
            await stream.close()
        }
    }
}
