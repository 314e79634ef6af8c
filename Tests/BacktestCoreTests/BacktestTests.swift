import Foundation
import Logging
import Testing
import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import ArsenalCore
@testable import BacktestCore

@Suite("bagbot backtest")
struct BacktestTests {
    static func plan(_ files: [String], strategy: String? = nil, settings: [String] = [], from: Date? = nil, to: Date? = nil) throws -> Backtest.Plan {
        let overrides = try Backtest.overrides(strategy: strategy, settings: settings)
        return Backtest.Plan(files: files, from: from, to: to, config: try ConfigLoader.load(path: nil, overrides: overrides, sections: Backtest.sections))
    }

    /// HistData rows (EST) one second apart from 2020-01-01 17:00:00, each mid with a spread of 2 pips.
    static func eurusdFile(_ mids: [String], in dir: TempDir) throws -> String {
        let rows = mids.enumerated().map { index, mid -> String in
            let price = ExactDecimal(mid)!
            let bid = try! price - ExactDecimal("0.00001")!
            let ask = try! price + ExactDecimal("0.00001")!
            return String(format: "20200101 17%02d%02d000", index / 60, index % 60) + ",\(bid),\(ask),0"
        }
        return try dir.write("eurusd-test.csv", rows.joined(separator: "\n") + "\n")
    }

