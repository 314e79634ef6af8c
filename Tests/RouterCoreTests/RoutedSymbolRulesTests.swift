import BagbotDomain
import Testing
@testable import RouterCore

/// `router.symbolRules` is what arsenald and mindsetd size orders by: one rule per symbol, the venue's its orders go to.
@Suite("router.symbolRules: the rules of the venue each symbol routes to")
struct RoutedSymbolRulesTests {
    @Test("live: BTCUSDT's rule is Binance's, not the paper venue's beside it, also after Binance's rules change")
    func liveRoutesToBinance() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await fixture.service(venues: [binance], paperTrading: false)
        var coarse = RouterFixture.looseRules("BTCUSDT")
        coarse.stepSize = 0.001
        coarse.minQuantity = 0.001
        await binance.changeRules([coarse])

        let rules = service.routedSymbolRules
        #expect(rules.filter { $0.symbol == "BTCUSDT" } == [coarse], "exactly one BTCUSDT rule, Binance's")
        // The paper venue's other symbols route elsewhere live (forex to MetaTrader 5), so none of its rules are named.
        #expect(rules.map(\.symbol) == ["BTCUSDT"])
    }

    @Test("paper: every symbol's rule is the paper venue's, whatever a live venue beside it reads")
    func paperRoutesToPaper() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await fixture.service(venues: [binance], paperTrading: true)
        var coarse = RouterFixture.looseRules("BTCUSDT")
        coarse.stepSize = 0.001
        await binance.changeRules([coarse])

        let rules = service.routedSymbolRules
        #expect(rules.map(\.symbol) == RouterFixture.testSymbols.sorted())
        #expect(rules.first { $0.symbol == "BTCUSDT" } == RouterFixture.looseRules("BTCUSDT"))
    }
}
