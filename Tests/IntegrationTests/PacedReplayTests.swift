import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import GRDB
import Testing

/// A max-speed replay through the four real daemons: paced by arsenald, it drops no tick, gives the same fills
/// every run, and the same fills as `bagbot backtest` over the same file (docs/ipc.md, "Paced replay").
extension TradePathTests {
    /// What identifies a fill apart from ids and wall-clock times: the same trades have the same of these.
    struct Trade: Equatable, CustomStringConvertible {
        var strategy: String
        var symbol: String
        var side: String
        var quantity: ExactDecimal
        var price: ExactDecimal
        var description: String { "\(strategy) \(side) \(quantity) \(symbol) @ \(price)" }
    }

    /// Both strategies, at 1 bp a side (at the live rates, the default, they barely trade the file): the replay's
    /// and the backtest's configuration alike.
    static let bothStrategies = "router:\n  paper:\n    fee_bps: 1\narsenal:\n  mean_reversion:\n    enabled: true\n"

    /// One replay of `file` at max speed, to its end; the fills in the log's order and both daemons' dropped ticks.
    func pacedReplay(_ file: String) async throws -> (trades: [Trade], dropped: [String]) {
        try await TestSystem.with(speed: "max", files: [file], extraConfig: Self.bothStrategies) { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("arsenald to have every tick", timeout: .seconds(120)) {
                let health = try? await system.call("arsenald", Methods.health, as: HealthReport.self)
                return health?.details["ticks"] == "9999"
            }
            // The last tick's orders settle before arsenald acknowledges it; a moment for their rows.
            try await system.waitUntil("every order final", timeout: .seconds(10)) {
                try system.count("SELECT COUNT(*) FROM orders WHERE status NOT IN ('filled', 'rejected', 'cancelled', 'expired')") == 0
            }
            let router = try await system.call("routerd", Methods.health, as: HealthReport.self)
            let arsenal = try await system.call("arsenald", Methods.health, as: HealthReport.self)
            let trades = try await system.database().read { db in
                try Row.fetchAll(db, sql: "SELECT strategy_id, symbol, side, quantity, price FROM fills ORDER BY sequence").map {
                    Trade(strategy: $0["strategy_id"], symbol: $0["symbol"], side: $0["side"],
                          quantity: ExactDecimal($0["quantity"] as String)!, price: ExactDecimal($0["price"] as String)!)
                }
            }
            return (trades, [router.details["dropped_ticks"] ?? "?", arsenal.details["dropped_ticks"] ?? "?"])
        }
    }

    /// `bagbot backtest` as a trader runs it: the binary, its fills CSV.
    func backtestTrades(_ file: String) throws -> [Trade] {
        let directory = try TempDir()
        defer { directory.remove() }
        let config = try directory.write("bagbot.yaml", Self.bothStrategies)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: TestSystem.binaries + "/bagbot")
        process.arguments = ["backtest", "--data", file, "--config", config, "--csv", directory.file("fills.csv"), "--json", directory.file("report.json")]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("bagbot backtest exited \(process.terminationStatus)") }
        let lines = try String(contentsOfFile: directory.file("fills.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Trade(strategy: fields[1], symbol: fields[2], side: fields[3], quantity: ExactDecimal(fields[4])!, price: ExactDecimal(fields[5])!)
        }
    }

    @Test("a max-speed replay is paced: no tick dropped, the same fills every run, and the same as bagbot backtest",
          .enabled(if: TestSystem.sharedData != nil))
    func pacedReplayIsDeterministic() async throws {
        let file = try #require(TestSystem.sharedData) + "/btcusdt-trades-20200222.csv"
        let first = try await pacedReplay(file)
        let second = try await pacedReplay(file)
        #expect(first.dropped == ["0", "0"] && second.dropped == ["0", "0"], "dropped ticks (routerd, arsenald): \(first.dropped), \(second.dropped)")
        #expect(first.trades.count >= 4, "both strategies trade the real file: \(first.trades)")
        #expect(first.trades == second.trades)
        let backtest = try backtestTrades(file)
        #expect(backtest == first.trades, "backtest \(backtest)\nreplay \(first.trades)")
    }
}
