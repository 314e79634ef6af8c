import Foundation
import Logging
import BacktestCore
import BagbotDomain
import BagbotRuntime
import RouterCore

// `bagbot backtest` end to end beside a bare parse of the same files (docs/performance.md, "Backtest"), round by
// round in one run: the bare parse reads each file and splits every line into numbers, nothing else; the
// backtest reads the same files into ticks and runs them through the strategies, the mindset engine and the
// paper venue, and writes nothing. `scripts/bench-backtest` makes the looped files and runs this.
//
//   swift build -c release --product backtest-benchmark --scratch-path .build-release
//   .build-release/release/backtest-benchmark --rounds 3 FILE...
//   .build-release/release/backtest-benchmark --only parse FILE...   (the tick reader alone, for profiling)

@main
struct BacktestBenchmark {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// Every line split at commas, every field read as a number (an integer, or a Double when it has a point
    /// or cannot be one): what any reader of these files must at least do. Returns lines and a checksum.
    static func bareParse(_ path: String) throws -> (lines: Int, checksum: Double) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        var lines = 0
        var checksum = 0.0
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var integer: Int64 = 0
            var fraction = 0.0
            var scale = 0.0
            var numeric = true
            func endField() {
                if numeric { checksum += scale > 0 ? Double(integer) + fraction : Double(integer) }
                (integer, fraction, scale, numeric) = (0, 0, 0, true)
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if scale > 0 {
                        scale /= 10
                        fraction += Double(byte - 48) * scale
                    } else {
                        integer = integer &* 10 &+ Int64(byte - 48)
                    }
                case UInt8(ascii: "."): scale = 1
                case UInt8(ascii: ","): endField()
                case 0x0A:
                    endField()
                    lines += 1
                case 0x0D, UInt8(ascii: " "), UInt8(ascii: "-"): break
                default: numeric = false
                }
            }
        }
        return (lines, checksum)
    }

    static func readTicks(_ paths: [String]) throws -> Int {
        var count = 0
        for path in paths {
            var reader = try ReplayReader(path: path, tradeSpreadBps: 1, tickSizes: RouterSettings().paper.symbols.mapValues(\.tickSize), mapped: true)
            while reader.next() != nil { count += 1 }
        }
        return count
    }

    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var rounds = 3
        var only: String?
        while let first = arguments.first, first.hasPrefix("--") {
            arguments.removeFirst()
            let value = arguments.isEmpty ? "" : arguments.removeFirst()
            switch first {
            case "--rounds": rounds = Int(value) ?? rounds
            case "--only": only = value
            default: throw BacktestError("unknown option \(first)")
            }
        }
        guard !arguments.isEmpty else { throw BacktestError("name the tick files to run") }
        if only == "parse" {
            let start = ContinuousClock.now
            let ticks = try readTicks(arguments)
            print("read \(ticks) ticks in \(String(format: "%.3f", seconds(ContinuousClock.now - start))) s")
            return
        }
        var logger = Logger(label: "backtest-benchmark")
        logger.logLevel = .error
        // Fees of 1 bp a side, as when the figures in docs/performance.md were first taken: at the live venues' rates
        // (the default) the strategies barely trade the files, and the run would measure a lighter workload.
        let config = try ConfigLoader.load(path: nil, overrides: ["router.paper.fee_bps=1"], sections: Backtest.sections)
        var bare: [Double] = []
        var backtest: [Double] = []
        var ticks = 0
        var lines = 0
        var report: BacktestReport?
        for _ in 0..<rounds {
            var start = ContinuousClock.now
            lines = try arguments.reduce(0) { $0 + (try bareParse($1)).lines }
            bare.append(seconds(ContinuousClock.now - start))
            start = ContinuousClock.now
            let result = try await Backtest.run(Backtest.Plan(files: arguments, config: config), logger: logger)
            backtest.append(seconds(ContinuousClock.now - start))
            ticks = result.report.ticks
            report = result.report
        }
        let bareRate = Double(lines) / median(bare)
        let backtestRate = Double(ticks) / median(backtest)
        print("| run | lines or ticks | median s | per second |")
        print("| --- | --- | --- | --- |")
        print("| bare parse (split into numbers) | \(lines) | \(String(format: "%.3f", median(bare))) | \(Int(bareRate)) |")
        print("| bagbot backtest (default strategies) | \(ticks) | \(String(format: "%.3f", median(backtest))) | \(Int(backtestRate)) |")
        print("ratio backtest / bare parse: \(String(format: "%.2f", backtestRate / bareRate)); rounds \(rounds)")
        if let report { print("orders \(report.ordersPlaced), fills \(report.fills), signals \(report.signals)") }
    }
}
