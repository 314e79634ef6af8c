import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotTestSupport
import Foundation
import Testing
@testable import RouterCore

@Suite("Symbol rules: every order fits its venue's tick size, step size, range and minimum notional")
struct SymbolRulesTests {
    static let btc = PaperSymbolSettings.defaults["BTCUSDT"]!.rules(for: "BTCUSDT")

    @Test("rules from a routerd that does not send shortSelling read as no short selling")
    func shortSellingAbsent() throws {
        let json = #"{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","tickSize":"0.01","stepSize":"0.00001","minQuantity":"0.00001","maxQuantity":"9000","minNotional":"5","minPrice":"0","maxPrice":"1000000000"}"#
        let rules = try JSONDecoder().decode(SymbolRules.self, from: Data(json.utf8))
        #expect(rules.shortSelling == false)
        #expect(rules.tickSize == 0.01)
        var margin = rules
        margin.shortSelling = true
        #expect(try JSONDecoder().decode(SymbolRules.self, from: JSONEncoder().encode(margin)) == margin)
    }

    @Test("each rule an order breaks is named, and nothing is stored", arguments: [
        ("0.000001", nil, "min_quantity"),
        ("9001", nil, "max_quantity"),
        ("0.000015", nil, "step_size"),
        ("0.001", "9650.005", "tick_size"),
        ("0.0001", "9650.00", "min_notional"),
        ("0.00010", nil, "min_notional"),
    ] as [(String, String?, String)])
    func violations(quantity: String, limit: String?, rule: String) async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service(rules: [Self.btc])
        await service.onTick(quote("BTCUSDT", bid: 9_650, ask: 9_650.10))
        let request = PlaceOrderRequest(clientOrderId: "bb-rule", symbol: "BTCUSDT", side: .buy, type: limit == nil ? .market : .limit,
                                        quantity: ExactDecimal(quantity)!, limitPrice: limit.flatMap { ExactDecimal($0) })
        let error = await expectIPCError(.badRequest) { _ = try await service.place(request) }
        #expect(error?.message.contains("rule \(rule)") == true, "\(error?.message ?? "no error")")
        #expect(try fixture.count("orders") == 0)
    }

    @Test("a limit price outside the symbol's price range is refused by name")
    func priceRange() async throws {
        let fixture = try RouterFixture()
        var rules = Self.btc
        rules.minPrice = 1_000
        rules.maxPrice = 100_000
        let service = try await fixture.service(rules: [rules])
        for price: ExactDecimal in [999.99, 100_000.01] {
            let error = await expectIPCError(.badRequest) {
                _ = try await service.place(PlaceOrderRequest(clientOrderId: "bb-range", symbol: "BTCUSDT", side: .buy, type: .limit,
                                                              quantity: 0.01, limitPrice: price))
            }
            #expect(error?.message.contains("rule price_range") == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("an order on the rules passes, and 8-decimal quantities stay exact")
    func onTheRules() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service(rules: [Self.btc])
        await service.onTick(quote("BTCUSDT", bid: 9_650, ask: 9_650.10))
        let order = try await service.place(PlaceOrderRequest(clientOrderId: "bb-ok", symbol: "BTCUSDT", side: .buy, quantity: 0.00123))
        #expect(order.status == .filled)
        #expect(order.filledQuantity.description == "0.00123")
        // 9,650.10 × (1 + 5 bp) = 9,654.92505, put on the 0.01 tick against the buyer: 9,654.93.
        #expect(order.averageFillPrice == 9_654.93)
    }

    @Test("a symbol the venue has no rules for is refused, naming where to add them")
    func unknownSymbol() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service(rules: [Self.btc])
        let error = await expectIPCError(.badRequest) {
            _ = try await service.place(PlaceOrderRequest(clientOrderId: "bb-eth", symbol: "ETHUSDT", side: .buy, quantity: 1))
        }
        #expect(error?.message.contains("router.paper.symbols") == true)
    }

    @Test("rounding onto the rules never trades more or at a worse price than asked")
    func tradableValues() {
        #expect(Self.btc.tradableQuantity(0.0123456789) == 0.01234)
        #expect(Self.btc.tradableQuantity(0.000009) == nil)
        #expect(Self.btc.tradableQuantity(12_000) == 9_000)
        #expect(Self.btc.tradablePrice(9_650.019, side: .buy) == 9_650.01)
        #expect(Self.btc.tradablePrice(9_650.011, side: .sell) == 9_650.02)
    }

    @Test("router.paper.symbols: exact, checked for consistency, unknown keys refused", arguments: [
        ("router:\n  paper:\n    symbols:\n      BTCUSDT: {base_asset: BTC, quote_asset: USDT, tick_size: 0, step_size: 0.1, min_quantity: 0.1, max_quantity: 1}\n",
         "router.paper.symbols.BTCUSDT", "tick_size"),
        ("router:\n  paper:\n    symbols:\n      BTCUSDT: {base_asset: BTC, quote_asset: USDT, tick_size: 0.01, step_size: 0.1, min_quantity: 5, max_quantity: 1}\n",
         "router.paper.symbols.BTCUSDT", "max_quantity"),
        ("router:\n  paper:\n    symbols:\n      BTCUSDT: {base_asset: BTC, quote_asset: USDT, tick_size: 0.01, step_size: 0.1, min_quantity: 0.1, max_quantity: 1, tick: 2}\n",
         "router.paper.symbols.BTCUSDT.tick", "unknown key"),
        ("router:\n  paper:\n    symbols:\n      btcusdt: {base_asset: BTC, quote_asset: USDT, tick_size: 0.01, step_size: 0.1, min_quantity: 0.1, max_quantity: 1}\n",
         "router.paper.symbols.btcusdt", "upper-case"),
    ])
    func configuration(yaml: String, key: String, reason: String) throws {
        let error = try #require(configError(yaml: yaml, sections: [RouterSettings.self]))
        #expect(error.key == key, "\(error)")
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test("a symbol table from the file replaces the defaults, with its decimals as written")
    func configuredSymbols() throws {
        let config = try loadConfig(yaml: """
            router:
              paper:
                symbols:
                  SOLUSDT: {base_asset: SOL, quote_asset: USDT, tick_size: 0.001, step_size: 0.01, min_quantity: 0.01, max_quantity: 90000, min_notional: 5}
            """, sections: [RouterSettings.self])
        let symbols = config[RouterSettings.self].paper.symbols
        #expect(symbols.keys.sorted() == ["SOLUSDT"])
        #expect(symbols["SOLUSDT"]?.tickSize.description == "0.001")
        #expect(symbols["SOLUSDT"]?.minNotional == 5)
    }

    @Test("without a known tick size the spread is put four decimals finer than the print, never on its last digit")
    func replaySpreadWithoutTickSize() throws {
        let dir = try TempDir()
        let path = try dir.write("XYZUSDT-trades-2024-01-01.csv", """
            id,price,qty,quote_qty,time,is_buyer_maker
            1,5,10,50,1704067200000,true
            2,0.1,10,1,1704067200001,true
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        #expect(file.ticks.map(\.bid.description) == ["4.9997", "0.09999"])
        #expect(file.ticks.map(\.ask.description) == ["5.0003", "0.10001"])
    }

    @Test("trade prints get their spread on the symbol's tick size")
    func replaySpreadOnTicks() throws {
        let dir = try TempDir()
        let path = try dir.write("BTCUSDT-trades-2024-01-01.csv", """
            id,price,qty,quote_qty,time,is_buyer_maker
            1,9682,0.1,968.2,1704067200000,true
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1, tickSizes: ["BTCUSDT": 0.01])
        let tick = try #require(file.ticks.first)
        // ±0.4841 around 9,682, widened onto the cent.
        #expect(tick.bid.description == "9681.51")
        #expect(tick.ask.description == "9682.49")
        #expect(tick.last.description == "9682")
    }
}
