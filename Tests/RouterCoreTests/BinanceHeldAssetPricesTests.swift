import Testing
import BagbotDomain
@testable import RouterCore

@Suite("Prices of held assets no configured symbol trades")
struct BinanceHeldAssetPricesTests {
    static func rule(_ symbol: String, _ base: String, _ quote: String) -> SymbolRules {
        SymbolRules(symbol: symbol, baseAsset: base, quoteAsset: quote, tickSize: 0.01, stepSize: 0.00001, minQuantity: 0.00001, maxQuantity: 9_000)
    }

    static let rules = [rule("BTCUSDT", "BTC", "USDT"), rule("ETHUSDT", "ETH", "USDT")]
    typealias Market = BinanceHeldAssetPrices.Market

    @Test("only assets that are neither base nor quote of a routed symbol are priced")
    func unrouted() {
        #expect(BinanceHeldAssetPrices.unrouted(held: ["USDT", "BTC", "BNB", "DOGE", "ETH"], rules: Self.rules) == ["BNB", "DOGE"])
        #expect(BinanceHeldAssetPrices.unrouted(held: ["USDT", "BTC"], rules: Self.rules).isEmpty)
    }

    @Test("an asset's markets, best first: against routed quote assets (either way round), then against routed base assets")
    func marketOrder() {
        var prices = BinanceHeldAssetPrices()
        prices.list([
            Market(symbol: "BNBBTC", baseAsset: "BNB", quoteAsset: "BTC"),
            Market(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT"),
            Market(symbol: "USDTTRY", baseAsset: "USDT", quoteAsset: "TRY"),
            Market(symbol: "ALTBTC", baseAsset: "ALT", quoteAsset: "BTC"),
            Market(symbol: "ALTXYZ", baseAsset: "ALT", quoteAsset: "XYZ"),
        ])
        #expect(prices.candidates(of: "BNB", rules: Self.rules).map(\.symbol) == ["BNBUSDT", "BNBBTC"])
        #expect(prices.candidates(of: "TRY", rules: Self.rules).map(\.symbol) == ["USDTTRY"])
        #expect(prices.candidates(of: "ALT", rules: Self.rules).map(\.symbol) == ["ALTBTC"], "not ALTXYZ: XYZ has no value here")
        #expect(prices.candidates(of: "XYZ", rules: Self.rules).isEmpty, "only through a routed asset")
    }

    @Test("among quote assets, those no routed symbol has as its base come first, the one most routed symbols are quoted in first")
    func quoteRanking() {
        var prices = BinanceHeldAssetPrices()
        prices.list([
            Market(symbol: "BNBBTC", baseAsset: "BNB", quoteAsset: "BTC"), Market(symbol: "BNBEUR", baseAsset: "BNB", quoteAsset: "EUR"),
            Market(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT"),
        ])
        let rules = [Self.rule("BTCUSDT", "BTC", "USDT"), Self.rule("ETHUSDT", "ETH", "USDT"), Self.rule("BTCEUR", "BTC", "EUR"),
                     Self.rule("ETHBTC", "ETH", "BTC")]
        #expect(prices.candidates(of: "BNB", rules: rules).map(\.symbol) == ["BNBUSDT", "BNBEUR", "BNBBTC"])
    }

    @Test("each status read decides which markets trade: a halted one is left out, and taken again once it trades")
    func tradingStatus() {
        var prices = BinanceHeldAssetPrices()
        let start = ContinuousClock.now
        prices.list([Market(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT"), Market(symbol: "BNBBTC", baseAsset: "BNB", quoteAsset: "BTC")])
        prices.priced("BNBUSDT", 600, at: start)
        prices.priced("BNBBTC", 0.01, at: start)
        func symbols() -> [String] { prices.pairs(of: ["BNB"], rules: Self.rules, maxAge: .seconds(60), now: start).map(\.symbol) }
        #expect(symbols() == ["BNBUSDT", "BNBBTC"], "best first")
        prices.statuses(trading: ["BNBBTC"])
        #expect(symbols() == ["BNBBTC"], "BNBUSDT halted: its frozen price values nothing")
        prices.statuses(trading: [])
        #expect(symbols().isEmpty)
        prices.statuses(trading: ["BNBUSDT", "BNBBTC"])
        #expect(symbols() == ["BNBUSDT", "BNBBTC"])
    }

    @Test("a list that failed is not read again for 5 minutes; a symbol Binance no longer knows has it read again, at most once in 5 minutes")
    func listRetry() {
        var prices = BinanceHeldAssetPrices()
        let start = ContinuousClock.now
        prices.listFailed(at: start)
        #expect(!prices.needsList(now: start + .seconds(299)))
        #expect(prices.needsList(now: start + .seconds(300)))
        prices.list([], at: start)
        prices.forgetList(at: start + .seconds(10))
        #expect(!prices.needsList(now: start + .seconds(10)), "read 10 s ago: not again yet")
        prices.forgetList(at: start + .seconds(300))
        #expect(prices.needsList(now: start + .seconds(300)))
        #expect(prices.hasList, "the old list serves meanwhile")
    }

    @Test("a price values its asset only while it is younger than the age allowed")
    func priceAge() {
        var prices = BinanceHeldAssetPrices()
        let start = ContinuousClock.now
        prices.list([Market(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT")], at: start)
        #expect(prices.pairs(of: ["BNB"], rules: Self.rules, maxAge: .seconds(60), now: start).isEmpty, "no price read yet")
        prices.priced("BNBUSDT", 600, at: start)
        let pair = CurrencyConverter.Pair(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT", price: 600)
        #expect(prices.pairs(of: ["BNB"], rules: Self.rules, maxAge: .seconds(60), now: start + .seconds(59)) == [pair])
        #expect(prices.pairs(of: ["BNB"], rules: Self.rules, maxAge: .seconds(60), now: start + .seconds(60)).isEmpty)
        #expect(prices.pairs(of: [], rules: Self.rules, maxAge: .seconds(60), now: start).isEmpty, "BNB no longer held")
    }

    @Test("the prices of an asset no longer held are forgotten: bought again, it is not valued at a price from before")
    func pricesOfSoldAssets() {
        var prices = BinanceHeldAssetPrices()
        prices.list([Market(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT"), Market(symbol: "DOGEUSDT", baseAsset: "DOGE", quoteAsset: "USDT")])
        prices.priced("BNBUSDT", 600)
        prices.priced("DOGEUSDT", 0.1)
        prices.keepPrices(of: Set(prices.candidates(of: "DOGE", rules: Self.rules).map(\.symbol)))
        #expect(prices.lastPrice(of: "BNBUSDT") == nil)
        #expect(prices.lastPrice(of: "DOGEUSDT")?.price == 0.1)
    }

    @Test("Binance's symbols are read when never read, and again an hour later")
    func listAge() {
        var prices = BinanceHeldAssetPrices()
        let start = ContinuousClock.now
        #expect(prices.needsList(now: start))
        prices.list([], at: start)
        #expect(!prices.needsList(now: start + .seconds(3_599)))
        #expect(prices.needsList(now: start + .seconds(3_600)))
    }

    @Test("the list keeps only trading symbols, read without their filters")
    func tradingMarkets() throws {
        let body = Array("""
            {"timezone":"UTC","serverTime":1,"rateLimits":[],"exchangeFilters":[],"symbols":[
             {"symbol":"BNBUSDT","status":"TRADING","baseAsset":"BNB","quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER"}]},
             {"symbol":"OLDUSDT","status":"BREAK","baseAsset":"OLD","quoteAsset":"USDT","filters":[]}]}
            """.utf8)
        #expect(try BinanceVenue.tradingMarkets(body) == [Market(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT")])
        #expect(throws: (any Error).self) { try BinanceVenue.tradingMarkets(Array("{\"symbols\":7}".utf8)) }
    }
}
