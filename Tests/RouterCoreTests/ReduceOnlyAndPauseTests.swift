import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore

@Suite("Orders that reduce risk: reduce-only, the pause, stale market data")
struct ReduceOnlyAndPauseTests {
    @Test("a reduce-only order may shrink the strategy's position, never grow or flip it, counting open reduce-only orders")
    func reduceOnly() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-open", "BTCUSDT", .buy, 1))

        let grow = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-grow", "BTCUSDT", .buy, 0.1, reduceOnly: true)) }
        #expect(grow?.message.contains("grow") == true)
        let flip = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-flip", "BTCUSDT", .sell, 1.5, reduceOnly: true)) }
        #expect(flip?.message.contains("flip") == true)
        // A resting reduce-only sell of 0.6 leaves 0.4 that may still be reduced.
        _ = try await service.place(request("bb-rest", "BTCUSDT", .sell, 0.6, type: .limit, limit: 120, reduceOnly: true))
        _ = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-more", "BTCUSDT", .sell, 0.5, reduceOnly: true)) }
        let close = try await service.place(request("bb-close", "BTCUSDT", .sell, 0.4, reduceOnly: true))
        #expect(close.status == .filled)
        #expect(close.reduceOnly)
        #expect(try await fixture.store.order(clientOrderId: "bb-close")?.reduceOnly == true)
        // Another strategy has no position: its reduce-only order has nothing to reduce.
        _ = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-s2", "BTCUSDT", .sell, 0.1, strategy: "s2", reduceOnly: true)) }
        #expect(try fixture.count("orders") == 3)
    }

    @Test("live after a paper run: the paper position is no strategy's position at the live venue; a reduce-only order to close it is refused")
    func paperPositionIsNotLive() async throws {
        let fixture = try RouterFixture()
        let paper = try await fixture.service()
        await paper.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await paper.place(request("bb-paper", "BTCUSDT", .buy, 1))
        #expect(try await paper.strategyPositions().positions.first?.quantity == 1)

        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "BTC", free: 5, locked: 0)])
        let live = try await fixture.service(venues: [binance], paperTrading: false)
        await live.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(try await live.strategyPositions().positions.isEmpty, "arsenald's books start flat at the live venue")
        let close = await expectIPCError(.badRequest) { _ = try await live.place(request("bb-close", "BTCUSDT", .sell, 1, reduceOnly: true)) }
        #expect(close?.message.contains("grow") == true || close?.message.contains("reduce") == true, "\(close?.message ?? "")")
        #expect(await binance.placeCalls.isEmpty, "the trader's real coins are not sold to close a paper position")
        let fills = try await live.fills(FillsQuery(afterSequence: 0))
        #expect(fills.fills.count == 1, "the log keeps the paper fill")
        #expect(fills.accountVenues == [.binance])
        #expect(!fills.counts(fills.fills[0]), "and tells arsenald and mindsetd to step over it")
        let paperLog = try await paper.fills(FillsQuery(afterSequence: 0))
        #expect(fills.databaseId == paperLog.databaseId + "+live", "a log of another identity: arsenald and mindsetd start over from it")
        #expect(try await live.strategyPositions().databaseId == fills.databaseId)
    }

    @Test("without a strategy, reduce-only is checked against the venue's net position")
    func reduceOnlyWithoutStrategy() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-open", "BTCUSDT", .sell, 2, strategy: nil))
        _ = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-grow", "BTCUSDT", .sell, 1, strategy: nil, reduceOnly: true)) }
        #expect(try await service.place(request("bb-cover", "BTCUSDT", .buy, 2, strategy: nil, reduceOnly: true)).status == .filled)
    }

    @Test("while paused: new entries are refused, cancels and reduce-only orders pass, so a stop still works")
    func pause() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-open", "BTCUSDT", .buy, 1))
        _ = try await service.place(request("bb-limit", "BTCUSDT", .buy, 1, type: .limit, limit: 50))
        _ = try await service.setTrading(enabled: false, reason: "news")

        let entry = await expectIPCError(.tradingPaused) { _ = try await service.place(request("bb-entry", "BTCUSDT", .buy, 0.1)) }
        #expect(entry?.message.contains("news") == true)
        #expect(try await service.cancel(clientOrderId: "bb-limit").status == .cancelled)
        #expect(try await service.place(request("bb-stop", "BTCUSDT", .sell, 1, reduceOnly: true)).status == .filled)
        #expect(try await fixture.store.strategyPositions(through: Int64.max).positions.first?.quantity == 0)
        #expect(try await fixture.store.order(clientOrderId: "bb-entry") == nil)
    }

    @Test("a market order needs a tick received within the age limit; a limit order may rest on older data")
    func staleMarketData() async throws {
        let fixture = try RouterFixture()
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
        var settings = fixture.paperSettings
        settings.maxTickAge = 5
        let paper = try await PaperVenue(database: fixture.database, settings: settings, rules: [RouterFixture.looseRules("BTCUSDT")],
                                         logger: quietLogger, clock: { now.withLockedValue { $0 } })
        await paper.ingest(quote("BTCUSDT", bid: 100, ask: 101))
        now.withLockedValue { $0 += 6 }
        let request = VenueOrderRequest(newOrder("bb-stale", .buy, 1))
        let stale = try await paper.place(request)
        #expect(stale.status == .rejected)
        #expect(stale.rejectReason?.hasPrefix("stale_market_data") == true)
        var limit = VenueOrderRequest(newOrder("bb-limit", .buy, 1, type: .limit, limit: 90))
        limit.limitPrice = 90
        #expect(try await paper.place(limit).status == .acknowledged)
        await paper.ingest(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(try await paper.place(VenueOrderRequest(newOrder("bb-fresh", .buy, 1))).status == .filled)
        // The venue refuses an id it has seen, whatever happened to it.
        await #expect(throws: VenueError.self) { _ = try await paper.place(request) }
    }

    @Test("a resting reduce-only order that would open the other way when the market reaches it expires instead")
    func restingReduceOnlyExpires() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-open", "BTCUSDT", .buy, 0.5))
        _ = try await service.place(request("bb-tp", "BTCUSDT", .sell, 0.5, type: .limit, limit: 120, reduceOnly: true))
        // The position is closed another way before the take-profit is reached.
        _ = try await service.place(request("bb-close", "BTCUSDT", .sell, 0.5))
        _ = try await service.setTrading(enabled: false, reason: "closed")
        await service.onTick(quote("BTCUSDT", bid: 121, ask: 122, at: 1))
        let tp = try #require(try await fixture.store.order(clientOrderId: "bb-tp"))
        #expect(tp.status == .expired)
        #expect(tp.rejectReason?.hasPrefix("reduce_only") == true)
        #expect(try await fixture.paperBook()?.positions["BTCUSDT"]?.book.quantity == 0)
        #expect(try await fixture.store.strategyPositions(through: Int64.max).positions.first?.quantity == 0)
    }

    @Test("a marketable limit order on stale data is refused like a market order")
    func marketableLimitOnStaleData() async throws {
        let fixture = try RouterFixture()
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
        var settings = fixture.paperSettings
        settings.maxTickAge = 5
        let paper = try await PaperVenue(database: fixture.database, settings: settings, rules: [RouterFixture.looseRules("BTCUSDT")],
                                         logger: quietLogger, clock: { now.withLockedValue { $0 } })
        await paper.ingest(quote("BTCUSDT", bid: 100, ask: 101))
        now.withLockedValue { $0 += 6 }
        let marketable = try await paper.place(VenueOrderRequest(newOrder("bb-lim", .buy, 1, type: .limit, limit: 105)))
        #expect(marketable.status == .rejected)
        #expect(marketable.rejectReason?.hasPrefix("stale_market_data") == true)
        // An IOC, FOK or post-only order is decided on the quote even when it would not trade: refused too, not
        // expired or rested on old prices.
        for timeInForce in [TimeInForce.ioc, .fok, .postOnly] {
            var order = newOrder("bb-tif-\(timeInForce.rawValue)", .buy, 1, type: .limit, limit: 95)
            order.timeInForce = timeInForce
            let answer = try await paper.place(VenueOrderRequest(order))
            #expect(answer.status == .rejected && answer.rejectReason?.hasPrefix("stale_market_data") == true, "\(timeInForce): \(answer)")
        }
        #expect(try await paper.place(VenueOrderRequest(newOrder("bb-gtc", .buy, 1, type: .limit, limit: 95))).status == .acknowledged,
                "a GTC one below the market rests whatever the quote's age, as before")
    }
}
