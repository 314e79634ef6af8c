import Foundation
import ArsenalCore
import BagbotDomain

// Ticks per second through the Micro Trend Follower in process (docs/performance.md, "Strategies"): the same
// ticks at window 10 and at window 10,000, round by round in one run, so their ratio shows whether the
// per-tick work depends on the window (it must not: O(1)).
//
//   swift build -c release --product strategy-benchmark --scratch-path .build-release
//   .build-release/release/strategy-benchmark --ticks 2000000 --rounds 7

@main
struct StrategyBenchmark {
    static func argument(_ name: String, default value: Int) -> Int {
        guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count,
              let number = Int(CommandLine.arguments[index + 1]) else { return value }
        return number
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// A seeded random walk of BTCUSDT quotes (cents, 1 bp spread), one tick per 10 ms of market time.
    static func ticks(_ count: Int) -> [Tick] {
        var random = SplitMix64(seed: 42)
        var cents: Int64 = 968_000
        let start = Date(timeIntervalSince1970: 1_582_329_600)
        return (0..<count).map { index in
            cents = max(100_000, cents + Int64(random.next() % 41) - 20)
            let bid = ExactDecimal(mantissa: Int128(cents), scale: 2)
            let ask = ExactDecimal(mantissa: Int128(cents + 97), scale: 2)
            return Tick(symbol: "BTCUSDT", time: start.addingTimeInterval(Double(index) / 100), bid: bid, ask: ask, last: bid,
                        volume: 0, sequence: UInt64(index), source: "benchmark")
        }
    }

    static func strategy(window: Int) -> any Strategy {
        var settings = StrategySettings<MicroTrendFollower.Tuning>()
        settings.basics.symbols = ["BTCUSDT"]
        settings.tuning.momentumWindow = window
        settings.tuning.volatilityWindow = window
        return MicroTrendStrategy(settings: settings)
    }

    /// Feeds every tick; an order "ends" at once, so the decision logic runs on every tick it may.
    static func run(_ ticks: [Tick], through strategy: any Strategy) -> (ticksPerSecond: Double, signals: Int) {
        var signals = 0
        var number = 0
        let start = ContinuousClock.now
        for tick in ticks {
            if strategy.onTick(tick, requestId: { number += 1; return "b-\(number)" }) != nil {
                signals += 1
                strategy.orderEnded(symbol: tick.symbol, role: .entry)
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(ticks.count) / seconds, signals)
    }

    static func main() {
        let count = argument("--ticks", default: 2_000_000)
        let rounds = argument("--rounds", default: 7)
        let data = ticks(count)
        if let index = CommandLine.arguments.firstIndex(of: "--profile-window"), index + 1 < CommandLine.arguments.count,
           let window = Int(CommandLine.arguments[index + 1]) {
            // For a profiler: one window size only.
            for _ in 0..<rounds { print(run(data, through: strategy(window: window))) }
            return
        }
        var small: [Double] = [], large: [Double] = []
        for round in 0...rounds {
            let (smallRate, smallSignals) = run(data, through: strategy(window: 10))
            let (largeRate, largeSignals) = run(data, through: strategy(window: 10_000))
            guard round > 0 else { continue }  // the first round warms up
            small.append(smallRate)
            large.append(largeRate)
            print(String(format: "round %d: window 10 %.2f M ticks/s (%d signals), window 10,000 %.2f M ticks/s (%d signals), ratio %.2f",
                         round, smallRate / 1e6, smallSignals, largeRate / 1e6, largeSignals, largeRate / smallRate))
        }
        print(String(format: "median of %d rounds of %d ticks: window 10 %.2f M ticks/s, window 10,000 %.2f M ticks/s, ratio %.2f (targets: ≥ 5 M/s, ratio ≥ 0.9)",
                     rounds, count, median(small) / 1e6, median(large) / 1e6, median(large) / median(small)))
    }
}
