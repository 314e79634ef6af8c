import BagbotTestSupport
import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Prices that are not positive decimals never reach the book")
struct ImpossiblePricesTests {
    @Test("the parsers skip inf, nan and exponent-overflow prices as malformed lines")
    func parsersSkipNonFinitePrices() throws {
        let dir = try TempDir()
        let path = try dir.write("BTCUSDT-trades-2024-01-01.csv", """
            id,price,qty,quote_qty,time,is_buyer_maker
            1,100.5,0.1,10.05,1704067200000,true
            2,inf,0.1,10.05,1704067200001,true
            3,nan,0.1,10.05,1704067200002,false
            4,100.6,inf,10.06,1704067200003,false
            5,100.7,0.2,20.14,1704067200004,false
            6,1e30,0.2,20.14,1704067200005,false
            7,-100.7,0.2,20.14,1704067200006,false
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        #expect(file.ticks.map(\.last) == [100.5, 100.7])
        #expect(file.skippedLines == 5)
    }

    @Test("routerd ignores a tick with an impossible price: no mark, no fill against it")
    func routerIgnoresImpossibleTicks() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 0, ask: 0))
        await service.onTick(quote("BTCUSDT", bid: 101, ask: 100))
        await service.onTick(quote("BTCUSDT", bid: 2_000_000_000, ask: 2_000_000_001))
        await service.onTick(quote("BTCUSDT", bid: 0.000000001, ask: 100))
        let order = try await service.place(request("bb-imp-1", "BTCUSDT", .buy, 0.1))
        #expect(order.status == .rejected)
        #expect(order.rejectReason?.contains("no market data") == true)
        #expect(try await service.account().equity == 200_000)
    }

    @Test("a stream of impossible ticks is logged once as it starts and once as the market is quotable again, not per tick")
    func impossibleTicksLoggedOnce() async throws {
        let fixture = try RouterFixture()
        let log = CapturedLog()
        // A live venue's ticks reach routerd as they come (the paper venue drops impossible ones before reporting).
        let service = try await fixture.service(venues: [ScriptedVenue(id: .binance)], paperTrading: false, logger: log.logger)
        let ticks = Array(repeating: quote("BTCUSDT", bid: 0, ask: 100), count: 50)
            + [quote("ETHUSDT", bid: 5, ask: 4), quote("BTCUSDT", bid: 100, ask: 101), quote("BTCUSDT", bid: 0, ask: 100)]
        for tick in ticks { await service.handle(.tick(tick), from: .binance) }
        let ignored = log.lines.filter { $0.contains("impossible price ignored") }
        #expect(ignored.count == 3, "BTCUSDT twice (a second run of them), ETHUSDT once: \(ignored)")
        #expect(log.lines.filter { $0.contains("ticks quotable again") && $0.contains("BTCUSDT") }.count == 1)

        // The paper venue, which sees the replay feed's ticks (or Binance's, on paper) first, logs them the same way.
        let paperLog = CapturedLog()
        let paper = try await PaperVenue(database: fixture.database, settings: fixture.paperSettings,
                                         rules: RouterFixture.testSymbols.map(RouterFixture.looseRules), logger: paperLog.logger)
        for tick in ticks { await paper.ingest(tick) }
        #expect(paperLog.lines.filter { $0.contains("impossible price ignored") }.count == 3, "\(paperLog.lines)")
    }
}
