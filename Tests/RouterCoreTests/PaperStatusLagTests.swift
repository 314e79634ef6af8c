import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore

/// Records each event routerd publishes: its method, and an order's status.
private final class StatusRecorder: EventPublishing {
    let events = NIOLockedValueBox<[String]>([])
    func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body, requestId: String?) {
        guard method != Events.tick else { return }
        let status = (body as? OrderRecord).map { " \($0.clientOrderId) \($0.status.rawValue)" } ?? ""
        events.withLockedValue { $0.append(method + status) }
    }
    var all: [String] { events.withLockedValue { $0 } }
}

@Suite("The paper venue's status lag (router.paper.status_lag_ticks)")
struct PaperStatusLagTests {
    @Test("a filled market order is answered acknowledged with its fills; filled comes that many ticks of its symbol later")
    func finalStatusLags() async throws {
        let fixture = try RouterFixture()
        let published = StatusRecorder()
        let service = try await fixture.service(events: published, statusLagTicks: 3)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let placed = try await service.place(request("bb-lag"))
        #expect(placed.status == .acknowledged && placed.filledQuantity == 0.5, "\(placed)")
        #expect(try fixture.count("fills") == 1, "the fill is recorded at once")
        #expect(published.all == ["router.order bb-lag sent", "router.fill", "router.order bb-lag acknowledged"])

        // Another symbol's ticks do not count; the stop still passes: the strategy's position is the fill's.
        await service.onTick(quote("EURUSD", bid: 1.1, ask: 1.1001))
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: 1))
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: 2))
        #expect(try await fixture.store.order(clientOrderId: "bb-lag")?.status == .acknowledged)
        let stop = try await service.place(request("bb-stop", "BTCUSDT", .sell, 0.5, reduceOnly: true))
        #expect(stop.status == .acknowledged && stop.filledQuantity == 0.5)

        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: 3))
        #expect(try await fixture.store.order(clientOrderId: "bb-lag")?.status == .filled)
        #expect(published.all.suffix(1) == ["router.order bb-lag filled"])
        // A cancel asked meanwhile learns the order is filled (the venue's record has it so since its execution).
        #expect(try await service.cancel(clientOrderId: "bb-stop").status == .filled)
        #expect(try fixture.count("fills") == 2 && fixture.count("paper_fills") == 2)
        let reason = try await fixture.database.read { db in
            try String.fetchOne(db, sql: "SELECT reason FROM order_events WHERE client_order_id = 'bb-stop' ORDER BY id DESC LIMIT 1")
        }
        #expect(reason == "found filled when cancelling", "the audit trail does not read as a cancel")
    }

    @Test("a status whose record cannot be read on its due tick comes on a later tick, never dropped")
    func unreadableRecordIsReportedLater() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service(statusLagTicks: 1)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(try await service.place(request("bb-lag")).status == .acknowledged)
        try await fixture.database.writeWithoutTransaction { db in try db.execute(sql: "ALTER TABLE paper_orders RENAME TO paper_orders_away") }
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: 1))
        #expect(try await fixture.store.order(clientOrderId: "bb-lag")?.status == .acknowledged)
        try await fixture.database.writeWithoutTransaction { db in try db.execute(sql: "ALTER TABLE paper_orders_away RENAME TO paper_orders") }
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: 2))
        #expect(try await fixture.store.order(clientOrderId: "bb-lag")?.status == .filled)
    }

    @Test("at 0 (the default) a market order is final in the venue's answer")
    func noLag() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        #expect(try await service.place(request("bb-now")).status == .filled)
    }
}
