import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import GRDB
import Testing

/// routerd in live mode against the fake Binance: the real binary, its SQLite file, and a venue that executes and
/// then does not answer. Whatever happens to routerd meanwhile, the order executes once and ends up recorded as
/// Binance has it.
@Suite("routerd live on the fake Binance", .serialized)
struct BinanceEndToEndTests {
    static func liveConfig(_ fake: FakeBinance, credentials: String, reconcile: String = "") -> String {
        """
        router:
          mode: live
          reconcile:
            lookup_interval_ms: 300
        \(reconcile)
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

    /// A fake Binance and routerd live on it (`extra` joins `router.binance`, `otherSections` follows the router's
    /// section), with `daemons` started and routerd serving.
    /// `reconcile`: lines for `router.reconcile`, indented by four spaces.
    static func withLiveRouterd(extra: String = "", otherSections: String = "", reconcile: String = "", daemons: [String] = ["routerd"],
                                _ body: (TestSystem, FakeBinance) async throws -> Void) async throws {
        let fake = try await FakeBinance.start(symbols: ["BTCUSDT"])
        defer { fake.stop() }
        let secrets = try TempDir()
        defer { secrets.remove() }
        let config = liveConfig(fake, credentials: try credentials(in: secrets), reconcile: reconcile).replacingOccurrences(
            of: "    order_timeout_ms: 20000\n", with: "    order_timeout_ms: 20000\n" + extra) + otherSections
        try await TestSystem.with(speed: "1", extraConfig: config) { system in
            try system.start(daemons)
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

    /// Places a market buy that Binance answers with -1007 and executes `seconds` later (`dropStreams`: with its
    /// executionReport lost), and waits until routerd has given it up as not found.
    static func placeExecutedLater(_ system: TestSystem, _ fake: FakeBinance, id: String, seconds: Double, dropStreams: Bool) async throws {
        try await fake.control("behaviour", ["name": "order_1007_execute_later", "count": 1, "seconds": seconds, "dropStreams": dropStreams])
        let request = PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.001")!)
        let answer = try await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self, timeout: .seconds(30))
        #expect(answer.status == .unknown, "-1007: execution status unknown")
        try await system.waitUntil("routerd to give the order up as not found", timeout: .seconds(seconds), every: .milliseconds(50)) {
            try system.count("SELECT COUNT(*) FROM orders WHERE client_order_id = '\(id)' AND status = 'rejected' AND reject_reason LIKE 'not_found_at_venue%'") == 1
        }
        #expect(try await Self.executions(fake, id).orders == 0, "not executed yet when it was given up")
    }

    @Test("an order given up as not found after -1007 that Binance executes later is revived by its executionReport: filled, its fill recorded, sent once")
    func revivedByExecutionReport() async throws {
        try await Self.withLiveRouterd(reconcile: "    max_misses: 2\n    late_lookup_seconds: [600]\n") { system, fake in
            let id = "bb-e2e-late-report"
            try await Self.placeExecutedLater(system, fake, id: id, seconds: 4, dropStreams: false)
            // Given up, but in doubt until looked up again: a second BTCUSDT order waits (no double if it executes).
            let second = PlaceOrderRequest(clientOrderId: "bb-e2e-late-second", symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.001")!)
            do {
                _ = try await system.call("routerd", Methods.routerPlaceOrder, second, as: OrderRecord.self, timeout: .seconds(30))
                Issue.record("a second order went out while the given-up one could still execute")
            } catch let error as IPCError {
                #expect(error.code == .conflict && error.message.contains("may still execute"), "\(error)")
            }
            try await system.waitUntil("the executionReport to revive the order", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            // Found: the doubt is over, and the symbol trades again.
            let placed = try await system.call("routerd", Methods.routerPlaceOrder, second, as: OrderRecord.self, timeout: .seconds(30))
            #expect(placed.status == .filled)
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id = '\(id)'") == 1)
            #expect(try system.count("SELECT COUNT(*) FROM orders WHERE client_order_id = '\(id)' AND reject_reason IS NULL") == 1,
                    "filled: no reject reason left")
            let witnessed = try await Self.executions(fake, id)
            #expect(witnessed.orders == 1 && witnessed.executions == 1, "\(witnessed)")
            let posts = try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }
            #expect(posts.count == 2, "never sent again (the other is the second order, once)")
        }
    }

    @Test("an order given up as not found after -1007, executed later while the streams are down, is found by a late look-up")
    func foundByALateLookup() async throws {
        try await Self.withLiveRouterd(reconcile: "    max_misses: 2\n    late_lookup_seconds: [2, 8]\n") { system, fake in
            let id = "bb-e2e-late-lookup"
            try await Self.placeExecutedLater(system, fake, id: id, seconds: 5, dropStreams: true)
            try await system.waitUntil("the late look-up to find the order", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id = '\(id)'") == 1)
            let log = system.log("routerd")
            #expect(log.contains("still not at its venue"), "the first late look-up, before Binance executed it, found nothing")
            // Found when the streams are back: by the late look-up made at once then, or by the reconciliation of the
            // same reconnect when it records the fill first (the look-up then finds it recorded and says nothing).
            #expect(log.contains("at its venue after all") || log.contains("the venue reports an order recorded as final as working or filled"),
                    "found by a later look-up (at once when the streams are back) or that reconnect's reconciliation")
            #expect(try await Self.executions(fake, id).executions == 1)
        }
    }

    @Test("routerd killed after giving an order up as not found, which Binance executes while it is down: the restart looks it up again and records it")
    func lateLookupsOutliveARestart() async throws {
        try await Self.withLiveRouterd(reconcile: "    max_misses: 2\n    late_lookup_seconds: [600]\n") { system, fake in
            let id = "bb-e2e-late-restart"
            try await Self.placeExecutedLater(system, fake, id: id, seconds: 4, dropStreams: false)
            await system.killHard("routerd")
            try await system.waitUntil("Binance to execute it", timeout: .seconds(20)) { try await Self.executions(fake, id).executions == 1 }
            try system.start("routerd")
            try await system.waitUntil("the restarted routerd to look it up again", timeout: .seconds(60)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            #expect(try system.count("SELECT COUNT(*) FROM fills WHERE client_order_id = '\(id)'") == 1)
            #expect(system.log("routerd").contains("looked up again"))
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

    @Test("an IOC filled in part at Binance: routerd records it expired with the part's one fill, and the stream's events add nothing")
    func partialIOC() async throws {
        try await Self.withLiveRouterd { system, fake in
            let id = "bb-e2e-iocp-1"
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "60000.00", "ask": "60000.01", "bidQty": "0.5", "askQty": "0.0008"])
            let request = PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, type: .limit, quantity: ExactDecimal("0.002")!,
                                            limitPrice: ExactDecimal("60001.00")!, timeInForce: .ioc)
            let placed = try await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self, timeout: .seconds(30))
            #expect(placed.status == .expired && placed.filledQuantity == ExactDecimal("0.0008")!, "\(placed)")
            // The executionReports (NEW, TRADE, EXPIRED) come after the answer: give them time, then count.
            try await Task.sleep(for: .seconds(1))
            let fills = try await Self.recordedFills(system, id)
            #expect(fills.count == 1 && fills.quantity == ExactDecimal("0.0008")!, "\(fills)")
            #expect(try system.orders().first { $0.clientOrderId == id }?.status == "expired")
            let executions = try await fake.orders().filter { ($0["clientOrderId"] as? String) == id }
            #expect(executions.count == 1 && executions.first?["executedQty"] as? String == "0.00080000", "\(executions)")
        }
    }

    @Test("orders the trader places on the account by hand cost routerd no look-up, and are not recorded as routerd's")
    func handPlacedOrdersCostNoLookup() async throws {
        try await Self.withLiveRouterd { system, fake in
            try await fake.control("reset-log")
            for index in 1...5 {
                _ = try await fake.control("place", ["symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001",
                                                     "clientOrderId": "web-hand-\(index)"])
            }
            // routerd's own resting order filled by the market after them: once routerd has recorded its fill, the
            // stream's events about the hand orders before it have been handled.
            let id = "bb-e2e-after-hand"
            let request = PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, type: .limit, quantity: ExactDecimal("0.002")!,
                                            limitPrice: ExactDecimal("59000.00")!)
            _ = try await system.call("routerd", Methods.routerPlaceOrder, request, as: OrderRecord.self, timeout: .seconds(30))
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            try await system.waitUntil("routerd to record its own order's fill", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            let lookups = try await fake.requests().filter { ($0["method"] as? String) == "GET" && ($0["path"] as? String) == "/api/v3/order" }
            let ofHand = lookups.filter { (($0["params"] as? [String: Any])?["origClientOrderId"] as? String)?.hasPrefix("web-hand") == true }
            #expect(ofHand.isEmpty, "routerd looked up the trader's own orders: \(ofHand.count)")
            #expect(try system.count("SELECT COUNT(*) FROM orders WHERE client_order_id LIKE 'web-hand%'") == 0)
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

    @Test("the whole system on the fake's market data: a trend in Binance's book makes micro_trend buy through mindsetd, a fall makes its stop sell all it received (the commission taken in BTC)")
    func wholeSystemOnBinanceMarketData() async throws {
        let strategies = """
            arsenal:
              micro_trend:
                symbols: [BTCUSDT]
              mean_reversion:
                enabled: false

            """
        try await Self.withLiveRouterd(otherSections: strategies, daemons: ["mindsetd", "routerd", "arsenald"]) { system, fake in
            try await fake.control("commission", ["asset": "base", "rate": "0.001"])
            try await system.waitUntil("arsenald to see routerd", timeout: .seconds(60)) {
                await system.health("arsenald")?.status == "ok"
            }
            // A steady, slightly noisy climb from Binance's 60,000, one book change at a time, until micro_trend has
            // bought (the book then holds still: a trend that went on would have its exits and entries too).
            // Each change waits until arsenald has handled a tick after it: on a busy machine routerd would otherwise
            // keep only the newest of several changes (`LatestTicks`), and the climb arsenald saw would not be this one.
            var mid = 60_000.005
            for step in 0..<400 {
                if try system.count("SELECT COUNT(*) FROM orders") > 0 { break }
                mid *= step % 2 == 0 ? 1.002 : 1.0005
                let handled = await Self.ticksHandled(system)
                try await Self.quote(fake, mid: mid)
                try? await system.waitUntil("arsenald to handle the change", timeout: .seconds(2), every: .milliseconds(2)) {
                    await Self.ticksHandled(system) > handled
                }
            }
            try await system.waitUntil("micro_trend's entry to fill at Binance", timeout: .seconds(30)) {
                try system.count("SELECT COUNT(*) FROM fills WHERE side = 'buy'") == 1
            }
            let entry = try #require(try await system.database().read { db in
                try Row.fetchOne(db, sql: "SELECT o.strategy_id, o.reduce_only, f.quantity, f.base_commission FROM fills f JOIN orders o USING (client_order_id)")
            })
            #expect(entry["strategy_id"] as String? == "micro_trend" && entry["reduce_only"] as Bool == false)
            #expect(entry["quantity"] as String == "0.01000000" && entry["base_commission"] as String? == "0.00001000")

            // A fall of 1 %, past the 0.5 % stop.
            try await Self.quote(fake, mid: mid * 0.99)
            try await system.waitUntil("the stop to fill at Binance", timeout: .seconds(30)) {
                try system.count("SELECT COUNT(*) FROM fills WHERE side = 'sell'") == 1
            }
            #expect(try system.count("SELECT COUNT(*) FROM fills") == 2, "one entry, one stop")
            let stop = try #require(try await system.database().read { db in
                try Row.fetchOne(db, sql: "SELECT o.reduce_only, f.quantity FROM fills f JOIN orders o USING (client_order_id) WHERE f.side = 'sell'")
            })
            #expect(stop["reduce_only"] as Bool == true)
            #expect(ExactDecimal(stop["quantity"] as String) == ExactDecimal("0.00999")!, "what the buy received, not what it bought")
            let balances = try #require(try await fake.inspect("balances") as? [String: Any])
            let btc = (balances["BTC"] as? [String: Any])?["free"] as? String
            #expect(btc.flatMap { ExactDecimal($0) }?.isZero == true, "the account holds no BTC: \(String(describing: btc))")
            let rejected = try await fake.requests().filter { ($0["status"] as? Int).map { $0 >= 400 } ?? false }
            #expect(rejected.isEmpty, "Binance refused nothing: \(rejected.prefix(3))")
        }
    }

    @Test("Binance changes a symbol's step size: the order it refuses for it (-1013) makes the venue read the rules again, and routerd checks the next order against them before sending")
    func rulesChangeReachRouterd() async throws {
        try await Self.withLiveRouterd { system, fake in
            try await fake.control("filters", ["symbol": "BTCUSDT", "step": "0.0001", "minQty": "0.0001"])
            let odd = ExactDecimal("0.00015")!
            let first = PlaceOrderRequest(clientOrderId: "bb-e2e-rules-1", symbol: "BTCUSDT", side: .buy, quantity: odd)
            let refused = try await system.call("routerd", Methods.routerPlaceOrder, first, as: OrderRecord.self, timeout: .seconds(30))
            #expect(refused.status == .rejected && (refused.rejectReason ?? "").contains("-1013"), "\(refused)")
            try await system.waitUntil("routerd to take Binance's new rules", timeout: .seconds(30)) {
                let rules = try await system.call("routerd", Methods.routerSymbolRules, as: SymbolRulesResponse.self)
                return rules.symbols.first { $0.symbol == "BTCUSDT" }?.stepSize == ExactDecimal("0.0001")!
            }
            let second = PlaceOrderRequest(clientOrderId: "bb-e2e-rules-2", symbol: "BTCUSDT", side: .buy, quantity: odd)
            await #expect(throws: IPCError.self) {
                _ = try await system.call("routerd", Methods.routerPlaceOrder, second, as: OrderRecord.self, timeout: .seconds(30))
            }
            let posts = try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }
            #expect(posts.count == 1, "the second order never reached Binance")
            #expect(system.log("routerd").contains("symbol rules changed"))
            let onStep = PlaceOrderRequest(clientOrderId: "bb-e2e-rules-3", symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.0002")!)
            let filled = try await system.call("routerd", Methods.routerPlaceOrder, onStep, as: OrderRecord.self, timeout: .seconds(30))
            #expect(filled.status == .filled)
        }
    }

    /// Waits until routerd has heard the user data stream's subscription `times` times in all (each is logged as the
    /// venue connecting, and reconciled).
    static func userStreamConnected(_ system: TestSystem, times: Int = 1) async throws {
        try await system.waitUntil("Binance's user data stream to be subscribed", timeout: .seconds(60)) {
            system.log("routerd").components(separatedBy: "venue connected; reconciling its orders").count - 1 >= times
        }
    }

    /// The order's fills as routerd recorded them: how many, and their quantities' sum.
    static func recordedFills(_ system: TestSystem, _ clientOrderId: String) async throws -> (count: Int, quantity: ExactDecimal) {
        let quantities = try await system.database().read { db in
            try String.fetchAll(db, sql: "SELECT quantity FROM fills WHERE client_order_id = ?", arguments: [clientOrderId])
        }
        return (quantities.count, try ExactDecimal.sum(quantities.compactMap { ExactDecimal($0) }))
    }

    @Test("fills the user data stream sends twice, and out of order, are each recorded once: the order ends filled in full")
    func duplicateAndReorderedFillEvents() async throws {
        try await Self.withLiveRouterd(extra: "    order_poll_ms: 60000\n") { system, fake in
            try await Self.userStreamConnected(system)
            try await fake.control("partial", ["parts": 3])
            try await fake.control("behaviour", ["name": "duplicate_fill_events", "count": 1])
            try await fake.control("behaviour", ["name": "out_of_order_fill_events", "count": 1])
            let id = "bb-e2e-dup-1"
            let placed = try await system.call("routerd", Methods.routerPlaceOrder,
                                               PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.003")!),
                                               as: OrderRecord.self, timeout: .seconds(30))
            #expect(placed.status == .partiallyFilled, "\(placed.status)")
            try await fake.control("advance")
            try await fake.control("advance")
            try await system.waitUntil("the order recorded filled from the stream", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            try await Task.sleep(for: .seconds(1))
            let fills = try await Self.recordedFills(system, id)
            #expect(fills.count == 3 && fills.quantity == ExactDecimal("0.003")!, "\(fills)")
            #expect(try await Self.executions(fake, id).executions == 3)
        }
    }

    @Test("the user data stream drops in the middle of an order's fills: the part filled meanwhile is found when the stream is back")
    func streamDropMidFill() async throws {
        try await Self.withLiveRouterd(extra: "    order_poll_ms: 60000\n") { system, fake in
            try await Self.userStreamConnected(system)
            try await fake.control("partial", ["parts": 2])
            let id = "bb-e2e-drop-1"
            let placed = try await system.call("routerd", Methods.routerPlaceOrder,
                                               PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.002")!),
                                               as: OrderRecord.self, timeout: .seconds(30))
            #expect(placed.status == .partiallyFilled)
            try await fake.control("behaviour", ["name": "drop_streams"])
            try await fake.control("advance")
            try await Self.userStreamConnected(system, times: 2)
            try await system.waitUntil("the rest of the order found after the stream came back", timeout: .seconds(30)) {
                try system.orders().first { $0.clientOrderId == id }?.status == "filled"
            }
            let fills = try await Self.recordedFills(system, id)
            #expect(fills.count == 2 && fills.quantity == ExactDecimal("0.002")!, "\(fills)")
        }
    }

    /// Moves the fake's BTCUSDT book to a one-tick spread around `mid`.
    static func ticksHandled(_ system: TestSystem) async -> Int {
        Int(await system.health("arsenald")?.details["ticks"] ?? "") ?? 0
    }

    static func quote(_ fake: FakeBinance, mid: Double) async throws {
        let bid = (mid * 100).rounded(.down) / 100
        try await fake.control("price", ["symbol": "BTCUSDT", "bid": String(format: "%.2f", bid), "ask": String(format: "%.2f", bid + 0.01)])
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
