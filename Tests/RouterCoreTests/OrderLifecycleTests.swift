import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import GRDB
import Metrics
import MetricsTestKit
import Testing
@testable import RouterCore

/// Orders routed to a live-like venue (a `ScriptedVenue` standing in for Binance): every lifecycle state,
/// `unknown` outcomes and their settlement, reconciliation at start and after a reconnect.
@Suite("Order lifecycle and reconciliation with a venue that times out, fails after executing, or drops")
struct OrderLifecycleTests {
    /// A router whose crypto symbols route to a scripted venue (live routing, paper mode off).
    /// `lateLookups`: zero durations are due at the first `lookUpGivenUp`.
    func router(_ fixture: RouterFixture, _ venue: ScriptedVenue, maxMisses: Int = 3, lateLookups: [Duration] = [.zero],
                metrics: any MetricsFactory = MetricsSystem.factory) async throws -> RouterService {
        try await fixture.service(venues: [venue], reconciliation: ReconciliationSettings(lookupInterval: .milliseconds(10), maxMisses: maxMisses,
                                                                                          lateLookups: lateLookups),
                                  paperTrading: false, metrics: metrics)
    }

    func history(_ fixture: RouterFixture, _ id: String) throws -> [String] {
        try fixture.database.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM order_events WHERE client_order_id = ? ORDER BY id", arguments: [id])
        }
    }

    @Test("filled at once: pending_new → sent → filled, and the order is routed by the symbol map")
    func filled() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        let order = try await service.place(request("bb-1"))
        #expect(order.venue == .binance)
        #expect(order.status == .filled)
        #expect(order.exchangeOrderId == "x-bb-1")
        #expect(try history(fixture, "bb-1") == ["pending_new", "sent", "filled"])
        #expect(await binance.placeCalls == ["bb-1"])
        #expect(try fixture.count("fills") == 1)
    }

    @Test("sent is synced before a live venue is called; on paper it is one synced transaction with the execution and the record")
    func sentDurability() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let binance = ScriptedVenue(id: .binance)
        let live = try await fixture.service(storage: storage, venues: [binance], paperTrading: false)
        _ = try await live.place(request("bb-live"))
        #expect(storage.commits.withLockedValue { $0.map { "\($0.0.rawValue) \($0.1)" } } == ["sent true", "filled false"])
        #expect(storage.venueWrites.withLockedValue { $0 }.isEmpty)

        let paperFixture = try RouterFixture()
        let paperStorage = MisbehavingStore(paperFixture.store)
        let paper = try await paperFixture.service(storage: paperStorage)
        await paper.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let transactions = OrderCommits()
        paperFixture.database.add(transactionObserver: transactions)
        #expect(try await paper.place(request("bb-paper")).status == .filled)
        #expect(paperStorage.commits.withLockedValue { $0 }.isEmpty, "nothing of routerd's is committed apart from the venue's execution")
        #expect(paperStorage.venueWrites.withLockedValue { $0 } == [.sent, .filled])
        #expect(transactions.count == 1, "the order, its sent, the execution and the record together")
        #expect(try history(paperFixture, "bb-paper") == ["pending_new", "sent", "filled"])

        // The venue refuses before writing anything (an id it already has): `sent` is written, synced, and the order
        // is looked up, as after a live venue's duplicate.
        try await paperFixture.database.write { db in
            try PaperOrderRecord(newOrder("bb-dup", .buy, 1, status: .acknowledged)).insert(db)
        }
        paperStorage.commits.withLockedValue { $0 = [] }
        #expect(try await paper.place(request("bb-dup")).status == .unknown)
        #expect(paperStorage.commits.withLockedValue { $0.map { "\($0.0.rawValue) \($0.1)" } } == ["sent true", "unknown false"])

        // The same when that `sent` lands although its commit reports an error: the venue has an order under the id,
        // so it is looked up, never called never sent.
        try await paperFixture.database.write { db in
            try PaperOrderRecord(newOrder("bb-dup-2", .buy, 1, symbol: "ETHUSDT", status: .acknowledged)).insert(db)
        }
        paperStorage.failInsert.withLockedValue { $0 = true }
        await paper.onTick(quote("ETHUSDT", bid: 100, ask: 101))
        let landed = try await paper.place(request("bb-dup-2", "ETHUSDT"))
        paperStorage.failInsert.withLockedValue { $0 = false }
        #expect(landed.status == .unknown)
        #expect(await paper.unsettledOrders.contains("bb-dup-2"))
    }

    @Test("working, then filled by the market: sent → acknowledged → filled, the fill recorded from the venue's event")
    func acknowledgedThenFilled() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        #expect(try await service.place(request("bb-rest", type: .limit, limit: 90)).status == .acknowledged)
        await binance.fillWorking("bb-rest")
        #expect(try await fixture.store.order(clientOrderId: "bb-rest")?.status == .filled)
        #expect(try history(fixture, "bb-rest") == ["pending_new", "sent", "acknowledged", "filled"])
        // The same report again (a venue resending) stores nothing twice.
        await binance.fillWorking("bb-rest")
        #expect(try fixture.count("fills") == 1)
    }

    @Test("refused by the venue: rejected with its reason; not connected: rejected, nothing sent")
    func rejected() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.reject("-2010 Account has insufficient balance"))
        let refused = try await service.place(request("bb-no"))
        #expect(refused.status == .rejected)
        #expect(refused.rejectReason?.contains("insufficient balance") == true)
        await binance.set(.unavailable)
        let notSent = try await service.place(request("bb-down"))
        #expect(notSent.status == .rejected)
        #expect(notSent.rejectReason?.contains("venue unavailable") == true)
    }

    @Test("a timeout before the venue got it: unknown, the symbol waits, and after the misses it is rejected — never resent")
    func timeoutNeverExecuted() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 3)
        await binance.set(.timeoutBeforeExecuting)
        let order = try await service.place(request("bb-t"))
        #expect(order.status == .unknown)
        #expect(await service.unsettledOrders == ["bb-t"])
        // A retry returns the order as it is; it is not sent again.
        #expect(try await service.place(request("bb-t")).status == .unknown)
        await binance.set(.fill)
        _ = await expectIPCError(.conflict) { _ = try await service.place(request("bb-other")) }
        // Reduce-only orders are not held back (there is nothing to reduce here, so it is refused for that reason).
        let reduce = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-r", "BTCUSDT", .sell, reduceOnly: true)) }
        #expect(reduce?.message.contains("reduce-only") == true)

        for _ in 0..<2 { await service.settleUnsettled() }
        #expect(try await fixture.store.order(clientOrderId: "bb-t")?.status == .unknown, "still being looked up")
        await service.settleUnsettled()
        let settled = try #require(try await fixture.store.order(clientOrderId: "bb-t"))
        #expect(settled.status == .rejected)
        #expect(settled.rejectReason?.hasPrefix("not_found_at_venue") == true)
        #expect(await binance.placeCalls == ["bb-t"], "looked up, never sent twice")
        // Given up, but it may still execute: the symbol waits for its first late look-up, which finds nothing.
        let waiting = await expectIPCError(.conflict) { _ = try await service.place(request("bb-other")) }
        #expect(waiting?.message.contains("may still execute") == true, "\(String(describing: waiting))")
        await service.lookUpGivenUp()
        #expect(try await service.place(request("bb-other")).status == .filled, "the symbol trades again")
        #expect(await binance.placeCalls == ["bb-t", "bb-other"])
    }

    @Test("a reduce-only order given up as not found still counts against its position until its first late look-up")
    func givenUpExitCountsUntilLookedUpLate() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1)
        #expect(try await service.place(request("bb-open", strategy: "s1")).status == .filled)
        await binance.set(.timeoutBeforeExecuting)
        #expect(try await service.place(request("bb-exit-1", "BTCUSDT", .sell, strategy: "s1", reduceOnly: true)).status == .unknown)
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-exit-1")?.status == .rejected)
        await binance.set(.fill)
        // Were the first exit executed after all, a second would sell what the strategy no longer holds.
        let refused = await expectIPCError(.badRequest) {
            _ = try await service.place(request("bb-exit-2", "BTCUSDT", .sell, strategy: "s1", reduceOnly: true))
        }
        #expect(refused?.message.contains("reduce-only") == true, "\(String(describing: refused))")
        await service.lookUpGivenUp()
        #expect(try await service.place(request("bb-exit-2", "BTCUSDT", .sell, strategy: "s1", reduceOnly: true)).status == .filled)
    }

    @Test("a given-up order revived by the venue's own report is no longer in doubt: its symbol trades without waiting for a late look-up")
    func revivalEndsTheDoubt() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1, lateLookups: [.seconds(600)])
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-doubt"))
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-doubt")?.status == .rejected)
        _ = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next")) }
        let report = VenueOrderReport(clientOrderId: "bb-doubt", exchangeOrderId: "x-bb-doubt", status: .filled, filledQuantity: 0.5,
                                      averagePrice: 90, fills: [VenueFill(fillId: "t-doubt", clientOrderId: "bb-doubt", symbol: "BTCUSDT",
                                                                          side: .buy, quantity: 0.5, price: 90, fee: 0, time: Date())],
                                      time: Date())
        await service.handle(.order(report), from: .binance)
        let revived = try #require(try await fixture.store.order(clientOrderId: "bb-doubt"))
        #expect(revived.status == .filled && revived.rejectReason == nil)
        await binance.set(.fill)
        #expect(try await service.place(request("bb-next")).status == .filled)
    }

    @Test("a 5xx after the venue executed: unknown, then the lookup adopts the fill — executed once")
    func failedAfterExecuting() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.failAfterExecuting)
        #expect(try await service.place(request("bb-5xx")).status == .unknown)
        #expect(try fixture.count("fills") == 0)
        await service.settleUnsettled()
        let settled = try #require(try await fixture.store.order(clientOrderId: "bb-5xx"))
        #expect(settled.status == .filled)
        #expect(settled.filledQuantity == 0.5)
        #expect(try fixture.count("fills") == 1)
        #expect(try history(fixture, "bb-5xx") == ["pending_new", "sent", "unknown", "filled"])
        #expect(await binance.placeCalls == ["bb-5xx"])
        #expect(try await fixture.store.strategyPositions(through: Int64.max).positions.first?.quantity == 0.5)
    }

    @Test("an order the venue shows late is adopted when it appears, before the misses run out")
    func appearsLate() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 5)
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-late"))
        await service.settleUnsettled()
        await service.settleUnsettled()
        await binance.executeLate("bb-late")
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-late")?.status == .filled)
        #expect(await service.unsettledOrders.isEmpty)
    }

    @Test("while a venue's order stream is lost, new orders there wait (exits and cancels pass); they go again once it is back and its orders are reconciled; the held gauge says so throughout")
    func ordersWaitForTheStream() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let metrics = TestMetrics()
        let service = try await router(fixture, binance, metrics: metrics)
        let held = { try metrics.expectGauge("bagbot_venue_orders_held", [("venue", "binance")]).lastValue }
        #expect(try held() == 0, "exported at 0 from the start")
        #expect(try await service.place(request("bb-in")).status == .filled)
        await binance.set(.rest)
        _ = try await service.place(request("bb-resting", type: .limit, limit: 90))
        await binance.set(.fill)
        await binance.disconnect()
        #expect(try held() == 1)
        let waiting = await expectIPCError(.unavailable) { _ = try await service.place(request("bb-entry")) }
        #expect(waiting?.message.contains("order stream") == true && waiting?.message.contains("reconciled") == true, "\(String(describing: waiting))")
        #expect(await !binance.placeCalls.contains("bb-entry"), "nothing sent")
        #expect(try await service.place(request("bb-exit", "BTCUSDT", .sell, 0.5, reduceOnly: true)).status == .filled, "an exit passes")
        #expect(try await service.cancel(clientOrderId: "bb-resting").status == .cancelled, "a cancel passes")
        // Back, but bagbot.db could not give the venue's orders then (a table gone for a while): new orders still wait,
        // until the next round of settling reconciles them.
        try await fixture.database.write { try $0.execute(sql: "ALTER TABLE orders RENAME TO orders_away") }
        await binance.reconnect()
        try await fixture.database.write { try $0.execute(sql: "ALTER TABLE orders_away RENAME TO orders") }
        _ = await expectIPCError(.unavailable) { _ = try await service.place(request("bb-entry-2")) }
        #expect(try held() == 1, "back but not reconciled: still held")
        await service.settleUnsettled()
        #expect(try held() == 0)
        #expect(try await service.place(request("bb-entry-3")).status == .filled, "reconciled: orders go again")
        #expect(try metrics.expectGauge("bagbot_venue_orders_held", [("venue", "binance")]).values == [0, 1, 0], "set when it changes, not on every order")
    }

    @Test("a venue's report that cannot be true (a fill of no quantity, at no price, another order's, more than the order) is not recorded: the order waits for a look-up, its symbol's entries wait, exits pass")
    func implausibleReports() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        #expect(try await service.place(request("bb-in")).status == .filled)
        await binance.set(.rest)
        _ = try await service.place(request("bb-odd", type: .limit, limit: 90))
        func fill(_ id: String, quantity: ExactDecimal = 0.25, price: ExactDecimal = 90, order: String = "bb-odd",
                  baseCommission: ExactDecimal? = nil, fee: ExactDecimal = 0.02) -> VenueFill {
            VenueFill(fillId: id, clientOrderId: order, symbol: "BTCUSDT", side: .buy, quantity: quantity, price: price, fee: fee,
                      baseCommission: baseCommission, time: Date())
        }
        func report(_ fills: [VenueFill], filled: ExactDecimal = 0.25, average: ExactDecimal? = 90, order: String = "bb-odd") -> VenueOrderReport {
            VenueOrderReport(clientOrderId: order, exchangeOrderId: "x-bb-odd", status: .partiallyFilled, filledQuantity: filled,
                             averagePrice: average, fills: fills, time: Date())
        }
        let untrue: [(String, VenueOrderReport)] = [
            ("no quantity", report([fill("t-1", quantity: 0)])),
            ("a negative quantity", report([fill("t-1", quantity: -0.25)])),
            ("no price", report([fill("t-1", price: 0)])),
            ("a negative price", report([fill("t-1", price: -90)])),
            ("another order's fill", report([fill("t-1", order: "bb-other")])),
            ("no fill id", report([fill("")])),
            ("more filled than ordered", report([fill("t-1")], filled: 0.75)),
            ("fills past the order", report([fill("t-1", quantity: 0.3), fill("t-2", quantity: 0.3)], filled: 0.5)),
            ("a negative filled quantity", report([], filled: -0.25)),
            ("a zero average price", report([fill("t-1")], average: 0)),
            ("the whole fill taken as commission", report([fill("t-1", baseCommission: 0.25)])),
            ("a fee past a fifth of the trade", report([fill("t-1", fee: 4.51)])),
            ("a rebate past a fifth of the trade", report([fill("t-1", fee: -4.51)])),
            ("fills of an order the venue calls sent", VenueOrderReport(clientOrderId: "bb-odd", exchangeOrderId: "x-bb-odd", status: .sent,
                                                                          filledQuantity: 0.25, averagePrice: 90, fills: [fill("t-1")], time: Date())),
        ]
        for (what, untrueReport) in untrue {
            await service.handle(.order(untrueReport), from: .binance)
            let stored = try await fixture.store.order(clientOrderId: "bb-odd")
            #expect(stored?.status == .acknowledged && stored?.filledQuantity == 0, "\(what): \(String(describing: stored))")
            #expect(try fixture.count("fills") == 1, "\(what): bb-in's alone")
        }
        #expect(await service.unsettledOrders.contains("bb-odd"), "looked up again")
        let waiting = await expectIPCError(.conflict) { _ = try await service.place(request("bb-entry")) }
        #expect(waiting?.message.contains("bb-odd") == true, "\(String(describing: waiting))")
        await binance.set(.fill)
        #expect(try await service.place(request("bb-exit", "BTCUSDT", .sell, 0.1, reduceOnly: true)).status == .filled, "an exit passes")
        // The venue's true word is recorded (a maker's rebate, a small negative fee, is one).
        await service.handle(.order(report([fill("t-1", fee: -0.0011)])), from: .binance)
        #expect(try await fixture.store.order(clientOrderId: "bb-odd")?.filledQuantity == 0.25)
        #expect(try fixture.count("fills") == 3)
        // A later report whose new fill would take the recorded ones past the order (0.25 + 0.3 of 0.5): refused whole.
        await service.handle(.order(report([fill("t-7", quantity: 0.3)], filled: 0.5)), from: .binance)
        #expect(try fixture.count("fills") == 3)
        #expect(try await fixture.store.order(clientOrderId: "bb-odd")?.filledQuantity == 0.25)
        #expect(await service.unsettledOrders.contains("bb-odd"))
    }

    @Test("a sell's base-asset commission as large as its fill can be true (paid from the account's other holdings), a buy's cannot; a fee rounded up to 1e-8 on a tiny fill can be true")
    func baseCommissionOfASell() {
        let now = Date()
        func order(_ side: Side) -> OrderRecord {
            OrderRecord(clientOrderId: "bb-bnb", venue: .binance, symbol: "BNBUSDT", side: side, type: .market, quantity: 1, status: .sent,
                        createdAt: now, updatedAt: now)
        }
        let fill = VenueFill(fillId: "BNBUSDT-1", clientOrderId: "bb-bnb", symbol: "BNBUSDT", side: .sell, quantity: 0.001, price: 600,
                             fee: 0.0006, baseCommission: 0.001, time: now)
        let report = VenueOrderReport(clientOrderId: "bb-bnb", exchangeOrderId: "1", status: .partiallyFilled, filledQuantity: 0.001,
                                      averagePrice: 600, fills: [fill], time: now)
        #expect(RouterService.implausibility(of: report, for: order(.sell)) == nil)
        #expect(RouterService.implausibility(of: report, for: order(.buy)) != nil)
        // A fill worth a few satoshis whose fee was rounded up to the 8th decimal is true; ten times that is not.
        var tiny = report
        tiny.fills = [VenueFill(fillId: "XRPBTC-1", clientOrderId: "bb-bnb", symbol: "XRPBTC", side: .sell, quantity: 1, price: 0.00000003,
                                fee: 0.00000001, time: now)]
        tiny.filledQuantity = 1
        tiny.averagePrice = 0.00000003
        #expect(RouterService.implausibility(of: tiny, for: order(.sell)) == nil)
        tiny.fills[0].fee = 0.0000001
        #expect(RouterService.implausibility(of: tiny, for: order(.sell)) != nil)
    }

    @Test("a report that cannot be true of an order already final keeps it under watch: looked up until its venue answers as it can be; a cancel answered so is not called done")
    func implausibleReportOfAFinalOrder() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        _ = try await service.place(request("bb-late", type: .limit, limit: 90))
        let cancelled = try await service.cancel(clientOrderId: "bb-late")
        #expect(cancelled.status == .cancelled && cancelled.filledQuantity == 0)
        // A late fill, as no venue can send it (no price); the venue answers the same when asked.
        let untrue = VenueOrderReport(clientOrderId: "bb-late", exchangeOrderId: "x-bb-late", status: .cancelled, filledQuantity: 0.2,
                                      averagePrice: nil,
                                      fills: [VenueFill(fillId: "t-9", clientOrderId: "bb-late", symbol: "BTCUSDT", side: .buy,
                                                        quantity: 0.2, price: 0, fee: 0, time: Date())], time: Date())
        await binance.setReport(untrue)
        await service.handle(.order(untrue), from: .binance)
        #expect(await service.unsettledOrders == ["bb-late"])
        for _ in 0..<3 { await service.settleUnsettled() }
        #expect(await service.unsettledOrders == ["bb-late"], "still asked for: its venue's word could not be recorded")
        #expect(try fixture.count("fills") == 0)
        // The venue answers as it can be: the late fill is recorded and the watch ends.
        var corrected = untrue
        corrected.fills[0].price = 90
        corrected.averagePrice = 90
        await binance.setReport(corrected)
        await service.settleUnsettled()
        #expect(try fixture.count("fills") == 1)
        #expect(try await fixture.store.order(clientOrderId: "bb-late")?.filledQuantity == 0.2)
        #expect(await service.unsettledOrders.isEmpty)

        // A cancel whose answer cannot be true is not answered as done.
        _ = try await service.place(request("bb-cx", type: .limit, limit: 90))
        var answer = try #require(await binance.order(clientOrderId: "bb-cx", symbol: "BTCUSDT"))
        answer.filledQuantity = 5
        await binance.setReport(answer)
        let refused = await expectIPCError(.unavailable) { _ = try await service.cancel(clientOrderId: "bb-cx") }
        #expect(refused?.message.contains("being looked up") == true, "\(String(describing: refused))")
        #expect(await service.unsettledOrders.contains("bb-cx"))
    }

    @Test("a fill reported after the order was given up (not_found_at_venue) is still recorded")
    func fillAfterGivingUp() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1)
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-gone", type: .limit, limit: 90))
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-gone")?.status == .rejected)
        // It reached the venue after all, and the market filled it.
        await binance.set(.rest)
        await binance.executeLate("bb-gone")
        await binance.reconnect()
        #expect(try fixture.count("fills") == 0, "a reconnect reconciles non-final orders only")
        // The venue's own report of the fill is recorded, whatever routerd had concluded.
        let report = VenueOrderReport(clientOrderId: "bb-gone", exchangeOrderId: "x-bb-gone", status: .filled, filledQuantity: 0.5,
                                      averagePrice: 90, fills: [VenueFill(fillId: "t-1", clientOrderId: "bb-gone", symbol: "BTCUSDT",
                                                                          side: .buy, quantity: 0.5, price: 90, fee: 0, time: Date())],
                                      time: Date())
        await service.handle(.order(report), from: .binance)
        #expect(try await fixture.store.order(clientOrderId: "bb-gone")?.status == .filled)
        #expect(try fixture.count("fills") == 1)
    }

    /// A router whose order `bb-doubt` was given up as not found, its late look-up 10 minutes away.
    /// `bb-doubt` (a market order, or a limit order at `limit`) sent, never answered, and given up as not found.
    private func givenUp(_ fixture: RouterFixture, _ binance: ScriptedVenue, lateLookups: [Duration] = [.seconds(600)],
                         limit: ExactDecimal? = nil) async throws -> RouterService {
        let service = try await router(fixture, binance, maxMisses: 1, lateLookups: lateLookups)
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-doubt", type: limit == nil ? .market : .limit, limit: limit))
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-doubt")?.status == .rejected)
        return service
    }

    @Test("a given-up order the venue then reports ended, nothing filled, is no longer in doubt")
    func endedEndsTheDoubt() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await givenUp(fixture, binance)
        _ = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next")) }
        let report = VenueOrderReport(clientOrderId: "bb-doubt", exchangeOrderId: "x-bb-doubt", status: .expired, filledQuantity: 0,
                                      averagePrice: nil, fills: [], time: Date())
        await service.handle(.order(report), from: .binance)
        let ended = try #require(try await fixture.store.order(clientOrderId: "bb-doubt"))
        #expect(ended.status == .expired && ended.rejectReason?.hasPrefix("not_found_at_venue") == false, "recorded as the venue has it: \(ended)")
        await binance.set(.fill)
        #expect(try await service.place(request("bb-next")).status == .filled)
        // An older answer that still showed it working (a look-up under way) does not revive it.
        let working = VenueOrderReport(clientOrderId: "bb-doubt", exchangeOrderId: "x-bb-doubt", status: .acknowledged, filledQuantity: 0,
                                       averagePrice: nil, fills: [], time: Date())
        await service.handle(.order(working), from: .binance)
        #expect(try await fixture.store.order(clientOrderId: "bb-doubt")?.status == .expired)
    }

    @Test("an order the venue has no record of changed: looked up only if it is routerd's and may still change")
    func orderMayHaveChanged() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1, lateLookups: [.seconds(600)])
        #expect(try await service.place(request("bb-done")).status == .filled)
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-doubt"))
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-doubt")?.status == .rejected, "given up as not found")
        let lookupsBefore = await binance.lookups
        // The trader's own order at the venue, and a final one of routerd's: nothing to ask.
        await service.handle(.orderMayHaveChanged(clientOrderId: "web-by-hand", symbol: "BTCUSDT"), from: .binance)
        await service.handle(.orderMayHaveChanged(clientOrderId: "bb-done", symbol: "BTCUSDT"), from: .binance)
        #expect(await binance.lookups == lookupsBefore, "no look-up for an order routerd never had, nor for a final one")
        // The given-up order executed after all: its event is worth a look-up, and revives it.
        await binance.executeLate("bb-doubt")
        await service.handle(.orderMayHaveChanged(clientOrderId: "bb-doubt", symbol: "BTCUSDT"), from: .binance)
        #expect(await binance.lookups == lookupsBefore + 1)
        #expect(try await fixture.store.order(clientOrderId: "bb-doubt")?.status == .filled)
        #expect(try fixture.count("fills") >= 1)
        // Nothing of the trader's order is left to settle: the symbol takes new orders.
        await binance.set(.fill)
        #expect(try await service.place(request("bb-next")).status == .filled)
    }

    @Test("a given-up order whose late look-ups are over (or with none configured), executed at last, is revived by its venue's word")
    func givenUpWithoutLateLookups() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1, lateLookups: [])
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-gone"))
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-gone")?.status == .rejected)
        #expect(await service.lateLookups["bb-gone"] == nil, "no late look-up to keep it")
        await binance.executeLate("bb-gone")
        await service.handle(.orderMayHaveChanged(clientOrderId: "bb-gone", symbol: "BTCUSDT"), from: .binance)
        #expect(try await fixture.store.order(clientOrderId: "bb-gone")?.status == .filled)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("a look-up of a given-up order its venue's event asked for that fails brings its next late look-up forward")
    func failedLookUpBringsTheLateOneForward() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await givenUp(fixture, binance)
        #expect(await service.lateLookups["bb-doubt"]?.dueNow == false)
        await binance.set(.unavailable)
        await service.handle(.orderMayHaveChanged(clientOrderId: "bb-doubt", symbol: "BTCUSDT"), from: .binance)
        #expect(await service.lateLookups["bb-doubt"]?.dueNow == true)
    }

    @Test("a late look-up's 'working' answer that an 'ended' event overtook does not revive the order")
    func overtakenLateLookup() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await givenUp(fixture, binance, lateLookups: [.zero], limit: 90)
        // It rests at the venue after all; the late look-up reads it working, and while that answer travels, the venue
        // expires it and its event is recorded.
        await binance.restLate("bb-doubt")
        let ended = VenueOrderReport(clientOrderId: "bb-doubt", exchangeOrderId: "x-bb-doubt", status: .expired, filledQuantity: 0,
                                     averagePrice: nil, fills: [], time: Date())
        await binance.setDuringNextLookup { await service.handle(.order(ended), from: .binance) }
        await service.lookUpGivenUp()
        #expect(try await fixture.store.order(clientOrderId: "bb-doubt")?.status == .expired, "ended as the venue says, not revived by the older answer")
    }

    @Test("a late look-up's newer answer (filled) after the order's own event revived it (working) is recorded, not dropped")
    func revivedThenFilledByLateLookup() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await givenUp(fixture, binance, lateLookups: [.zero], limit: 90)
        // It executes at the venue after all. The late look-up reads it filled; while that answer travels, the order's
        // first event (acknowledged, nothing filled yet: an older state) is recorded and revives it.
        await binance.executeLate("bb-doubt")
        let working = VenueOrderReport(clientOrderId: "bb-doubt", exchangeOrderId: "x-bb-doubt", status: .acknowledged, filledQuantity: 0,
                                       averagePrice: nil, fills: [], time: Date())
        await binance.setDuringNextLookup { await service.handle(.order(working), from: .binance) }
        await service.lookUpGivenUp()
        let stored = try #require(try await fixture.store.order(clientOrderId: "bb-doubt"))
        #expect(stored.status == .filled, "the newer answer is the order's state: \(stored.status)")
        #expect(try await fixture.store.fills(ofOrder: "bb-doubt").count == 1)
    }

    @Test("a late look-up that fails at once after a reconnect, before the first late look-up's time, leaves the order in doubt")
    func earlyFailureKeepsTheDoubt() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await givenUp(fixture, binance)
        await binance.set(.unavailable)
        await binance.reconnect()
        await service.lookUpGivenUp()
        await binance.set(.fill)
        let waiting = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next")) }
        #expect(waiting?.message.contains("may still execute") == true, "\(String(describing: waiting))")
    }

    @Test("after a restart, an order given up before it (whatever its age) is in doubt until it is looked up again")
    func resumedLateLookups() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        // Given up 70 s before this start, past the first late look-up's time (60 s), which the last run never made.
        let gaveUp = Date().addingTimeInterval(-70)
        var order = OrderRecord(clientOrderId: "bb-before", venue: .binance, symbol: "BTCUSDT", side: .buy, type: .market, quantity: 0.5,
                                status: .rejected, strategyId: "s1", createdAt: gaveUp, updatedAt: gaveUp)
        order.rejectReason = "not_found_at_venue: binance did not know the order after 5 lookups"
        try await fixture.store.insert(order)
        let service = try await router(fixture, binance, lateLookups: [.seconds(60), .seconds(600)])
        _ = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next")) }
        let before = await binance.lookups
        await service.lookUpGivenUp()
        #expect(await binance.lookups == before + 1, "looked up at the first round after the start")
        #expect(try await service.place(request("bb-next")).status == .filled, "not found, past its first late look-up's time: no doubt left")
    }

    @Test("at start, sent and unknown orders are looked up before any new order is taken; pending_new ones are never_sent")
    func reconcileOnStart() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT", "ETHUSDT"])
        // The last run: one order executed but its answer lost, one never left the machine, one sent but unknown.
        await binance.set(.failAfterExecuting)
        let first = try await router(fixture, binance)
        _ = try await first.place(request("bb-executed"))
        try await fixture.store.insert(newOrder("bb-never", .buy, 0.5, symbol: "BTCUSDT"))
        await binance.set(.timeoutBeforeExecuting)
        _ = try await first.place(request("bb-lost", "ETHUSDT", .buy, 0.5))

        let second = try await router(fixture, binance, maxMisses: 2)
        #expect(try await fixture.store.order(clientOrderId: "bb-executed")?.status == .filled)
        #expect(try await fixture.store.order(clientOrderId: "bb-never")?.rejectReason?.hasPrefix("never_sent") == true)
        #expect(try await fixture.store.order(clientOrderId: "bb-lost")?.status == .unknown)
        #expect(await second.unsettledOrders == ["bb-lost"])
        await second.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-lost")?.status == .rejected)
        #expect(await binance.placeCalls == ["bb-executed", "bb-lost"], "nothing was sent again")
    }

    @Test("after a venue reconnects its working orders are reconciled: a fill missed while disconnected is adopted")
    func reconcileOnReconnect() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        _ = try await service.place(request("bb-w", type: .limit, limit: 90))
        // Filled while the connection was down: no event reached routerd.
        await binance.executeLate("bb-w")
        #expect(try await fixture.store.order(clientOrderId: "bb-w")?.status == .acknowledged)
        await binance.reconnect()
        #expect(try await fixture.store.order(clientOrderId: "bb-w")?.status == .filled)
        #expect(try fixture.count("fills") == 1)
    }

    @Test("a symbol routed to a venue this routerd does not have is refused, naming the venue")
    func unconfiguredVenue() async throws {
        let fixture = try RouterFixture()
        let service = try await router(fixture, ScriptedVenue(id: .binance))
        let error = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-fx", "EURUSD", .buy, 1_000)) }
        #expect(error?.message.contains("mt5") == true)
        #expect(try fixture.count("orders") == 0)
    }

    @Test("an order given up as not found that the venue shows working after all is live again, and can be cancelled")
    func givenUpOrderRevives() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1)
        await binance.set(.timeoutBeforeExecuting)
        _ = try await service.place(request("bb-slow", type: .limit, limit: 90))
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-slow")?.status == .rejected)
        await binance.restLate("bb-slow")
        await binance.reconnect()
        let report = try #require(try await binance.order(clientOrderId: "bb-slow", symbol: "BTCUSDT"))
        await service.handle(.order(report), from: .binance)
        let revived = try #require(try await fixture.store.order(clientOrderId: "bb-slow"))
        #expect(revived.status == .acknowledged)
        #expect(revived.rejectReason == nil)
        #expect(try await service.cancel(clientOrderId: "bb-slow").status == .cancelled)
    }

    @Test("a duplicate-id answer means the venue has the order: it is looked up, not taken for a refusal")
    func duplicateIsLookedUp() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.duplicateAfterExecuting)
        #expect(try await service.place(request("bb-dup", type: .limit, limit: 90)).status == .unknown)
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-dup")?.status == .acknowledged)
        #expect(await service.unsettledOrders.isEmpty, "the venue knows its fate: the symbol is free")
    }

    @Test("a cancel whose answer is lost is settled by the lookup, and the symbol is not held afterwards")
    func lostCancelAnswer() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        _ = try await service.place(request("bb-c", type: .limit, limit: 90))
        await binance.setLoseCancelAnswers(true)
        _ = await expectIPCError(.unavailable) { _ = try await service.cancel(clientOrderId: "bb-c") }
        #expect(await service.unsettledOrders == ["bb-c"])
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-c")?.status == .cancelled)
        #expect(await service.unsettledOrders.isEmpty)
        await binance.set(.fill)
        #expect(try await service.place(request("bb-next")).status == .filled)
    }

    @Test("a partial-fill update that never arrived is made up by the next one, which carries every fill")
    func lostPartialUpdate() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        let order = try await service.place(request("bb-pp", type: .limit, limit: 90))
        #expect(order.status == .acknowledged)
        let first = VenueFill(fillId: "t-1", clientOrderId: "bb-pp", symbol: "BTCUSDT", side: .buy, quantity: 0.2, price: 90, fee: 0, time: Date())
        let second = VenueFill(fillId: "t-2", clientOrderId: "bb-pp", symbol: "BTCUSDT", side: .buy, quantity: 0.3, price: 90, fee: 0, time: Date())
        // The update with the first fill is lost; the next one reports both, cumulative 0.5.
        let both = VenueOrderReport(clientOrderId: "bb-pp", exchangeOrderId: "x", status: .filled, filledQuantity: 0.5, averagePrice: 90,
                                    fills: [first, second], time: Date())
        await service.handle(.order(both), from: .binance)
        #expect(try await fixture.store.fills(ofOrder: "bb-pp").map(\.fillId) == ["t-1", "t-2"])
        // A stale report of the first state afterwards moves nothing back.
        let stale = VenueOrderReport(clientOrderId: "bb-pp", exchangeOrderId: "x", status: .partiallyFilled, filledQuantity: 0.2,
                                     averagePrice: 90, fills: [first], time: Date())
        await service.handle(.order(stale), from: .binance)
        #expect(try await fixture.store.order(clientOrderId: "bb-pp")?.status == .filled)
        #expect(try fixture.count("fills") == 2)
    }

    @Test("a self-trade: the buy and the sell of two orders of ours under one trade id are both recorded, once each")
    func selfTrade() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        // Strategy A's resting sell; strategy B's buy, which the venue matches against it (STP NONE).
        _ = try await service.place(request("bb-sell-a", "BTCUSDT", .sell, 0.5, type: .limit, limit: 90, strategy: "a"))
        _ = try await service.place(request("bb-buy-b", "BTCUSDT", .buy, 0.5, type: .limit, limit: 90, strategy: "b"))
        func report(_ id: String, _ side: Side) -> VenueOrderReport {
            let fill = VenueFill(fillId: "BTCUSDT-7", clientOrderId: id, symbol: "BTCUSDT", side: side, quantity: 0.5, price: 90, fee: 0, time: Date())
            return VenueOrderReport(clientOrderId: id, exchangeOrderId: "x-\(id)", status: .filled, filledQuantity: 0.5, averagePrice: 90,
                                    fills: [fill], time: Date())
        }
        await service.handle(.order(report("bb-buy-b", .buy)), from: .binance)
        await service.handle(.order(report("bb-sell-a", .sell)), from: .binance)
        #expect(try await fixture.store.order(clientOrderId: "bb-sell-a")?.status == .filled)
        #expect(try await fixture.store.order(clientOrderId: "bb-buy-b")?.status == .filled)
        #expect(try await fixture.store.fills(ofOrder: "bb-buy-b").map(\.fillId) == ["BTCUSDT-7"])
        #expect(try await fixture.store.fills(ofOrder: "bb-sell-a").map(\.fillId) == ["BTCUSDT-7/sell"])
        #expect(await service.unsettledOrders.isEmpty, "neither order is left to be looked up")
        // The same reports again (a look-up, a replayed event): nothing more is stored, nothing is unsettled.
        await service.handle(.order(report("bb-sell-a", .sell)), from: .binance)
        await service.handle(.order(report("bb-buy-b", .buy)), from: .binance)
        #expect(try fixture.count("fills") == 2)
        #expect(await service.unsettledOrders.isEmpty)
        #expect(try history(fixture, "bb-sell-a").last == "filled" && history(fixture, "bb-sell-a").filter { $0 == "filled" }.count == 1,
                "a repeated report of the same state writes no new step")
        // A third order claiming the trade is no self-trade's side: refused, never stored.
        var stolen = try #require(try await fixture.store.order(clientOrderId: "bb-buy-b"))
        stolen.clientOrderId = "bb-third"
        stolen.status = .pendingNew
        try await fixture.store.insert(stolen)
        stolen.status = .filled
        let third = Fill(fillId: "BTCUSDT-7", clientOrderId: "bb-third", venue: .binance, symbol: "BTCUSDT", side: .sell, quantity: 0.5,
                         price: 90, fee: 0, time: Date(), strategyId: "c", requestId: nil)
        await #expect(throws: IPCError.self) {
            _ = try await fixture.store.commit(stolen, fills: [third], reason: "test", expecting: .pendingNew, durable: false)
        }
    }

    @Test("an update that says more was filled than the fills it carries is looked up, and the missing fill recorded")
    func updateShortOfFills() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        _ = try await service.place(request("bb-gap", type: .limit, limit: 90))
        let second = VenueFill(fillId: "t-2", clientOrderId: "bb-gap", symbol: "BTCUSDT", side: .buy, quantity: 0.3, price: 90, fee: 0, time: Date())
        let onlyNew = VenueOrderReport(clientOrderId: "bb-gap", exchangeOrderId: "x", status: .partiallyFilled, filledQuantity: 0.4,
                                       averagePrice: 90, fills: [second], time: Date())
        await service.handle(.order(onlyNew), from: .binance)
        #expect(await service.unsettledOrders == ["bb-gap"], "0.4 reported, 0.3 in fills: looked up")
    }

    /// A limit order `id` that routerd recorded filled 1 from a report carrying one fill of 0.6 (`first`); `second`, the
    /// missing 0.4, is what the venue will send when asked again.
    func filledShortOfFills(_ id: String) async throws -> (RouterFixture, ScriptedVenue, RouterService, VenueFill, VenueFill) {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        await binance.set(.rest)
        _ = try await service.place(request(id, "BTCUSDT", .buy, 1, type: .limit, limit: 90))
        let first = VenueFill(fillId: "t-1", clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: 0.6, price: 90, fee: 0, time: Date())
        let second = VenueFill(fillId: "t-2", clientOrderId: id, symbol: "BTCUSDT", side: .buy, quantity: 0.4, price: 90, fee: 0, time: Date())
        await service.handle(.order(VenueOrderReport(clientOrderId: id, exchangeOrderId: "x", status: .filled, filledQuantity: 1,
                                                     averagePrice: 90, fills: [first], time: Date())), from: .binance)
        return (fixture, binance, service, first, second)
    }

    @Test("a final order whose fills fall short of its filled quantity is asked for again, and the missing fill recorded")
    func finalShortOfFills() async throws {
        let (fixture, binance, service, first, second) = try await filledShortOfFills("bb-final-gap")
        #expect(try await fixture.store.order(clientOrderId: "bb-final-gap")?.status == .filled)
        #expect(await service.unsettledOrders == ["bb-final-gap"], "filled 1, 0.6 in fills")
        // The next round asks the venue, which now has both fills.
        await binance.setReport(VenueOrderReport(clientOrderId: "bb-final-gap", exchangeOrderId: "x", status: .filled, filledQuantity: 1,
                                                 averagePrice: 90, fills: [first, second], time: Date()))
        await service.settleUnsettled()
        #expect(try await fixture.store.fills(ofOrder: "bb-final-gap").map(\.fillId).sorted() == ["t-1", "t-2"])
        #expect(await service.unsettledOrders.isEmpty)
    }

    @Test("a final order short of fills its venue no longer knows stays final, and is left as it is after the look-ups' limit")
    func finalShortOfFillsNotFound() async throws {
        let (fixture, binance, service, _, _) = try await filledShortOfFills("bb-final-lost")
        await binance.hideNextLookups(1_000)
        for _ in 1..<RouterService.shortFillLookupLimit {
            await service.settleUnsettled()
            #expect(try await fixture.store.order(clientOrderId: "bb-final-lost")?.status == .filled, "never moved: not found is no news of a final order")
        }
        #expect(await service.unsettledOrders == ["bb-final-lost"])
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty, "left as it is, with a critical log")
        #expect(try await fixture.store.order(clientOrderId: "bb-final-lost")?.status == .filled)
    }

    @Test("a final order short of fills: look-ups its venue does not answer do not count, and a restart asks again")
    func finalShortOfFillsThroughAnOutageAndARestart() async throws {
        let (fixture, binance, service, first, second) = try await filledShortOfFills("bb-final-out")
        // The venue does not answer (a ban, an outage) for longer than the look-ups' limit: still asked.
        await binance.set(.unavailable)
        for _ in 0..<(RouterService.shortFillLookupLimit + 5) { await service.settleUnsettled() }
        #expect(await service.unsettledOrders == ["bb-final-out"], "unanswered look-ups do not use up the limit")

        // routerd restarts meanwhile: the order is final, but its fills are asked for again.
        let restarted = try await router(fixture, binance)
        #expect(await restarted.unsettledOrders == ["bb-final-out"])
        await binance.set(.rest)
        await binance.setReport(VenueOrderReport(clientOrderId: "bb-final-out", exchangeOrderId: "x", status: .filled, filledQuantity: 1,
                                                 averagePrice: 90, fills: [first, second], time: Date()))
        await restarted.settleUnsettled()
        #expect(try await fixture.store.fills(ofOrder: "bb-final-out").map(\.fillId).sorted() == ["t-1", "t-2"])
        #expect(await restarted.unsettledOrders.isEmpty)
        // A complete final order is not taken up at a start.
        #expect(await (try router(fixture, binance)).unsettledOrders.isEmpty)
    }

    @Test("the status line reads no venue: it shows the equity router.account last valued, and how long ago")
    func statusLineReadsNoVenue() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance)
        let before = await service.statusLine
        #expect(before.hasSuffix("equity not read yet"), "\(before)")
        _ = try await service.account()
        let reads = await binance.balanceReads
        #expect(reads > 0)
        let line = await service.statusLine
        #expect(line.contains("equity ") && line.hasSuffix(" s ago)"), "\(line)")
        #expect(await binance.balanceReads == reads, "the status line asked the venue")
    }

    static func sellReport(_ id: String, _ status: OrderStatus, filled: ExactDecimal, average: ExactDecimal,
                           fills: [(id: String, quantity: ExactDecimal)]) -> VenueOrderReport {
        VenueOrderReport(clientOrderId: id, exchangeOrderId: "x-\(id)", status: status, filledQuantity: filled, averagePrice: average,
                         fills: fills.map { VenueFill(fillId: $0.id, clientOrderId: id, symbol: "BTCUSDT", side: .sell, quantity: $0.quantity,
                                                      price: average, fee: 0, time: Date()) },
                         time: Date())
    }

    @Test("an exit the venue says is more filled than the fills it sent: what its recorded fills have not sold still counts, no second exit past the position")
    func exitShortOfFillsCountsWhole() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1_000)
        _ = try await service.place(request("bb-in", "BTCUSDT", .buy, 1))
        await binance.set(.rest)
        _ = try await service.place(request("bb-tp", "BTCUSDT", .sell, 1, type: .limit, limit: 120, reduceOnly: true))
        // 0.6 filled, one fill of 0.2 sent: the book is 0.8, the venue's remaining 0.4, and 0.4 more is sold but not recorded.
        await service.handle(.order(Self.sellReport("bb-tp", .partiallyFilled, filled: 0.6, average: 120, fills: [("t-tp-1", 0.2)])), from: .binance)
        await binance.set(.fill)
        let refused = await expectIPCError(.badRequest) {
            _ = try await service.place(request("bb-stop", "BTCUSDT", .sell, 0.4, reduceOnly: true))
        }
        #expect(refused?.message.contains("reduce") == true, "\(String(describing: refused))")
        #expect(await !binance.placeCalls.contains("bb-stop"), "the stop would have sold 0.4 the strategy does not hold")
    }

    @Test("an ended exit short of fills counts its missing part; the refusal says what may still go out, and that passes")
    func endedExitShortOfFills() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1_000)
        _ = try await service.place(request("bb-in", "BTCUSDT", .buy, 1))
        await binance.set(.rest)
        _ = try await service.place(request("bb-x", "BTCUSDT", .sell, 0.5, type: .limit, limit: 120, reduceOnly: true))
        // Filled 0.5, one fill of 0.3 sent: the book is 0.7, the position 0.5.
        await service.handle(.order(Self.sellReport("bb-x", .filled, filled: 0.5, average: 120, fills: [("t-x-1", 0.3)])), from: .binance)
        #expect(await service.unsettledOrders.contains("bb-x"))
        await binance.set(.fill)
        let refused = await expectIPCError(.badRequest) { _ = try await service.place(request("bb-stop", "BTCUSDT", .sell, 0.7, reduceOnly: true)) }
        #expect(ReduceOnlyAllowance.parse(refused?.message ?? "") == 0.5, "\(String(describing: refused))")
        #expect(try await service.place(request("bb-stop", "BTCUSDT", .sell, 0.5, reduceOnly: true)).status == .filled)
    }

    @Test("an older report of an order short of fills does not end the search for them, nor move its average back")
    func olderReportKeepsSearch() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await router(fixture, binance, maxMisses: 1_000)
        _ = try await service.place(request("bb-in", "BTCUSDT", .buy, 1))
        await binance.set(.rest)
        _ = try await service.place(request("bb-tp", "BTCUSDT", .sell, 1, type: .limit, limit: 110, reduceOnly: true))
        await service.handle(.order(Self.sellReport("bb-tp", .filled, filled: 1, average: 110, fills: [("t-tp-3", 0.4)])), from: .binance)
        #expect(await service.unsettledOrders.contains("bb-tp"), "0.6 of its fills are missing")
        await service.handle(.order(Self.sellReport("bb-tp", .partiallyFilled, filled: 0.3, average: 100, fills: [("t-tp-1", 0.3)])), from: .binance)
        #expect(await service.unsettledOrders.contains("bb-tp"), "0.3 are still missing")
        let order = try #require(try await fixture.store.order(clientOrderId: "bb-tp"))
        #expect(order.status == .filled && order.filledQuantity == 1)
        #expect(order.averageFillPrice == 110, "the older report's average is of fewer fills")
    }
}
