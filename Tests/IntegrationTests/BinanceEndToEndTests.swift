import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing

/// routerd in live mode against the fake Binance: the real binary, its SQLite file, and a venue that executes and
/// then does not answer. Whatever happens to routerd meanwhile, the order executes once and ends up recorded as
/// Binance has it.
@Suite("routerd live on the fake Binance", .serialized)
struct BinanceEndToEndTests {
    static func liveConfig(_ fake: FakeBinance, credentials: String) -> String {
        """
        router:
          mode: live
          reconcile:
            lookup_interval_ms: 300
          binance:
            enabled: true
            rest_url: \(fake.restURL)
            market_stream_url: \(fake.marketStreamURL)
            websocket_api_url: \(fake.webSocketAPIURL)
            symbols: [BTCUSDT]
            key_type: hmac
            credentials_dir: \(credentials)
            order_timeout_ms: 20000

        """
    }

    static func credentials(in directory: TempDir) throws -> String {
        let path = directory.file("credentials")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (name, text) in ["binance-api-key": FakeBinance.apiKey, "binance-hmac-secret": FakeBinance.hmacSecret] {
            FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        }
        return path
    }

    /// A fake Binance and routerd live on it (`extra` joins `router.binance`), started and serving.
    static func withLiveRouterd(extra: String = "", _ body: (TestSystem, FakeBinance) async throws -> Void) async throws {
        let fake = try await FakeBinance.start(symbols: ["BTCUSDT"])
        defer { fake.stop() }
        let secrets = try TempDir()
        defer { secrets.remove() }
        let config = liveConfig(fake, credentials: try credentials(in: secrets)).replacingOccurrences(
            of: "    order_timeout_ms: 20000\n", with: "    order_timeout_ms: 20000\n" + extra)
        try await TestSystem.with(speed: "1", extraConfig: config) { system in
            try system.start(["routerd"])
            try await system.waitUntil("routerd to serve in live mode", timeout: .seconds(60)) { await system.health("routerd") != nil }
            try await body(system, fake)
        }
    }

    static func executions(_ fake: FakeBinance, _ clientOrderId: String) async throws -> (orders: Int, executions: Int) {
        let orders = try await fake.orders().filter { ($0["clientOrderId"] as? String) == clientOrderId }
        return (orders.count, orders.reduce(0) { $0 + (($1["executions"] as? [Any])?.count ?? ($1["trades"] as? [Any])?.count ?? 0) })
    }

