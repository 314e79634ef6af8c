import Foundation
import Testing
import BagbotDomain
import ArsenalCore
import RouterCore
@testable import BacktestCore

@Suite("The backtest's venue")
struct BacktestVenueTests {
    static func venue() -> BacktestVenue {
        let router = RouterSettings()
        return BacktestVenue(settings: PaperExchange.Settings(router), rules: router.paperRules)
    }

    static let time = Date(timeIntervalSince1970: 1_582_329_600)
    static let tick = Tick(symbol: "BTCUSDT", time: time, bid: 9_700, ask: 9_700.10, last: 9_700.05, volume: 0, source: "test")

    static func order(_ id: String, _ side: Side, _ quantity: ExactDecimal, reduceOnly: Bool = false) -> PlaceOrderRequest {
        PlaceOrderRequest(clientOrderId: id, symbol: "BTCUSDT", side: side, type: .market, quantity: quantity,
                          reduceOnly: reduceOnly ? true : nil, strategyId: "micro_trend", requestId: id)
    }

    @Test func marketOrdersFillAtTheTickWithSlippageFeeAndSequence() async throws {
        let venue = Self.venue()
        venue.record(Self.tick)
        let bought = try await venue.place(Self.order("a", .buy, 0.01))
        #expect(bought.status == .filled && bought.filledQuantity == 0.01)
        // 9700.10 × (1 + 1 bp) = 9701.07001, up to the tick size 0.01.
        #expect(bought.averageFillPrice == ExactDecimal("9701.08")!)
        let updates = venue.takeUpdates()
        #expect(updates.count == 2 && venue.takeUpdates().isEmpty)
        guard case .fill(let fill) = updates.first, case .order(let record) = updates.last else {
            Issue.record("expected the fill, then the order: \(updates)")
            return
        }
        #expect(fill.sequence == 1 && fill.time == Self.time && record == bought)
        #expect(fill.fee == ExactDecimal("0.0970108")!, "10 bp (crypto's default, Binance's rate) of 97.0108")
        #expect(venue.fills(after: 0).fills == [fill] && venue.fills(after: 1).fills.isEmpty)
        // With BTC held, the direct valuation is the converter's, to the digit.
        let valuations = venue.valuations
        #expect(valuations.direct != nil && valuations.direct == valuations.full, "\(valuations)")
    }

    @Test func reduceOnlyMayNotGrowOrFlipTheStrategysPosition() async throws {
        let venue = Self.venue()
        venue.record(Self.tick)
        let growing = try await venue.place(Self.order("a", .sell, 0.01, reduceOnly: true))
        #expect(growing.status == .rejected && growing.rejectReason?.contains("would grow") == true)
        _ = try await venue.place(Self.order("b", .buy, 0.01))
        let flipping = try await venue.place(Self.order("c", .sell, 0.02, reduceOnly: true))
        #expect(flipping.status == .rejected && flipping.rejectReason?.contains("flip") == true)
        let closing = try await venue.place(Self.order("d", .sell, 0.01, reduceOnly: true))
        #expect(closing.status == .filled)
        #expect(venue.rejections.values.reduce(0, +) == 2)
        await #expect(throws: BacktestError.self) { _ = try await venue.place(Self.order("d", .sell, 0.01)) }
    }

    /// routerd refuses an order below the symbol's minimum notional before its venue sees it: so does the
    /// backtest, or a size that cannot trade live (a stop that could never close) would look fine here.
    @Test func theSymbolsRulesApplyAsInRouterd() async throws {
        let venue = Self.venue()
        venue.record(Self.tick)
        let tiny = try await venue.place(Self.order("a", .buy, 0.0001))
        #expect(tiny.status == .rejected && tiny.rejectReason?.contains("min_notional") == true, "\(tiny.rejectReason ?? "")")
        let offStep = try await venue.place(Self.order("b", .buy, 0.012345))
        #expect(offStep.status == .rejected, "not a multiple of the step size")
        #expect(venue.allFills.isEmpty)
    }

    /// With a market between two assets at par (USDTUSD), the converter values USDT at that market's price, not
    /// at its peg: the direct valuation stands aside and the converter decides.
    @Test func theDirectValuationStandsAsideWhenAnotherRouteExists() async throws {
        var rules = RouterSettings().paperRules
        rules.append(SymbolRules(symbol: "USDTUSD", baseAsset: "USDT", quoteAsset: "USD", tickSize: 0.0001, stepSize: 1,
                                 minQuantity: 1, maxQuantity: 1_000_000))
        let venue = BacktestVenue(settings: PaperExchange.Settings(feeBps: 1, slippageBps: 1, startingBalances: ["USD": 1_000, "USDT": 1_000],
                                                                   rules: rules), rules: rules)
        venue.record(Tick(symbol: "USDTUSD", time: Self.time, bid: 0.9990, ask: 0.9992, last: 0.9991, volume: 0, source: "test"))
        let valuations = venue.valuations
        #expect(valuations.direct == nil)
        #expect(valuations.full == ExactDecimal("1999.1")!, "USDT at the market's mid 0.9991, not 1")
        #expect(venue.equity()?.value == valuations.full)
    }

    @Test func noPriceNoFill() async throws {
        let venue = Self.venue()
        let order = try await venue.place(Self.order("a", .buy, 0.01))
        #expect(order.status == .rejected && order.rejectReason?.contains("no market data") == true)
        #expect(venue.equity()?.value == 200_000, "the starting balances, USD and USDT pegged")
    }
}
