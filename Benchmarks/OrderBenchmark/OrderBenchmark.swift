import Foundation
import GRDB
import Logging
import BagbotDomain
import BagbotIPC
import BagbotStorage
import RouterCore

// Durable orders per second against a bare durable commit loop, side by side in one run (docs/performance.md,
// "Durable orders"). Both use bagbot.db's real settings (WAL, synchronous = FULL) on the same filesystem:
//   - baseline: one single-row INSERT per transaction, in a file of its own;
//   - orders: RouterService.place of a market order on the paper venue, each persisted, sent, executed and
//     recorded with its fill and events, as routerd does (events go to a hub with no subscriber).
// Rounds alternate, so both see the same disk; the medians and their ratio are printed.
//
//   swift run -c release order-benchmark [--rounds 7] [--per-round 200] [--dir /var/tmp]

func argument(_ name: String, default value: String) -> String {
    guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count else { return value }
    return CommandLine.arguments[index + 1]
}

func tick(_ paper: PaperVenue, sequence: Int) async {
    await paper.ingest(Tick(symbol: "BTCUSDT", time: Date(), bid: 9_650, ask: 9_650.1, last: 9_650.05, volume: 1,
                            sequence: UInt64(sequence), source: "benchmark"))
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}


@main
struct OrderBenchmark {
    static func main() async throws {
        let rounds = Int(argument("--rounds", default: "7")) ?? 7
        let perRound = Int(argument("--per-round", default: "200")) ?? 200
        let parent = argument("--dir", default: FileManager.default.temporaryDirectory.path)
        let directory = parent + "/bb-order-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var logger = Logger(label: "order-benchmark")
        logger.logLevel = .critical

        let baseline = try BagbotDatabase.open(path: directory + "/baseline.db")
        try await baseline.write { db in try db.execute(sql: "CREATE TABLE commits (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)") }

        let database = try BagbotDatabase.open(path: directory + "/bagbot.db")
        let rules = SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001,
                                minQuantity: 0.00001, maxQuantity: 9_000)
        let paper = try await PaperVenue(database: database, settings: PaperExchange.Settings(feeBps: 1, slippageBps: 1, startingBalances: ["USDT": 1_000_000_000, "BTC": 1_000_000]),
                                         rules: [rules], logger: logger)
        let service = try await RouterService(
            store: OrderStore(database: database), venues: [paper], symbols: SymbolMap(paperTrading: true),
            tradingSwitch: TradingSwitch(stateDirectory: directory + "/state", logger: logger), events: IPCEventHub(logger: logger), logger: logger)
        try await service.start()

        var commits: [Double] = []
        var orders: [Double] = []
        var placed = 0
        for round in 1...rounds {
            var start = ContinuousClock.now
            for index in 0..<perRound {
                try await baseline.write { db in
                    try db.execute(sql: "INSERT INTO commits (payload) VALUES (?)", arguments: ["round \(round) row \(index)"])
                }
            }
            let commitRate = Double(perRound) / seconds(since: start)
            await tick(paper, sequence: round)
            start = ContinuousClock.now
            do {
                for _ in 0..<perRound {
                    placed += 1
                    let order = try await service.place(PlaceOrderRequest(
                        clientOrderId: "bench-\(placed)", symbol: "BTCUSDT", side: placed % 2 == 0 ? .sell : .buy, quantity: 0.001,
                        strategyId: "bench", requestId: "bench-\(placed)"))
                    guard order.status == .filled else { fatalError("order \(order.clientOrderId) is \(order.status.rawValue): \(order.rejectReason ?? "")") }
                }
            }
            let orderRate = Double(perRound) / seconds(since: start)
            commits.append(commitRate)
            orders.append(orderRate)
            print(String(format: "round %d: %.0f commits/s, %.0f orders/s (%.2f)", round, commitRate, orderRate, orderRate / commitRate))
        }
        print(String(format: "median: %.0f single-row durable commits/s, %.0f durable orders/s, ratio %.2f (target ≥ 0.5)",
                     median(commits), median(orders), median(orders) / median(commits)))
    }
}