    @Test("kill -9 of routerd while Binance holds the answer to an order it executed: the restart finds it by client order id, filled, executed once")
    func killedAfterSend() async throws {
        try await Self.withLiveRouterd { system, fake in
            #expect(system.log("routerd").contains("LIVE TRADING"))
            try await fake.control("behaviour", ["name": "order_timeout_after_execute", "count": 1, "seconds": 60])
            try await fake.control("reset-log")
            let id = "bb-e2e-kill-1"
            let request = PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.001")!)
            let placing = Task { try? await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self, timeout: .seconds(30)) }
            try await system.waitUntil("the order to reach Binance", timeout: .seconds(20), every: .milliseconds(20)) {
                try await fake.requests().contains { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }
            }
            await system.killHard("routerd")
            _ = await placing.value
            #expect(try system.orders().first { $0.clientOrderId == id }?.status == "sent", "recorded as sent before the venue answered")

            try system.start("routerd")
            try await system.waitUntil("the restarted routerd to settle the order with Binance", timeout: .seconds(60)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id = '\(id)'") == 1)
            let witnessed = try await Self.executions(fake, id)
            #expect(witnessed.orders == 1 && witnessed.executions == 1, "\(witnessed)")
            let posts = try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }
            #expect(posts.count == 1, "the order was never sent again")
        }
    }

    @Test("a 5xx after executing: routerd records the order as unknown, settles it by lookup, and never sends it again")
    func fiveHundredSettled() async throws {
        try await Self.withLiveRouterd { system, fake in
            try await fake.control("behaviour", ["name": "order_5xx_after_execute", "count": 1])
            let id = "bb-e2e-5xx-1"
            let request = PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.001")!)
            let answer = try await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self, timeout: .seconds(30))
            #expect(answer.status == .unknown)
            try await system.waitUntil("routerd to settle the order by lookup", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            let witnessed = try await Self.executions(fake, id)
            #expect(witnessed.orders == 1 && witnessed.executions == 1, "\(witnessed)")
        }
    }

    @Test("a resting limit order that fills at Binance later is recorded filled, with its fill, without anyone asking")
    func restingLimitFills() async throws {
        try await Self.withLiveRouterd(extra: "    order_poll_ms: 300\n") { system, fake in
            let id = "bb-e2e-limit-1"
            let request = PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, type: .limit, quantity: ExactDecimal("0.002")!,
                                            limitPrice: ExactDecimal("59000.00")!)
            let placed = try await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self, timeout: .seconds(30))
            #expect(placed.status == .acknowledged)
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            try await system.waitUntil("routerd to record the fill", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id = '\(id)'") == 1)
        }
    }

    @Test("a buy whose commission Binance takes in BTC: the strategy holds what it received, a sell of the whole position is refused by routerd before Binance, a sell of what was received empties the account")
    func baseAssetCommission() async throws {
        try await Self.withLiveRouterd { system, fake in
            try await fake.control("commission", ["asset": "base", "rate": "0.001"])
            try await fake.control("balance", ["asset": "BTC", "free": "0"])
            let buy = PlaceOrderRequest(clientOrderId: "bb-e2e-fee-buy", symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.01")!,
                                        strategyId: "micro_trend")
            let bought = try await system.call("routerd", Methods.routerPlaceOrder, buy, as: OrderRecord.self, timeout: .seconds(30))
            #expect(bought.status == .filled)
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id = 'bb-e2e-fee-buy' AND base_commission = '0.00001000'") == 1,
                    "the fill keeps the commission Binance took in BTC")
            let positions = try await system.call("routerd", Methods.routerStrategyPositions, as: StrategyPositionsResponse.self)
            let held = try #require(positions.positions.first { $0.strategyId == "micro_trend" && $0.symbol == "BTCUSDT" })
            #expect(held.quantity == ExactDecimal("0.00999")!, "0.01 bought, 0.00001 of it taken as commission")

            // Selling what was bought, not what was received, would be refused by Binance for want of BTC: routerd
            // refuses it first, as a reduce-only order larger than the position.
            let tooMuch = PlaceOrderRequest(clientOrderId: "bb-e2e-fee-sell-all", symbol: "BTCUSDT", side: .sell, quantity: ExactDecimal("0.01")!,
                                            reduceOnly: true, strategyId: "micro_trend")
            await #expect(throws: IPCError.self) {
                _ = try await system.call("routerd", Methods.routerPlaceOrder, tooMuch, as: OrderRecord.self, timeout: .seconds(30))
            }
            let sell = PlaceOrderRequest(clientOrderId: "bb-e2e-fee-sell", symbol: "BTCUSDT", side: .sell, quantity: held.quantity,
                                         reduceOnly: true, strategyId: "micro_trend")
            let sold = try await system.call("routerd", Methods.routerPlaceOrder, sell, as: OrderRecord.self, timeout: .seconds(30))
            #expect(sold.status == .filled, "\(sold.rejectReason ?? "")")
            let balances = try #require(try await fake.inspect("balances") as? [String: Any])
            let btc = (balances["BTC"] as? [String: Any])?["free"] as? String
            #expect(btc.flatMap { ExactDecimal($0) }?.isZero == true, "the account holds no BTC: \(String(describing: btc))")
            let after = try await system.call("routerd", Methods.routerStrategyPositions, as: StrategyPositionsResponse.self)
            #expect(after.positions.first { $0.strategyId == "micro_trend" && $0.symbol == "BTCUSDT" }?.quantity.isZero ?? true)
            let posts = try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }
            #expect(posts.count == 2, "the refused sell never reached Binance")
        }
    }

    @Test("a live venue enabled without its credential stops routerd at start with a clear message")
    func missingCredential() async throws {
        let fake = try await FakeBinance.start(symbols: ["BTCUSDT"])
        defer { fake.stop() }
        let empty = try TempDir()
        defer { empty.remove() }
        try await TestSystem.with(speed: "1", extraConfig: Self.liveConfig(fake, credentials: empty.path)) { system in
            try system.start("routerd")
            try await system.waitUntil("routerd to stop", timeout: .seconds(30)) { !system.isRunning("routerd") }
            #expect(system.log("routerd").contains("binance-api-key"), "\(system.log("routerd").suffix(2_000))")
            #expect(await system.health("routerd") == nil)
        }
    }
}
