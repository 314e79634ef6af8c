import Foundation
import BagbotDomain
import BagbotIPC
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
        // The fetch brings the order's fill from routerd's log (its event went out while the stream was down).
        let coordinator = h.coordinator, router = h.router
        await h.coordinator.setGapHandler {
            gaps.update { $0 += 1 }
            guard let placed = router.placed.get().first else { return }
            await coordinator.handle(fill: Fill(fillId: "f1", clientOrderId: placed.clientOrderId!, venue: .paper, symbol: placed.symbol,
                                                side: placed.side, quantity: placed.quantity, price: 100, fee: 0, time: epoch,
                                                strategyId: placed.strategyId, requestId: placed.requestId, sequence: 1))
        }
        let first = try await placeHeld(h)
        await h.coordinator.confirmOrdersInFlight()
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
        await h.coordinator.confirmOrdersInFlight()
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

    @Test("a positions snapshot that fills a gap (no reconnect) looks up no order in flight; one after a reconnect keeps each busy until routerd's record settles it")
    func gapSnapshotKeepsOrdersInFlight() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.coordinator.setConfirmPause(.milliseconds(10))
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        #expect(h.strategy.inFlight, "acknowledged, not final: in flight")
        let placed = try #require(h.router.placed.get().first)
        h.router.stored.set(order(placed, status: .acknowledged))
        let snapshot = StrategyPositionsResponse(positions: [], throughSequence: 0)
        #expect(await h.coordinator.resync(snapshot, keepingOrdersInFlight: true))
        try await Task.sleep(for: .milliseconds(60))
        #expect(h.strategy.inFlight, "a gap's snapshot keeps it: freed, the entry would be sent again")
        #expect(h.router.lookups.get() == 0, "its events are still to come: nothing to look up")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)

        // After a reconnect its final event may have been missed, but the snapshot does not show it was: still working.
        #expect(await h.coordinator.resync(snapshot))
        try await waitUntil("routerd's record to be asked") { h.router.lookups.get() >= 2 }
        #expect(h.strategy.inFlight, "acknowledged at routerd: no second entry")
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 1)
        h.router.stored.set(order(placed, status: .filled))
        try await waitUntil("the look-up to settle the order") { !h.strategy.inFlight }
        #expect(gaps.get() == 1, "its fills were fetched before the symbol was freed")
    }

    @Test("a reconnect's catch-up while an order's outcome is being confirmed leaves its symbol busy until routerd's record settles it")
    func catchUpDuringConfirmation() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.coordinator.setConfirmPause(.milliseconds(10))
        // The command connection drops with the order on it; routerd stays up and is still placing it.
        h.router.error.set(IPCError(.connectionLost, "closed before the answer"))
        await h.tickAt(1)
        h.router.error.set(nil)
        let placed = try #require(h.router.placed.get().first)
        h.router.stored.set(order(placed, status: .sent))
        // The reconnect's catch-up read the fill log before routerd recorded the order's fills.
        await h.coordinator.confirmOrdersInFlight()
        try await Task.sleep(for: .milliseconds(60))
        #expect(h.strategy.inFlight, "the order is working at routerd: no second entry")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)
        let lookups = h.router.lookups.get()
        try await waitUntil("one confirmation, asking on") { h.router.lookups.get() >= lookups + 2 }

        h.router.stored.set(order(placed, status: .filled))
        try await waitUntil("the look-up to settle the order") { !h.strategy.inFlight }
        #expect(gaps.get() == 1)
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2)
    }

    @Test("an exit that ended unfilled while the stream was down is freed at the reconnect's first look-up, without a fetch, backed off like a refusal")
    func unfilledExitAcrossAReconnect() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.coordinator.setConfirmPause(.seconds(30))
        h.strategy.configure { $0.isEntry = false; $0.side = .sell }
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        let placed = try #require(h.router.placed.get().first)
        #expect(h.strategy.inFlight)
        h.router.stored.set(order(placed, status: .cancelled))
        await h.coordinator.confirmOrdersInFlight()
        // Looked up at once, not a pause (30 s here) later.
        try await waitUntil("the look-up to free the exit", timeout: .seconds(5)) { !h.strategy.inFlight }
        #expect(gaps.get() == 0, "nothing filled: no fills to fetch")
        #expect(h.strategy.exitRefusals == 1)
    }

    @Test("a reconnect looks up at once an order whose confirmation was pausing (routerd was down): not after that pause")
    func reconnectHurriesAConfirmation() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.coordinator.setConfirmPause(.seconds(30))
        h.router.error.set(IPCError(.connectionLost, "closed before the answer"))
        await h.tickAt(1)
        h.router.error.set(nil)
        let placed = try #require(h.router.placed.get().first)
        h.router.stored.set(order(placed, status: .filled))
        #expect(h.strategy.inFlight)
        await h.coordinator.confirmOrdersInFlight()
        try await waitUntil("the reconnect's look-up to settle the order", timeout: .seconds(10)) { !h.strategy.inFlight }
        #expect(gaps.get() == 1)
        #expect(h.router.lookups.get() == 1, "the pausing confirmation was replaced, not run beside")
    }

    @Test("a manual order looked up under its key when a reconnect comes is not confirmed beside its own placing")
    func keyedManualOrderDuringAReconnect() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.coordinator.setConfirmPause(.milliseconds(10))
        await h.tickAt(1)
        h.router.holdLookups.set(true)
        let coordinator = h.coordinator
        let manual = Task {
            try await coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "during-reconnect"))
        }
        try await waitUntil("the key's look-up to reach routerd") { h.router.lookups.get() == 1 }
        await h.coordinator.confirmOrdersInFlight()
        h.router.holdLookups.set(false)
        #expect(try await manual.value.outcome == .placed)
        try await Task.sleep(for: .milliseconds(100))
        #expect(h.router.lookups.get() == 1, "no confirmation of it ran: it could take its absence before the send as never arrived")
    }

    @Test("an order routerd answered not final keeps its symbol across a reconnect until its record or its final event settles it")
    func openOrderAcrossAReconnect() async throws {
        let h = Harness()
        await h.coordinator.setConfirmPause(.milliseconds(10))
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        let placed = try #require(h.router.placed.get().first)
        h.router.stored.set(order(placed, status: .acknowledged))
        await h.coordinator.confirmOrdersInFlight()
        try await waitUntil("routerd's record to be asked") { h.router.lookups.get() >= 2 }
        #expect(h.strategy.inFlight, "a live venue's market order not filled yet: no second entry")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)
        // Its final event frees it, and the confirmation stops asking.
        await h.coordinator.handle(order: order(placed, status: .filled))
        #expect(!h.strategy.inFlight)
        try await Task.sleep(for: .milliseconds(30))
        let lookups = h.router.lookups.get()
        try await Task.sleep(for: .milliseconds(60))
        #expect(h.router.lookups.get() == lookups, "nothing holds the role for it any more")
    }

    @Test("an order routerd gave up as not found, then shows working, holds its symbol again until it ends; no other working order does")
    func revivedOrderIsHeldAgain() async throws {
        let h = Harness()
        await h.coordinator.setConfirmPause(.seconds(30))
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        let placed = try #require(h.router.placed.get().first)
        // routerd gave it up as not found: its end frees the symbol.
        var givenUp = order(placed, status: .rejected)
        givenUp.rejectReason = OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups"
        await h.coordinator.handle(order: givenUp)
        #expect(!h.strategy.inFlight)
        // Found at the venue after all, working.
        await h.coordinator.handle(order: order(placed, status: .acknowledged))
        #expect(h.strategy.inFlight)
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1, "no second entry beside it")
        await h.coordinator.handle(order: order(placed, status: .filled))
        #expect(!h.strategy.inFlight)

        // A plain refusal let go of is not held again by an older event of it (the stream behind the answer)…
        await h.tickAt(3)
        let refused = try #require(h.router.placed.get().last)
        await h.coordinator.handle(order: order(refused, status: .rejected))
        #expect(!h.strategy.inFlight)
        await h.coordinator.handle(order: order(refused, status: .sent))
        #expect(!h.strategy.inFlight, "an older event of an order that ended")
        // …nor is an order arsenald never sent (a take-profit routerd placed for the strategy), even one given up as
        // not found and then found resting.
        var takeProfit = order(refused, status: .rejected)
        takeProfit.clientOrderId = "bb-take-profit"
        takeProfit.rejectReason = OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups"
        await h.coordinator.handle(order: takeProfit)
        takeProfit.status = .acknowledged
        takeProfit.rejectReason = nil
        await h.coordinator.handle(order: takeProfit)
        #expect(!h.strategy.inFlight)
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
