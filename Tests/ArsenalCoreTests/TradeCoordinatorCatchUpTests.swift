import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// A catch-up with routerd (after a reconnect: the missed fills, or a positions snapshot) while an order is
/// still being placed: its fills may not be in what the catch-up read, so its symbol must stay busy.
@Suite("TradeCoordinator: catch-ups while an order is being placed")
struct TradeCoordinatorCatchUpTests {
    /// Starts a tick whose order routerd does not answer until `holdPlaces` is cleared, and waits until routerd
    /// has been asked.
    private func placeHeld(_ h: Harness) async throws -> Task<Void, Never> {
        h.router.holdPlaces.set(true)
        let coordinator = h.coordinator
        let first = tick(mid: 100, at: 1)
        let handling = Task { await coordinator.handle(tick: first) }
        try await waitUntil("the order to reach routerd") { !h.router.placed.get().isEmpty }
        return handling
    }

    @Test("freeing every symbol after a reconnect leaves the symbol of an order still being placed busy")
    func freeAllSymbolsDuringPlace() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        let first = try await placeHeld(h)
        await h.coordinator.freeAllSymbols()
        #expect(h.strategy.inFlight)
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1, "no second order while the first one's fills may be missing")

        // The answer says filled: its fills are fetched (its events may have been missed), then the symbol is free.
        h.router.holdPlaces.set(false)
        await first.value
        #expect(gaps.get() == 1)
        #expect(!h.strategy.inFlight)
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2)
    }

    @Test("an answer that is not final after a catch-up during the place: routerd's record is asked until it is final, then the symbol is free")
    func notFinalAfterCatchUpIsConfirmed() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.coordinator.setConfirmPause(.milliseconds(20))
        h.router.status.set(.acknowledged)
        let first = try await placeHeld(h)
        await h.coordinator.freeAllSymbols()
        h.router.holdPlaces.set(false)
        await first.value
        let placed = try #require(h.router.placed.get().first)
        h.router.stored.set(order(placed, status: .acknowledged))
        try await Task.sleep(for: .milliseconds(100))
        #expect(h.strategy.inFlight, "still acknowledged at routerd: the symbol stays busy")
        // Its `filled` went out while the stream was down; only the look-up can tell.
        h.router.stored.set(order(placed, status: .filled))
        try await waitUntil("the look-up to settle the order") { !h.strategy.inFlight }
        #expect(gaps.get() == 1, "its fills were fetched before the symbol was freed (its events may have been missed)")
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2)
    }

    @Test("a positions snapshot taken while an order is being placed keeps its symbol busy")
    func snapshotDuringPlace() async throws {
        let h = Harness()
        let first = try await placeHeld(h)
        let snapshot = StrategyPositionsResponse(positions: [], throughSequence: 0)
        #expect(await h.coordinator.resync(snapshot))
        #expect(h.strategy.inFlight)
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)
        h.router.holdPlaces.set(false)
        await first.value
        #expect(!h.strategy.inFlight)
    }

    @Test("a positions snapshot that fills a gap (no reconnect) frees no order in flight; one after a reconnect frees those not being placed")
    func gapSnapshotKeepsOrdersInFlight() async throws {
        let h = Harness()
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        #expect(h.strategy.inFlight, "acknowledged, not final: in flight")
        let snapshot = StrategyPositionsResponse(positions: [], throughSequence: 0)
        #expect(await h.coordinator.resync(snapshot, keepingOrdersInFlight: true))
        #expect(h.strategy.inFlight, "a gap's snapshot keeps it: freed, the entry would be sent again")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)
        #expect(await h.coordinator.resync(snapshot))
        #expect(!h.strategy.inFlight, "after a reconnect its final event may have been missed: freed")
    }

    @Test("without a catch-up during the place, a filled answer waits for the order's own event")
    func noCatchUpWaitsForTheEvent() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.tickAt(1)
        #expect(h.strategy.inFlight)
        #expect(gaps.get() == 0)
        let placed = try #require(h.router.placed.get().first)
        await h.coordinator.handle(order: order(placed, status: .filled))
        #expect(!h.strategy.inFlight)
    }
}
