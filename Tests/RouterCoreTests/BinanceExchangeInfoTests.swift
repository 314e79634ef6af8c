import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Binance exchangeInfo → symbol rules")
struct BinanceExchangeInfoTests {
    /// Shaped as Binance answers (rest-api.md "Exchange information", filters.md), numbers as strings.
    static let json = """
        {"timezone":"UTC","serverTime":1565246363776,
         "rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
                       {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100}],
         "exchangeFilters":[],
         "symbols":[
          {"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT","quotePrecision":8,
           "orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS_LIMIT","TAKE_PROFIT_LIMIT"],"isSpotTradingAllowed":true,
           "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
                      {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
                      {"filterType":"ICEBERG_PARTS","limit":10},
                      {"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"106.50000000","stepSize":"0.00000000"},
                      {"filterType":"TRAILING_DELTA","minTrailingAboveDelta":10,"maxTrailingAboveDelta":2000},
                      {"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"5","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.2","avgPriceMins":5},
                      {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
                      {"filterType":"MAX_NUM_ORDERS","maxNumOrders":200}],
           "permissions":[],"permissionSets":[["SPOT","MARGIN"]]},
          {"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","quoteAsset":"BTC","orderTypes":["LIMIT","MARKET"],
           "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00000100","maxPrice":"0","tickSize":"0.00000100"},
                      {"filterType":"LOT_SIZE","minQty":"0.00010000","maxQty":"100000.00000000","stepSize":"0.00010000"},
                      {"filterType":"MIN_NOTIONAL","minNotional":"0.00010000","applyToMarket":true,"avgPriceMins":5}]},
          {"symbol":"LUNAUSDT","status":"HALT","baseAsset":"LUNA","quoteAsset":"USDT","filters":[]},
          {"symbol":"BNBUSDT","status":"BREAK","baseAsset":"BNB","quoteAsset":"USDT","orderTypes":["LIMIT","MARKET"],
           "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"100000","tickSize":"0.01"},
                      {"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"9000","stepSize":"0.001"}]},
          {"symbol":"NOLOTUSDT","status":"TRADING","baseAsset":"NOLOT","quoteAsset":"USDT",
           "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"100","tickSize":"0.01"}]},
          {"symbol":"BADUSDT","status":"TRADING","baseAsset":"BAD","quoteAsset":"USDT",
           "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"100","tickSize":"0,01"},
                      {"filterType":"LOT_SIZE","minQty":"1","maxQty":"10","stepSize":"1"}]},
          {"symbol":"LIMITONLY","status":"TRADING","baseAsset":"L","quoteAsset":"USDT","orderTypes":["LIMIT"],"filters":[]}
         ]}
        """

    @Test("each filter becomes the rule it is, exactly; MARKET_LOT_SIZE narrows the quantities; a 0 disables a bound")
    func rules() throws {
        let info = try JSONDecoder().decode(BinanceExchangeInfo.self, from: Data(Self.json.utf8))
        let (rules, refused, paused) = info.rules()
        let btc = try #require(rules.first { $0.symbol == "BTCUSDT" })
        #expect(btc.baseAsset == "BTC" && btc.quoteAsset == "USDT" && !btc.shortSelling)
        #expect(btc.tickSize == ExactDecimal("0.01000000")! && btc.stepSize == ExactDecimal("0.00001")!)
        #expect(btc.minQuantity == ExactDecimal("0.00001")!, "MARKET_LOT_SIZE's 0 is no rule")
        #expect(btc.maxQuantity == ExactDecimal("106.5")!, "market orders are capped by MARKET_LOT_SIZE")
        #expect(btc.minNotional == 5 && btc.minPrice == ExactDecimal("0.01")! && btc.maxPrice == 1_000_000)
        let eth = try #require(rules.first { $0.symbol == "ETHBTC" })
        #expect(eth.minNotional == ExactDecimal("0.0001")!, "the older MIN_NOTIONAL")
        #expect(eth.maxPrice > 1_000_000, "maxPrice 0: no upper bound")
        // A paused symbol keeps its rules (its fills are still read and valued), and its status says it is paused.
        #expect(rules.map(\.symbol).sorted() == ["BNBUSDT", "BTCUSDT", "ETHBTC"])
        #expect(paused == ["BNBUSDT": "BREAK"])
        #expect(Set(refused.map(\.symbol)) == ["LUNAUSDT", "NOLOTUSDT", "BADUSDT", "LIMITONLY"])
        #expect(refused.first { $0.symbol == "LUNAUSDT" }?.reason == "no PRICE_FILTER")
        #expect(refused.first { $0.symbol == "NOLOTUSDT" }?.reason == "no LOT_SIZE")
        #expect(refused.first { $0.symbol == "BADUSDT" }?.reason.contains("PRICE_FILTER.tickSize") == true, "not a decimal")
        #expect(refused.first { $0.symbol == "LIMITONLY" }?.reason == "MARKET orders are not allowed")
        #expect(info.rateLimits?.count == 2)
    }

