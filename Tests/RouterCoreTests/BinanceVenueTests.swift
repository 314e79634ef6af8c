import Foundation
import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Logging
import Testing
@testable import RouterCore

/// The Binance venue against the fake Binance on 127.0.0.1 (Tests/Peers): the same code that would talk to
/// api.binance.com, only the address differs. The fake's own order book and request log are the witnesses.
@Suite("Binance venue against the fake Binance", .serialized)
struct BinanceVenueTests {
    static func settings(_ fake: FakeBinance) -> BinanceSettings {
        var settings = BinanceSettings()
        settings.enabled = true
        settings.restUrl = fake.restURL
        settings.marketStreamUrl = fake.marketStreamURL
        settings.websocketApiUrl = fake.webSocketAPIURL
        settings.symbols = ["BTCUSDT", "ETHUSDT"]
        settings.keyType = .hmac
        settings.orderTimeoutMs = 1_500
        return settings
    }

    /// `ed25519`: the API key is an Ed25519 one (the fake knows its public key), not the HMAC secret.
    static func withVenue(symbols: [String] = ["BTCUSDT", "ETHUSDT"], balances: String = "USDT=10000,BTC=0,ETH=0",
                          markMaxAge: Duration = .seconds(60), ed25519: Ed25519PrivateKey? = nil,
                          upkeep: (clock: Duration, rules: Duration)? = nil, fakeLimits: [String: Any]? = nil,
                          configure: (inout BinanceSettings) -> Void = { _ in },
                          _ body: (BinanceVenue, FakeBinance) async throws -> Void) async throws {
        let fake = try await FakeBinance.start(symbols: symbols, balances: balances, ed25519PublicKey: ed25519?.publicKey)
        defer { fake.stop() }
        // Before the venue reads exchangeInfo's rateLimits.
        if let fakeLimits { _ = try await fake.control("limits", fakeLimits) }
        var settings = settings(fake)
        if ed25519 != nil { settings.keyType = .ed25519 }
        configure(&settings)
        let credential: BinanceCredential = ed25519.map { .ed25519(apiKey: FakeBinance.apiKey, key: $0) }
            ?? .hmac(apiKey: FakeBinance.apiKey, secret: Array(FakeBinance.hmacSecret.utf8))
        let venue = try await BinanceVenue.start(settings: settings, credential: credential, markMaxAge: markMaxAge, upkeep: upkeep,
                                                 logger: Logger(label: "binance-test"))
        do {
            try await body(venue, fake)
        } catch {
            await venue.shutdown()
            throw FakeBinanceError(description: "\(error)\n--- fake's log ---\n\(fake.log.suffix(3_000))")
        }
        await venue.shutdown()
    }

    static func order(_ id: String, _ side: Side = .buy, _ type: OrderType = .market, quantity: String = "0.001", price: String? = nil,
                      symbol: String = "BTCUSDT", timeInForce: TimeInForce? = nil) -> VenueOrderRequest {
        let now = Date()
        return VenueOrderRequest(OrderRecord(clientOrderId: id, venue: .binance, symbol: symbol, side: side, type: type,
                                             quantity: ExactDecimal(quantity)!, limitPrice: price.flatMap { ExactDecimal($0) }, status: .sent,
                                             timeInForce: timeInForce, createdAt: now, updatedAt: now))
    }

    /// How many times the fake executed (traded) for this client order id.
    static func executions(_ fake: FakeBinance, _ clientOrderId: String) async throws -> Int {
        let orders = try await fake.orders().filter { ($0["clientOrderId"] as? String) == clientOrderId }
        return orders.reduce(0) { $0 + (($1["executions"] as? [Any])?.count ?? ($1["trades"] as? [Any])?.count ?? 0) }
    }

    static func orderCount(_ fake: FakeBinance, _ clientOrderId: String) async throws -> Int {
        try await fake.orders().filter { ($0["clientOrderId"] as? String) == clientOrderId }.count
    }

    @Test("at start the venue reads Binance's clock and the symbols' rules, exactly as exchangeInfo gives them")
    func rules() async throws {
        try await Self.withVenue { venue, _ in
            let rules = try await venue.symbolRules()
            #expect(rules.map(\.symbol) == ["BTCUSDT", "ETHUSDT"])
            let btc = try #require(rules.first)
            #expect(btc.baseAsset == "BTC" && btc.quoteAsset == "USDT")
            #expect(btc.tickSize == ExactDecimal("0.01")! && btc.stepSize == ExactDecimal("0.00001")! && btc.minNotional == ExactDecimal("5")!)
            #expect(!btc.shortSelling)
            #expect(btc.feeRate == ExactDecimal("0.001")!, "the account's commission on a market order, as GET /api/v3/account gives it")
            try await waitFor("the start's read of the symbols' commissions", timeout: .seconds(10)) { await venue.symbolCommissionReads >= 1 }
            #expect(try await venue.symbolRules().first?.feeRate == ExactDecimal("0.001")!, "the symbol's own, the same here")
        }
    }

    @Test("Binance's clock and the symbols' rules are read again, each on its own schedule")
    func upkeepSchedules() async throws {
        try await Self.withVenue(upkeep: (clock: .milliseconds(1_000), rules: .milliseconds(300))) { _, fake in
            try await Task.sleep(for: .milliseconds(2_500))
            let log = try await fake.requests()
            func gaps(_ path: String) -> [Int] {
                let times = log.filter { ($0["path"] as? String) == path }.compactMap { $0["time"] as? Int }
                return zip(times.dropFirst(), times).map { $0 - $1 }
            }
            // A sleep never ends early, and a loaded machine may stretch one: the shortest gap is the schedule's. Both
            // on one timer (the rules at the clock's reads: every 1,000 ms) was how it went wrong.
            let clock = gaps("/api/v3/time"), rules = gaps("/api/v3/exchangeInfo")
            #expect(clock.count >= 2 && (950..<1_500).contains(clock.min() ?? 0), "clock reads apart, ms: \(clock)")
            #expect(rules.count >= 4 && (250..<700).contains(rules.min() ?? 0), "rules reads apart, ms: \(rules)")
        }
    }

    @Test("a symbol's own commission (a special rate on BTCUSDT) is its fee; the others keep the account's")
    func symbolCommission() async throws {
        try await Self.withVenue { venue, fake in
            try await waitFor("the start's read of the symbols' commissions", timeout: .seconds(10)) { await venue.symbolCommissionReads >= 1 }
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await fake.control("commission", ["special": ["BTCUSDT": "0.002"]])
            await venue.readSymbolCommissions()
            try await waitFor("the new rules to reach routerd", timeout: .seconds(10)) {
                await events.rules.last?.first { $0.symbol == "BTCUSDT" }?.feeRate == ExactDecimal("0.003")!
            }
            let fees = Dictionary(try await venue.symbolRules().map { ($0.symbol, $0.feeRate) }, uniquingKeysWith: { first, _ in first })
            #expect(fees["BTCUSDT"] == ExactDecimal("0.003")!, "standard 0.001 + special 0.002")
            #expect(fees["ETHUSDT"] == ExactDecimal("0.001")!)
        }
    }

    @Test("the account's commission moves (another fee tier): every symbol's rules carry the new one, and routerd is handed them")
    func commissionInTheRules() async throws {
        try await Self.withVenue { venue, fake in
            try await waitFor("the start's read of the symbols' commissions", timeout: .seconds(10)) { await venue.symbolCommissionReads >= 1 }
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await fake.control("commission", ["asset": "quote", "rate": "0.00075"])
            try await venue.checkAccount()
            try await waitFor("the new rules to reach routerd", timeout: .seconds(10)) { await !events.rules.isEmpty }
            #expect(await events.rules.last?.map(\.feeRate) == [ExactDecimal("0.00075")!, ExactDecimal("0.00075")!])
            #expect(try await venue.symbolRules().allSatisfy { $0.feeRate == ExactDecimal("0.00075")! })
        }
    }

