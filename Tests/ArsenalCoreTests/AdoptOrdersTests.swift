import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// After positions come from a snapshot (a start of arsenald, or routerd's database changed), the orders routerd is
/// still settling hold their roles again, and the ones it gave up as not found are let go of (held again if found).
@Suite("TradeCoordinator: orders routerd is still settling after a restart")
struct AdoptOrdersTests {
    private func record(_ id: String, status: OrderStatus, strategy: String? = "scripted", reduceOnly: Bool = false,
                        filled: ExactDecimal = 0, reason: String? = nil) -> OrderRecord {
        OrderRecord(clientOrderId: id, venue: .binance, symbol: "BTCUSDT", side: reduceOnly ? .sell : .buy, type: .market, quantity: 1,
                    status: status, filledQuantity: filled, reduceOnly: reduceOnly, strategyId: strategy, requestId: String(id.dropFirst(3)),
                    rejectReason: reason, createdAt: epoch, updatedAt: epoch)
    }

    private func restarted() async -> Harness {
        let h = Harness()
        await h.coordinator.setConfirmPause(.seconds(30))
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        return h
    }

    @Test("an entry still in doubt at routerd holds its symbol after a restart: no second entry until it ends")
    func workingEntryIsHeld() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-old-1", status: .unknown)], givenUp: [])
        #expect(h.strategy.inFlight)
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty, "no entry beside the one in doubt")
        // It ends filled; its fills were in the snapshot (or are not tallied here): its final record frees it.
        await h.coordinator.handle(order: record("bb-old-1", status: .filled, filled: 1))
        #expect(!h.strategy.inFlight)
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)
    }

    @Test("routerd's unsettled orders are adopted after a reconnect, and with the run's first snapshot however it was asked for")
    func adoptsWithTheFirstSnapshot() {
        #expect(ArsenalDaemon.adoptsOrders(reconnected: true, hasSnapshot: true))
        #expect(ArsenalDaemon.adoptsOrders(reconnected: false, hasSnapshot: false), "a gap's snapshot before the command connection's resync")
        #expect(!ArsenalDaemon.adoptsOrders(reconnected: false, hasSnapshot: true), "a gap while connected: the orders' events are still to come")
    }

    @Test("mindsetd's flattening orders, other strategies' and final orders are not held")
    func othersAreNotHeld() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [
            record("mf-0123", status: .acknowledged, reduceOnly: true), record("bb-gone", status: .acknowledged, strategy: "retired"),
            record("bb-done", status: .filled, filled: 1),
        ], givenUp: [])
        #expect(!h.strategy.inFlight)
        await h.tickAt(1)
        #expect(h.router.placed.get().count == 1)
    }

    @Test("an order given up as not found before the restart holds its role again if routerd finds it working")
    func givenUpIsLetGo() async throws {
        let h = await restarted()
        let givenUp = record("bb-late", status: .rejected, reason: OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups")
        await h.coordinator.adopt(working: [], givenUp: [givenUp])
        #expect(!h.strategy.inFlight)
        await h.coordinator.handle(order: record("bb-late", status: .acknowledged))
        #expect(h.strategy.inFlight, "found working at the venue after all")
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty)
    }

    @Test("an exit still working holds the exit role only: the strategy's entries are a separate role")
    func workingExitHoldsTheExitRole() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-exit", status: .sent, reduceOnly: true)], givenUp: [])
        // ScriptedStrategy holds any role back while one is in flight; the role recorded is the exit's.
        #expect(h.strategy.inFlight)
        await h.coordinator.handle(order: record("bb-exit", status: .cancelled, reduceOnly: true))
        #expect(!h.strategy.inFlight)
    }

    @Test("taken with the snapshot itself: the orders routerd was settling hold their roles from the same step")
    func takenWithTheSnapshot() async throws {
        let h = Harness()
        await h.coordinator.setConfirmPause(.seconds(30))
        let adopting = OrdersToAdopt(working: [record("bb-old-2", status: .acknowledged)], givenUp: [])
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0), adopting: adopting))
        #expect(h.strategy.inFlight)
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty)
    }

    @Test("an order placed by hand (routerd named it bb-… itself, or it may rest) is not this coordinator's to hold")
    func handPlacedOrdersAreNotHeld() async throws {
        let h = await restarted()
        var limit = record("bb-resting", status: .acknowledged)
        limit.type = .limit
        var unnamed = record("bb-0123456789abcdef01234567", status: .acknowledged)
        unnamed.requestId = nil
        await h.coordinator.adopt(working: [limit, unnamed], givenUp: [])
        #expect(!h.strategy.inFlight)
    }

    @Test("the trader's order given up before a restart, in a symbol not traded since, is held again if found working")
    func manualGivenUpIsHeldAgain() async throws {
        let h = await restarted()
        await h.tickAt(1)  // a price for the manual order below (the scripted strategy places its own entry)
        let givenUp = record("bb-m-late", status: .rejected, strategy: "manual",
                             reason: OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups")
        await h.coordinator.adopt(working: [], givenUp: [givenUp])
        await h.coordinator.handle(order: record("bb-m-late", status: .acknowledged, strategy: "manual"))
        do {
            _ = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 0.4))
            Issue.record("a second manual order went out beside the revived one")
        } catch let error as IPCError {
            #expect(error.code == .conflict && error.message.contains("bb-m-late"), "\(error)")
        }
    }

    @Test("an order revived beside a newer one in its role: the role stays held until both have ended")
    func revivedBesideANewerHolder() async throws {
        let h = await restarted()
        h.router.status.set(.acknowledged)
        let givenUp = record("bb-late", status: .rejected, reason: OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups")
        await h.coordinator.adopt(working: [], givenUp: [givenUp])
        await h.tickAt(1)
        let newer = try #require(h.router.placed.get().first?.clientOrderId)
        // routerd finds the given-up order working after all, while the newer entry holds the role.
        await h.coordinator.handle(order: record("bb-late", status: .acknowledged))
        // The newer one ends with nothing filled: the revived one still works, so the role stays held.
        await h.coordinator.handle(order: record(newer, status: .cancelled))
        #expect(h.strategy.inFlight, "the revived order took the role over")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1, "no entry beside the revived order")
        // It ends filled (its fills were applied while another held the role: not tallied): the role is free.
        await h.coordinator.handle(order: record("bb-late", status: .filled, filled: 1))
        #expect(!h.strategy.inFlight)
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2)
    }

    @Test("two orders routerd still settles in one role at a start: the role is free only once both have ended")
    func twoAdoptedInOneRole() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-first", status: .acknowledged), record("bb-second", status: .unknown)], givenUp: [])
        await h.coordinator.handle(order: record("bb-first", status: .filled, filled: 1))
        #expect(h.strategy.inFlight, "the second still holds the role")
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty)
        await h.coordinator.handle(order: record("bb-second", status: .rejected))
        #expect(!h.strategy.inFlight)
    }

    @Test("an order working beside the holder that ends first leaves nothing to take over: the holder's end frees the role")
    func besideEndsFirst() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-first", status: .acknowledged), record("bb-second", status: .acknowledged)], givenUp: [])
        await h.coordinator.handle(order: record("bb-second", status: .cancelled))
        #expect(h.strategy.inFlight, "the first still holds the role")
        await h.coordinator.handle(order: record("bb-first", status: .cancelled))
        #expect(!h.strategy.inFlight)
        await h.tickAt(1)
        #expect(h.router.placed.get().count == 1)
    }

    @Test("a stop accepted while entries work, one holding the role and one beside it, cancels both")
    func stopCancelsEveryUnsettledEntry() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-first", status: .acknowledged), record("bb-second", status: .acknowledged)], givenUp: [])
        h.strategy.configure { $0.isEntry = false; $0.side = .sell }
        await h.tickAt(1)
        #expect(h.router.placed.get().count == 1, "the stop went out")
        try await waitFor("both entries' cancels", timeout: .seconds(5), every: .milliseconds(5)) {
            Set(h.router.cancelled.get()) == ["bb-first", "bb-second"]
        }
    }

    @Test("an exit freed so its position's stop can go out is freed outright: an exit working beside it does not hold the stop back")
    func exitFreedOutright() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-stop", status: .unknown, reduceOnly: true), record("bb-other", status: .unknown, reduceOnly: true)],
                                  givenUp: [])
        #expect(h.strategy.inFlight)
        h.router.failingLookups.set(Set(1...100))
        await h.coordinator.confirm(clientOrderId: "bb-stop", symbol: "BTCUSDT", role: .exit, strategyId: "scripted", attempts: 3, pause: .zero)
        #expect(!h.strategy.inFlight, "the exit role is free, not taken over by the exit beside it")
    }

    @Test("an order given up again while working beside the holder is held again if routerd revives it once more")
    func givenUpAgainWhileBeside() async throws {
        let h = await restarted()
        h.router.status.set(.acknowledged)
        let notFound = OrderRecord.notFoundAtVenue + ": binance did not know the order after 5 lookups"
        await h.coordinator.adopt(working: [], givenUp: [record("bb-late", status: .rejected, reason: notFound)])
        await h.tickAt(1)
        let newer = try #require(h.router.placed.get().first?.clientOrderId)
        await h.coordinator.handle(order: record("bb-late", status: .acknowledged))
        await h.coordinator.handle(order: record("bb-late", status: .rejected, reason: notFound))
        await h.coordinator.handle(order: record("bb-late", status: .acknowledged))
        await h.coordinator.handle(order: record(newer, status: .cancelled))
        #expect(h.strategy.inFlight, "revived twice, it still holds the role when the newer one ends")
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1)
    }

    @Test("an order beside the holder that ended with fills takes the role over when the holder ends: freed only once its fills are fetched")
    func besideEndedWithFills() async throws {
        let h = await restarted()
        await h.coordinator.adopt(working: [record("bb-first", status: .acknowledged), record("bb-second", status: .acknowledged)], givenUp: [])
        await h.coordinator.handle(order: record("bb-second", status: .filled, filled: 1))
        await h.coordinator.handle(order: record("bb-first", status: .cancelled))
        #expect(h.strategy.inFlight, "the filled one holds the role until its confirmation has fetched its fills")
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty)
    }
}
