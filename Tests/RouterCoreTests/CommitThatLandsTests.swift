import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore

/// The real store, except that, while `failAfterCommit` is set, a commit that reached the disk still
/// reports an error (as an I/O error after the write can).
private final class CommitLandsButFails: OrderStorage {
    let inner: OrderStore
    let failAfterCommit = NIOLockedValueBox(false)

    init(_ inner: OrderStore) { self.inner = inner }

    func commit(_ order: OrderRecord, fills: [Fill], paper: PaperExchange.Snapshot?, onlyIfStatus: OrderStatus?) async throws -> [Fill] {
        let stored = try await inner.commit(order, fills: fills, paper: paper, onlyIfStatus: onlyIfStatus)
        if failAfterCommit.withLockedValue({ $0 }) { throw IPCError(.internal, "disk I/O error after the write") }
        return stored
    }

    func insert(_ order: OrderRecord) async throws { try await inner.insert(order) }
    func order(clientOrderId: String) async throws -> OrderRecord? { try await inner.order(clientOrderId: clientOrderId) }
    func orders(_ query: OrdersQuery) async throws -> [OrderRecord] { try await inner.orders(query) }
    func nonFinalOrders() async throws -> [OrderRecord] { try await inner.nonFinalOrders() }
    func countOrders(since: Date) async throws -> Int { try await inner.countOrders(since: since) }
    func lastFillSequence() async throws -> Int64 { try await inner.lastFillSequence() }
    func strategyPositions(through: Int64) async throws -> StrategyPositionsResponse { try await inner.strategyPositions(through: through) }
    func fills(after: Int64, limit: Int) async throws -> [Fill] { try await inner.fills(after: after, limit: limit) }
    func fills(ofOrder clientOrderId: String) async throws -> [Fill] { try await inner.fills(ofOrder: clientOrderId) }
    func loadPaper() async throws -> PaperExchange.Snapshot? { try await inner.loadPaper() }
    func databaseId() async throws -> String { try await inner.databaseId() }
}

/// Records the methods of the events routerd publishes, in order.
private final class RecordingPublisher: EventPublishing {
    let methods = NIOLockedValueBox<[String]>([])
    func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body) {
        methods.withLockedValue { $0.append(method) }
    }
}

@Suite("RouterService when a commit lands but reports an error")
struct CommitThatLandsTests {
    @Test("an order whose commit landed is the recorded outcome: book executed, fill and order published, healthy")
    func placeLanded() async throws {
        let fixture = try RouterFixture()
        let storage = CommitLandsButFails(fixture.store)
        let published = RecordingPublisher()
        let service = try await fixture.service(storage: storage, events: published)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        storage.failAfterCommit.withLockedValue { $0 = true }
        let placed = try await service.place(request("bb-landed"))
        #expect(placed.status == .filled)
        #expect(try await service.positions().first?.quantity == 0.5)
        #expect(try fixture.count("fills") == 1)
        #expect(published.methods.withLockedValue { $0 }.filter { $0 != Events.tick } == [Events.fill, Events.order],
                "arsenald frees the symbol on the order's event and learns the fill from its event")
        #expect(await service.isHealthy)
    }

    @Test("a cancel that landed is a cancel: the order does not rest again, and a later tick does not fill it")
    func cancelLanded() async throws {
        let fixture = try RouterFixture()
        let storage = CommitLandsButFails(fixture.store)
        let service = try await fixture.service(storage: storage)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        storage.failAfterCommit.withLockedValue { $0 = true }
        let canceled = try await service.cancel(clientOrderId: "bb-rest")
        #expect(canceled.status == .canceled)
        storage.failAfterCommit.withLockedValue { $0 = false }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .canceled)
        #expect(try fixture.count("fills") == 0)
        #expect(try await service.positions().isEmpty)
    }

    @Test("a resting order that is final on disk is taken off the book instead of being filled over")
    func restingButFinalOnDisk() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        // As if its cancel had landed while the service heard an error.
        try await fixture.database.write { db in
            try db.execute(sql: "UPDATE orders SET status = 'canceled' WHERE client_order_id = 'bb-rest'")
        }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        await service.onTick(quote("BTCUSDT", bid: 92, ask: 93, at: 2))
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .canceled)
        #expect(try fixture.count("fills") == 0)
        #expect(try await service.positions().isEmpty)
    }

    @Test("a resting order's fill that landed although its commit reported an error stays in the book and is published")
    func restingFillLanded() async throws {
        let fixture = try RouterFixture()
        let storage = CommitLandsButFails(fixture.store)
        let published = RecordingPublisher()
        let service = try await fixture.service(storage: storage, events: published)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        storage.failAfterCommit.withLockedValue { $0 = true }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        storage.failAfterCommit.withLockedValue { $0 = false }

        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .filled)
        let disk = try #require(try await fixture.store.loadPaper())
        #expect(disk.positions["BTCUSDT"]?.book.quantity == 0.5)
        #expect(try await service.account().totalCash == disk.cash, "the book in memory is the recorded one")
        #expect(try await service.positions().first?.quantity == 0.5)
        #expect(published.methods.withLockedValue { $0 }.filter { $0 != Events.tick }.suffix(2) == [Events.fill, Events.order])
        #expect(await service.isHealthy)

        // The next commit writes the book from memory: it must still agree with the fill log.
        _ = try await service.place(request("bb-next", "BTCUSDT", .buy, 0.5))
        let after = try #require(try await fixture.store.loadPaper())
        let fromFills = try await fixture.store.strategyPositions(through: Int64.max).positions.first { $0.symbol == "BTCUSDT" }?.quantity
        #expect(after.positions["BTCUSDT"]?.book.quantity == fromFills)
        #expect(fromFills == 1)
    }

    @Test("a conflict is not a storage failure: routerd stays healthy (the watchdog would restart it)")
    func conflictKeepsHealthy() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-rest", type: .limit, limit: 95))
        try await fixture.database.write { db in
            try db.execute(sql: "UPDATE orders SET status = 'canceled' WHERE client_order_id = 'bb-rest'")
        }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(await service.isHealthy)
    }
}
