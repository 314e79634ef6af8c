import ArgumentParser
import Foundation
import Logging
import BacktestCore
import BagbotRuntime

/// `bagbot backtest`: try strategies and parameters on recorded ticks before enabling them live.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Run recorded ticks through the strategies, the mindset rules and the paper fill model in one process; print a report.",
        discussion: """
            Reads the same bagbot.yaml as the daemons (--config; built-in defaults without one). Examples:
              bagbot backtest --data ../shared/data/btcusdt-trades-20200222.csv --strategy micro_trend
              bagbot backtest --data FILE --set micro_trend.momentum_window=10 --csv trades.csv
            """)

    @Option(help: "A tick file (HistData quotes, tardis.dev trades or Binance trades CSV); repeat for several, merged in market time.")
    var data: [String] = []

    @Option(help: "Run this strategy alone (enabled, every other disabled).")
    var strategy: String?

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "A strategy parameter (micro_trend.momentum_window=10) or any configuration key (mindset.daily_loss_limit=500).",
        valueName: "strategy.param=value"))
    var settings: [String] = []

    @Option(help: "Start at this market time (ISO 8601, e.g. 2020-02-22T00:30:00Z, or a date).")
    var from: String?

    @Option(help: "Stop after this market time (ISO 8601, or a date: up to its end).")
    var to: String?

    @Option(help: "Write the fills here as CSV, one per line.")
    var csv: String?

    @Option(help: "Write the report here as JSON.")
    var json: String = "backtest-report.json"

    @Option(help: "Path of bagbot.yaml (default: the built-in defaults).")
    var config: String?

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data FILE is required (at least one tick file)") }
        for file in data where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("--data \(file): no such readable file")
        }
        if let from, MarketTimeArgument.parse(from, endOfDay: false) == nil { throw ValidationError("--from \(from): not an ISO 8601 time or date") }
        if let to, MarketTimeArgument.parse(to, endOfDay: true) == nil { throw ValidationError("--to \(to): not an ISO 8601 time or date") }
    }

    func run() async throws {
        LogSetup.bootstrap(level: .warning, format: .plain)
        let plan: Backtest.Plan
        do {
            let overrides = try Backtest.overrides(strategy: strategy, settings: settings)
            let loaded = try ConfigLoader.load(path: config, overrides: overrides, sections: Backtest.sections)
            let start = from.flatMap { MarketTimeArgument.parse($0, endOfDay: false) }
            let end = to.flatMap { MarketTimeArgument.parse($0, endOfDay: true) }
            if let start, let end, start > end { throw BacktestError("--from is after --to") }
            plan = Backtest.Plan(files: data, from: start, to: end, config: loaded)
        } catch {
            StandardError.write("bagbot backtest: \(error)\n")
            throw ExitCode(2)
        }
        // The trade path's own lines (each order placed) would bury the report: only its errors are shown.
        var logger = Logger(label: "backtest")
        logger.logLevel = .error
        let result: Backtest.Result
        do {
            result = try await Backtest.run(plan, logger: logger)
        } catch {
            StandardError.write("bagbot backtest: \(error)\n")
            throw ExitCode(1)
        }
        StandardOutput.print(result.report.text)
        try result.report.json().write(to: URL(fileURLWithPath: json), options: .atomic)
        StandardOutput.print("Report: \(json)")
        if let csv {
            try BacktestTradesCSV.render(result.fills).write(toFile: csv, atomically: true, encoding: .utf8)
            StandardOutput.print("Fills: \(csv) (\(result.fills.count))")
        }
    }
}

/// `--from`/`--to`: an ISO 8601 time (with or without fractional seconds) or a date (its start, or for `--to`
/// its last instant), UTC unless the text says otherwise.
enum MarketTimeArgument {
    static func parse(_ text: String, endOfDay: Bool) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        formatter.formatOptions = [.withFullDate]
        guard let day = formatter.date(from: text) else { return nil }
        return endOfDay ? day.addingTimeInterval(86_400 - 0.000_001) : day
    }
}