    @Test("what happens before routerd sets its handler (the user stream subscribing as the venue connects) is handed over with it")
    func earlyEventsKept() async throws {
        try await Self.withVenue { venue, fake in
            try await waitFor("the fake to answer the user data stream's subscription", timeout: .seconds(30)) {
                (try? await fake.requests())?.contains { ($0["method"] as? String) == "userDataStream.subscribe.signature" } == true
            }
            try await Task.sleep(for: .milliseconds(500))  // the answer is read on loopback long before
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the subscription to reach the handler", timeout: .seconds(10)) { await events.connections == 1 }
        }
    }

    @Test("rules read again: unchanged, nothing is said; changed (a new step size), routerd is handed the new ones")
    func rulesReadAgain() async throws {
        try await Self.withVenue { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await venue.refreshRules()
            #expect(await events.rules.isEmpty)
            try await fake.control("filters", ["symbol": "ETHUSDT", "step": "0.001", "minQty": "0.001"])
            try await venue.refreshRules()
            let handed = try #require(await events.rules.last)
            #expect(handed.map(\.symbol) == ["BTCUSDT", "ETHUSDT"])
            #expect(handed.first { $0.symbol == "ETHUSDT" }?.stepSize == ExactDecimal("0.001")!)
            #expect(try await venue.symbolRules().first { $0.symbol == "ETHUSDT" }?.minQuantity == ExactDecimal("0.001")!)
        }
    }

