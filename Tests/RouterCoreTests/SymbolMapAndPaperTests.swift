import Foundation
import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import RouterCore

@Suite("SymbolMap")
struct SymbolMapTests {
    @Test("symbol shapes map to asset classes", arguments: [
        ("BTCUSDT", AssetClass?.some(.crypto)), ("ethbtc", .some(.crypto)), ("SOLUSDC", .some(.crypto)),
        ("EURUSD", .some(.forex)), ("gbpjpy", .some(.forex)), ("XAUUSD", .some(.forex)),
        ("AAPL", .some(.stocks)), ("msft", .some(.stocks)), ("F", .some(.stocks)),
        ("", nil), ("BTC-USDT", nil), ("BTC/USDT", nil), ("A APL", nil), ("123456", nil), ("ÄPFEL", nil),
        ("NOT_A_SYMBOL", nil), ("ABCDEFGH", nil),
        ("BTCUSD", .some(.crypto)), ("USDT", nil), ("usd", nil),
    ])
    func assetClasses(symbol: String, expected: AssetClass?) {
        #expect(SymbolMap(paperTrading: true).assetClass(of: symbol) == expected)
    }

    @Test("explicit overrides win over the patterns")
    func overridesWin() {
        var config = RouterSettings()
        config.symbols = ["aapl": "crypto", "EURUSD": "stocks", "SPY500X": "stocks", "JUNK": "bonds"]
        let map = SymbolMap(config: config)
        #expect(map.assetClass(of: "AAPL") == .crypto)
        #expect(map.assetClass(of: "eurusd") == .stocks)
        #expect(map.assetClass(of: "SPY500X") == .stocks)
        // An unknown class in the configuration is not an override.
        #expect(map.assetClass(of: "JUNK") == .stocks)
        #expect(map.overrides["JUNK"] == nil)
    }

    @Test("venues: the paper exchange in paper mode, else the live venue by asset class; none for junk")
    func venues() {
        let paper = SymbolMap(paperTrading: true)
        #expect(paper.venue(for: "BTCUSDT") == .paper)
        #expect(paper.venue(for: "EURUSD") == .paper)
        #expect(paper.venue(for: "AAPL") == .paper)
        #expect(paper.venue(for: "BTC-USDT") == nil)

        let live = SymbolMap(paperTrading: false)
        #expect(live.venue(for: "BTCUSDT") == .binance)
        #expect(live.venue(for: "EURUSD") == .mt5)
        #expect(live.venue(for: "AAPL") == .alpaca)
        #expect(live.venue(for: "") == nil)

        var config = RouterSettings()
        #expect(config.mode == "paper")
        #expect(SymbolMap(config: config).paperTrading)
        config.mode = "live"
        #expect(!SymbolMap(config: config).paperTrading)
    }
}

@Suite("PaperExchange")
struct PaperExchangeTests {
    let settings = Self.settings(usdt: 100_000)

    /// BTCUSDT and EURUSD on margin, as these tests of matching and the margin check need; spot is in `PaperFundsTests`.
    static func settings(usdt: ExactDecimal) -> PaperExchange.Settings {
        PaperExchange.Settings(feeBps: 10, slippageBps: 5, startingBalances: ["USDT": usdt], marginSymbols: ["BTCUSDT", "EURUSD"],
                               rules: ["BTCUSDT", "EURUSD"].map(RouterFixture.looseRules))
    }

    func filled(_ outcome: PaperExchange.Outcome) throws -> Fill {
        guard case .filled(let fill) = outcome else {
            throw TestFailure("expected a fill, got \(outcome)")
        }
        return fill
    }

