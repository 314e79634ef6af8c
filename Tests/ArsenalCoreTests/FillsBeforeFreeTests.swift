import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// routerd can record an order final before all its fills are in its log (a venue reporting more filled than the
/// fills it sent; routerd fetches them later). A role is freed only once the fills taken add up to the order's filled
/// quantity: freed on the final record alone, a strategy would believe its position smaller than it is and send its
/// entry again.
@Suite("TradeCoordinator: a final order frees its role once its fills add up")
struct FillsBeforeFreeTests {
    /// The fill of `request` for `quantity`, as routerd's log would carry it.
    private func fillOf(_ request: PlaceOrderRequest, _ quantity: ExactDecimal, sequence: Int64, id: String = UUID().uuidString) -> Fill {
        Fill(fillId: id, clientOrderId: request.clientOrderId!, venue: .paper, symbol: request.symbol, side: request.side,
             quantity: quantity, price: 100, fee: 0, time: epoch, strategyId: request.strategyId, requestId: request.requestId,
             sequence: sequence)
    }

    /// A strategy's entry that routerd answered acknowledged (a live venue's usual answer): it holds the symbol. Its
    /// confirmations pause long enough not to run during a test unless a test shortens it.
    private func entryAcknowledged(confirmPause: Duration = .seconds(30)) async throws -> (Harness, PlaceOrderRequest) {
        let h = Harness()
        await h.coordinator.setConfirmPause(confirmPause)
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        return (h, try #require(h.router.placed.get().first))
    }

    private func filled(_ request: PlaceOrderRequest, _ quantity: ExactDecimal) -> OrderRecord {
        var record = order(request, status: .filled)
        record.filledQuantity = quantity
        return record
    }

    /// `placed` ended at routerd with `quantity` filled and none of it applied here: the symbol stays busy (no second
    /// entry at the next tick) until its fill is applied.
    private func expectHeldUntilFilled(_ h: Harness, _ placed: PlaceOrderRequest, _ quantity: ExactDecimal) async {
        #expect(h.strategy.inFlight, "filled at routerd, nothing applied here: the strategy would believe it is flat")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1, "no second entry while its fill is missing")
        await h.coordinator.handle(fill: fillOf(placed, quantity, sequence: 1))
        #expect(!h.strategy.inFlight)
        #expect(h.strategy.position.quantity == quantity)
    }

    @Test("an entry's final event that comes before its fill keeps the symbol busy until the fill is applied")
    func finalBeforeItsFill() async throws {
        let (h, placed) = try await entryAcknowledged()
        await h.coordinator.handle(order: filled(placed, 1))
        await expectHeldUntilFilled(h, placed, 1)
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2)
    }