    @Test("a market buy fills at the ask: fills with Binance's trade ids, the commission as a quote fee, the balances moved")
    func marketBuy() async throws {
        try await Self.withVenue { venue, fake in
            let report = try await venue.place(Self.order("bb-mkt-1"))
            #expect(report.status == .filled)
            #expect(report.filledQuantity == ExactDecimal("0.001")!)
            #expect(report.averagePrice == ExactDecimal("60000.01")!)
            let fill = try #require(report.fills.first)
            #expect(report.fills.count == 1 && fill.fillId.hasPrefix("BTCUSDT-") && fill.clientOrderId == "bb-mkt-1")
            #expect(fill.fee == ExactDecimal("0.06000001")!)  // 0.1 % of 60.00001 USDT
            let balances = Dictionary(try await venue.balances().map { ($0.asset, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(balances["BTC"]?.free == ExactDecimal("0.001")!)
            #expect(balances["USDT"]?.free == ExactDecimal("9939.93998999")!)  // 10000 − 60.00001 − 0.06000001
            let positions = try await venue.positions()
            #expect(positions.map(\.symbol) == ["BTCUSDT"] && positions.first?.quantity == ExactDecimal("0.001")!)
            #expect(try await Self.executions(fake, "bb-mkt-1") == 1)
            // Looked up by BAGBOT's client order id, with the same fill.
            let found = try #require(try await venue.order(clientOrderId: "bb-mkt-1", symbol: "BTCUSDT"))
            #expect(found.status == .filled && found.fills.map(\.fillId) == report.fills.map(\.fillId))
        }
    }

    @Test("a symbol Binance pauses (BREAK) keeps its rules: its fills are still read; new orders are refused unsent until it trades again")
    func pausedSymbol() async throws {
        try await Self.withVenue { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription", timeout: .seconds(30)) { await events.connections > 0 }
            _ = try await venue.place(Self.order("bb-paused-lmt", .buy, .limit, quantity: "0.002", price: "59000.00"))
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            try await waitFor("the resting order's fill", timeout: .seconds(30)) {
                await events.orders.contains { $0.clientOrderId == "bb-paused-lmt" && $0.status == .filled }
            }
            // Binance pauses the symbol (maintenance). The first order after it is refused by Binance ("Market is
            // closed."), which has the rules read again at once: the pause is known from then on.
            await venue.setPausedRulesEvery(.milliseconds(200))
            _ = try await fake.control("status", ["symbol": "BTCUSDT", "status": "BREAK"])
            do {
                _ = try await venue.place(Self.order("bb-into-break"))
                Issue.record("Binance's fake took an order in a paused symbol")
            } catch VenueError.rejected(let reason) {
                #expect(reason.contains("Market is closed."), "\(reason)")
            }
            #expect(await venue.anyPaused)
            let found = try #require(try await venue.order(clientOrderId: "bb-paused-lmt", symbol: "BTCUSDT"))
            #expect(found.status == .filled && found.fills.count == 1, "the fill of an order in a paused symbol is read and valued")
            #expect(try await venue.symbolRules().contains { $0.symbol == "BTCUSDT" })
            try await fake.control("reset-log")
            do {
                _ = try await venue.place(Self.order("bb-during-break"))
                Issue.record("an order was accepted while Binance has the symbol paused")
            } catch VenueError.rejected(let reason) {
                #expect(reason.contains("paused (BREAK)"), "\(reason)")
            }
            let posted = try await fake.requests().filter { ($0["method"] as? String) == "POST" && ($0["path"] as? String) == "/api/v3/order" }
            #expect(posted.isEmpty, "not sent: \(posted)")
            // Trading again: read again soon (every 15 s while a symbol is paused; here 0.2 s), orders go through.
            _ = try await fake.control("status", ["symbol": "BTCUSDT", "status": "TRADING"])
            try await waitFor("exchangeInfo read again while the symbol is paused", timeout: .seconds(20)) { !(await venue.anyPaused) }
            #expect(try await venue.place(Self.order("bb-after-break")).status == .filled)
        }
    }

    @Test("a holding is marked at the market stream's last price while it is younger than routerd's price age limit, then at Binance's over REST, read once per that age")
    func markAge() async throws {
        try await Self.withVenue(balances: "USDT=10000,BTC=0.5,ETH=0", markMaxAge: .seconds(1)) { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("a tick from the market stream", timeout: .seconds(30)) {
                try await fake.control("price", ["symbol": "BTCUSDT", "bid": "61000.00", "ask": "61000.02"])
                return await events.ticks > 0
            }
            func tickerReads() async throws -> Int {
                try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/ticker/price" }.count
            }
            let before = try await tickerReads()
            #expect(try await venue.positions().first?.quantity == ExactDecimal("0.5")!)
            #expect(try await tickerReads() == before, "the stream's mark is fresh")
            try await Task.sleep(for: .milliseconds(1_300))
            #expect(try await venue.positions().first?.quantity == ExactDecimal("0.5")!)
            #expect(try await tickerReads() == before + 1, "older than the limit: Binance's last price over REST")
            #expect(try await venue.positions().first?.quantity == ExactDecimal("0.5")!)
            #expect(try await tickerReads() == before + 1, "the price read is the mark until it is as old")
        }
    }

    @Test("a tick routerd would not take (a bid of 0, an ask under the bid) never becomes the mark a holding is valued at")
    func unquotableTicksAreNoMark() async throws {
        try await Self.withVenue(balances: "USDT=10000,BTC=0.5,ETH=0", markMaxAge: .seconds(60)) { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("a tick from the market stream", timeout: .seconds(30)) {
                try await fake.control("price", ["symbol": "BTCUSDT", "bid": "61000.00", "ask": "61000.02"])
                return await events.ticks > 0
            }
            let marked = try #require(try await venue.positions().first?.lastPrice)
            #expect(marked == ExactDecimal("61000.01")!, "the stream's mid")
            let seen = await events.ticks
            for (bid, ask) in [("0.00000000", "61000.02"), ("61000.02", "30000.00")] {
                try await fake.control("stream", ["stream": "btcusdt@bookTicker",
                                                  "data": ["u": 1, "s": "BTCUSDT", "b": bid, "B": "1", "a": ask, "A": "1"]])
            }
            try await waitFor("the malformed ticks delivered", timeout: .seconds(30)) { await events.ticks >= seen + 2 }
            #expect(try await venue.positions().first?.lastPrice == marked, "still the last mark routerd would take")
        }
    }

    @Test("an order reported final in its own answer costs no lookup when its executionReports arrive; a working one's change does")
    func finalOrdersNotLookedUpAgain() async throws {
        try await Self.withVenue { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription", timeout: .seconds(30)) { await events.connections > 0 }
            try await fake.control("reset-log")
            #expect(try await venue.place(Self.order("bb-final-mkt")).status == .filled)
            // A resting order filled afterwards: its executionReport comes after the market order's on the same stream,
            // so once its fill is delivered the market order's events have all been read.
            _ = try await venue.place(Self.order("bb-final-lmt", .buy, .limit, quantity: "0.002", price: "59000.00"))
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            try await waitFor("the resting order's fill", timeout: .seconds(30)) {
                await events.orders.contains { $0.clientOrderId == "bb-final-lmt" && $0.status == .filled }
            }
            let lookups = try await fake.requests().filter {
                ($0["method"] as? String) == "GET" && ["/api/v3/order", "/api/v3/myTrades"].contains($0["path"] as? String ?? "")
            }
            let ofMarket = lookups.filter { (($0["params"] as? [String: Any])?["origClientOrderId"] as? String) == "bb-final-mkt" }
            #expect(ofMarket.isEmpty, "the filled market order was looked up again: \(ofMarket)")
            #expect(lookups.contains { (($0["params"] as? [String: Any])?["origClientOrderId"] as? String) == "bb-final-lmt" })
            #expect(!(await events.orders.contains { $0.clientOrderId == "bb-final-mkt" }), "nothing new to tell routerd about it")
        }
    }

    @Test("a burst of events about one working order costs one look-up per round trip, not one per event, beside the stream's reader")
    func burstOfEventsIsLookedUpOnce() async throws {
        try await Self.withVenue { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            let placed = try await venue.place(Self.order("bb-burst", .buy, .limit, quantity: "0.005", price: "50000.00"))
            #expect(placed.status == .acknowledged)
            try await fake.control("reset-log")
            // Five executionReports in a row, each saying something new (as partial fills do): the stream's reader hands
            // each over at once; the look-ups run beside it, one at a time, each order once per turn.
            for part in 1...5 {
                await venue.userStreamEvent(.orderChanged(clientOrderId: "bb-burst", symbol: "BTCUSDT", status: "PARTIALLY_FILLED",
                                                          filled: "0.00\(part)"))
            }
            try await waitFor("the look-ups' reports", timeout: .seconds(10), every: .milliseconds(10)) {
                await events.orders.contains { $0.clientOrderId == "bb-burst" }
            }
            try await Task.sleep(for: .milliseconds(300))
            let lookups = try await fake.requests().filter {
                ($0["method"] as? String) == "GET" && ($0["path"] as? String) == "/api/v3/order"
                    && (($0["params"] as? [String: Any])?["origClientOrderId"] as? String) == "bb-burst"
            }
            #expect((1..<5).contains(lookups.count), "\(lookups.count) look-ups for 5 events")
        }
    }

    @Test("an order placed on the account from elsewhere (the trader's app) costs no look-up: routerd is told it may have changed")
    func handPlacedOrdersCostNoLookup() async throws {
        try await Self.withVenue { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription", timeout: .seconds(30)) { await events.connections > 0 }
            try await fake.control("reset-log")
            _ = try await fake.control("place", ["symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001",
                                                 "clientOrderId": "web-by-hand-1"])
            _ = try await fake.control("place", ["symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001",
                                                 "price": "50000.00", "clientOrderId": "web-by-hand-2"])
            // An order of this venue's own after them, filled by the market: once its fill is delivered, the stream's
            // events about the two before it have been read.
            _ = try await venue.place(Self.order("bb-after-hand", .buy, .limit, quantity: "0.002", price: "59000.00"))
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            try await waitFor("this venue's order's fill", timeout: .seconds(30)) {
                await events.orders.contains { $0.clientOrderId == "bb-after-hand" && $0.status == .filled }
            }
            let byHand = Set(await events.mayHaveChanged)
            #expect(byHand == ["web-by-hand-1", "web-by-hand-2"], "\(byHand)")
            #expect(!(await events.orders.contains { $0.clientOrderId.hasPrefix("web-by-hand") }))
            let lookups = try await fake.requests().filter {
                ($0["method"] as? String) == "GET" && ["/api/v3/order", "/api/v3/myTrades"].contains($0["path"] as? String ?? "")
            }
            let ofHand = lookups.filter { (($0["params"] as? [String: Any])?["origClientOrderId"] as? String)?.hasPrefix("web-by-hand") == true }
            #expect(ofHand.isEmpty, "the venue looked up orders placed by hand: \(ofHand)")
        }
    }

    @Test("while the user stream is subscribed, balances are read once, then kept by its events; a fill has them read again")
    func balancesKeptByTheStream() async throws {
        try await Self.withVenue { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription", timeout: .seconds(30)) { await events.connections > 0 }
            try await fake.control("reset-log")
            func accountReads() async throws -> Int { try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/account" }.count }
            #expect(try await venue.balances().first { $0.asset == "USDT" }?.free == ExactDecimal("10000")!)
            _ = try await venue.balances()
            #expect(try await accountReads() == 1, "the second read is the cache")
            // A fill: read again (a stream that died silently would not tell).
            _ = try await venue.place(Self.order("bb-cache-1"))
            #expect(try await venue.balances().first { $0.asset == "BTC" }?.free == ExactDecimal("0.001")!)
            #expect(try await accountReads() == 2)
            // A resting order locks USDT without a fill: only the stream's outboundAccountPosition tells the cache.
            _ = try await venue.place(Self.order("bb-cache-2", .buy, .limit, quantity: "0.002", price: "59000.00"))
            try await waitFor("the lock to come on the stream", timeout: .seconds(30)) {
                try await venue.balances().first { $0.asset == "USDT" }?.locked == ExactDecimal("118")!
            }
            #expect(try await accountReads() == 2, "no REST read for what the stream told")
        }
    }

    @Test("a limit order rests, is found among the open orders, fills when the market crosses it, and reports its fill on lookup")
    func limitRestsThenFills() async throws {
        try await Self.withVenue { venue, fake in
            let placed = try await venue.place(Self.order("bb-lmt-1", .buy, .limit, quantity: "0.002", price: "59000.00"))
            #expect(placed.status == .acknowledged && placed.fills.isEmpty)
            #expect(try await venue.openOrders().map(\.clientOrderId) == ["bb-lmt-1"])
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            let found = try #require(try await venue.order(clientOrderId: "bb-lmt-1", symbol: "BTCUSDT"))
            #expect(found.status == .filled)
            #expect(found.fills.count == 1 && found.fills.first?.price == ExactDecimal("59000")!)
            #expect(try await venue.openOrders().isEmpty)
        }
    }

    @Test("partial fills: each part is a fill of its own, and the order is partially filled until the last")
    func partialFills() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("partial", ["parts": 3])
            let first = try await venue.place(Self.order("bb-part-1", quantity: "0.003"))
            #expect(first.status == .partiallyFilled)
            #expect(first.fills.count == 1)
            try await fake.control("advance")
            let second = try #require(try await venue.order(clientOrderId: "bb-part-1", symbol: "BTCUSDT"))
            #expect(second.status == .partiallyFilled && second.fills.count == 2)
            try await fake.control("advance")
            let last = try #require(try await venue.order(clientOrderId: "bb-part-1", symbol: "BTCUSDT"))
            #expect(last.status == .filled && last.fills.count == 3 && last.filledQuantity == ExactDecimal("0.003")!)
            #expect(Set(last.fills.map(\.fillId)).count == 3)
        }
    }

    @Test("IOC and FOK: fill at once when the market reaches them, else expire unfilled; LIMIT_MAKER rests, or is refused when it would take")
    func timeInForce() async throws {
        try await Self.withVenue(balances: "USDT=10000,BTC=1,ETH=0") { venue, fake in
            // BTCUSDT at 60,000.00 / 60,000.01 at the fake.
            let iocFill = try await venue.place(Self.order("bb-ioc-1", .buy, .limit, quantity: "0.001", price: "60001.00", timeInForce: .ioc))
            #expect(iocFill.status == .filled && iocFill.fills.count == 1 && iocFill.fills.first?.price == ExactDecimal("60000.01")!)
            let iocMiss = try await venue.place(Self.order("bb-ioc-2", .buy, .limit, quantity: "0.001", price: "59000.00", timeInForce: .ioc))
            #expect(iocMiss.status == .expired && iocMiss.fills.isEmpty, "\(iocMiss)")
            let fok = try await venue.place(Self.order("bb-fok-1", .sell, .limit, quantity: "0.001", price: "59999.00", timeInForce: .fok))
            #expect(fok.status == .filled && fok.fills.first?.price == ExactDecimal("60000.00")!)
            let fokMiss = try await venue.place(Self.order("bb-fok-2", .sell, .limit, quantity: "0.001", price: "61000.00", timeInForce: .fok))
            #expect(fokMiss.status == .expired && fokMiss.fills.isEmpty)
            let maker = try await venue.place(Self.order("bb-mk-1", .buy, .limit, quantity: "0.002", price: "50000.00", timeInForce: .postOnly))
            #expect(maker.status == .acknowledged, "a post-only buy below the market rests")
            #expect(try await venue.openOrders().contains { $0.clientOrderId == "bb-mk-1" })
            #expect(try await venue.cancel(clientOrderId: "bb-mk-1", symbol: "BTCUSDT").status == .cancelled)
            let taker = await #expect(throws: VenueError.self) {
                try await venue.place(Self.order("bb-mk-2", .buy, .limit, quantity: "0.002", price: "60001.00", timeInForce: .postOnly))
            }
            guard case .rejected(let why) = taker else { Issue.record("a post-only order that would take is refused, got \(String(describing: taker))"); return }
            #expect(why.contains("-2010"), "\(why)")
            let sent = try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }
            #expect(sent.compactMap { ($0["params"] as? [String: Any])?["timeInForce"] as? String } == ["IOC", "IOC", "FOK", "FOK"])
            #expect(sent.compactMap { ($0["params"] as? [String: Any])?["type"] as? String }.suffix(2) == ["LIMIT_MAKER", "LIMIT_MAKER"])
        }
    }