    @Test("an order the rules accept fits Binance's filters; one they refuse names the rule")
    func rulesCheckOrders() throws {
        let info = try JSONDecoder().decode(BinanceExchangeInfo.self, from: Data(Self.json.utf8))
        let btc = try #require(info.rules().rules.first { $0.symbol == "BTCUSDT" })
        #expect(btc.violation(quantity: ExactDecimal("0.00012")!, limitPrice: nil, referencePrice: 50_000) == nil)
        #expect(btc.violation(quantity: ExactDecimal("0.000125")!, limitPrice: nil, referencePrice: 50_000)?.rule == "step_size")
        #expect(btc.violation(quantity: ExactDecimal("0.00009")!, limitPrice: nil, referencePrice: 50_000)?.rule == "min_notional")
        #expect(btc.violation(quantity: 200, limitPrice: nil, referencePrice: 50_000)?.rule == "max_quantity")
        #expect(btc.tradableQuantity(ExactDecimal("0.000129")!) == ExactDecimal("0.00012")!)
    }

    @Test("a MARKET_LOT_SIZE step coarser than LOT_SIZE's is the step of every order (filters.md's example: 0.001 over 0.00001)")
    func marketStep() throws {
        let json = Self.json.replacingOccurrences(
            of: #"{"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"106.50000000","stepSize":"0.00000000"}"#,
            with: #"{"filterType":"MARKET_LOT_SIZE","minQty":"0.00100000","maxQty":"100000.00000000","stepSize":"0.00100000"}"#)
        let info = try JSONDecoder().decode(BinanceExchangeInfo.self, from: Data(json.utf8))
        let btc = try #require(info.rules().rules.first { $0.symbol == "BTCUSDT" })
        #expect(btc.stepSize == ExactDecimal("0.001")! && btc.minQuantity == ExactDecimal("0.001")!)
        #expect(btc.violation(quantity: ExactDecimal("0.00101")!, limitPrice: nil, referencePrice: 50_000)?.rule == "step_size",
                "a market order of 0.00101 would get -1013 MARKET_LOT_SIZE at Binance")
        #expect(btc.violation(quantity: ExactDecimal("0.002")!, limitPrice: nil, referencePrice: 50_000) == nil)
        #expect(btc.tradableQuantity(ExactDecimal("0.00299")!) == ExactDecimal("0.002")!, "sized down to the market step")
        // A market minimum of 0 ("no rule"): the least quantity is LOT_SIZE's, rounded up onto the coarser step.
        let noMinimum = Self.json.replacingOccurrences(of: #""maxQty":"106.50000000","stepSize":"0.00000000""#, with: #""maxQty":"106.50000000","stepSize":"0.00100000""#)
        let read = try JSONDecoder().decode(BinanceExchangeInfo.self, from: Data(noMinimum.utf8)).rules()
        let coarse = try #require(read.rules.first { $0.symbol == "BTCUSDT" }, "refused: \(read.refused)")
        #expect(coarse.stepSize == ExactDecimal("0.001")! && coarse.minQuantity == ExactDecimal("0.001")!)
        // A step that is not a multiple of LOT_SIZE's cannot be met by both: the symbol is refused, as before.
        let odd = Self.json.replacingOccurrences(of: #""maxQty":"106.50000000","stepSize":"0.00000000""#, with: #""maxQty":"106.50000000","stepSize":"0.000015""#)
        let refused = try JSONDecoder().decode(BinanceExchangeInfo.self, from: Data(odd.utf8)).rules().refused
        #expect(refused.first { $0.symbol == "BTCUSDT" }?.reason.contains("not a multiple") == true)
    }
}
