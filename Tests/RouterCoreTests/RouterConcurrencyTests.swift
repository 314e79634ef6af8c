import Foundation
import GRDB
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import RouterCore

/// Makes every fill insert on the writer connection wait, so a commit is in flight long enough for other
/// calls to arrive during it; `failing` also refuses the fill after the wait, as a full disk would.
private func slowFills(_ fixture: RouterFixture, milliseconds: Int, failing: Bool = false) async throws {
    try await fixture.database.writeWithoutTransaction { db in
        db.add(function: DatabaseFunction("bb_test_sleep", argumentCount: 1, pure: false) { values in
            usleep(UInt32((Int.fromDatabaseValue(values[0].databaseValue) ?? 0) * 1_000))
            return nil
        })
        let refusal = failing ? "SELECT RAISE(ABORT, 'disk full');" : ""
        try db.execute(sql: "CREATE TRIGGER slow_fills BEFORE INSERT ON fills BEGIN SELECT bb_test_sleep(\(milliseconds)); \(refusal) END")
    }
}

@Suite("RouterService: one order or tick at a time, across database awaits")
struct RouterConcurrencyTests {
    @Test("a retry that arrives while the first attempt is still being recorded gets its outcome, not 'never executed'")
    func retryDuringCommit() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        try await slowFills(fixture, milliseconds: 300)
        async let first = service.place(request("bb-twice"))
        try await Task.sleep(for: .milliseconds(50))
        async let second = service.place(request("bb-twice"))
        let (a, b) = try await (first, second)
        #expect(a.status == .filled)
        #expect(b.status == .filled, "the retry must see the recorded fill: \(b.rejectReason ?? "")")
        #expect(try fixture.count("fills") == 1)
        #expect(try await fixture.store.order(clientOrderId: "bb-twice")?.status == .filled)
        #expect(await service.positions().first?.quantity == 0.5)
    }

    @Test("an execution whose record is still being written is never shown, and after a failed write it never was")
    func noReadOfUncommittedExecution() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        try await slowFills(fixture, milliseconds: 300, failing: true)
        async let placed: Void = { _ = try? await service.place(request("bb-lost")) }()
        try await Task.sleep(for: .milliseconds(50))
        let positions = await service.positions()
        let account = await service.account()
        await placed
        #expect(positions.isEmpty, "a fill that was never recorded must not be visible while it is being written")
        #expect(account.totalCash == 100_000)
        #expect(try await fixture.store.order(clientOrderId: "bb-lost")?.status == .rejected)
    }

    @Test("a tick that crosses a resting order while another order is being recorded fills it once, after")
    func tickDuringCommit() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        try await slowFills(fixture, milliseconds: 200)
        async let market = service.place(request("bb-market"))
        try await Task.sleep(for: .milliseconds(50))
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(try await market.status == .filled)
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .filled)
        #expect(try fixture.count("fills") == 2)
        #expect(await service.positions().first?.quantity == 1)
        let disk = try await fixture.store.loadPaper()?.positions["BTCUSDT"]?.book.quantity
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
        try await slowFills(fixture, milliseconds: 400)
        async let first = service.place(request("bb-first"))
        try await Task.sleep(for: .milliseconds(50))
        async let second = service.place(request("bb-second"))
        try await Task.sleep(for: .milliseconds(50))
        // arsenald's confirmation takes "absent" as "never arrived" and frees the symbol for a second order.
        let seen = try await service.orders(OrdersQuery(clientOrderId: "bb-second", limit: 1))
        let (_, b) = try await (first, second)
        #expect(b.status == .filled)
        #expect(seen.first?.status == .filled, "the lookup must answer after the order that came before it")
    }

    @Test("a fills query asked while an order is being recorded includes that order's fill")
    func fillsQueryDoesNotOvertakeQueuedPlace() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        try await slowFills(fixture, milliseconds: 400)
        async let placed = service.place(request("bb-a"))
        try await Task.sleep(for: .milliseconds(50))
        // arsenald's resync reads the fills, then frees every symbol.
        let fills = try await service.fills(FillsQuery(afterSequence: 0))
        _ = try await placed
        #expect(fills.fills.map(\.clientOrderId) == ["bb-a"])
    }
}
