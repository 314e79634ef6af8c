import Foundation
import Logging
import BagbotDomain
import BagbotIPC
import MindsetCore

// `mindset.evaluate` over IPC beside a bare `health` round trip, in one run (docs/performance.md, "Mindset
// decisions"). One IPCServer serves both, as mindsetd does: `health` answers a fixed report, `mindset.evaluate`
// goes through the real MindsetService (input checks, engine, state saved only when something but the clock
// changed) on a state directory of its own. The client calls from its own event loop, as arsenald does.
// Each round interleaves the two methods call by call; the medians of each round's p50 and their ratio are
// printed.
//
//   swift build -c release --product mindset-benchmark && .build/release/mindset-benchmark [--rounds 9] [--calls 3000]

func argument(_ name: String, default value: Int) -> Int {
    guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count,
          let number = Int(CommandLine.arguments[index + 1]) else { return value }
    return number
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func microseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
}

@main
struct MindsetBenchmark {
    static func main() async throws {
        let rounds = argument("--rounds", default: 9)
        let calls = argument("--calls", default: 3_000)
        let directory = FileManager.default.temporaryDirectory.path + "/bb-mindset-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "mindset-benchmark")
        logger.logLevel = .critical

        let service = MindsetService(rules: MindsetRules(MindsetSettings()), store: MindsetStore(stateDirectory: directory + "/state"),
                                     logger: logger)
        let server = IPCServer(serviceName: "mindsetd", configuration: IPCServerConfiguration(socketPath: directory + "/mindsetd.sock"),
                               logger: logger)
        server.registry.register(Methods.health, EmptyBody.self) { _, _ in
            HealthReport(service: "mindsetd", status: "ok", summary: "benchmark", uptimeSeconds: 0)
        }
        server.registry.register(Methods.mindsetEvaluate, TradeProposal.self) { proposal, _ in
            try await service.evaluate(proposal)
        }
        try await server.start()

        let client = IPCClient(ownService: "arsenald", peerService: "mindsetd",
                               configuration: IPCClientConfiguration(socketPath: directory + "/mindsetd.sock"), logger: logger)
        client.start()
        while !client.isConnected { try await Task.sleep(for: .milliseconds(1)) }

        var healthP50: [Double] = []
        var evaluateP50: [Double] = []
        try await withTaskExecutorPreference(client.executor) {
            var number = 0
            for round in 0...rounds {
                var health: [Double] = []
                var evaluate: [Double] = []
                // Interleaved call by call, so both see the same machine at the same moments.
                for _ in 0..<calls {
                    let healthStart = ContinuousClock.now
                    let _: HealthReport = try await client.call(Methods.health, EmptyBody())
                    health.append(microseconds(since: healthStart))
                    number += 1
                    let proposal = TradeProposal(strategyId: "micro_trend", symbol: "BTCUSDT", side: .buy, quantity: 0.01, price: 9_650.5,
                                                 time: Date(), strength: 1.4, confidence: 0.5, isEntry: true, requestId: "bench-\(number)")
                    let start = ContinuousClock.now
                    let decision: MindsetDecision = try await client.call(Methods.mindsetEvaluate, proposal)
                    evaluate.append(microseconds(since: start))
                    guard decision.approved else { fatalError("not approved: \(decision.reasons)") }
                }
                guard round > 0 else { continue }  // the first round warms up
                healthP50.append(percentile(health, 0.5))
                evaluateP50.append(percentile(evaluate, 0.5))
                print(String(format: "round %d: health p50 %.1f µs (p99 %.1f), evaluate p50 %.1f µs (p99 %.1f), ratio %.2f", round,
                             percentile(health, 0.5), percentile(health, 0.99), percentile(evaluate, 0.5), percentile(evaluate, 0.99),
                             percentile(evaluate, 0.5) / percentile(health, 0.5)))
            }
        }
        print(String(format: "median of %d rounds of %d calls each: health p50 %.1f µs, evaluate p50 %.1f µs, ratio %.2f (target ≤ 1.2)",
                     rounds, calls, median(healthP50), median(evaluateP50), median(evaluateP50) / median(healthP50)))
        await client.shutdown()
        await server.stop()
        // The rules alone (the engine, no actor, no IPC): what they cost inside a round trip.
        var engine = MindsetEngine(rules: MindsetRules(MindsetSettings()))
        var inProcess: [Double] = []
        for round in 0..<5 {
            let start = ContinuousClock.now
            for number in 0..<calls {
                let proposal = TradeProposal(strategyId: "micro_trend", symbol: "BTCUSDT", side: .buy, quantity: 0.01, price: 9_650.5,
                                             time: Date(), strength: 1.4, confidence: 0.5, isEntry: true, requestId: "local-\(round)-\(number)")
                _ = engine.evaluate(proposal)
            }
            inProcess.append(microseconds(since: start) / Double(calls))
        }
        print(String(format: "the rules alone: MindsetEngine.evaluate %.2f µs per decision (median of 5 runs of %d)", median(inProcess), calls))
    }
}
