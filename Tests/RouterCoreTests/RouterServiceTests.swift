import Foundation
import GRDB
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import RouterCore

func expectIPCError(_ code: IPCErrorCode, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> Void) async -> IPCError? {
    do {
        try await body()
        Issue.record("expected IPCError \(code.rawValue), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as IPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected IPCError \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func request(_ id: String?, _ symbol: String = "BTCUSDT", _ side: Side = .buy, _ quantity: ExactDecimal = 0.5,
             type: OrderType = .market, limit: ExactDecimal? = nil, strategy: String? = "s1", reduceOnly: Bool? = nil,
             timeInForce: TimeInForce? = nil) -> PlaceOrderRequest {
    PlaceOrderRequest(clientOrderId: id, symbol: symbol, side: side, type: type, quantity: quantity, limitPrice: limit,
                      reduceOnly: reduceOnly, strategyId: strategy, requestId: id.map { "req-\($0)" }, timeInForce: timeInForce)
}

@Suite("OrderStore and RouterService on a real SQLite file")
struct RouterServiceTests {
    @Test("place persists the order under its client order id, with its fill and status history")
    func placePersists() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))

        let order = try await service.place(request("bb-test-1", "btcusdt"))
        #expect(order.clientOrderId == "bb-test-1")
        #expect(order.symbol == "BTCUSDT")
        #expect(order.venue == .paper)
        #expect(order.status == .filled)
        #expect(order.filledQuantity == 0.5)
        #expect(order.averageFillPrice == 101.0505)
        #expect(order.exchangeOrderId == "paper-bb-test-1")
        #expect(order.strategyId == "s1")
        #expect(order.requestId == "req-bb-test-1")

        let stored = try #require(try await fixture.store.order(clientOrderId: "bb-test-1"))
        #expect(stored.status == .filled)
        #expect(stored.quantity == 0.5)
        #expect(stored.filledQuantity == 0.5)
        #expect(stored.averageFillPrice == order.averageFillPrice)
        #expect(stored.exchangeOrderId == "paper-bb-test-1")
        #expect(stored.requestId == "req-bb-test-1")
        #expect(try fixture.count("orders") == 1)
        #expect(try fixture.count("fills") == 1)
        let history = try await fixture.database.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM order_events WHERE client_order_id = ? ORDER BY id", arguments: ["bb-test-1"])
        }
        #expect(history == ["pending_new", "sent", "filled"], "every transition is written, sent before the venue is called")
        let fill = try fixture.database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM fills WHERE client_order_id = 'bb-test-1'")
        }
        #expect((fill?["quantity"] as String?) == "0.5", "money is stored as exact decimal text")
        #expect((fill?["strategy_id"] as String?) == "s1")

        // The paper book was saved in the same transaction.
        let paper = try #require(try await fixture.paperBook())
        #expect(paper.positions["BTCUSDT"]?.book.quantity == 0.5)
        // 100,000 − 50.52525 − the fee 0.05052525, rounded up to 8 decimals.
        #expect(paper.balances["USDT"] == 99_949.42422475)
        #expect(paper.balances["BTC"] == 0.5)
    }

    @Test("without a client order id the router makes a unique, valid one")
    func generatedClientOrderIds() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let a = try await service.place(request(nil))
        let b = try await service.place(request(nil))
        #expect(a.clientOrderId != b.clientOrderId)
        for id in [a.clientOrderId, b.clientOrderId] {
            #expect(id.hasPrefix("bb-"))
            #expect((try? RequestRules.checkClientOrderId(id)) != nil)
        }
        #expect(try fixture.count("orders") == 2)
        #expect(try fixture.count("fills") == 2)
    }

    @Test("placing again with the same client order id returns the stored order and trades nothing twice")
    func idempotentRetry() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let first = try await service.place(request("bb-retry"))
        let cash = try await service.account().cash
        await service.onTick(quote("BTCUSDT", bid: 200, ask: 201))

        let again = try await service.place(request("bb-retry"))
        #expect(again.clientOrderId == first.clientOrderId)
        #expect(again.status == .filled)
        #expect(again.averageFillPrice == first.averageFillPrice)
        #expect(try fixture.count("orders") == 1)
        #expect(try fixture.count("fills") == 1)
        #expect(try await service.account().cash == cash)
        #expect(try await service.positions().first?.quantity == 0.5)

        // The same from a new router instance (a restart between the attempt and the retry).
        let restarted = try await fixture.service()
        let third = try await restarted.place(request("bb-retry"))
        #expect(third.status == .filled)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("a retry is answered with the stored order even when a new order would be refused (paused, an id not valid now), and costs nothing")
    func retryWhileChecksRefuse() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let first = try await service.place(request("bb-paused"))
        _ = try await service.setTrading(enabled: false, reason: "test")
        let again = try await service.place(request("bb-paused"))
        #expect(again.status == .filled)
        #expect(again.averageFillPrice == first.averageFillPrice)
        // A different order under the taken id is still key_reused, not "paused".
        _ = await expectIPCError(.keyReused) { _ = try await service.place(request("bb-paused", "BTCUSDT", .sell, 0.5)) }
        // A new id is refused by the pause, and not stored.
        _ = await expectIPCError(.tradingPaused) { _ = try await service.place(request("bb-new")) }
        // An id stored by an earlier release that today's rule for new ids refuses (a ':') is still answered as a retry.
        let legacy = "legacy:1"
        try await fixture.leftOver(newOrder(legacy, .buy, 0.5, status: .filled))
        #expect(try await service.place(request(legacy)).status == .filled)
        #expect(try fixture.count("orders") == 2)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("a retry while the database refuses writes is answered with the stored order, never not_sent, and blocks nothing")
    func retryWhileWritesFail() async throws {
        let fixture = try RouterFixture()
        let store = MisbehavingStore(fixture.store)
        let service = try await fixture.service(storage: store)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let first = try await service.place(request("bb-busy"))
        store.failBeforeInsert.withLockedValue { $0 = true }
        let again = try await service.place(request("bb-busy"))
        #expect(again.status == .filled)
        #expect(again.averageFillPrice == first.averageFillPrice)
        #expect(await service.isHealthy)
        #expect(await service.unsettledOrders.isEmpty)
        // A new order cannot be recorded, so it is not sent.
        _ = await expectIPCError(.notSent) { _ = try await service.place(request("bb-new")) }
        #expect(try fixture.count("paper_orders") == 1)
    }

    @Test("a retry of an order left pending_new by a failed run rejects it as never sent, whether or not checks pass now")
    func retryOfPendingNew() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        // Stored as the insert of a failed attempt left it (after start, so reconciliation has not settled it).
        try await fixture.store.insert(newOrder("bb-half", .buy, 0.5))
        try await fixture.store.insert(newOrder("bb-half-2", .buy, 0.5))
        // The checks pass: the insert finds the id taken.
        let settled = try await service.place(request("bb-half"))
        #expect(settled.status == .rejected)
        #expect(settled.rejectReason?.hasPrefix("never_sent") == true)
        // The checks refuse (paused): the id is looked up all the same.
        _ = try await service.setTrading(enabled: false, reason: "test")
        #expect(try await service.place(request("bb-half-2")).status == .rejected)
        #expect(try fixture.count("paper_orders") == 0, "nothing was sent")
    }

    @Test("the same client order id with a different order is key_reused (the id's order exists), not a conflict", arguments: [
        request("bb-dup", "BTCUSDT", .buy, 0.6),
        request("bb-dup", "BTCUSDT", .sell, 0.5),
        request("bb-dup", "ETHUSDT", .buy, 0.5),
    ])
    func conflictingReuse(second: PlaceOrderRequest) async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        await service.onTick(quote("ETHUSDT", bid: 10, ask: 10.1))
        _ = try await service.place(request("bb-dup", "BTCUSDT", .buy, 0.5))
        let error = await expectIPCError(.keyReused) { _ = try await service.place(second) }
        #expect(error?.message.contains("bb-dup") == true)
        #expect(try fixture.count("orders") == 1)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("reusing a client order id with another type, limit price or strategy is key_reused, not a retry", arguments: [
        request("bb-dup", "BTCUSDT", .buy, 0.5, type: .limit, limit: 90),
        request("bb-dup", "BTCUSDT", .buy, 0.5, strategy: "s2"),
        request("bb-dup", "BTCUSDT", .buy, 0.5, strategy: nil),
    ])
    func conflictingFieldReuse(second: PlaceOrderRequest) async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-dup", "BTCUSDT", .buy, 0.5))
        _ = await expectIPCError(.keyReused) { _ = try await service.place(second) }
        #expect(try fixture.count("fills") == 1)
    }

    @Test("an order a live venue executed but routerd could not record is settled by lookup, once; its symbol waits meanwhile")
    func unrecordedExecutionIsSettled() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        let service = try await fixture.service(venues: [binance], paperTrading: false)
        // The disk refuses the fill (as a full disk or an I/O error would).
        try await fixture.database.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_fills BEFORE INSERT ON fills BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let lost = try await service.place(request("bb-lost"))
        #expect(lost.status == .sent, "sent, and the venue's answer not recorded: not final for the caller")
        #expect(await service.isHealthy == false)
        #expect(try await binance.positions().first?.quantity == 0.5, "the venue executed it")
        // A retry returns the order as recorded; nothing is sent again.
        #expect(try await service.place(request("bb-lost")).status == .sent)
        #expect(await binance.placeCalls == ["bb-lost"])
        // New orders for the symbol wait until its outcome is recorded; reduce-only ones and other symbols do not.
        let waiting = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next")) }
        #expect(waiting?.message.contains("bb-lost") == true)

        try await fixture.database.write { try $0.execute(sql: "DROP TRIGGER refuse_fills") }
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-lost")?.status == .filled)
        #expect(try fixture.count("fills") == 1)
        #expect(await binance.placeCalls == ["bb-lost"], "executed once")
        #expect(await service.isHealthy)
        #expect(try await service.place(request("bb-next")).status == .filled)
        #expect(try await service.positions().first?.quantity == 1)
    }

    @Test("on paper a record that fails takes the execution with it: not sent, nothing stored, the books as they were")
    func paperRecordFailsWhole() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let booksBefore = try await fixture.paperBook()
        try await fixture.database.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_fills BEFORE INSERT ON fills BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let refusal = await expectIPCError(.notSent) { _ = try await service.place(request("bb-lost")) }
        #expect(refusal?.message.contains("disk full") == true)
        #expect(try fixture.count("orders") == 0, "the order, its sent and its record went back with the venue's execution")
        #expect(try fixture.count("order_events") == 0)
        #expect(try fixture.count("paper_orders") == 0)
        #expect(try fixture.count("paper_fills") == 0)
        #expect(try fixture.count("fills") == 0)
        #expect(try await fixture.paperBook() == booksBefore)
        // Its symbol waits until the schedule has read that nothing of it is stored.
        #expect(await service.unsettledOrders == ["bb-lost"])
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)

        try await fixture.database.write { try $0.execute(sql: "DROP TRIGGER refuse_fills") }
        #expect(try await service.place(request("bb-next")).status == .filled)
        #expect(try await service.positions().first?.quantity == 0.5, "the venue's memory went back with its books: one execution")
        #expect(try fixture.count("paper_fills") == 1)
    }

    @Test("on paper a commit that failed unseen could come back: the order is stored as rejected, synced, before anyone is told")
    func paperFailedCommitIsSealed() async throws {
        let fixture = try RouterFixture()
        let (service, _) = try await paperFailingCommits(fixture, MisbehavingStore(fixture.store))
        let placed = try await service.place(request("bb-unseen"))
        #expect(placed.status == .rejected)
        #expect(placed.rejectReason?.hasPrefix("never_sent") == true)
        #expect(try await fixture.store.order(clientOrderId: "bb-unseen")?.status == .rejected, "stored, so a commit over the failed one")
        #expect(try fixture.count("paper_orders") == 0, "never executed")
        #expect(await service.unsettledOrders.isEmpty)
        #expect(try await service.positions().isEmpty)
    }

    @Test("on paper, when not even that rejection can be written, the order's fate stays open until it is")
    func paperFailedCommitStaysOpenUntilSealed() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let (service, paper) = try await paperFailingCommits(fixture, storage)
        // The commit fails unseen, and the rejection's insert fails too (a database busy beyond its timeout): nobody
        // may hear "never sent" yet.
        storage.failBeforeInsert.withLockedValue { $0 = true }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-open")) }
        #expect(await service.unsettledOrders == ["bb-open"])
        _ = await expectIPCError(.unavailable) { _ = try await service.orders(OrdersQuery(clientOrderId: "bb-open")) }
        _ = await expectIPCError(.unavailable) { _ = try await service.orderPage(OrdersQuery(clientOrderId: "bb-open")) }
        _ = await expectIPCError(.unavailable) { _ = try await service.cancel(clientOrderId: "bb-open") }
        // A retry must not be told "not sent" either (a reduce-only one passes the symbol's hold).
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-open")) }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-open", reduceOnly: true)) }
        let waiting = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next")) }
        #expect(waiting?.message.contains("bb-open") == true, "its symbol waits")
        await service.settleUnsettled()
        #expect(await service.unsettledOrders == ["bb-open"], "still open while the write fails")

        storage.failBeforeInsert.withLockedValue { $0 = false }
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
        let sealed = try await service.orders(OrdersQuery(clientOrderId: "bb-open")).first
        #expect(sealed?.status == .rejected)
        #expect(sealed?.rejectReason?.hasPrefix("never_sent") == true)
        #expect(try fixture.count("paper_orders") == 0, "never executed")
        #expect(try await paper.positions().isEmpty)
    }

    @Test("on paper, a failed commit whose order cannot even be read back is sealed all the same before it is settled")
    func paperFailedCommitUnreadableIsSealed() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let (service, _) = try await paperFailingCommits(fixture, storage)
        storage.failReads.withLockedValue { $0 = true }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-unread")) }
        storage.failReads.withLockedValue { $0 = false }
        _ = await expectIPCError(.unavailable) { _ = try await service.orders(OrdersQuery(clientOrderId: "bb-unread")) }
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
        let sealed = try await fixture.store.order(clientOrderId: "bb-unread")
        #expect(sealed?.status == .rejected, "stored by a synced write before it was settled, never dropped as never stored")
        #expect(try fixture.count("paper_orders") == 0)
    }

    @Test("every start of routerd is recorded by a synced write before any order is looked up or answered")
    func startIsRecorded() async throws {
        let fixture = try RouterFixture()
        _ = try await fixture.service()
        #expect(try fixture.count("router_starts") == 1)
        _ = try await fixture.service()
        #expect(try fixture.count("router_starts") == 2)
    }

    @Test("a start that cannot write still serves, but calls no order absent until a write has landed")
    func startUnrecordedServesDegraded() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        storage.failRecordStart.withLockedValue { $0 = true }
        let service = try await fixture.service(storage: storage)
        _ = await expectIPCError(.unavailable) { _ = try await service.orders(OrdersQuery(clientOrderId: "bb-gone")) }
        _ = await expectIPCError(.unavailable) { _ = try await service.orderPage(OrdersQuery(clientOrderId: "bb-gone")) }
        _ = await expectIPCError(.unavailable) { _ = try await service.cancel(clientOrderId: "bb-gone") }
        #expect(try await service.positions().isEmpty, "reads that need no absence are served")
        await service.settleUnsettled()
        #expect(try fixture.count("router_starts") == 0, "still failing")
        storage.failRecordStart.withLockedValue { $0 = false }
        await service.settleUnsettled()
        #expect(try fixture.count("router_starts") == 1)
        #expect(try await service.orders(OrdersQuery(clientOrderId: "bb-gone")).isEmpty)
        _ = await expectIPCError(.notFound) { _ = try await service.cancel(clientOrderId: "bb-gone") }
    }

    /// A router whose paper venue's commits of new orders fail unseen (`PaperWithFailingCommits`).
    private func paperFailingCommits(_ fixture: RouterFixture, _ storage: MisbehavingStore) async throws -> (RouterService, PaperVenue) {
        let paper = try await PaperVenue(database: fixture.database, settings: fixture.paperSettings,
                                         rules: [RouterFixture.looseRules("BTCUSDT")], logger: quietLogger)
        let service = try await RouterService(
            store: storage, venues: [PaperWithFailingCommits(paper, .failedUnseen)], symbols: SymbolMap(paperTrading: true),
            tradingSwitch: TradingSwitch(stateDirectory: fixture.dir.file("state"), logger: quietLogger),
            events: IPCEventHub(logger: quietLogger), logger: quietLogger)
        try await service.start()
        await paper.ingest(quote("BTCUSDT", bid: 100, ask: 101))
        return (service, paper)
    }

    @Test("when a live venue's order cannot be stored as sent nothing of it is stored and it is never sent; once writes work a retry places it")
    func unrecordedSendIsNeverSent() async throws {
        let fixture = try RouterFixture()
        // On paper `sent` is written in the venue's transaction (`paperRecordFailsWhole`).
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        let service = try await fixture.service(venues: [binance], paperTrading: false)
        try await fixture.database.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_updates BEFORE UPDATE ON orders BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        _ = await expectIPCError(.notSent) { _ = try await service.place(request("bb-stuck")) }
        #expect(try await fixture.store.order(clientOrderId: "bb-stuck") == nil, "the order and its sent are one transaction")
        #expect(try fixture.count("order_events") == 0)
        #expect(await binance.placeCalls.isEmpty, "never handed to the venue")
        #expect(await service.isHealthy == false)
        _ = await expectIPCError(.notSent) { _ = try await service.place(request("bb-stuck")) }
        #expect(try await fixture.store.order(clientOrderId: "bb-stuck") == nil)

        try await fixture.database.write { try $0.execute(sql: "DROP TRIGGER refuse_updates") }
        let retried = try await service.place(request("bb-stuck"))
        #expect(retried.status == .filled)
        #expect(await binance.placeCalls == ["bb-stuck"], "sent once, by the retry")
        #expect(try history(fixture, "bb-stuck") == ["pending_new", "sent", "filled"])
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
        #expect(await service.isHealthy)
    }

    @Test("partial fills through routerd: partially_filled, each fill recorded once, and numbering survives a restart")
    func partialFillsThroughTheRouter() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-part", "BTCUSDT", .buy, 1, type: .limit, limit: 99))
        var trade = quote("BTCUSDT", bid: 98.9, ask: 99, at: 1)
        trade.volume = 0.4
        await service.onTick(trade)
        let part = try #require(try await fixture.store.order(clientOrderId: "bb-part"))
        #expect(part.status == .partiallyFilled)
        #expect(part.filledQuantity == 0.4)

        // A restart in between: the venue still rests the rest, and numbers the next fill after the first.
        let restarted = try await fixture.service()
        await restarted.onTick(trade)
        trade.volume = 2
        await restarted.onTick(trade)
        let done = try #require(try await fixture.store.order(clientOrderId: "bb-part"))
        #expect(done.status == .filled)
        #expect(done.filledQuantity == 1)
        #expect(done.averageFillPrice == 99)
        let ids = try await fixture.store.fills(ofOrder: "bb-part").map(\.fillId)
        #expect(ids == ["bb-part-1", "bb-part-2", "bb-part-3"])
        #expect(try await fixture.store.strategyPositions(through: Int64.max).positions.first?.quantity == 1)
        #expect(try history(fixture, "bb-part") == ["pending_new", "sent", "acknowledged", "partially_filled", "partially_filled", "filled"])
    }

    func history(_ fixture: RouterFixture, _ id: String) throws -> [String] {
        try fixture.database.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM order_events WHERE client_order_id = ? ORDER BY id", arguments: [id])
        }
    }

    @Test("dust below 10^-8 that fills recorded as doubles left behind is a flat position, as it was then")
    func legacyDustIsFlat() async throws {
        let fixture = try RouterFixture()
        var order = newOrder("legacy", .buy, 1)
        try await fixture.store.insert(order)
        order.status = .filled
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        let fills = [("l-1", Side.buy, "0.1"), ("l-2", .buy, "0.2"), ("l-3", .sell, "0.30000000000000004")].map { id, side, quantity in
            Fill(fillId: id, clientOrderId: "legacy", venue: .paper, symbol: "BTCUSDT", side: side, quantity: ExactDecimal(quantity)!,
                 price: 100, fee: 0, time: time, strategyId: "s1", requestId: nil)
        }
        try await fixture.store.commit(order, fills: fills, reason: "legacy", expecting: .pendingNew, durable: false)
        let position = try #require(try await fixture.store.strategyPositions(through: Int64.max).positions.first)
        #expect(position.quantity == 0)
        #expect(position.cost == 0)
    }

    @Test("the writes that need no fsync of their own leave the writer connection at synchronous = FULL for the next")
    func writerStaysFullySynchronous() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-sync"))
        // 2 is FULL: the paper venue's executions and the next `sent` are synced.
        #expect(try await fixture.database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("a fill id already stored for another order is an error, never a fill dropped in silence")
    func fillIdOfAnotherOrder() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let first = try await service.place(request("bb-a"))
        var second = newOrder("bb-b", .buy, 0.5)
        try await fixture.store.insert(second)
        second.status = .filled
        let stolen = Fill(fillId: "bb-a-1", clientOrderId: "bb-b", venue: .paper, symbol: "BTCUSDT", side: .buy, quantity: 0.5,
                          price: 101, fee: 0, time: Date(), strategyId: "s1", requestId: nil)
        #expect(first.status == .filled)
        await #expect(throws: IPCError.self) {
            _ = try await fixture.store.commit(second, fills: [stolen], reason: "test", expecting: .pendingNew, durable: false)
        }
        #expect(try await fixture.store.order(clientOrderId: "bb-b")?.status == .pendingNew, "nothing of it was written")
    }

    @Test("recording an order as never executed does not overwrite an outcome already on disk")
    func neverExecutedIsGuarded() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let filled = try await service.place(request("bb-done"))
        #expect(filled.status == .filled)
        var rejected = filled
        rejected.status = .rejected
        rejected.rejectReason = "never executed"
        await #expect(throws: IPCError.self) {
            _ = try await fixture.store.commit(rejected, fills: [], reason: "never executed", expecting: .pendingNew, durable: false)
        }
        let stored = try await fixture.store.order(clientOrderId: "bb-done")
        #expect(stored?.status == .filled)
        #expect(stored?.rejectReason == nil)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("a venue fill whose record cannot be written is recorded, once, by the next lookup")
    func failedRecordOfAVenueFill() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-lim", "BTCUSDT", .buy, 1, type: .limit, limit: 95))
        try await fixture.database.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_fills BEFORE INSERT ON fills BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        // The venue filled it; routerd could not record that yet, and says so.
        #expect(try await fixture.store.order(clientOrderId: "bb-lim")?.status == .acknowledged)
        #expect(await service.unsettledOrders == ["bb-lim"])
        #expect(await !service.isHealthy)
        #expect(try await service.positions().first?.quantity == 1, "the venue's book has the fill")

        try await fixture.database.write { try $0.execute(sql: "DROP TRIGGER refuse_fills") }
        await service.settleUnsettled()
        await service.onTick(quote("BTCUSDT", bid: 92, ask: 93, at: 3))
        #expect(try await fixture.store.order(clientOrderId: "bb-lim")?.status == .filled)
        #expect(try fixture.count("fills") == 1)
        #expect(try fixture.count("paper_fills") == 1, "executed once")
        #expect(await service.isHealthy)
        #expect(await service.unsettledOrders.isEmpty)
    }

    @Test("when one of two venue fills on the same tick cannot be recorded, the other is, and the lookup adds the rest")
    func partialRecordOnTick() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-a", "BTCUSDT", .buy, 1, type: .limit, limit: 95))
        _ = try await service.place(request("bb-b", "BTCUSDT", .buy, 2, type: .limit, limit: 95))
        // Only B's fill is refused.
        try await fixture.database.write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse_b BEFORE INSERT ON fills WHEN NEW.client_order_id = 'bb-b'
                BEGIN SELECT RAISE(ABORT, 'disk full'); END
                """)
        }
        await service.onTick(quote("BTCUSDT", bid: 93, ask: 94, at: 1))
        #expect(try await fixture.store.order(clientOrderId: "bb-a")?.status == .filled)
        #expect(try await fixture.store.order(clientOrderId: "bb-b")?.status == .acknowledged)
        #expect(try await fixture.paperBook()?.positions["BTCUSDT"]?.book.quantity == 3, "the venue executed both")

        try await fixture.database.write { try $0.execute(sql: "DROP TRIGGER refuse_b") }
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-b")?.status == .filled)
        #expect(try fixture.count("fills") == 2)
        #expect(await service.isHealthy)
        #expect(try await fixture.store.strategyPositions(through: Int64.max).positions.first?.quantity == 3,
                "routerd's fills and the venue's book agree: A once and B once")
    }

    @Test("a paused switch refuses orders with tradingPaused and stores nothing; the pause survives a restart")
    func pausedRefuses() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let state = try await service.setTrading(enabled: false, reason: "maintenance")
        #expect(!state.enabled)
        #expect(try await service.account().tradingEnabled == false)

        let error = await expectIPCError(.tradingPaused) { _ = try await service.place(request("bb-paused")) }
        #expect(error?.message.contains("maintenance") == true)
        #expect(try fixture.count("orders") == 0)
        #expect(try fixture.count("fills") == 0)
        #expect(try await fixture.store.order(clientOrderId: "bb-paused") == nil)

        let restarted = try await fixture.service()
        await restarted.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = await expectIPCError(.tradingPaused) { _ = try await restarted.place(request("bb-paused")) }
        #expect(try await restarted.account().pausedReason == "maintenance")

        _ = try await restarted.setTrading(enabled: true, reason: nil)
        #expect(try await restarted.place(request("bb-paused")).status == .filled)
    }

    @Test("bad requests are refused before anything is stored", arguments: [
        request("bb-1", "NOT_A_SYMBOL"),
        request("bb-2", "BTC-USDT"),
        request("bb-3", "BTCUSDT", .buy, 0),
        request("bb-4", "BTCUSDT", .buy, -1),
        request("bb-5", "BTCUSDT", .buy, 0.000000001),
        request("bb-6", "BTCUSDT", .buy, 1, type: .limit, limit: nil),
        request("bb-7", "BTCUSDT", .buy, 1, type: .limit, limit: -5),
        request("bb-8", "BTCUSDT", .buy, 1, type: .market, limit: 100),
        request("has space", "BTCUSDT"),
        request(String(repeating: "x", count: 37), "BTCUSDT"),
        request("", "BTCUSDT"),
    ])
    func badRequests(bad: PlaceOrderRequest) async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = await expectIPCError(.badRequest) { _ = try await service.place(bad) }
        #expect(try fixture.count("orders") == 0)
    }

    @Test("an order without market data is stored as rejected, with its reason")
    func rejectedWithoutTick() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        let order = try await service.place(request("bb-nodata", "EURUSD", .buy, 1_000))
        #expect(order.status == .rejected)
        #expect(order.rejectReason?.contains("no market data") == true)
        let stored = try #require(try await fixture.store.order(clientOrderId: "bb-nodata"))
        #expect(stored.status == .rejected)
        #expect(stored.rejectReason == order.rejectReason)
        #expect(try fixture.count("fills") == 0)
    }

    @Test("at start, an order that never left the machine is rejected (never_sent), a working one is live again")
    func reconcileAtStart() async throws {
        let fixture = try RouterFixture()
        // A crash between persisting and sending, a resting order, and a finished one were left behind.
        try await fixture.leftOver(newOrder("crash-1", .buy, 1), atVenue: false)
        try await fixture.leftOver(newOrder("rest-1", .buy, 1, type: .limit, limit: 95, status: .acknowledged))
        try await fixture.leftOver(newOrder("done-1", .buy, 1, status: .filled))

        let service = try await fixture.service()
        let crashed = try #require(try await fixture.store.order(clientOrderId: "crash-1"))
        #expect(crashed.status == .rejected)
        #expect(crashed.rejectReason?.hasPrefix("never_sent") == true)
        #expect(try await fixture.store.order(clientOrderId: "done-1")?.status == .filled)
        #expect(try await fixture.store.nonFinalOrders().map(\.clientOrderId) == ["rest-1"])
        #expect(try fixture.count("fills") == 0)
        #expect(try await service.account().cash == 200_000, "100,000 USD and 100,000 USDT, untouched")

        // The restored limit order fills when the market reaches it, and that is recorded.
        await service.onTick(quote("BTCUSDT", bid: 96, ask: 97, at: 1))
        #expect(try await fixture.store.order(clientOrderId: "rest-1")?.status == .acknowledged)
        await service.onTick(quote("BTCUSDT", bid: 94, ask: 94.5, at: 2))
        let rested = try #require(try await fixture.store.order(clientOrderId: "rest-1"))
        #expect(rested.status == .filled)
        #expect(rested.averageFillPrice == 95, "a resting order trades at its limit")
        #expect(try fixture.count("fills") == 1)
        #expect(try await fixture.store.nonFinalOrders().isEmpty)
        let history = try await fixture.database.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM order_events WHERE client_order_id = 'crash-1' ORDER BY id")
        }
        #expect(history == ["pending_new", "rejected"])
    }

    @Test("limit orders through the service: rest, cancel, and cancel errors")
    func cancelThroughService() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let resting = try await service.place(request("bb-lim", "BTCUSDT", .buy, 1, type: .limit, limit: 90))
        #expect(resting.status == .acknowledged)
        #expect(try await fixture.store.order(clientOrderId: "bb-lim")?.status == .acknowledged)

        let cancelled = try await service.cancel(clientOrderId: "bb-lim")
        #expect(cancelled.status == .cancelled)
        #expect(try await fixture.store.order(clientOrderId: "bb-lim")?.status == .cancelled)
        _ = await expectIPCError(.conflict) { _ = try await service.cancel(clientOrderId: "bb-lim") }
        _ = await expectIPCError(.notFound) { _ = try await service.cancel(clientOrderId: "bb-unknown") }

        await service.onTick(quote("BTCUSDT", bid: 80, ask: 81))
        #expect(try fixture.count("fills") == 0)
    }

    @Test("strategyPositions rebuilds net positions per strategy from the fills and reports throughSequence")
    func strategyPositions() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        let empty = try await service.strategyPositions()
        #expect(empty.positions.isEmpty)
        #expect(empty.throughSequence == 0)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        await service.onTick(quote("EURUSD", bid: 1.1, ask: 1.1002))
        _ = try await service.place(request("o1", "BTCUSDT", .buy, 2, strategy: "s1"))
        _ = try await service.place(request("o2", "BTCUSDT", .sell, 0.5, strategy: "s1"))
        _ = try await service.place(request("o3", "EURUSD", .buy, 1_000, strategy: "s2"))
        _ = try await service.place(request("o4", "BTCUSDT", .buy, 1, strategy: nil))
        _ = try await service.place(request("o5", "XRPUSDT", .buy, 1, strategy: "s1")) // rejected: no tick

        let snapshot = try await service.strategyPositions()
        #expect(snapshot.throughSequence == 4)
        #expect(snapshot.positions.map(\.strategyId) == ["s1", "s2"])
        let s1 = try #require(snapshot.positions.first { $0.strategyId == "s1" })
        #expect(s1.symbol == "BTCUSDT")
        #expect(s1.quantity == 1.5)
        #expect(s1.averagePrice == 101.0505)
        // Three quarters of the opening fill's fee are still open (0.5 of 2 was closed).
        let openingFee = try await fixture.database.read { db in
            try ExactDecimal.fetchOne(db, sql: "SELECT fee FROM fills WHERE client_order_id = 'o1'") ?? 0
        }
        #expect(openingFee.isPositive)
        #expect(s1.openFees == (try openingFee.multiplied(by: 0.75, scale: 12, rounding: .halfEven)))
        let s2 = try #require(snapshot.positions.first { $0.strategyId == "s2" })
        #expect(s2.symbol == "EURUSD")
        #expect(s2.quantity == 1_000)
        // 1.1002 × (1 + 5 bp) = 1.1007501, put on the 0.0001 tick against the buyer.
        #expect(s2.averagePrice == 1.1008)

        // Closing s1 leaves a flat entry, and the sequence moves on.
        _ = try await service.place(request("o6", "BTCUSDT", .sell, 1.5, strategy: "s1"))
        let later = try await service.strategyPositions()
        #expect(later.throughSequence == 5)
        #expect(later.positions.first { $0.strategyId == "s1" }?.quantity == 0)
    }

    @Test("a new RouterService on the same database restores the paper balances and positions")
    func paperBookSurvivesRestart() async throws {
        let fixture = try RouterFixture()
        let first = try await fixture.service()
        await first.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        await first.onTick(quote("EURUSD", bid: 1.1, ask: 1.1002))
        _ = try await first.place(request("o1", "BTCUSDT", .buy, 2))
        _ = try await first.place(request("o2", "EURUSD", .sell, 1_000))
        _ = try await first.place(request("o3", "BTCUSDT", .sell, 0.5))
        let account = try await first.account()
        let positions = try await first.positions()

        let second = try await fixture.service()
        let restoredAccount = try await second.account()
        let restoredPositions = try await second.positions()
        #expect(restoredAccount.cash == account.cash)
        #expect(restoredAccount.venues.first?.balances == account.venues.first?.balances)
        #expect(restoredAccount.equity == account.equity)
        #expect(restoredPositions.map(\.symbol) == positions.map(\.symbol))
        #expect(restoredPositions.map(\.quantity) == positions.map(\.quantity))
        #expect(restoredPositions.map(\.averagePrice) == positions.map(\.averagePrice))
        #expect(restoredPositions.map(\.realizedPnl) == positions.map(\.realizedPnl))
        #expect(account.cash != 200_000)

        // …and it keeps trading from there.
        await second.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await second.place(request("o4", "BTCUSDT", .sell, 1.5))
        #expect(try await second.positions().first { $0.symbol == "BTCUSDT" }?.quantity == 0)
    }

    @Test("OrderStore.orders filters by symbol, status and strategy, newest first, with a limit")
    func ordersQuery() async throws {
        let fixture = try RouterFixture()
        for (index, symbol) in ["BTCUSDT", "EURUSD", "BTCUSDT", "AAPL"].enumerated() {
            var order = newOrder("q\(index)", .buy, 1, symbol: symbol, strategy: index % 2 == 0 ? "s1" : "s2",
                                 status: index == 3 ? .rejected : .pendingNew)
            order.createdAt = epoch.addingTimeInterval(Double(index))
            order.updatedAt = order.createdAt
            try await fixture.store.insert(order)
        }
        #expect(try await fixture.store.orders(OrdersQuery()).map(\.clientOrderId) == ["q3", "q2", "q1", "q0"])
        #expect(try await fixture.store.orders(OrdersQuery(symbol: "btcusdt")).map(\.clientOrderId) == ["q2", "q0"])
        #expect(try await fixture.store.orders(OrdersQuery(status: .rejected)).map(\.clientOrderId) == ["q3"])
        #expect(try await fixture.store.orders(OrdersQuery(strategyId: "s2")).map(\.clientOrderId) == ["q3", "q1"])
        #expect(try await fixture.store.orders(OrdersQuery(limit: 2)).map(\.clientOrderId) == ["q3", "q2"])
        #expect(try await fixture.store.orders(OrdersQuery(limit: 0)).count == 1)
        #expect(try await fixture.store.nonFinalOrders().map(\.clientOrderId) == ["q0", "q1", "q2"])
        #expect(try await fixture.store.countOrders(since: epoch.addingTimeInterval(2)) == 2)
        // The primary key refuses a second order under the same id.
        await #expect(throws: (any Error).self) { try await fixture.store.insert(newOrder("q0", .sell, 5)) }
        #expect(try await fixture.store.order(clientOrderId: "q0")?.side == .buy)
    }

    @Test("OrderStore.orderPage: time range, and a cursor that walks every order once, ties at one millisecond included")
    func orderPages() async throws {
        let fixture = try RouterFixture()
        // Seven orders, three of them in the same millisecond (t+2), so the cursor must break ties by id.
        let offsets: [Double] = [0, 1, 2, 2, 2, 3, 4]
        for (index, offset) in offsets.enumerated() {
            var order = newOrder("p\(index)", .buy, 1, symbol: "BTCUSDT", strategy: "s1", status: .pendingNew)
            order.createdAt = epoch.addingTimeInterval(offset + 0.123)
            order.updatedAt = order.createdAt
            try await fixture.store.insert(order)
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await fixture.store.orderPage(OrdersQuery(limit: 2, after: cursor))
            seen += page.orders.map(\.clientOrderId)
            cursor = page.nextCursor
            pages += 1
            #expect(page.orders.count == 2 || cursor == nil)
        } while cursor != nil && pages < 10
        #expect(seen == ["p6", "p5", "p4", "p3", "p2", "p1", "p0"])
        #expect(pages == 4)
        let exact = try await fixture.store.orderPage(OrdersQuery(limit: 7))
        #expect(exact.orders.count == 7)
        #expect(exact.nextCursor == nil, "no cursor when nothing follows")
        let range = try await fixture.store.orderPage(OrdersQuery(createdFrom: epoch.addingTimeInterval(2), createdBefore: epoch.addingTimeInterval(4)))
        #expect(range.orders.map(\.clientOrderId) == ["p5", "p4", "p3", "p2"])
        await #expect(throws: IPCError.self) { try await fixture.store.orderPage(OrdersQuery(after: "1970-01-01 00:00:00.000|bad id!")) }
        await #expect(throws: IPCError.self) { try await fixture.store.orderPage(OrdersQuery(after: "no cursor")) }
    }
}

@Suite("TradingSwitch")
struct TradingSwitchTests {
    @Test("enabled by default; a pause is persisted and read back")
    func persisted() throws {
        let dir = try TempDir()
        var tradingSwitch = TradingSwitch(stateDirectory: dir.path, logger: quietLogger)
        #expect(tradingSwitch.state.enabled)
        try tradingSwitch.set(enabled: false, reason: "end of month")
        let reloaded = TradingSwitch(stateDirectory: dir.path, logger: quietLogger)
        #expect(!reloaded.state.enabled)
        #expect(reloaded.state.reason == "end of month")
    }

    @Test("a corrupt trading_state.json starts paused and is moved aside")
    func corruptStartsPaused() throws {
        let dir = try TempDir()
        try dir.write("trading_state.json", "{\"enabled\": tru")
        let tradingSwitch = TradingSwitch(stateDirectory: dir.path, logger: quietLogger)
        #expect(!tradingSwitch.state.enabled)
        #expect(tradingSwitch.state.reason?.contains("corrupt") == true)
        #expect(dir.contents().contains { $0.hasPrefix("trading_state.json.corrupt-") })
    }
}