    @Test("a market buy fills at ask × (1 + slippage) and pays the fee")
    func marketBuy() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101, at: 5))
        let fill = try filled(exchange.submit(newOrder("o1", .buy, 2)))
        #expect(fill.price == 101.0505)
        #expect(fill.fee == 0.202101)
        #expect(fill.quantity == 2)
        #expect(fill.side == .buy)
        #expect(fill.clientOrderId == "o1")
        #expect(fill.venue == .paper)
        #expect(fill.strategyId == "s1")
        #expect(fill.requestId == "req-o1")
        #expect(fill.time == epoch.addingTimeInterval(5))

        #expect(exchange.snapshot.balances["USDT"] == 99_797.696899)
        #expect(exchange.snapshot.balances["BTC"] == 2)
        #expect(exchange.snapshot.feesPaid["USDT"] == 0.202101)
        let position = try #require(try exchange.positions().first)
        #expect(position.symbol == "BTCUSDT")
        #expect(position.quantity == 2)
        #expect(position.averagePrice == 101.0505)
    }

    @Test("a symbol's rules carrying a fee set its fee; others keep the settings' fee_bps")
    func feeFromTheRules() throws {
        var rules = RouterFixture.looseRules("BTCUSDT")
        rules.feeRate = ExactDecimal("0.00075")!
        var exchange = PaperExchange(settings: PaperExchange.Settings(feeBps: 10, slippageBps: 0, startingBalances: ["USDT": 100_000],
                                                                      marginSymbols: ["BTCUSDT", "EURUSD"],
                                                                      rules: [rules, RouterFixture.looseRules("EURUSD")]))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101, at: 5))
        _ = exchange.observe(quote("EURUSD", bid: 100, ask: 101, at: 5))
        #expect(try filled(exchange.submit(newOrder("o1", .buy, 2))).fee == ExactDecimal("0.1515")!, "7.5 bp of 202")
        #expect(try filled(exchange.submit(newOrder("o2", .buy, 2, symbol: "EURUSD"))).fee == ExactDecimal("0.202")!, "10 bp of 202")
    }

    @Test("a market sell fills at bid × (1 − slippage)")
    func marketSell() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        let fill = try filled(exchange.submit(newOrder("o1", .sell, 1)))
        #expect(fill.price == 99.95)
        #expect(fill.fee == 0.09995)
        #expect(exchange.snapshot.balances["USDT"] == 100_099.85005)
        #expect(exchange.snapshot.balances["BTC"] == -1, "on margin a sell may go short")
        #expect(try exchange.positions().first?.quantity == -1)
    }

    @Test("no tick for the symbol: rejected, nothing changes")
    func noTickRejected() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("EURUSD", bid: 1.1, ask: 1.1002))
        let outcome = exchange.submit(newOrder("o1", .buy, 1, symbol: "BTCUSDT"))
        guard case .rejected(let reason) = outcome else {
            Issue.record("expected a rejection, got \(outcome)")
            return
        }
        #expect(reason.contains("no market data"))
        #expect(exchange.snapshot.balances == ["USDT": 100_000])
        #expect(try exchange.positions().isEmpty)
        #expect(exchange.snapshot.feesPaid.isEmpty)
    }

    @Test("a limit order rests, then fills at its limit price when a later tick reaches it (the market came to it)")
    func limitRestsThenFills() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(exchange.submit(newOrder("l1", .buy, 1, type: .limit, limit: 99)) == .resting)
        #expect(exchange.submit(newOrder("l2", .sell, 1, type: .limit, limit: 103)) == .resting)
        #expect(exchange.resting.map(\.clientOrderId) == ["l1", "l2"])
        #expect(exchange.snapshot.balances == ["USDT": 100_000])

        #expect(exchange.observe(quote("BTCUSDT", bid: 99.5, ask: 100, at: 1)).isEmpty)
        #expect(exchange.observe(quote("EURUSD", bid: 1, ask: 1.1, at: 2)).isEmpty)
        let executed = exchange.observe(quote("BTCUSDT", bid: 98, ask: 98.5, at: 3))
        try #require(executed.count == 1)
        #expect(executed[0].order.clientOrderId == "l1")
        #expect(executed[0].order.status == .filled)
        #expect(executed[0].fill.price == 99, "at its limit, not at the lower ask the tick gapped to")
        #expect(executed[0].fill.fee == 0.099)
        #expect(executed[0].fill.time == epoch.addingTimeInterval(3))
        #expect(exchange.resting.map(\.clientOrderId) == ["l2"])

        let sold = exchange.observe(quote("BTCUSDT", bid: 104, ask: 104.5, at: 4))
        #expect(sold.map(\.fill.price) == [103])
        #expect(exchange.resting.isEmpty)
        #expect(try exchange.positions().first?.quantity == 0)
        #expect(try exchange.positions().first?.realizedPnl == 3.798, "(103 − 99) × 1, less both fills' fees (0.099 and 0.103)")
    }

    @Test("one trade print's size is shared by the resting orders it reaches, never filled once per order")
    func tradedVolumeIsShared() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(exchange.submit(newOrder("a", .buy, 10, type: .limit, limit: 99)) == .resting)
        #expect(exchange.submit(newOrder("b", .buy, 10, type: .limit, limit: 99)) == .resting)
        var trade = quote("BTCUSDT", bid: 98.9, ask: 99, at: 1)
        trade.volume = 5
        let fills = exchange.observe(trade)
        #expect(fills.map(\.fill.quantity) == [5], "5 traded: 5 filled in all, to the first order in line")
        #expect(try exchange.positions().first?.quantity == 5)
    }

    @Test("a trade tick smaller than what remains fills part of a resting order, in whole steps; the rest keeps resting")
    func partialFills() throws {
        var stepped = settings
        var btc = RouterFixture.looseRules("BTCUSDT")
        btc.stepSize = 0.001
        stepped.adopt([btc])
        var exchange = PaperExchange(settings: stepped)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(exchange.submit(newOrder("p1", .buy, 1, type: .limit, limit: 99)) == .resting)
        var trade = quote("BTCUSDT", bid: 98.9, ask: 99, at: 1)
        trade.volume = 0.3005
        let first = exchange.observe(trade)
        try #require(first.count == 1)
        #expect(first[0].fill.quantity == 0.3, "0.3005 traded: 0.300 in whole steps of 0.001")
        #expect(first[0].fill.fillId == "p1-1")
        #expect(first[0].order.status == .partiallyFilled)
        #expect(first[0].order.filledQuantity == 0.3)
        #expect(exchange.resting.first?.filledQuantity == 0.3)
        trade.volume = 0.0004
        #expect(exchange.observe(trade).isEmpty, "less than one step trades nothing")
        trade.volume = 5
        let rest = exchange.observe(trade)
        #expect(rest.map(\.fill.quantity) == [0.7])
        #expect(rest.first?.fill.fillId == "p1-2")
        #expect(rest.first?.order.status == .filled)
        #expect(rest.first?.order.averageFillPrice == 99)
        #expect(exchange.resting.isEmpty)
        #expect(try exchange.positions().first?.quantity == 1)
    }

    @Test("a marketable limit order fills at once as a market order would, slippage included, never past its limit")
    func marketableLimit() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        let market = try filled(exchange.submit(newOrder("m1", .buy, 1)))
        #expect(market.price == ExactDecimal("101.0505")!, "ask 101 + 5 bp")
        let fill = try filled(exchange.submit(newOrder("l1", .sell, 1, type: .limit, limit: 99.5)))
        #expect(fill.price == ExactDecimal("99.95")!, "bid 100 − 5 bp: no better than a market sell")
        let buy = try filled(exchange.submit(newOrder("l2", .buy, 1, type: .limit, limit: 150)))
        #expect(buy.price == market.price, "no better than a market buy")
        let capped = try filled(exchange.submit(newOrder("l4", .buy, 1, type: .limit, limit: ExactDecimal("101.02")!)))
        #expect(capped.price == ExactDecimal("101.02")!, "the slipped price is past the limit: the limit caps it")
        let outcome = exchange.submit(newOrder("l3", .buy, 1, type: .limit, limit: nil))
        guard case .rejected = outcome else {
            Issue.record("a limit order without a price must be rejected, got \(outcome)")
            return
        }
    }

    @Test("a resting order can be cancelled and then never fills")
    func cancel() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        _ = exchange.submit(newOrder("l1", .buy, 1, type: .limit, limit: 99))
        let cancelled = exchange.cancel(clientOrderId: "l1")
        #expect(cancelled?.clientOrderId == "l1")
        #expect(exchange.resting.isEmpty)
        #expect(exchange.cancel(clientOrderId: "l1") == nil)
        #expect(exchange.cancel(clientOrderId: "nope") == nil)
        #expect(exchange.observe(quote("BTCUSDT", bid: 90, ask: 91)).isEmpty)
        #expect(exchange.snapshot.balances == ["USDT": 100_000])
    }

    @Test("orders beyond the buying power are rejected; reducing orders are not")
    func buyingPower() throws {
        var exchange = PaperExchange(settings: Self.settings(usdt: 1_000))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        for order in [newOrder("big", .buy, 20), newOrder("short", .sell, 20),
                      newOrder("rest", .buy, 20, type: .limit, limit: 99)] {
            let outcome = exchange.submit(order)
            guard case .rejected(let reason) = outcome else {
                Issue.record("\(order.clientOrderId) should be rejected, got \(outcome)")
                continue
            }
            #expect(reason.hasPrefix("insufficient_margin"))
        }
        #expect(exchange.snapshot.balances == ["USDT": 1_000])
        #expect(exchange.resting.isEmpty)
        #expect(try exchange.positions().isEmpty)

        _ = try filled(exchange.submit(newOrder("fits", .buy, 9)))
        // Adding to the position beyond equity is refused; closing it is always allowed.
        guard case .rejected = exchange.submit(newOrder("more", .buy, 2)) else {
            Issue.record("growing past equity must be rejected")
            return
        }
        _ = try filled(exchange.submit(newOrder("close", .sell, 9)))
        #expect(try exchange.positions().first?.quantity == 0)
    }

    @Test("buying power counts the exposure in every symbol, not only the one traded")
    func buyingPowerAcrossSymbols() throws {
        var exchange = PaperExchange(settings: Self.settings(usdt: 1_000))
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        _ = exchange.observe(quote("EURUSD", bid: 1.1, ask: 1.1002))
        _ = try filled(exchange.submit(newOrder("btc", .buy, 9, symbol: "BTCUSDT")))   // ≈ 905 of ≈ 994 equity
        let outcome = exchange.submit(newOrder("eur", .buy, 100, symbol: "EURUSD"))    // +110 would exceed it
        guard case .rejected(let reason) = outcome else {
            Issue.record("exposure across symbols must be capped by equity, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("insufficient_margin"))
        _ = try filled(exchange.submit(newOrder("eur-small", .buy, 50, symbol: "EURUSD")))
    }

    @Test("equity is every balance valued in dollars at the latest mid (USDT pegged)")
    func equity() throws {
        var exchange = PaperExchange(settings: settings)
        _ = exchange.observe(quote("BTCUSDT", bid: 100, ask: 101))
        _ = exchange.observe(quote("EURUSD", bid: 1.1, ask: 1.1002))
        _ = try filled(exchange.submit(newOrder("b", .buy, 2, symbol: "BTCUSDT")))
        _ = try filled(exchange.submit(newOrder("e", .sell, 1_000, symbol: "EURUSD")))
        let cash = try #require(exchange.snapshot.balances["USDT"]) + #require(exchange.snapshot.balances["USD"])
        // 2 × 100.5 − 1,000 × 1.1001, to the last digit.
        #expect(try exchange.valuation().value == cash + 201 - 1_100.1)

        _ = exchange.observe(quote("BTCUSDT", bid: 110, ask: 112))
        #expect(try exchange.valuation().value == cash + 222 - 1_100.1)
        let btc = try #require(try exchange.positions().first { $0.symbol == "BTCUSDT" })
        #expect(btc.lastPrice == 111)
        #expect(btc.unrealizedPnl == 19.899)
        let eur = try #require(try exchange.positions().first { $0.symbol == "EURUSD" })
        #expect(eur.quantity == -1_000)
        #expect(try exchange.positions().map(\.symbol) == ["BTCUSDT", "EURUSD"])

        // The snapshot (what is stored) marks each position at its symbol's latest mid, not at its fill's.
        #expect(exchange.snapshot.positions["BTCUSDT"]?.lastPrice == 111)
        #expect(exchange.snapshot.positions["EURUSD"]?.lastPrice == 1.1001)
        // A fresh exchange from the snapshot (a restart, before any tick) marks at the stored prices.
        let restored = PaperExchange(settings: settings, snapshot: exchange.snapshot)
        #expect(try restored.valuation() == exchange.valuation())
        #expect(restored.snapshot.balances == exchange.snapshot.balances)
    }
}
