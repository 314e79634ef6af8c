import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import GRDB
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore

/// Records the methods of the events routerd publishes, in order.
private final class RecordingPublisher: EventPublishing {
    let methods = NIOLockedValueBox<[String]>([])
    func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body, requestId: String?) {
        methods.withLockedValue { $0.append(method) }
    }
    var withoutTicks: [String] { methods.withLockedValue { $0 }.filter { $0 != Events.tick } }
}

@Suite("RouterService when a record lands but reports an error")
struct CommitThatLandsTests {
    @Test("a live venue's answer whose record landed is settled by the next lookup: published once, never executed twice")
    func placeLanded() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let published = RecordingPublisher()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        let service = try await fixture.service(storage: storage, events: published, venues: [binance], paperTrading: false)
        storage.failWhen.withLockedValue { $0 = .filled }
        let placed = try await service.place(request("bb-landed"))
        #expect(placed.status == .sent, "routerd returns what it knows it recorded: the order is not final for the caller yet")
        #expect(await service.unsettledOrders == ["bb-landed"])
        #expect(await !service.isHealthy)
        storage.failWhen.withLockedValue { $0 = nil }

        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
        #expect(try await fixture.store.order(clientOrderId: "bb-landed")?.status == .filled)
        #expect(try fixture.count("fills") == 1)
        #expect(await binance.placeCalls == ["bb-landed"], "executed once at the venue")
        #expect(published.withoutTicks.suffix(2) == [Events.fill, Events.order],
                "arsenald learns the fill, then frees the symbol on the order's event")
        #expect(try await service.positions().first?.quantity == 0.5)
    }

    @Test("paper: a transaction that landed although it reported an error is the answer, its fill published once by the schedule")
    func paperPlaceLanded() async throws {
        let fixture = try RouterFixture()
        let published = RecordingPublisher()
        let paper = try await PaperVenue(database: fixture.database, settings: fixture.paperSettings,
                                         rules: [RouterFixture.looseRules("BTCUSDT")], logger: quietLogger)
        let landing = PaperWithFailingCommits(paper, .landedAnyway)
        let service = try await RouterService(
            store: fixture.store, venues: [landing], symbols: SymbolMap(paperTrading: true),
            tradingSwitch: TradingSwitch(stateDirectory: fixture.dir.file("state"), logger: quietLogger), events: published, logger: quietLogger)
        try await service.start()
        await paper.ingest(quote("BTCUSDT", bid: 100, ask: 101))

        let placed = try await service.place(request("bb-landed"))
        #expect(placed.status == .filled, "the stored order is the answer")
        #expect(await service.unsettledOrders == ["bb-landed"])
        #expect(await !service.isHealthy)
        #expect(!published.withoutTicks.contains(Events.fill), "not published before the schedule reads what landed")

        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
        #expect(try fixture.count("fills") == 1)
        #expect(try fixture.count("paper_fills") == 1, "executed once at the venue")
        #expect(published.withoutTicks.filter { $0 == Events.fill }.count == 1)
        #expect(published.withoutTicks.last == Events.order)
        #expect(try await service.positions().first?.quantity == 0.5)
    }

    @Test("live: a recorded fill of the paper venue never goes on the stream, whichever path publishes it (a landed record's too)")
    func paperFillsStayOffTheLiveStream() async throws {
        let fixture = try RouterFixture()
        let published = RecordingPublisher()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        let service = try await fixture.service(events: published, venues: [binance], paperTrading: false)
        func fill(_ venue: Venue) -> Fill {
            Fill(fillId: "f-\(venue.rawValue)", clientOrderId: "bb-1", venue: venue, symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100,
                 fee: 0, time: Date(), strategyId: "s", requestId: "r", sequence: 1)
        }
        await service.publish(fill(.paper))
        #expect(published.withoutTicks.isEmpty)
        await service.publish(fill(.binance))
        #expect(published.withoutTicks == [Events.fill])
    }

    @Test("a cancel whose record landed: answered unavailable (not known to be recorded), the order stays cancelled, and a later tick does not fill it")
    func cancelLanded() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let service = try await fixture.service(storage: storage)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        storage.failWhen.withLockedValue { $0 = .cancelled }
        let answer = await expectIPCError(.unavailable) { _ = try await service.cancel(clientOrderId: "bb-rest") }
        #expect(answer?.message.contains("being looked up") == true, "\(String(describing: answer))")
        storage.failWhen.withLockedValue { $0 = nil }
        await service.settleUnsettled()
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .cancelled)
        #expect(try fixture.count("fills") == 0)
        #expect(try await service.positions().isEmpty)
    }

    @Test("a fill the venue reports for an order recorded as final is recorded, never dropped")
    func lateFillIsRecorded() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        // As if routerd had recorded a cancel that the venue never made.
        try await fixture.database.write { db in
            try db.execute(sql: "UPDATE orders SET status = 'cancelled' WHERE client_order_id = 'bb-rest'")
        }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .filled, "the venue's account is the truth")
        #expect(try fixture.count("fills") == 1)
        #expect(try await fixture.store.strategyPositions(through: Int64.max).positions.first?.quantity == 0.5)
    }

    @Test("a resting order's fill whose record landed is published by the next lookup, and reduce-only sees it")
    func restingFillLanded() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let published = RecordingPublisher()
        let service = try await fixture.service(storage: storage, events: published)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        storage.failWhen.withLockedValue { $0 = .filled }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        storage.failWhen.withLockedValue { $0 = nil }
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .filled)
        #expect(!published.withoutTicks.contains(Events.fill), "nothing is published from a write that reported an error")

        await service.settleUnsettled()
        #expect(published.withoutTicks.suffix(2) == [Events.fill, Events.order])
        // The strategy's position (0.5 long) is known to the reduce-only check: 0.5 may be sold, 0.6 may not.
        let tooMuch = await expectIPCError(.badRequest) {
            _ = try await service.place(request("bb-close-big", "BTCUSDT", .sell, 0.6, reduceOnly: true))
        }
        #expect(tooMuch?.message.contains("flip") == true)
        #expect(try await service.place(request("bb-close", "BTCUSDT", .sell, 0.5, reduceOnly: true)).status == .filled)
    }

    @Test("a conflict is not a storage failure: routerd stays healthy (the watchdog would restart it)")
    func conflictKeepsHealthy() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let service = try await fixture.service(storage: storage)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        storage.conflictWhen.withLockedValue { $0 = .filled }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(await service.isHealthy)
    }
}