    @Test("an entry answered expired with part of it filled (a market order a venue ended short) holds its symbol until that part is applied")
    func expiredWithPartFilled() async throws {
        let h = Harness()
        await h.coordinator.setConfirmPause(.seconds(30))
        h.router.status.set(.expired)
        h.router.answeredFilled.set(0.4)
        await h.tickAt(1)
        await expectHeldUntilFilled(h, try #require(h.router.placed.get().first), 0.4)
    }

    @Test("fills in pieces: the role is freed by the piece that completes the order, not before")
    func fillsInPieces() async throws {
        let (h, placed) = try await entryAcknowledged()
        await h.coordinator.handle(fill: fillOf(placed, 0.4, sequence: 1))
        await h.coordinator.handle(order: filled(placed, 1))
        #expect(h.strategy.inFlight)
        await h.coordinator.handle(fill: fillOf(placed, 0.5, sequence: 2))
        #expect(h.strategy.inFlight, "0.9 of 1 applied")
        await h.coordinator.handle(fill: fillOf(placed, 0.1, sequence: 3))
        #expect(!h.strategy.inFlight)
    }

    @Test("fills that came before the final event (routerd's usual order) free the role at once, with no look-up")
    func fillsFirstFreeAtOnce() async throws {
        let (h, placed) = try await entryAcknowledged(confirmPause: .milliseconds(5))
        await h.coordinator.handle(fill: fillOf(placed, 1, sequence: 1))
        await h.coordinator.handle(order: filled(placed, 1))
        #expect(!h.strategy.inFlight)
        try await Task.sleep(for: .milliseconds(30))
        #expect(h.router.lookups.get() == 0)
    }

    @Test("a fill held behind a gap in the log does not count until the gap is filled")
    func heldFillDoesNotCount() async throws {
        let (h, placed) = try await entryAcknowledged()
        // Sequence 2 arrives, 1 is missing: held, not applied.
        await h.coordinator.handle(fill: fillOf(placed, 1, sequence: 2))
        await h.coordinator.handle(order: filled(placed, 1))
        #expect(h.strategy.inFlight)
        var other = placed
        other.clientOrderId = "bb-someone-else"
        await h.coordinator.handle(fill: fillOf(other, 0.5, sequence: 1))
        #expect(!h.strategy.inFlight, "the gap filled, the held fill applied: the order's fills add up")
    }

    @Test("after a reconnect, routerd's record final with its fills not yet in its log: asked again until they come")
    func confirmWaitsForTheFills() async throws {
        let (h, placed) = try await entryAcknowledged(confirmPause: .milliseconds(10))
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        h.router.stored.set(filled(placed, 1))
        await h.coordinator.confirmOrdersInFlight()
        try await waitUntil("several look-ups, each fetching the fills") { gaps.get() >= 3 }
        #expect(h.strategy.inFlight, "final at routerd, its fill not in routerd's log yet")
        await h.coordinator.handle(fill: fillOf(placed, 1, sequence: 1))
        #expect(!h.strategy.inFlight)
        try await Task.sleep(for: .milliseconds(30))
        let lookups = h.router.lookups.get()
        try await Task.sleep(for: .milliseconds(60))
        #expect(h.router.lookups.get() == lookups, "the confirmation stopped once the role was freed")
    }

    @Test("an exit whose fills do not come is freed after the confirmation's look-ups, so the position's stop can go out")
    func exitIsNotHeldForever() async throws {
        let h = Harness()
        await h.coordinator.setGapHandler {}
        await h.coordinator.setConfirmPause(.milliseconds(2))
        h.strategy.configure {
            $0.isEntry = false
            $0.side = .sell
        }
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        let placed = try #require(h.router.placed.get().first)
        #expect(placed.reduceOnly == true)
        let exit = filled(placed, 1)
        h.router.stored.set(exit)
        await h.coordinator.handle(order: exit)
        #expect(h.strategy.inFlight)
        try await waitUntil("the exit to be freed after its look-ups") { !h.strategy.inFlight }
        #expect(h.router.lookups.get() >= 30)
    }

    @Test("after a positions snapshot, which may hold an order's fills, its final record frees it as before")
    func snapshotLeavesTheTallyUnknown() async throws {
        let (h, placed) = try await entryAcknowledged()
        let position = StrategyPosition(strategyId: "scripted", symbol: "BTCUSDT", quantity: 1, averagePrice: 100)
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [position], throughSequence: 1), keepingOrdersInFlight: true))
        await h.coordinator.handle(order: filled(placed, 1))
        #expect(!h.strategy.inFlight)
    }

    @Test("an older answer that says less was filled does not lower what the role waits for")
    func olderAnswerDoesNotLowerTheWait() async throws {
        let (h, placed) = try await entryAcknowledged()
        await h.coordinator.handle(order: filled(placed, 1))
        await h.coordinator.handle(order: filled(placed, 0.6))
        await h.coordinator.handle(fill: fillOf(placed, 0.6, sequence: 1))
        #expect(h.strategy.inFlight, "1 was filled; 0.6 applied")
        await h.coordinator.handle(fill: fillOf(placed, 0.4, sequence: 2))
        #expect(!h.strategy.inFlight)
    }

    @Test("an order let go of and held again: fills it had while nothing held its role cannot be tallied, so its end frees it")
    func heldAgainIsUntallied() async throws {
        let (h, placed) = try await entryAcknowledged()
        var givenUp = order(placed, status: .rejected)
        givenUp.rejectReason = OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups"
        await h.coordinator.handle(order: givenUp)
        #expect(!h.strategy.inFlight)
        // Found working at the venue with a first fill: routerd sends the fill, then the order.
        await h.coordinator.handle(fill: fillOf(placed, 0.5, sequence: 1))
        var working = order(placed, status: .partiallyFilled)
        working.filledQuantity = 0.5
        await h.coordinator.handle(order: working)
        #expect(h.strategy.inFlight)
        await h.coordinator.handle(fill: fillOf(placed, 0.5, sequence: 2))
        await h.coordinator.handle(order: filled(placed, 1))
        #expect(!h.strategy.inFlight)
    }
}
