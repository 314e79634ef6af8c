import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("The paper venue refuses a client order id it has seen, as an exchange does")
struct PaperDuplicateOrderTests {
    @Test("a second order under a filled or a resting order's id is refused as a duplicate, and changes nothing")
    func duplicateChangesNothing() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        let paper = try #require(await service.venues[.paper] as? PaperVenue)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await paper.place(VenueOrderRequest(newOrder("dup-filled", .buy, 0.5, status: .sent)))
        _ = try await paper.place(VenueOrderRequest(newOrder("dup-resting", .buy, 0.5, type: .limit, limit: 90, status: .sent)))
        let balances = try await paper.balances()
        let positions = try await paper.positions()

        for id in ["dup-filled", "dup-resting"] {
            do {
                _ = try await paper.place(VenueOrderRequest(newOrder(id, .sell, 0.25, status: .sent)))
                Issue.record("\(id): a duplicate was accepted")
            } catch VenueError.duplicate(let reason) {
                #expect(reason.contains(id))
            }
        }
        #expect(try await paper.balances() == balances)
        #expect(try await paper.positions() == positions)
        #expect(try fixture.count("paper_orders") == 2)
        #expect(try fixture.count("paper_fills") == 1)
        #expect(try await paper.openOrders().map(\.clientOrderId) == ["dup-resting"])
        // The resting order is the one it was: it fills once, at its limit, when the market reaches it.
        await service.onTick(quote("BTCUSDT", bid: 89, ask: 90))
        #expect(try await paper.openOrders().isEmpty)
        #expect(try fixture.count("paper_fills") == 2)
        #expect(try await paper.order(clientOrderId: "dup-resting", symbol: "BTCUSDT")?.averagePrice == 90)
    }
}
