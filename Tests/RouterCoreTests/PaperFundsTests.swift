import Foundation
import Testing
import BagbotDomain
import BagbotStorage
import BagbotTestSupport
@testable import RouterCore

/// What an order may spend on paper: spot balances with holds for open orders, and the margin check.
@Suite("Paper funds")
struct PaperFundsTests {
    /// BTCUSDT and BTCUSD spot; USDJPY and EURUSD on margin.
    static func settings(_ balances: [String: ExactDecimal]) -> PaperExchange.Settings {
        PaperExchange.Settings(feeBps: 10, slippageBps: 0, startingBalances: balances, marginSymbols: ["USDJPY", "EURUSD"],
                               rules: ["BTCUSDT", "USDJPY", "EURUSD", "BTCUSD"].map(RouterFixture.looseRules))
    }

    func filled(_ outcome: PaperExchange.Outcome) -> Bool {
        if case .filled = outcome { return true }
        return false
    }

    func reason(_ outcome: PaperExchange.Outcome) -> String? {
        guard case .rejected(let reason) = outcome else { return nil }
        return reason
    }

    @Test("spot: a buy spends the quote asset and the fee, a sell needs the coins; no short selling")
    func spotSpendsWhatIsHeld() throws {
        var exchange = PaperExchange(settings: Self.settings(["USDT": 1_000]))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 100))
        #expect(reason(exchange.submit(newOrder("short", .sell, 1)))?.hasPrefix("insufficient_balance") == true)
        // 10 × 100 = 1,000 plus a fee of 1: one more than the account holds.
        let tooMuch = try #require(reason(exchange.submit(newOrder("all", .buy, 10))))
        #expect(tooMuch.hasPrefix("insufficient_balance: a buy of 10 BTCUSDT needs 1001 USDT; 1000 is free"))
        guard case .filled = exchange.submit(newOrder("some", .buy, 9)) else { throw TestFailure("9 BTC fit") }
        #expect(exchange.snapshot.balances == ["USDT": 99.1, "BTC": 9])
        #expect(reason(exchange.submit(newOrder("more-than-held", .sell, 9.00000001)))?.hasPrefix("insufficient_balance") == true)
        guard case .filled = exchange.submit(newOrder("out", .sell, 9)) else { throw TestFailure("the 9 held can be sold") }
        #expect(exchange.snapshot.balances["BTC"] == 0)
        #expect(exchange.snapshot.balances["USDT"] == 998.2, "1,000 less 0.9 + 0.9 of fees, to the last digit")
        #expect(exchange.snapshot.feesPaid["USDT"] == 1.8)
    }

    @Test("spot: a resting order holds what it would spend; no other order can spend it until it is cancelled")
    func holds() throws {
        var exchange = PaperExchange(settings: Self.settings(["USDT": 1_000, "BTC": 2]))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(exchange.submit(newOrder("bid", .buy, 5, type: .limit, limit: 90)) == .resting)
        #expect(exchange.submit(newOrder("ask", .sell, 1.5, type: .limit, limit: 120)) == .resting)
        let balances = try exchange.balances()
        #expect(balances.first { $0.asset == "USDT" } == AssetBalance(asset: "USDT", free: 549.55, locked: 450.45))
        #expect(balances.first { $0.asset == "BTC" } == AssetBalance(asset: "BTC", free: 0.5, locked: 1.5))
        // 7 × 90 = 630 + 0.63 would fit the balance, but 450.45 of it is promised to "bid".
        #expect(reason(exchange.submit(newOrder("bid-2", .buy, 7, type: .limit, limit: 90)))?.contains("450.45 held by open orders") == true)
        #expect(reason(exchange.submit(newOrder("dump", .sell, 1)))?.hasPrefix("insufficient_balance") == true)
        guard case .filled = exchange.submit(newOrder("small", .sell, 0.5)) else { throw TestFailure("the free 0.5 BTC can be sold") }
        _ = exchange.cancel(clientOrderId: "bid")
        #expect(exchange.submit(newOrder("bid-3", .buy, 6, type: .limit, limit: 90)) == .resting, "cancelling frees the hold")
    }

    @Test("spot: a resting order fills from its own hold, even when nothing else is free")
    func restingFillsFromItsHold() throws {
        var exchange = PaperExchange(settings: Self.settings(["USDT": 100.1]))
        _ = exchange.observe(quote("BTCUSDT", bid: 101, ask: 102))
        #expect(exchange.submit(newOrder("bid", .buy, 1, type: .limit, limit: 100)) == .resting)
        #expect(try exchange.balances().first { $0.asset == "USDT" }?.free == 0)
        let filled = exchange.observe(quote("BTCUSDT", bid: 99, ask: 100, at: 1))
        #expect(filled.count == 1)
        #expect(exchange.snapshot.balances == ["USDT": 0, "BTC": 1])
        #expect(try exchange.balances().allSatisfy { $0.locked == 0 })
    }

    @Test("margin: a quote currency other than the account's is valued through a price (JPY through USDJPY)")
    func marginAcrossCurrencies() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000]))
        _ = exchange.observe(quote("USDJPY", bid: 150, ask: 150))
        guard case .filled = exchange.submit(newOrder("short-usd", .sell, 900, symbol: "USDJPY")) else { throw TestFailure("900 of 1,000") }
        #expect(exchange.snapshot.balances["USD"] == 100)
        // 135,000 JPY less the fee of 135.
        #expect(exchange.snapshot.balances["JPY"] == 134_865)
        #expect(try exchange.valuation().value == 999.1)
        #expect(reason(exchange.submit(newOrder("more", .sell, 100, symbol: "USDJPY")))?.hasPrefix("insufficient_margin") == true)
    }

    @Test("margin: an asset that cannot be valued yet stops orders that would add exposure, not those that reduce it")
    func marginNeedsPrices() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000, "JPY": 10_000]))
        _ = exchange.observe(quote("EURUSD", bid: 1.1, ask: 1.1))
        let refusal = try #require(reason(exchange.submit(newOrder("eur", .buy, 10, symbol: "EURUSD"))))
        #expect(refusal == "insufficient_margin: JPY cannot be valued in USD yet (no price)")
        _ = exchange.observe(quote("USDJPY", bid: 100, ask: 100))
        guard case .filled = exchange.submit(newOrder("eur-2", .buy, 10, symbol: "EURUSD")) else { throw TestFailure("JPY has a rate now") }
    }

    @Test("open margin orders count against equity: two resting orders cannot promise the same margin")
    func marginCountsRestingOrders() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000]))
        _ = exchange.observe(quote("EURUSD", bid: 1, ask: 1))
        #expect(exchange.submit(newOrder("a", .buy, 600, symbol: "EURUSD", type: .limit, limit: 0.9)) == .resting)
        #expect(reason(exchange.submit(newOrder("b", .buy, 600, symbol: "EURUSD", type: .limit, limit: 0.9)))?.hasPrefix("insufficient_margin") == true)
    }

    @Test("no leverage across spot and margin: coins bought with the cash that backs a margin position count as exposure")
    func spotBuysCountAgainstEquity() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000, "USDT": 1_000]))
        _ = exchange.observe(quote("EURUSD", bid: 1, ask: 1))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 100))
        #expect(filled(exchange.submit(newOrder("eur", .buy, 1_900, symbol: "EURUSD"))))
        // 1,900 of EUR and 9.9 BTC (990) would be 2,890 of exposure on under 2,000 of equity.
        #expect(reason(exchange.submit(newOrder("btc", .buy, 9.9)))?.hasPrefix("insufficient_margin") == true)
        #expect(filled(exchange.submit(newOrder("btc-small", .buy, 0.9))))
    }

    @Test("coins held from the start are exposure too")
    func heldCoinsAreExposure() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000, "BTC": 10]))
        _ = exchange.observe(quote("EURUSD", bid: 1, ask: 1))
        _ = exchange.observe(quote("BTCUSD", bid: 100, ask: 100))
        // Equity 2,000, of which 1,000 is already at risk in BTC.
        #expect(reason(exchange.submit(newOrder("eur", .buy, 1_500, symbol: "EURUSD")))?.hasPrefix("insufficient_margin") == true)
        #expect(filled(exchange.submit(newOrder("eur-fits", .buy, 900, symbol: "EURUSD"))))
    }

    @Test("a margin order cannot spend what a resting spot order holds of the same asset")
    func marginRespectsSpotHolds() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000]))
        _ = exchange.observe(quote("EURUSD", bid: 1, ask: 1))
        _ = exchange.observe(quote("BTCUSD", bid: 100, ask: 101))
        #expect(exchange.submit(newOrder("btc-bid", .buy, 6, symbol: "BTCUSD", type: .limit, limit: 90)) == .resting)
        let refusal = try #require(reason(exchange.submit(newOrder("eur", .buy, 600, symbol: "EURUSD"))))
        #expect(refusal.contains("would spend the 540.54 USD held by open orders"))
        #expect(filled(exchange.submit(newOrder("eur-fits", .buy, 400, symbol: "EURUSD"))))
    }

    @Test("the fees of a resting order's parts add up to the fee its hold set aside: the last part always fills")
    func partialFeesFitTheHold() throws {
        var exchange = PaperExchange(settings: Self.settings(["USDT": 60.06000601]))
        _ = exchange.observe(quote("BTCUSDT", bid: 31, ask: 32))
        #expect(exchange.submit(newOrder("bid", .buy, 2.0000002, type: .limit, limit: 30)) == .resting)
        var trade = quote("BTCUSDT", bid: 29.99, ask: 30, at: 1)
        trade.volume = 1.0000001
        #expect(exchange.observe(trade).count == 1)
        #expect(try exchange.balances().allSatisfy { !$0.free.isNegative })
        let second = exchange.observe(trade)
        #expect(second.count == 1)
        guard case .filled(let order, _) = second.first else { throw TestFailure("the second half must fill, got \(second)") }
        #expect(order.status == .filled)
        #expect(exchange.snapshot.feesPaid["USDT"] == 0.06000001, "the fee of 60.000006, rounded up once")
        #expect(exchange.snapshot.balances["USDT"] == 0)
    }

    @Test("a resting margin order the account can no longer pay for when the market reaches it expires, with the reason")
    func unpayableRestingOrderExpires() throws {
        var exchange = PaperExchange(settings: Self.settings(["USD": 1_000]))
        _ = exchange.observe(quote("USDJPY", bid: 100, ask: 100))
        _ = exchange.observe(quote("EURUSD", bid: 1, ask: 1))
        #expect(filled(exchange.submit(newOrder("short-usd", .sell, 500, symbol: "USDJPY"))))
        #expect(exchange.submit(newOrder("eur-bid", .buy, 500, symbol: "EURUSD", type: .limit, limit: 0.9)) == .resting)
        // The yen weakens: equity falls to about 916 while the open exposure would be 950.
        _ = exchange.observe(quote("USDJPY", bid: 120, ask: 120, at: 1))
        let outcome = exchange.observe(quote("EURUSD", bid: 0.89, ask: 0.9, at: 2))
        guard case .expired(let order, let why) = outcome.first else { throw TestFailure("expected an expiry, got \(outcome)") }
        #expect(order.clientOrderId == "eur-bid")
        #expect(why.hasPrefix("insufficient_margin"))
        #expect(exchange.resting.isEmpty)
    }

    @Test("a resting reduce-only take-profit holds no coins: the stop-loss can still sell them")
    func takeProfitDoesNotBlockStop() throws {
        var exchange = PaperExchange(settings: Self.settings(["USDT": 1_000]))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 100))
        #expect(filled(exchange.submit(newOrder("open", .buy, 1))))
        var takeProfit = newOrder("tp", .sell, 1, type: .limit, limit: 120)
        takeProfit.reduceOnly = true
        #expect(exchange.submit(takeProfit) == .resting)
        _ = exchange.observe(quote("BTCUSDT", bid: 80, ask: 80, at: 1))
        var stop = newOrder("stop", .sell, 1)
        stop.reduceOnly = true
        #expect(filled(exchange.submit(stop)), "the stop must go out")
        let later = exchange.observe(quote("BTCUSDT", bid: 125, ask: 125, at: 2))
        guard case .expired(_, let why) = later.first else { throw TestFailure("the take-profit has nothing left to reduce: \(later)") }
        #expect(why.hasPrefix("reduce_only"))
    }

    @Test("holds survive a restart: they come from the working orders on disk")
    func holdsSurviveRestart() async throws {
        let fixture = try RouterFixture()
        let settings = Self.settings(["USDT": 1_000])
        let rules = ["BTCUSDT", "USDJPY", "EURUSD"].map(RouterFixture.looseRules)
        let first = try await PaperVenue(database: fixture.database, settings: settings, rules: rules, logger: quietLogger)
        await first.ingest(quote("BTCUSDT", bid: 100, ask: 101))
        var bid = VenueOrderRequest(newOrder("bid", .buy, 9, type: .limit, limit: 99))
        bid.limitPrice = 99
        #expect(try await first.place(bid).status == .acknowledged)
        let before = try await first.balances()

        let second = try await PaperVenue(database: fixture.database, settings: settings, rules: rules, logger: quietLogger)
        #expect(try await second.balances() == before)
        #expect(before.first { $0.asset == "USDT" }?.locked == 891.891)
        await second.ingest(quote("BTCUSDT", bid: 100, ask: 101, at: 1))
        let again = try await second.place(VenueOrderRequest(newOrder("market", .buy, 2)))
        #expect(again.status == .rejected)
        #expect(again.rejectReason?.hasPrefix("insufficient_balance") == true)
    }

    @Test("balances are rebuilt from the paper fills the first time: starting balances plus every fill, in order")
    func balancesRebuiltFromFills() async throws {
        let fixture = try RouterFixture()
        let rules = ["BTCUSDT", "USDJPY", "EURUSD"].map(RouterFixture.looseRules)
        let first = try await PaperVenue(database: fixture.database, settings: Self.settings(["USDT": 1_000]), rules: rules, logger: quietLogger)
        await first.ingest(quote("BTCUSDT", bid: 100, ask: 100))
        _ = try await first.place(VenueOrderRequest(newOrder("buy", .buy, 3)))
        _ = try await first.place(VenueOrderRequest(newOrder("sell", .sell, 1)))
        let kept = try await first.balances()
        // As the table is after the migration from one cash figure: empty.
        try await fixture.database.write { db in try db.execute(sql: "DELETE FROM paper_balances") }

        let rebuilt = try await PaperVenue(database: fixture.database, settings: Self.settings(["USDT": 1_000]), rules: rules, logger: quietLogger)
        #expect(try await rebuilt.balances() == kept)
        // Written at once: the starting balances of a later configuration do not change an account that has started.
        let later = try await PaperVenue(database: fixture.database, settings: Self.settings(["USDT": 5]), rules: rules, logger: quietLogger)
        #expect(try await later.balances() == kept)

        try await fixture.database.write { db in try db.execute(sql: "DELETE FROM paper_balances") }
        await #expect(throws: PaperBookError.self, "a fill in a symbol no longer configured cannot be applied") {
            _ = try await PaperVenue(database: fixture.database, settings: Self.settings(["USDT": 1_000]),
                                     rules: [RouterFixture.looseRules("EURUSD")], logger: quietLogger)
        }
    }

    @Test("the paper venue's holdings are its balances and positions as one section reads them")
    func holdingsInOneRead() async throws {
        let fixture = try RouterFixture()
        let rules = ["BTCUSDT", "USDJPY", "EURUSD"].map(RouterFixture.looseRules)
        let venue = try await PaperVenue(database: fixture.database, settings: Self.settings(["USDT": 1_000, "USD": 1_000]), rules: rules,
                                         logger: quietLogger)
        await venue.ingest(quote("BTCUSDT", bid: 100, ask: 100))
        await venue.ingest(quote("EURUSD", bid: 1.1, ask: 1.1))
        _ = try await venue.place(VenueOrderRequest(newOrder("buy", .buy, 3)))
        _ = try await venue.place(VenueOrderRequest(newOrder("eur", .sell, 100, symbol: "EURUSD")))
        let (balances, positions) = try await venue.holdings()
        #expect(balances == (try await venue.balances()))
        #expect(positions.map(\.symbol).sorted() == (try await venue.positions()).map(\.symbol).sorted())
        #expect(positions.map(\.symbol).sorted() == ["BTCUSDT", "EURUSD"])
    }
}
