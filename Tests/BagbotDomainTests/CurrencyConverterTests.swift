import Testing
import BagbotDomain

@Suite("CurrencyConverter")
struct CurrencyConverterTests {
    let pairs = [
        CurrencyConverter.Pair(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", price: 67_000.5),
        CurrencyConverter.Pair(symbol: "ETHBTC", baseAsset: "ETH", quoteAsset: "BTC", price: 0.05),
        CurrencyConverter.Pair(symbol: "EURUSD", baseAsset: "EUR", quoteAsset: "USD", price: 1.08345),
        CurrencyConverter.Pair(symbol: "USDJPY", baseAsset: "USD", quoteAsset: "JPY", price: 150),
    ]

    @Test("the currency itself, a peg, a direct pair, an inverse pair and a chain")
    func routes() throws {
        let converter = CurrencyConverter(currency: "USD", pegs: ["USDT": "USD", "USDC": "EUR"], pairs: pairs)
        #expect(converter.rate("USD")?.rate == 1)
        #expect(converter.rate("USDT")?.via == "peg")
        #expect(converter.rate("USDC")?.rate == 1.08345, "pegged to EUR, valued as a euro")
        #expect(converter.rate("USDC")?.via == "peg → EURUSD")
        #expect(converter.rate("EUR")?.rate == 1.08345)
        #expect(converter.rate("EUR")?.via == "EURUSD")
        #expect(converter.rate("JPY")?.rate == 0.006666666666667)
        #expect(converter.rate("JPY")?.via == "1/USDJPY")
        #expect(converter.rate("BTC")?.via == "BTCUSDT → peg")
        #expect(converter.rate("ETH")?.rate == 3_350.025)
        #expect(converter.rate("ETH")?.via == "ETHBTC → BTCUSDT → peg")
        #expect(try converter.value(2, of: "ETH") == 6_700.05)
        #expect(try converter.value(15_000, of: "JPY") == 100, "100.000000000005 to 8 decimals")
        #expect(try converter.value(1, of: "DOGE") == nil, "no price reaches it: no value, never zero")
    }

    @Test("fallback pairs value only the assets named, after every other rate, the first usable one of each in the order given")
    func fallback() throws {
        let fallback = [
            CurrencyConverter.Pair(symbol: "BNBEUR", baseAsset: "BNB", quoteAsset: "EUR", price: 500),    // EUR has no rate here
            CurrencyConverter.Pair(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT", price: 600),
            CurrencyConverter.Pair(symbol: "BNBBTC", baseAsset: "BNB", quoteAsset: "BTC", price: 0.01),
            CurrencyConverter.Pair(symbol: "BTCUSDC", baseAsset: "BTC", quoteAsset: "USDC", price: 80_000),
            CurrencyConverter.Pair(symbol: "XRPBNB", baseAsset: "XRP", quoteAsset: "BNB", price: 0.001),
        ]
        let converter = CurrencyConverter(currency: "USD", pegs: ["USDT": "USD", "USDC": "USD"], pairs: Array(pairs.prefix(2)),
                                          fallback: fallback, fallbackAssets: ["BNB", "XRP"])
        #expect(converter.rate("BNB")?.via == "BNBUSDT → peg", "BNBEUR first, but EUR has no rate; BNBBTC after BNBUSDT")
        #expect(converter.rate("BTC")?.via == "BTCUSDT → peg", "a fallback pair never changes another asset's rate")
        #expect(converter.rate("XRP")?.via == "XRPBNB → BNBUSDT → peg", "fallback assets chain among themselves")
        let stale = CurrencyConverter(currency: "USD", pegs: ["USDT": "USD", "USDC": "USD"], pairs: [], fallback: fallback, fallbackAssets: ["BNB"])
        #expect(stale.rate("BTC") == nil, "BTC's own price missing: not valued through a fallback pair")
        #expect(stale.rate("BNB")?.via == "BNBUSDT → peg")
    }

    @Test("a peg works both ways: with the account in euros, USDT is valued through USD")
    func pegsAsPairs() throws {
        let converter = CurrencyConverter(currency: "EUR", pegs: ["USDT": "USD"], pairs: pairs)
        #expect(converter.rate("USD")?.via == "1/EURUSD")
        #expect(converter.rate("USDT")?.via == "peg → 1/EURUSD")
        #expect(converter.rate("USDT")?.rate == converter.rate("USD")?.rate)
        #expect(converter.rate("BTC")?.via == "BTCUSDT → peg → 1/EURUSD")
    }

    @Test("decimals that a double would get wrong stay exact")
    func exact() throws {
        let converter = CurrencyConverter(currency: "USD", pegs: [:], pairs: [
            CurrencyConverter.Pair(symbol: "XUSD", baseAsset: "X", quoteAsset: "USD", price: 0.1),
        ])
        let sum = try #require(try converter.value(1, of: "X")) + #require(try converter.value(2, of: "X"))
        #expect(sum == 0.3)
    }

    @Test("the answer does not depend on the order the prices came in, and ignores unusable prices")
    func deterministic() {
        let forward = CurrencyConverter(currency: "USD", pegs: ["USDT": "USD"], pairs: pairs)
        let backward = CurrencyConverter(currency: "USD", pegs: ["USDT": "USD"], pairs: pairs.reversed() + [
            CurrencyConverter.Pair(symbol: "BADUSD", baseAsset: "BAD", quoteAsset: "USD", price: 0),
        ])
        #expect(forward.rates == backward.rates)
        #expect(backward.rate("BAD") == nil)
    }
}
