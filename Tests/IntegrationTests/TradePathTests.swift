import Foundation
import BagbotTestSupport
import BagbotDomain
import BagbotIPC
import GRDB
import NIOCore
import Testing

/// The real binaries, the real replay, a real SQLite file: the trade path end to end, and what happens
/// when a daemon dies. Serialized: each test runs four processes on a 2-core machine.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct TradePathTests {
    @Test("the replay produces orders and fills in bagbot.db, readable through the gateway")
    func replayProducesOrdersAndFills() async throws {
        try await TestSystem.with { system in
            try system.start()
            try await system.waitUntil("two filled orders") { try system.count("SELECT COUNT(*) FROM fills") >= 2 }

            let orders = try system.orders()
            #expect(Set(orders.map(\.clientOrderId)).count == orders.count, "client order ids are unique")
            #expect(orders.allSatisfy { $0.clientOrderId.hasPrefix("bb-") })
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id NOT IN (SELECT client_order_id FROM orders)") == 0)
            #expect(try system.count("SELECT COUNT(*) FROM orders o WHERE status = 'filled' AND NOT EXISTS (SELECT 1 FROM fills f WHERE f.client_order_id = o.client_order_id)") == 0)
            #expect(try system.count("SELECT COUNT(*) FROM order_events WHERE status = 'pending_new'") >= 2,
                    "every order was persisted as pending_new before it was sent")

            // The gateway starts last and may still be binding when the first fills are in.
            try await system.waitUntil("the gateway to answer", timeout: .seconds(30)) { (try? await system.get("/healthz")) != nil }
            let health = try await system.get("/healthz")
            #expect(health.status == 200, "healthz: \(String(decoding: health.body, as: UTF8.self))")
            let all = try JSONDecoder().decode(JSONValue.self, from: health.body)
            guard case .object(let top) = all, case .object(let services)? = top["services"] else {
                Issue.record("healthz body is not an object with services")
                return
            }
            #expect(Set(services.keys) == ["gateway", "mindsetd", "arsenald", "routerd"])

            // arsenald's clients busy-poll for their replies from mindsetd and routerd (other processes): the
            // wiring (socket watched, polling armed per request) works. Whether a spin catches its reply or
            // runs out of budget depends on the machine's load, so both endings count.
            if System.coreCount > 1 {
                let arsenald = try #require(await system.health("arsenald"))
                let spins = (Int(arsenald.details["busy_poll_replies"] ?? "") ?? 0)
                    + (Int(arsenald.details["busy_poll_budget_spent"] ?? "") ?? 0)
                #expect(spins >= 1, "arsenald never busy-polled for a reply: \(arsenald.details)")
            }

            let listed = try await system.get("/api/orders?limit=1000", token: system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(listed.status == 200)
            let response = try JSONDecoder().decode(OrdersListing.self, from: listed.body)
            #expect(response.orders.count >= orders.count)
            let positions = try await system.get("/api/positions", token: system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(positions.status == 200)

            #expect(try await system.get("/api/orders").status == 401)
            #expect(try await system.get("/api/orders", token: "bgb_" + String(repeating: "A", count: 43)).status == 401)
        }
    }

    @Test("kill -9 of routerd: arsenald reports it, drops signals instead of queueing, reconnects, and trading resumes")
    func routerKilledMidRun() async throws {
        try await TestSystem.with { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("a first order") { try system.count("SELECT COUNT(*) FROM orders") >= 1 }

            await system.killHard("routerd")
            let killedAt = Date()
            try await system.waitUntil("arsenald to report routerd disconnected", timeout: .seconds(10)) {
                guard let health = await system.health("arsenald") else { return false }
                return health.status == "degraded" && health.peers["routerd"] != "connected"
            }
            // Nothing is sent while routerd is down, and nothing accumulates to be sent later.
            try await Task.sleep(for: .seconds(2))
            let before = try system.orders()

            try system.start("routerd")
            let restartedAt = Date()
            try await system.waitUntil("arsenald to reconnect to routerd", timeout: .seconds(30)) {
                guard let health = await system.health("arsenald") else { return false }
                return health.peers["routerd"] == "connected" && health.peers["routerd-stream"] == "connected"
            }
            try await system.waitUntil("new orders after the restart") { try system.orders().count > before.count }

            let after = try system.orders()
            #expect(Set(after.map(\.clientOrderId)).count == after.count, "no order duplicated")
            #expect(Set(before.map(\.clientOrderId)).isSubset(of: Set(after.map(\.clientOrderId))), "no order lost")
            let duringOutage = after.filter { $0.createdAt > killedAt && $0.createdAt < restartedAt }
            #expect(duringOutage.isEmpty, "no order was created while routerd was down")
            let burst = after.filter { $0.createdAt >= restartedAt && $0.createdAt < restartedAt.addingTimeInterval(0.5) }
            #expect(burst.count <= 1, "no burst of queued signals on reconnect (got \(burst.count) orders in the first 0.5 s)")
            // Orders keep flowing (each is pending_new for an instant); those of the killed run must all be settled.
            let killedRun = after.filter { $0.createdAt < restartedAt }
            #expect(killedRun.allSatisfy { !["pending_new", "sent", "unknown"].contains($0.status) }, "every order was settled")
        }
    }

    /// What the test reads of `mindset.state`.
    struct MindsetFigures: Decodable, Sendable {
        var trades: Int
        var dailyPnl: ExactDecimal
        var dayStart: Date?
    }

    /// The trades routerd's fills closed on or after `dayStart`: their count and P&L, as mindsetd must count them.
    func closedTrades(_ system: TestSystem, since dayStart: Date?) throws -> (count: Int, pnl: ExactDecimal) {
        let rows = try system.database().read { db in
            try Row.fetchAll(db, sql: "SELECT strategy_id, symbol, side, quantity, price, fee, time FROM fills ORDER BY sequence")
        }
        var books: [String: PositionBook] = [:]
        var count = 0
        var pnl = ExactDecimal.zero
        for row in rows {
            let key = "\(row["strategy_id"] as String? ?? "")|\(row["symbol"] as String)"
            let fill = Fill(fillId: "-", clientOrderId: "-", venue: .paper, symbol: row["symbol"], side: Side(rawValue: row["side"])!,
                            quantity: ExactDecimal(row["quantity"] as String)!, price: ExactDecimal(row["price"] as String)!,
                            fee: ExactDecimal(row["fee"] as String)!, time: row["time"], strategyId: row["strategy_id"], requestId: nil)
            guard let closed = try books[key, default: PositionBook()].apply(fill) else { continue }
            if let dayStart, fill.time < dayStart { continue }
            count += 1
            pnl = try pnl + closed.pnl
        }
        return (count, pnl)
    }

    /// A daily reset 20 hours of market time away: at 2000× the replay's market time runs a day in 43 s, and a
    /// reset crossed during the test would start a day with no trade closed yet (the test then depended on the
    /// hour it ran at).
    static var resetFarAhead: String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "mindset:\n  daily_reset_utc: \"\(formatter.string(from: Date().addingTimeInterval(20 * 3_600)))\"\n"
    }

    @Test("kill -9 of arsenald with trades in flight: mindsetd counts every trade routerd's fills closed, once")
    func arsenalKilledLosesNoTrade() async throws {
        try await TestSystem.with(speed: "2000", extraConfig: Self.resetFarAhead) { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("a closed trade") { try system.count("SELECT COUNT(*) FROM fills") >= 3 }
            await system.killHard("arsenald")
            // The orders arsenald placed just before it died fill and close trades at routerd; nobody sends them.
            try await system.waitUntil("mindsetd to count every closed trade in routerd's fill log", timeout: .seconds(30)) {
                let figures = try await system.call("mindsetd", Methods.mindsetState, as: MindsetFigures.self)
                let expected = try closedTrades(system, since: figures.dayStart)
                return figures.trades == expected.count && figures.dailyPnl == expected.pnl && expected.count >= 1
            }
            let before = try system.count("SELECT COUNT(*) FROM fills")
            try system.start("arsenald")
            try await system.waitUntil("more fills after arsenald is back") { try system.count("SELECT COUNT(*) FROM fills") >= before + 2 }
            await system.stop("arsenald")
            try await system.waitUntil("mindsetd to count them too, and nothing twice", timeout: .seconds(30)) {
                let figures = try await system.call("mindsetd", Methods.mindsetState, as: MindsetFigures.self)
                let expected = try closedTrades(system, since: figures.dayStart)
                return figures.trades == expected.count && figures.dailyPnl == expected.pnl
            }
        }
    }

    @Test("with mindsetd down nothing is approved (fail closed); when it comes back trading starts")
    func mindsetDownBlocksEverything() async throws {
        try await TestSystem.with { system in
            try system.start(["routerd", "arsenald"])
            try await system.waitUntil("signals blocked for want of mindsetd") {
                guard let health = await system.health("arsenald") else { return false }
                return Int(health.details["blocked_mindset_unavailable"] ?? "0") ?? 0 >= 1
            }
            let health = try #require(await system.health("arsenald"))
            #expect(health.details["approved"] == "0")
            // Its log is read (the test reads it), so nothing was lost; the count is in every daemon's health.
            #expect(health.details["dropped_log_lines"] == "0")
            #expect(try system.count("SELECT COUNT(*) FROM orders") == 0, "no order without a mindset decision")
            #expect(system.log("arsenald").contains("failing closed"))

            try system.start("mindsetd")
            try await system.waitUntil("orders once mindsetd is up") { try system.count("SELECT COUNT(*) FROM orders") >= 1 }
        }
    }

    @Test("a bad configuration value stops a daemon with exit 2, naming the file, key and reason")
    func badConfigurationExits() async throws {
        try await TestSystem.with(extraConfig: "mindset:\n  daily_loss_limit: lots\n") { system in
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: TestSystem.binaries + "/mindsetd")
            process.arguments = ["--config", system.configPath]
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 2)
            #expect(message.contains(system.configPath))
            #expect(message.contains("mindset.daily_loss_limit"))
            #expect(message.contains("not an exact decimal"))
        }
    }
}

struct OrdersListing: Decodable {
    struct Order: Decodable {
        let clientOrderId: String
        let status: String
    }
    let orders: [Order]
}
