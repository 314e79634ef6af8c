import Foundation
import BagbotTestSupport
import Testing

/// `bagbot backtest` as a trader runs it: a bad flag, setting or file is a clear message and an exit status, and
/// no report is written.
@Suite("bagbot backtest, the command")
struct BacktestCommandTests {
    func backtest(_ arguments: [String], in directory: TempDir) throws -> (status: Int32, output: String) {
        try BagbotCommand.run(["backtest"] + arguments, in: directory.path)
    }

    @Test("refusals: unknown strategy, out-of-range parameter, unreadable data, an unknown format, --from after --to")
    func refusals() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let ticks = try directory.write("eurusd-test.csv", "20200101 170000065,1.12120,1.12172,0\n")
        let notTicks = try directory.write("notes.csv", "hello,world\n")
        let cases: [(arguments: [String], status: Int32, says: String)] = [
            (["--data", ticks, "--strategy", "grid"], 2, "--strategy grid: no such strategy (registered: micro_trend, mean_reversion)"),
            (["--data", ticks, "--set", "mean_reversion.exit_z=0"], 2, "mean_reversion.exit_z"),
            (["--data", ticks, "--set", "window"], 2, "expected STRATEGY.PARAMETER=VALUE"),
            (["--data", directory.file("missing.csv")], 64, "no such readable file"),
            (["--data", notTicks], 1, "unrecognised format"),
            (["--data", ticks, "--from", "2020-01-02", "--to", "2020-01-01"], 2, "--from is after --to"),
            (["--data", ticks, "--from", "yesterday"], 64, "not an ISO 8601 time or date"),
        ]
        for refusal in cases {
            let (status, output) = try backtest(refusal.arguments, in: directory)
            #expect(status == refusal.status, "\(refusal.arguments): \(output)")
            #expect(output.contains(refusal.says), "\(refusal.arguments): \(output)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("backtest-report.json")), "no report after a refusal")
    }

    @Test("a run prints its report and writes the JSON report")
    func run() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let ticks = try directory.write("eurusd-test.csv", "20200101 170000065,1.12120,1.12172,0\n20200101 170001065,1.12122,1.12174,0\n")
        let (status, output) = try backtest(["--data", ticks, "--json", "report.json"], in: directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains("Backtest of 2 ticks"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("report.json")))) as? [String: Any]
        #expect(report?["ticks"] as? Int == 2)
    }
}
