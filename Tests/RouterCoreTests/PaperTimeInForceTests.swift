import Foundation
import BagbotDomain
import GRDB
import Testing
@testable import RouterCore

@Suite("The paper venue's IOC, FOK and post-only limit orders")
struct PaperTimeInForceTests {
    @Test("IOC and FOK fill at once when the market reaches them, else expire unfilled; a post-only order rests, or is refused when it would take")
    func timeInForce() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let ioc = try await service.place(request("bb-ioc", type: .limit, limit: 102, timeInForce: .ioc))
        #expect(ioc.status == .filled && (ioc.averageFillPrice ?? 0) <= 102 && ioc.timeInForce == .ioc, "\(ioc)")
        let missed = try await service.place(request("bb-ioc-miss", type: .limit, limit: 99, timeInForce: .ioc))
        #expect(missed.status == .expired && missed.filledQuantity == 0, "\(missed)")
        #expect(missed.rejectReason?.contains("did not reach its limit 99") == true, "\(missed.rejectReason ?? "")")
        #expect(try await service.place(request("bb-fok", type: .limit, limit: 101, timeInForce: .fok)).status == .filled)
        #expect(try await service.place(request("bb-fok-miss", type: .limit, limit: 100, timeInForce: .fok)).status == .expired)
        let maker = try await service.place(request("bb-maker", type: .limit, limit: 90, timeInForce: .postOnly))
        #expect(maker.status == .acknowledged, "below the ask: it rests")
        let taker = try await service.place(request("bb-maker-take", type: .limit, limit: 101, timeInForce: .postOnly))
        #expect(taker.status == .rejected && taker.rejectReason?.contains("post-only") == true, "\(taker)")
        // Stored with their time in force (a GTC one without: what an older routerd reads as the limit order it is).
        #expect(try await fixture.store.order(clientOrderId: "bb-ioc-miss")?.timeInForce == .ioc)
        #expect(try await fixture.store.order(clientOrderId: "bb-maker")?.timeInForce == .postOnly)
        _ = try await service.place(request("bb-gtc", type: .limit, limit: 80, timeInForce: .gtc))
        let stored = try await fixture.database.read { db in
            try Row.fetchAll(db, sql: "SELECT client_order_id, type, time_in_force FROM orders WHERE type = 'limit' ORDER BY client_order_id")
                .map { "\($0["client_order_id"] as String) \($0["type"] as String) \(($0["time_in_force"] as String?) ?? "-")" }
        }
        #expect(stored.contains("bb-gtc limit -") && stored.contains("bb-maker limit post_only") && stored.contains("bb-ioc limit ioc"), "\(stored)")
        // The expired ones took nothing; the post-only one fills at its limit as any resting limit order.
        await service.onTick(quote("BTCUSDT", bid: 89, ask: 89.5))
        let filled = try await fixture.store.order(clientOrderId: "bb-maker")
        #expect(filled?.status == .filled && filled?.averageFillPrice == 90, "\(String(describing: filled))")
        #expect(try fixture.count("fills") == 3, "the IOC, the FOK and the post-only order: nothing for the expired")
        let market = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-mkt-tif", timeInForce: .ioc)) }
        #expect(market?.message == "a market order takes no timeInForce")
        // A retry of the post-only order under its id with another time in force is another order.
        _ = await expectIPCError(.keyReused) { _ = try await service.place(request("bb-maker", type: .limit, limit: 90, timeInForce: .gtc)) }
    }
}