    @Test("an IOC that the best level fills in part: the part filled, the rest expired; a FOK it cannot fill whole expires unfilled")
    func partialIOC() async throws {
        try await Self.withVenue(balances: "USDT=10000,BTC=1,ETH=0") { venue, fake in
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "60000.00", "ask": "60000.01", "bidQty": "0.0004", "askQty": "0.0004"])
            let ioc = try await venue.place(Self.order("bb-iocp-1", .buy, .limit, quantity: "0.001", price: "60001.00", timeInForce: .ioc))
            #expect(ioc.status == .expired, "\(ioc)")
            #expect(ioc.filledQuantity == ExactDecimal("0.0004")! && ioc.fills.map(\.quantity) == [ExactDecimal("0.0004")!], "\(ioc)")
            #expect(ioc.fills.first?.price == ExactDecimal("60000.01")!)
            let fok = try await venue.place(Self.order("bb-fokp-1", .sell, .limit, quantity: "0.001", price: "59999.00", timeInForce: .fok))
            #expect(fok.status == .expired && fok.fills.isEmpty && fok.filledQuantity == 0, "\(fok)")
            // Looked up later, the IOC says the same: no quantity left working anywhere.
            let looked = try #require(try await venue.order(clientOrderId: "bb-iocp-1", symbol: "BTCUSDT"))
            #expect(looked.status == .expired && looked.filledQuantity == ExactDecimal("0.0004")!)
            #expect(try await venue.openOrders().isEmpty)
        }
    }

    @Test("a cancel ends a resting order; cancelling it again reports how it ended; an unknown order is refused")
    func cancel() async throws {
        try await Self.withVenue { venue, _ in
            _ = try await venue.place(Self.order("bb-cxl-1", .buy, .limit, quantity: "0.002", price: "50000.00"))
            let cancelled = try await venue.cancel(clientOrderId: "bb-cxl-1", symbol: "BTCUSDT")
            #expect(cancelled.status == .cancelled && cancelled.clientOrderId == "bb-cxl-1")
            let again = try await venue.cancel(clientOrderId: "bb-cxl-1", symbol: "BTCUSDT")
            #expect(again.status == .cancelled)
            await #expect(throws: VenueError.self) { try await venue.cancel(clientOrderId: "bb-nope", symbol: "BTCUSDT") }
            #expect(try await venue.order(clientOrderId: "bb-nope", symbol: "BTCUSDT") == nil)
        }
    }

    @Test("a 5xx after Binance executed: outcome unknown (never a rejection), and the lookup finds the one execution")
    func fiveHundredAfterExecuting() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("behaviour", ["name": "order_5xx_after_execute", "count": 1])
            let error = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-5xx-1")) }
            guard case .unknownOutcome = error else { Issue.record("expected unknown outcome, got \(String(describing: error))"); return }
            let found = try #require(try await venue.order(clientOrderId: "bb-5xx-1", symbol: "BTCUSDT"))
            #expect(found.status == .filled && found.fills.count == 1)
            #expect(try await Self.executions(fake, "bb-5xx-1") == 1)
        }
    }

    @Test("a 4xx that does not say the order was refused (-1001 DISCONNECTED after executing) is an unknown outcome, never a rejection")
    func undocumentedFourHundred() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("behaviour", ["name": "order_5xx_after_execute", "count": 1, "status": 400, "code": -1001])
            let error = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-4xx-1")) }
            guard case .unknownOutcome = error else { Issue.record("expected unknown outcome, got \(String(describing: error))"); return }
            #expect(try await venue.order(clientOrderId: "bb-4xx-1", symbol: "BTCUSDT")?.status == .filled)
            #expect(try await Self.executions(fake, "bb-4xx-1") == 1)
        }
    }

    @Test("a lookup whose trades lag the order's status (myTrades from Binance's database) fails, to be looked up again, rather than settle short")
    func tradesLag() async throws {
        try await Self.withVenue { venue, fake in
            _ = try await venue.place(Self.order("bb-lag-1"))
            try await fake.control("behaviour", ["name": "trades_lag", "count": 1])
            await #expect(throws: (any Error).self) { try await venue.order(clientOrderId: "bb-lag-1", symbol: "BTCUSDT") }
            let found = try #require(try await venue.order(clientOrderId: "bb-lag-1", symbol: "BTCUSDT"))
            #expect(found.fills.count == 1 && found.filledQuantity == ExactDecimal("0.001")!)
        }
    }

    @Test("an answer whose fills fall short of what it executed is an unknown outcome, settled by a lookup that reads every trade")
    func answerShortOfFills() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("behaviour", ["name": "short_fills", "count": 1])
            let error = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-short-1")) }
            guard case .unknownOutcome = error else { Issue.record("expected unknown outcome, got \(String(describing: error))"); return }
            let found = try #require(try await venue.order(clientOrderId: "bb-short-1", symbol: "BTCUSDT"))
            #expect(found.status == .filled && found.fills.count == 1 && found.filledQuantity == ExactDecimal("0.001")!)
            #expect(try await Self.executions(fake, "bb-short-1") == 1)
        }
    }

    @Test("an Ed25519 key, Binance's recommended kind: the orders over REST and the user stream's subscription verify at the fake; another key is refused")
    func ed25519Key() async throws {
        let key = try Ed25519PrivateKey(raw: Array(repeating: 7, count: 32))
        try await Self.withVenue(ed25519: key) { venue, fake in
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription (signed)", timeout: .seconds(30)) { await events.connections > 0 }
            // Base64 signatures carry '+', '/' and '=': percent-encoded, or Binance (and the fake) answer -1022.
            for index in 1...3 {
                #expect(try await venue.place(Self.order("bb-ed-\(index)")).status == .filled)
            }
            _ = try await venue.openOrders()
            let refused = try await fake.requests().filter { ($0["status"] as? Int).map { $0 >= 400 } ?? false }
            #expect(refused.isEmpty, "every signed request verified: \(refused)")
        }
        let fake = try await FakeBinance.start(ed25519PublicKey: key.publicKey)
        defer { fake.stop() }
        var settings = Self.settings(fake)
        settings.keyType = .ed25519
        let other = try Ed25519PrivateKey(raw: Array(repeating: 9, count: 32))
        await #expect(throws: (any Error).self) {
            let venue = try await BinanceVenue.start(settings: settings, credential: .ed25519(apiKey: FakeBinance.apiKey, key: other),
                                                     logger: Logger(label: "binance-test"))
            await venue.shutdown()
        }
    }

    @Test("a key Binance refuses stops the venue at start, before any order")
    func refusedKey() async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        await #expect(throws: (any Error).self) {
            let venue = try await BinanceVenue.start(settings: Self.settings(fake), credential: .hmac(apiKey: "someone-else", secret: Array("x".utf8)),
                                                     logger: Logger(label: "binance-test"))
            await venue.shutdown()
        }
    }

    @Test("no answer after Binance executed: outcome unknown after the order timeout, and the lookup finds it filled")
    func timeoutAfterExecuting() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("behaviour", ["name": "order_timeout_after_execute", "count": 1, "seconds": 5])
            let error = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-tmo-1")) }
            guard case .unknownOutcome = error else { Issue.record("expected unknown outcome, got \(String(describing: error))"); return }
            let found = try #require(try await venue.order(clientOrderId: "bb-tmo-1", symbol: "BTCUSDT"))
            #expect(found.status == .filled)
            #expect(try await Self.orderCount(fake, "bb-tmo-1") == 1)
        }
    }

    @Test("a 5xx before executing: outcome unknown too (the venue cannot tell), and the lookup finds nothing")
    func fiveHundredBeforeExecuting() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("behaviour", ["name": "order_5xx_before_execute", "count": 1])
            let error = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-5xb-1")) }
            guard case .unknownOutcome = error else { Issue.record("expected unknown outcome, got \(String(describing: error))"); return }
            #expect(try await venue.order(clientOrderId: "bb-5xb-1", symbol: "BTCUSDT") == nil)
        }
    }

    @Test("a second order under the id of a working one is Binance's duplicate (looked up), not a refusal")
    func duplicate() async throws {
        try await Self.withVenue { venue, fake in
            _ = try await venue.place(Self.order("bb-dup-1", .buy, .limit, quantity: "0.002", price: "50000.00"))
            let error = await #expect(throws: VenueError.self) {
                try await venue.place(Self.order("bb-dup-1", .buy, .limit, quantity: "0.002", price: "50000.00"))
            }
            guard case .duplicate = error else { Issue.record("expected duplicate, got \(String(describing: error))"); return }
            #expect(try await Self.orderCount(fake, "bb-dup-1") == 1)
        }
    }

    @Test("Binance's refusals keep its code and message: a quantity off the step (-1013), more than the balance, an unknown symbol")
    func refusals() async throws {
        try await Self.withVenue { venue, _ in
            let offStep = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-ref-1", quantity: "0.0010001")) }
            #expect("\(String(describing: offStep))".contains("-1013"))
            let tooMuch = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-ref-2", quantity: "1")) }
            #expect("\(String(describing: tooMuch))".contains("-2010"))
            let unknown = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-ref-3", symbol: "DOGEUSDT")) }
            guard case .rejected = unknown else { Issue.record("expected a refusal, got \(String(describing: unknown))"); return }
        }
    }

    @Test("after a 429 nothing leaves until Retry-After, and after a 418 nothing until the ban ends: the fake's log is the witness")
    func rateLimitAndBan() async throws {
        try await Self.withVenue { venue, fake in
            // The user data stream subscribes in the background: its request would be the one the 429 answers.
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription", timeout: .seconds(30)) { await events.connections > 0 }
            try await fake.control("behaviour", ["name": "reject_429", "count": 1, "retryAfter": 3])
            let limited = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-429-1")) }
            guard case .rejected = limited else { Issue.record("a 429 is a refusal, got \(String(describing: limited))"); return }
            try await fake.control("reset-log")
            let held = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-429-2")) }
            guard case .unavailable(let reason) = held else { Issue.record("expected not sent, got \(String(describing: held))"); return }
            #expect(reason.contains("429"))
            #expect(await venue.blockedReason()?.hasPrefix("rate-limited by Binance (HTTP 429) until") == true, "the venue's status says so")
            await #expect(throws: (any Error).self) { try await venue.openOrders() }
            #expect(try await fake.requests().isEmpty, "nothing may be sent during a 429's back-off")
            try await Task.sleep(for: .seconds(3.2))
            _ = try await venue.openOrders()

            try await fake.control("behaviour", ["name": "ban_418", "count": 1, "retryAfter": 3])
            await #expect(throws: (any Error).self) { try await venue.openOrders() }
            try await fake.control("reset-log")
            let banned = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-418-1")) }
            guard case .unavailable(let why) = banned else { Issue.record("expected not sent, got \(String(describing: banned))"); return }
            #expect(why.contains("banned"))
            #expect(await venue.blockedReason()?.hasPrefix("banned by Binance (HTTP 418) until") == true, "the venue's status says so")
            #expect(try await fake.requests().isEmpty, "nothing may be sent during a ban")
            #expect(try await Self.orderCount(fake, "bb-418-1") == 0)
        }
    }

    @Test("the account's order count full (-1015): the order is refused, the next ones are not sent until the window ends, a cancel still goes, no ban")
    func orderCountFull() async throws {
        try await Self.withVenue { venue, fake in
            _ = try await venue.place(Self.order("bb-oc-rest", .buy, .limit, quantity: "0.002", price: "50000.00"))
            // The day's order count at the fake set at what was placed: the next order is Binance's 429 -1015.
            try await fake.control("limits", ["orders1d": 1])
            let refused = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-oc-1")) }
            guard case .rejected(let why) = refused else { Issue.record("a -1015 is a refusal, got \(String(describing: refused))"); return }
            #expect(why.contains("-1015"), "\(why)")
            try await fake.control("reset-log")
            let held = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-oc-2")) }
            guard case .unavailable(let reason) = held else { Issue.record("expected not sent, got \(String(describing: held))"); return }
            #expect(reason.contains("unfilled order count"), "\(reason)")
            #expect(await venue.ordersHeldReason() == reason, "the venue's status says so")
            #expect(await venue.blockedReason() == nil, "nothing else is held")
            let cancelled = try await venue.cancel(clientOrderId: "bb-oc-rest", symbol: "BTCUSDT")
            #expect(cancelled.status == .cancelled, "a cancel is not an order: it goes")
            _ = try await venue.openOrders()
            let log = try await fake.requests()
            #expect(!log.contains { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }, "no order sent: \(log)")
            #expect(!log.contains { ($0["status"] as? Int) == 418 || ($0["status"] as? Int) == 429 }, "no back-off, no ban: \(log)")
            #expect(try await Self.orderCount(fake, "bb-oc-1") == 0)
            #expect(try await Self.orderCount(fake, "bb-oc-2") == 0)
        }
    }

    @Test("a -1015's hold outlives a restart: the venue started again reads, and holds new orders unsent until the hold ends")
    func orderHoldSurvivesRestart() async throws {
        try await Self.withRestarts { fake, start in
            let first = try await start()
            _ = try await first.place(Self.order("bb-ohr-0"))
            try await fake.control("limits", ["orders1d": 1])
            await #expect(throws: VenueError.self) { try await first.place(Self.order("bb-ohr-1")) }
            let heldBefore = await first.ordersHeldReason()
            await first.shutdown()
            try await fake.control("reset-log")
            let again = try await start()
            let heldAfter = await again.ordersHeldReason()
            #expect(heldBefore != nil && heldAfter == heldBefore, "the status says the same hold")
            #expect(await again.blockedReason() == nil, "a hold of orders is not a ban: the venue starts and reads")
            let held = await #expect(throws: VenueError.self) { try await again.place(Self.order("bb-ohr-2")) }
            if case .unavailable(let reason) = held {
                #expect(reason.contains("unfilled order count"), "\(reason)")
            } else {
                Issue.record("expected not sent, got \(String(describing: held))")
            }
            await again.shutdown()
            let log = try await fake.requests()
            #expect(log.contains { ($0["path"] as? String) == "/api/v3/exchangeInfo" }, "the restarted venue read: \(log)")
            #expect(!log.contains { ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST" }, "no order sent: \(log)")
            #expect(try await Self.orderCount(fake, "bb-ohr-2") == 0)
        }
    }

    /// A fake, and a way to start the venue on it with one block file across its starts, as a restarted routerd's.
    static func withRestarts(_ body: (FakeBinance, () async throws -> BinanceVenue) async throws -> Void) async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        let state = try TempDir()
        defer { state.remove() }
        let credential = BinanceCredential.hmac(apiKey: FakeBinance.apiKey, secret: Array(FakeBinance.hmacSecret.utf8))
        try await body(fake) {
            try await BinanceVenue.start(settings: Self.settings(fake), credential: credential, blockFile: state.file("ban.json"),
                                         logger: Logger(label: "binance-test"))
        }
    }

    @Test("the order limit exchangeInfo gives is kept before Binance enforces it: an order past 90 % of it is refused unsent, never answered 429")
    func throttleBeforeTheLimit() async throws {
        try await Self.withVenue(fakeLimits: ["orders10s": 5]) { venue, fake in
            var refusal: String?
            for index in 1...12 {
                do {
                    _ = try await venue.place(Self.order("bb-thr-\(index)"))
                } catch VenueError.unavailable(let reason) {
                    refusal = reason
                    break
                }
            }
            #expect(refusal?.contains("order limit (5 per 10 second)") == true, "\(String(describing: refusal))")
            let log = try await fake.requests()
            #expect(!log.contains { ($0["status"] as? Int) == 429 || ($0["status"] as? Int) == 418 }, "Binance never had to refuse: \(log)")
        }
    }

    @Test("a ban outlives a restart: the venue started again during it sends nothing and does not start")
    func banSurvivesRestart() async throws {
        try await Self.withRestarts { fake, start in
            let first = try await start()
            try await fake.control("behaviour", ["name": "ban_418", "count": 1, "retryAfter": 120])
            await #expect(throws: (any Error).self) { try await first.openOrders() }
            await first.shutdown()
            try await fake.control("reset-log")
            let refusal = await #expect(throws: (any Error).self) {
                let again = try await start()
                await again.shutdown()
            }
            #expect("\(String(describing: refusal))".contains("banned"))
            #expect(try await fake.requests().isEmpty, "nothing may be sent during a ban, across a restart")
        }
    }

    @Test("a clock that moves: a read refused for its timestamp (-1021) is sent once more after reading Binance's clock")
    func clockSkew() async throws {
        try await Self.withVenue { venue, fake in
            // Subscribed first: a subscription made after the shift would be refused for its timestamp and read the
            // clock again before the request this test watches.
            let events = EventCollector()
            await venue.setEventHandler { event in await events.add(event) }
            try await waitFor("the user data stream's subscription", timeout: .seconds(30)) { await events.connections > 0 }
            try await fake.control("clock", ["offsetMs": 30_000])
            try await fake.control("reset-log")
            let balances = try await venue.balances()
            #expect(balances.contains { $0.asset == "USDT" })
            let seen = try await fake.requests().filter { ($0["transport"] as? String) == "rest" }
                .map { "\($0["path"] ?? "") \($0["code"].map { "\($0)" } ?? "")" }
            #expect(seen.first == "/api/v3/account -1021", "\(seen)")
            #expect(seen.dropFirst().first?.hasPrefix("/api/v3/time") == true, "\(seen)")
            #expect(seen.last?.hasPrefix("/api/v3/account") == true && seen.filter { $0.hasPrefix("/api/v3/account") }.count == 2, "\(seen)")
            // An order refused for its timestamp is not sent again: it is looked up (and Binance did not execute it).
            try await fake.control("clock", ["offsetMs": 60_000])
            try await fake.control("reset-log")
            let error = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-clk-1")) }
            guard case .unknownOutcome = error else { Issue.record("expected unknown outcome, got \(String(describing: error))"); return }
            #expect(try await fake.requests().filter { ($0["path"] as? String) == "/api/v3/order" }.count == 1)
            #expect(try await venue.order(clientOrderId: "bb-clk-1", symbol: "BTCUSDT") == nil)
        }
    }

    @Test("a commission in the base asset or in BNB becomes a quote-asset fee at the fill's price, or at BNB's price")
    func commissionAssets() async throws {
        try await Self.withVenue { venue, fake in
            try await fake.control("commission", ["asset": "base", "rate": "0.001"])
            let base = try await venue.place(Self.order("bb-fee-1"))
            let baseFill = try #require(base.fills.first)
            // 0.001 × 0.001 BTC = 0.000001 BTC, worth 0.06000001 USDT at 60000.01 (rounded up).
            #expect(baseFill.fee == ExactDecimal("0.06000001")!, "\(baseFill)")
            try await fake.control("commission", ["asset": "BNB", "rate": "0.001", "bnbPrice": "600"])
            try await fake.control("balance", ["asset": "BNB", "free": "10"])
            let bnb = await #expect(throws: VenueError.self) { try await venue.place(Self.order("bb-fee-2")) }
            // BNBUSDT is not a symbol of this fake: the fee cannot be valued, so the order's outcome stays unknown
            // (looked up again) rather than recorded with a made-up fee.
            guard case .unknownOutcome(let reason) = bnb else { Issue.record("expected unknown outcome, got \(String(describing: bnb))"); return }
            #expect(reason.contains("BNBUSDT"), "\(reason)")
            #expect(try await Self.executions(fake, "bb-fee-2") == 1)
        }
        // Where BNBUSDT trades, a BNB commission is valued at its last price.
        try await Self.withVenue(symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"]) { venue, fake in
            try await fake.control("price", ["symbol": "BNBUSDT", "bid": "600.00", "ask": "600.01"])
            try await fake.control("commission", ["asset": "BNB", "rate": "0.001"])
            try await fake.control("balance", ["asset": "BNB", "free": "10"])
            let report = try await venue.place(Self.order("bb-fee-3"))
            let fill = try #require(report.fills.first)
            #expect(fill.fee > ExactDecimal("0.0599")! && fill.fee < ExactDecimal("0.0601")!, "\(fill)")
        }
    }

    @Test("assets held that no configured symbol trades: BNB is priced from Binance's BNBUSDT, one Binance has no market for is not; the symbols' list is read once")
    func heldAssetPrices() async throws {
        // BNBUSDT trades at the fake but is not configured; nothing trades XYZ.
        try await Self.withVenue(symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"], balances: "USDT=10000,BTC=0,ETH=0,BNB=2,XYZ=5") { venue, fake in
            try await waitFor("the start's read of the held assets' prices", timeout: .seconds(10)) { await venue.heldAssetPriceReads >= 1 }
            try await fake.control("price", ["symbol": "BNBUSDT", "bid": "600.00", "ask": "600.01"])
            await venue.refreshHeldAssetPrices()
            #expect(await venue.valuationPairs() == [CurrencyConverter.Pair(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT", price: 600)])
            let requests = try await fake.requests()
            let lists = requests.filter { ($0["path"] as? String) == "/api/v3/exchangeInfo" && ($0["params"] as? [String: Any])?["symbolStatus"] != nil }
            #expect(lists.count == 1, "Binance's symbols are read once an hour, not at every price read")
            #expect(lists.allSatisfy { ($0["status"] as? Int) == 200 })
            let tickers = requests.filter { ($0["path"] as? String) == "/api/v3/ticker/price" }.compactMap { ($0["params"] as? [String: Any])?["symbols"] as? String }
            #expect(tickers.suffix(2) == ["[\"BNBUSDT\"]", "[\"BNBUSDT\"]"], "one read of the markets' prices each time: \(tickers)")
            // The reads stop (Binance unreachable): the price ages out, and BNB is unvalued again rather than valued at an old price.
            await venue.ageHeldAssetPrices(by: .seconds(60))
            #expect(await venue.valuationPairs().isEmpty)
        }
        // BNBUSDT halted: its frozen last price values nothing from the next refresh on; BNB's BTC market still does.
        try await Self.withVenue(symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT", "BNBBTC"], balances: "USDT=10000,BNB=2") { venue, fake in
            try await waitFor("the start's read of the held assets' prices", timeout: .seconds(10)) { await venue.heldAssetPriceReads >= 1 }
            #expect(await venue.valuationPairs().map(\.symbol) == ["BNBUSDT", "BNBBTC"], "each of BNB's markets, the best first")
            try await fake.control("status", ["symbol": "BNBUSDT", "status": "HALT"])
            try await fake.control("price", ["symbol": "BNBBTC", "bid": "0.0100", "ask": "0.0101"])
            await venue.refreshHeldAssetPrices()
            #expect(await venue.valuationPairs() == [CurrencyConverter.Pair(symbol: "BNBBTC", baseAsset: "BNB", quoteAsset: "BTC", price: ExactDecimal("0.01")!)],
                    "halted: BNBUSDT is not valued at its last trade")
            try await fake.control("status", ["symbol": "BNBUSDT", "status": "TRADING"])
            await venue.refreshHeldAssetPrices()
            #expect(await venue.valuationPairs().map(\.symbol) == ["BNBUSDT", "BNBBTC"], "trading again")
        }
        // An account holding only what the configured symbols trade asks Binance for nothing more; BNB bought later is
        // priced as soon as a read of the balances shows it, not at the next refresh (20 s here).
        try await Self.withVenue(symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"], balances: "USDT=10000") { venue, fake in
            try await waitFor("the start's read of the held assets' prices", timeout: .seconds(10)) { await venue.heldAssetPriceReads >= 1 }
            let requests = try await fake.requests()
            #expect(!requests.contains { ($0["path"] as? String) == "/api/v3/ticker/price" })
            #expect(requests.filter { ($0["path"] as? String) == "/api/v3/exchangeInfo" }.count == 1, "the configured symbols' rules only")
            await venue.hold([AssetBalance(asset: "USDT", free: 9_400, locked: 0), AssetBalance(asset: "BNB", free: 1, locked: 0)])
            try await waitFor("BNB priced", timeout: .seconds(5)) { await venue.valuationPairs().map(\.symbol) == ["BNBUSDT"] }
        }
    }

    @Test("a BNB commission whose price cannot be read now is valued at BNB's last price read, however old, not left unrecorded")
    func bnbPriceKept() async throws {
        try await Self.withVenue(symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"]) { venue, fake in
            try await fake.control("price", ["symbol": "BNBUSDT", "bid": "600.00", "ask": "600.01"])
            try await fake.control("commission", ["asset": "BNB", "rate": "0.001"])
            try await fake.control("balance", ["asset": "BNB", "free": "10"])
            let first = try #require(try await venue.place(Self.order("bb-bnb-1")).fills.first)
            // BNB moves, and Binance's price cannot be read for a while.
            try await fake.control("price", ["symbol": "BNBUSDT", "bid": "700.00", "ask": "700.01"])
            try await fake.control("behaviour", ["name": "ticker_5xx", "count": 3])
            // Read two hours ago: an outage that long still leaves no fill unrecorded.
            await venue.ageFeePrices(by: .seconds(7_200))
            let report = try await venue.place(Self.order("bb-bnb-2"))
            let second = try #require(report.fills.first)
            #expect(report.status == .filled)
            // Binance took 0.06 USDT's worth of BNB at 700 (0.0000857 BNB); valued at the 600 read for the first fill, it is
            // worth about 0.0514 (at 700 it would be 0.06, as the first).
            #expect(first.fee > ExactDecimal("0.0599")! && first.fee < ExactDecimal("0.0601")!, "\(first)")
            #expect(second.fee > ExactDecimal("0.0510")! && second.fee < ExactDecimal("0.0520")!, "\(second)")
            #expect(try await Self.executions(fake, "bb-bnb-2") == 1)
        }
    }

    @Test("BNB bought after the start: a BNB commission Binance's price cannot be read for then is valued at the price the held assets' refresh read")
    func bnbPriceFromHeldAssets() async throws {
        // BNBUSDT trades at the fake but is not configured; the account holds no BNB at the start, so no fee price is read then.
        try await Self.withVenue(symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"]) { venue, fake in
            try await fake.control("price", ["symbol": "BNBUSDT", "bid": "600.00", "ask": "600.01"])
            try await fake.control("commission", ["asset": "BNB", "rate": "0.001"])
            try await fake.control("balance", ["asset": "BNB", "free": "10"])
            // routerd's next read of the balances shows the BNB: priced at once.
            await venue.hold([AssetBalance(asset: "USDT", free: 10_000, locked: 0), AssetBalance(asset: "BNB", free: 10, locked: 0)])
            try await waitFor("BNB priced", timeout: .seconds(5)) { await venue.valuationPairs().map(\.symbol) == ["BNBUSDT"] }
            try await fake.control("behaviour", ["name": "ticker_5xx", "count": 3])
            let report = try await venue.place(Self.order("bb-bnb-held-1"))
            #expect(report.status == .filled)
            let fill = try #require(report.fills.first)
            #expect(fill.fee > ExactDecimal("0.0599")! && fill.fee < ExactDecimal("0.0601")!, "\(fill)")
            #expect(try await Self.executions(fake, "bb-bnb-held-1") == 1)
        }
    }

    @Test("a last price of zero from Binance is no price: a holding is not marked at it (nor a BNB commission valued at it)")
    func zeroLastPrice() async throws {
        // Marks older than nothing: every position reads Binance's last price over REST.
        try await Self.withVenue(balances: "USDT=10000,BTC=1,ETH=0", markMaxAge: .zero) { venue, fake in
            #expect(try await venue.positions().first?.lastPrice == ExactDecimal("60000")!)
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "60000.00", "ask": "60000.01", "last": "0"])
            await #expect(throws: BinanceReports.Malformed.self) { try await venue.positions() }
        }
    }

    @Test("market data: each book change is a tick at Binance's exact prices; after the stream drops it reconnects, and the next tick shows the gap")
    func marketStream() async throws {
        try await Self.withVenue { venue, fake in
            let ticks = TickCollector()
            await venue.setEventHandler { event in
                if case .tick(let tick) = event { await ticks.add(tick) }
            }
            try await waitFor("a first tick", timeout: .seconds(20)) {
                // The stream may connect after the first price: move it until a tick arrives.
                try await fake.control("price", ["symbol": "BTCUSDT", "bid": "60100.00", "ask": "60100.02"])
                return await ticks.last("BTCUSDT")?.ask == ExactDecimal("60100.02")!
            }
            let before = try #require(await ticks.last("BTCUSDT"))
            #expect(before.bid.description == "60100.00000000" && before.source == "binance")
            try await fake.control("behaviour", ["name": "drop_streams"])
            try await waitFor("a tick after the reconnect", timeout: .seconds(20)) {
                try await fake.control("price", ["symbol": "BTCUSDT", "bid": "60200.00", "ask": "60200.02"])
                return await ticks.last("BTCUSDT")?.ask == ExactDecimal("60200.02")!
            }
            let sequences = await ticks.all("BTCUSDT").map(\.sequence)
            #expect(zip(sequences, sequences.dropFirst()).contains { $1 == $0 + 2 }, "one skip marks the gap: \(sequences)")
            #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $1 > $0 }, "\(sequences)")
        }
    }

    @Test("market data while routerd is busy: the reader goes on, each symbol's newest tick waits, the ones it replaced are counted and skipped")
    func marketStreamWhileBusy() async throws {
        try await Self.withVenue { venue, fake in
            let ticks = TickCollector()
            let busy = BusyRouter()
            await venue.setEventHandler { event in
                guard case .tick(let tick) = event, tick.symbol == "BTCUSDT" else { return }
                await ticks.add(tick)
                await busy.pass()
            }
            do {
                try await waitFor("a first tick", timeout: .seconds(20)) {
                    try await fake.control("price", ["symbol": "BTCUSDT", "bid": "60100.00", "ask": "60100.02"])
                    return await ticks.last("BTCUSDT") != nil
                }
                // routerd is now busy with that tick. Twenty more book changes: read, and all but the newest replaced.
                let delivered = await ticks.all("BTCUSDT").count
                for step in 1...20 {
                    try await fake.control("price", ["symbol": "BTCUSDT", "bid": "\(60_200 + step).00", "ask": "\(60_200 + step).02"])
                }
                try await waitFor("the reader to read them all", timeout: .seconds(20)) { await venue.replacedMarketTicks >= 19 }
                #expect(await ticks.all("BTCUSDT").count == delivered, "nothing delivered while routerd is busy")
                await busy.free()
                try await waitFor("the newest price", timeout: .seconds(20)) { await ticks.last("BTCUSDT")?.ask == ExactDecimal("60220.02")! }
                let after = await ticks.all("BTCUSDT").dropFirst(delivered)
                // The newest waiting, plus at most the twentieth if it was still on its way when routerd was freed.
                #expect(after.count <= 2, "the newest ticks, not the twenty: \(after.map(\.ask))")
                let sequences = await ticks.all("BTCUSDT").map(\.sequence)
                #expect(sequences.last! >= sequences[delivered - 1] + 20, "the numbering shows the ticks skipped: \(sequences)")
            } catch {
                // Never leave the stream's delivery stuck in the handler: the venue could not shut down.
                await busy.free()
                throw error
            }
        }
    }

    @Test("the user data stream: subscribed with a signed request, then a resting order's fill reaches routerd as it happens (the poll is off)")
    func userDataStream() async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        var settings = Self.settings(fake)
        settings.orderPollMs = 60_000
        let venue = try await BinanceVenue.start(settings: settings, credential: .hmac(apiKey: FakeBinance.apiKey, secret: Array(FakeBinance.hmacSecret.utf8)),
                                                 logger: Logger(label: "binance-test"))
        let events = EventCollector()
        await venue.setEventHandler { event in await events.add(event) }
        do {
            try await waitFor("the subscription", timeout: .seconds(30)) { await events.connections > 0 }
            let placed = try await venue.place(Self.order("bb-uds-1", .buy, .limit, quantity: "0.002", price: "59000.00"))
            #expect(placed.status == .acknowledged)
            try await fake.control("price", ["symbol": "BTCUSDT", "bid": "58990.00", "ask": "58999.00"])
            try await waitFor("the fill from the stream", timeout: .seconds(20)) {
                await events.orders.contains { $0.clientOrderId == "bb-uds-1" && $0.status == .filled && $0.fills.count == 1 }
            }
            // The stream drops: subscribed again, which routerd hears as a reconnect (and reconciles).
            let before = await events.connections
            try await fake.control("behaviour", ["name": "drop_streams"])
            try await waitFor("the subscription made again", timeout: .seconds(30)) { await events.connections > before }
            #expect(await events.disconnections >= 1)
        } catch {
            await venue.shutdown()
            throw FakeBinanceError(description: "\(error)\n--- fake's log ---\n\(fake.log.suffix(3_000))")
        }
        await venue.shutdown()
    }

    @Test("fills since a time reach past the first day that has trades (24-hour windows, then by trade id)")
    func fillsAcrossDays() async throws {
        try await Self.withVenue { venue, fake in
            let start = Date().addingTimeInterval(-5)
            _ = try await venue.place(Self.order("bb-day-1"))
            try await fake.control("clock", ["offsetMs": 90_000_000])  // 25 hours on
            _ = try await venue.openOrders()  // reads the clock again (-1021 first)
            _ = try await venue.place(Self.order("bb-day-2"))
            let fills = try await venue.fills(since: start)
            #expect(fills.map(\.clientOrderId) == ["bb-day-1", "bb-day-2"])
        }
    }

    @Test("fills since a time: every trade of BAGBOT's orders, with its client order id")
    func fillsSince() async throws {
        try await Self.withVenue { venue, _ in
            let start = Date().addingTimeInterval(-5)
            _ = try await venue.place(Self.order("bb-f-1"))
            _ = try await venue.place(Self.order("bb-f-2", .sell, quantity: "0.0005"))
            let fills = try await venue.fills(since: start)
            #expect(fills.map(\.clientOrderId) == ["bb-f-1", "bb-f-2"])
            #expect(fills.map(\.side) == [.buy, .sell])
        }
    }
}