    /// A steady chop of ±10 pips around 1.1000, then a dip of 25 pips (z ≈ −2.5) and the way back to the mean:
    /// Mean Reversion buys the dip at its ask and sells the return at its bid.
    @Test func knownAnswerOnAHandMadeDip() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let chop = (0..<120).map { $0 % 2 == 0 ? "1.09900" : "1.10100" }
        let file = try Self.eurusdFile(chop + ["1.09750", "1.10000", "1.10000"], in: dir)
        let result = try await Backtest.run(try Self.plan([file], strategy: "mean_reversion",
                                                          settings: ["router.paper.fee_bps=0", "router.paper.slippage_bps=0"]),
                                            logger: quietLogger)
        try #require(result.fills.count == 2, "fills: \(result.fills)")
        let (buy, sell) = (result.fills[0], result.fills[1])
        #expect(buy.side == .buy && buy.price == ExactDecimal("1.09751")!, "bought the dip at its ask")
        #expect(sell.side == .sell && sell.price == ExactDecimal("1.09999")!, "sold the return at its bid")
        #expect(buy.quantity == sell.quantity && buy.strategyId == "mean_reversion")
        let expected = try (sell.price - buy.price).times(buy.quantity)
        #expect(result.report.account.netPnl == expected)
        #expect(result.report.trades == 1 && result.report.wins == 1)
        #expect(result.report.performance.first?.symbols.first?.netPnl == expected)
        #expect(result.report.ticks == 123)
    }

    /// The same inputs give the same report and the same CSV, byte for byte (both real files, both strategies).
    @Test(.enabled(if: SharedData.exists(SharedData.btcusdt) && SharedData.exists(SharedData.eurusd)))
    func sameInputsSameOutputs() async throws {
        // Costs of 1 bp so that the real files trade (at the live venues' rates they do not): what is compared is the
        // path, not the economics.
        let plan = try Self.plan([SharedData.btcusdt, SharedData.eurusd], settings: ["mean_reversion.enabled=true", "router.paper.fee_bps=1"])
        let first = try await Backtest.run(plan, logger: quietLogger)
        let second = try await Backtest.run(plan, logger: quietLogger)
        #expect(first.report.fills > 0, "the real files trade")
        #expect(first.report == second.report)
        #expect(try first.report.json() == second.report.json())
        #expect(try BacktestTradesCSV.render(first.fills) == BacktestTradesCSV.render(second.fills))
        #expect(first.report.ticks == 9_999 + 9_500)
    }

    /// `--from`/`--to` cut the session to market time; the mindset's blocks are reported by code.
    @Test(.enabled(if: SharedData.exists(SharedData.btcusdt)))
    func windowAndBlocks() async throws {
        let from = Date(timeIntervalSince1970: 1_582_331_400) // 2020-02-22T00:30:00Z
        let to = from.addingTimeInterval(3_600)
        let result = try await Backtest.run(try Self.plan([SharedData.btcusdt], settings: ["mean_reversion.enabled=true", "mindset.max_consecutive_losses=1"],
                                                          from: from, to: to), logger: quietLogger)
        let report = result.report
        #expect(report.ticks > 0 && report.ticks < 9_999)
        #expect(report.from.map { $0 >= from } == true && report.to.map { $0 <= to } == true)
        #expect(result.fills.allSatisfy { $0.time >= from && $0.time <= to })
        #expect(report.sources.first?.ticks == report.ticks)
        // One loss locks the mindset: later entries are blocked, and the report says so.
        if report.trades - report.wins >= 1 {
            #expect((report.blocked["locked"] ?? 0) > 0 || report.stateChanges.contains { $0.to == "LOCKED" })
        }
    }

    @Test func strategyAndSettingsBecomeConfiguration() throws {
        #expect(try Backtest.overrides(strategy: "mean_reversion", settings: ["micro_trend.momentum_window=10", "mindset.daily_loss_limit=500"])
            == ["arsenal.micro_trend.enabled=false", "arsenal.mean_reversion.enabled=true",
                "arsenal.micro_trend.momentum_window=10", "mindset.daily_loss_limit=500"])
        #expect(throws: BacktestError.self) { try Backtest.overrides(strategy: "nope", settings: []) }
        #expect(throws: BacktestError.self) { try Backtest.overrides(strategy: nil, settings: ["momentum_window"]) }
        // A value out of a parameter's bounds is refused by the configuration, naming the key.
        #expect(throws: ConfigError.self) { _ = try Self.plan([], settings: ["micro_trend.momentum_window=0"]) }
    }

    @Test func equityCurveDrawdownAndSharpe() {
        var curve = EquityCurve()
        let start = Date(timeIntervalSince1970: 0)
        for (minute, equity) in [100, 104, 101, 103, 99, 105].enumerated() {
            curve.observe(ExactDecimal(equity)!, at: start.addingTimeInterval(Double(minute) * 60))
        }
        #expect(curve.start == 100 && curve.last == 105 && curve.change == 5)
        #expect(curve.maxDrawdown == 5, "104 → 99")
        // Changes 4, −3, 2, −4, 6: mean 1, sample standard deviation √(76/4) = 4.358…
        let sharpe = try! #require(curve.sharpePerDay)
        #expect(abs(sharpe - 1 / (76.0 / 4).squareRoot() * 1_440.0.squareRoot()) < 1e-9)
        // Minutes without ticks are minutes without change; a gap beyond a session break is not a minute's change.
        var gaps = EquityCurve()
        for (minute, equity) in [(0, 100), (1, 101), (4, 104)] { gaps.observe(ExactDecimal(equity)!, at: start.addingTimeInterval(Double(minute) * 60)) }
        let changes = [1.0, 0, 0, 3], mean = 1.0
        let deviation = (changes.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        #expect(abs(try! #require(gaps.sharpePerDay) - mean / deviation * 1_440.0.squareRoot()) < 1e-9)
        var sessions = EquityCurve()
        for (minute, equity) in [(0, 100), (1, 101), (200, 150), (201, 152)] {
            sessions.observe(ExactDecimal(equity)!, at: start.addingTimeInterval(Double(minute) * 60))
        }
        // Changes 1 and 2 only: the jump from 101 to 150 across the break is not a minute's change.
        #expect(abs(try! #require(sessions.sharpePerDay) - 1.5 / (0.5).squareRoot() * 1_440.0.squareRoot()) < 1e-9)
        var flat = EquityCurve()
        flat.observe(100, at: start)
        flat.observe(100, at: start.addingTimeInterval(60))
        flat.observe(100, at: start.addingTimeInterval(120))
        #expect(flat.sharpePerDay == nil && flat.maxDrawdown == 0)
    }

    @Test func tradesCSVCarriesRealisedPnlAndPosition() throws {
        let time = Date(timeIntervalSince1970: 1_582_329_600)
        func fill(_ id: String, _ side: Side, _ quantity: ExactDecimal, _ price: ExactDecimal, sequence: Int64) -> Fill {
            Fill(fillId: id, clientOrderId: "bb-bt-\(sequence)", venue: .paper, symbol: "BTCUSDT", side: side, quantity: quantity, price: price,
                 fee: 0, time: time, strategyId: "micro_trend", requestId: "bt-\(sequence)", sequence: sequence)
        }
        let csv = try BacktestTradesCSV.render([fill("a", .buy, 0.01, 9_700, sequence: 1), fill("b", .sell, 0.01, 9_710.5, sequence: 2)])
        #expect(csv == """
            time,strategy,symbol,side,quantity,price,fee,realized_pnl,position_after,client_order_id
            2020-02-22T00:00:00.000Z,micro_trend,BTCUSDT,buy,0.01,9700,0,,0.01,bb-bt-1
            2020-02-22T00:00:00.000Z,micro_trend,BTCUSDT,sell,0.01,9710.5,0,0.105,0,bb-bt-2

            """)
    }
}
