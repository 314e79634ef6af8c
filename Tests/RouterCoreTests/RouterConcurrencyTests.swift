import Foundation
import GRDB
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import RouterCore

/// Holds every fill insert on the writer connection until `release()`, so a commit stays in flight while other
/// calls arrive; with `failing` the fill is then refused, as a full disk would.
private final class FillLatch: @unchecked Sendable {
    private let entered = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)

    init(_ fixture: RouterFixture, failing: Bool = false) async throws {
        try await fixture.database.writeWithoutTransaction { [self] db in
            db.add(function: DatabaseFunction("bb_test_hold", argumentCount: 0, pure: false) { _ in
                self.entered.signal()
                self.gate.wait()
                return nil
            })
            let refusal = failing ? "SELECT RAISE(ABORT, 'disk full');" : ""
            try db.execute(sql: "CREATE TRIGGER held_fills BEFORE INSERT ON fills BEGIN SELECT bb_test_hold(); \(refusal) END")
        }
    }

    /// Waits (off the cooperative pool) until a fill insert is held.
    func waitUntilHolding() async throws {
        try await onThread { self.entered.wait() }
    }

    /// Lets every held and future fill insert through.
    func release() {
        for _ in 0..<64 { gate.signal() }
    }
}

/// Gives the calls just started time to reach the router. Its thread is held in the write the latch holds
/// (SQLite runs on routerd's core thread), so they wait for it there and cannot be watched waiting; if one
/// were slower than this, it would only arrive after the write, and the test would check the plainer case.
private func letCallsArrive() async throws {
    try await Task.sleep(for: .milliseconds(100))
}

@Suite("RouterService: one order or tick at a time, across database awaits")
struct RouterConcurrencyTests {
    @Test("a retry that arrives while the first attempt is still being recorded gets its outcome, not 'never executed'")
    func retryDuringCommit() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let latch = try await FillLatch(fixture)
        async let first = service.place(request("bb-twice"))
        try await latch.waitUntilHolding()
        async let second = service.place(request("bb-twice"))
        try await letCallsArrive()
        latch.release()
        let (a, b) = try await (first, second)
        #expect(a.status == .filled)
        #expect(b.status == .filled, "the retry must see the recorded fill: \(b.rejectReason ?? "")")
        #expect(try fixture.count("fills") == 1)
        #expect(try await fixture.store.order(clientOrderId: "bb-twice")?.status == .filled)
        #expect(try await service.positions().first?.quantity == 0.5)
    }

    @Test("a lookup while an order's answer is being recorded waits for it: never an answer about a state on its way out")
    func lookupWaitsForTheRecord() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let latch = try await FillLatch(fixture, failing: true)
        let placed = Task { try await service.place(request("bb-lost")) }
        try await latch.waitUntilHolding()
        async let seen = service.orders(OrdersQuery(clientOrderId: "bb-lost"))
        try await letCallsArrive()
        latch.release()
        // On paper the order is stored in the venue's transaction: it failed whole, so nothing of it was written.
        let refused = await expectIPCError(.notSent) { _ = try await placed.value }
        #expect(refused != nil, "the order's record at the venue failed: not sent, never executed")
        #expect(try await seen.isEmpty, "the lookup answered after the place, from the same record: no order")
        #expect(await service.unsettledOrders == ["bb-lost"], "and its symbol waits until the schedule has read that")
    }

    @Test("a tick that crosses a resting order while another order is being recorded fills it once, after")
    func tickDuringCommit() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        let latch = try await FillLatch(fixture)
        async let market = service.place(request("bb-market"))
        try await latch.waitUntilHolding()
        // The tick reaches the venue, which fills the resting order (its own write waits for the database's
        // writer) and reports it; routerd applies the report after the market order's record, in turn.
        async let ticked: Void = service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        latch.release()
        await ticked
        #expect(try await market.status == .filled)
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .filled)
        #expect(try fixture.count("fills") == 2)
        #expect(try await service.positions().first?.quantity == 1)
        let disk = try await fixture.paperBook()?.positions["BTCUSDT"]?.book.quantity
        #expect(disk == 1, "the book on disk holds both recorded fills")
    }

    @Test("a write asked for by a task that is then cancelled still completes")
    func cancelledCallerStillRecords() async throws {
        let fixture = try RouterFixture()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await fixture.store.insert(newOrder("bb-cancelled", .buy, 1))
        }
        try await task.value
        #expect(try await fixture.store.order(clientOrderId: "bb-cancelled")?.status == .pendingNew)
    }

    @Test("a lookup of an order that reached routerd and waits its turn never answers 'no such order'")
    func lookupDoesNotOvertakeQueuedPlace() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let latch = try await FillLatch(fixture)
        async let first = service.place(request("bb-first"))
        try await latch.waitUntilHolding()
        async let second = service.place(request("bb-second"))
        try await letCallsArrive()
        // arsenald's confirmation takes "absent" as "never arrived" and frees the symbol for a second order.
        async let lookup = service.orders(OrdersQuery(clientOrderId: "bb-second", limit: 1))
        try await letCallsArrive()
        latch.release()
        let seen = try await lookup
        let (_, b) = try await (first, second)
        #expect(b.status == .filled)
        #expect(seen.first?.status == .filled, "the lookup must answer after the order that came before it")
    }

    @Test("a fills query asked while an order is being recorded includes that order's fill")
    func fillsQueryDoesNotOvertakeQueuedPlace() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let latch = try await FillLatch(fixture)
        async let placed = service.place(request("bb-a"))
        try await latch.waitUntilHolding()
        // arsenald's resync reads the fills, then frees every symbol.
        async let query = service.fills(FillsQuery(afterSequence: 0))
        try await letCallsArrive()
        latch.release()
        let fills = try await query
        _ = try await placed
        #expect(fills.fills.map(\.clientOrderId) == ["bb-a"])
    }
}