/// The ticks a venue delivered, per symbol, in order.
/// Holds every tick handed to it until `free()`, as routerd's exclusive section does while it is busy.
actor BusyRouter {
    private var isFree = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func pass() async {
        guard !isFree else { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func free() {
        isFree = true
        for continuation in waiting { continuation.resume() }
        waiting.removeAll()
    }
}

actor TickCollector {
    private var ticks: [String: [Tick]] = [:]

    func add(_ tick: Tick) { ticks[tick.symbol, default: []].append(tick) }
    func last(_ symbol: String) -> Tick? { ticks[symbol]?.last }
    func all(_ symbol: String) -> [Tick] { ticks[symbol] ?? [] }
}

/// What a venue handed routerd.
actor EventCollector {
    private(set) var orders: [VenueOrderReport] = []
    private(set) var mayHaveChanged: [String] = []
    private(set) var connections = 0
    private(set) var disconnections = 0
    private(set) var rules: [[SymbolRules]] = []
    private(set) var ticks = 0

    func add(_ event: VenueEvent) {
        switch event {
        case .order(let report): orders.append(report)
        case .orderMayHaveChanged(let clientOrderId, _): mayHaveChanged.append(clientOrderId)
        case .connection(.connected): connections += 1
        case .connection(.disconnected): disconnections += 1
        case .rules(let read): rules.append(read)
        case .tick: ticks += 1
        }
    }
}
