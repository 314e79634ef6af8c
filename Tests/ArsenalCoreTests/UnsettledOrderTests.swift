import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// An unsettled order does not unprotect a position: entries and exits are held apart.
@Suite("orders in flight by role")
struct UnsettledOrderTests {
    /// A runner holding a long of 0.01 at 100 with the windows full of quiet noise.
    private func longRunner() throws -> (MicroTrendStrategy, Feeder<MicroTrendFollower>) {
        let strategy = MicroTrendStrategy(settings: microTrendSettings())
        let feeder = Feeder(strategy.runner)
        feeder.feed(quietMids())
        _ = try strategy.onFill(fill(.buy, 0.01, at: 100))
        return (strategy, feeder)
    }

    @Test("an entry in flight holds entries and the logic's exits back, but not the stop")
    func stopActsWhileEntryUnsettled() throws {
        let (strategy, feeder) = try longRunner()
        strategy.orderStillInFlight(symbol: "BTCUSDT", role: .entry)
        var path = TickPath(start: 100.005)
        path.returns([Double](repeating: -0.0004, count: 4))
        #expect(feeder.feed(Array(path.mids.dropFirst())).isEmpty, "a reversal exit waits for the entry to settle")
        let stop = try #require(feeder.feed(mid: 99.49))
        #expect(stop.side == .sell && !stop.isEntry && stop.quantity == 0.01 && stop.reason.hasPrefix("stop loss"))
        #expect(strategy.runner.isInFlight(symbol: "BTCUSDT", role: .exit))
        #expect(strategy.runner.isInFlight(symbol: "BTCUSDT", role: .entry))
    }

    @Test("an exit in flight holds everything back, the stop too: a second close would be refused or flip")
    func nothingWhileExitUnsettled() throws {
        let (strategy, feeder) = try longRunner()
        strategy.orderStillInFlight(symbol: "BTCUSDT", role: .exit)
        #expect(feeder.feed(mid: 99.0) == nil)
        strategy.orderEnded(symbol: "BTCUSDT", role: .exit)
        #expect(feeder.feed(mid: 99.0)?.reason.hasPrefix("stop loss") == true)
    }

    @Test("the end of an exit does not free an entry still in flight, nor the other way round")
    func rolesEndApart() throws {
        let (strategy, _) = try longRunner()
        strategy.orderStillInFlight(symbol: "BTCUSDT", role: .entry)
        strategy.orderStillInFlight(symbol: "BTCUSDT", role: .exit)
        strategy.orderEnded(symbol: "BTCUSDT", role: .exit)
        #expect(strategy.runner.isInFlight(symbol: "BTCUSDT", role: .entry))
        strategy.orderStillInFlight(symbol: "BTCUSDT", role: .exit)
        strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        #expect(strategy.runner.isInFlight(symbol: "BTCUSDT", role: .exit))
    }

    @Test("coordinator: an entry of unknown outcome whose fill came is stopped out; the stop's end leaves the entry held until it settles")
    func coordinatorStopsWhileEntryUnsettled() async throws {
        let mindset = FakeMindset()
        let router = FakeRouter()
        let strategy = MicroTrendStrategy(settings: microTrendSettings())
        let coordinator = TradeCoordinator(strategies: [strategy], mindset: mindset, router: router, logger: quietLogger)
        router.error.set(IPCError(.timeout, "no answer from routerd"))
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 120)
        var second = 0.0
        for mid in path.mids where router.placed.get().isEmpty {
            await coordinator.handle(tick: tick(mid: mid, at: second))
            second += 1
        }
        let entry = try #require(router.placed.get().first)
        #expect(entry.reduceOnly == nil && entry.side == .buy)
        // routerd has the order and has not settled it; its fill comes on the stream.
        router.error.set(nil)
        router.stored.set(order(entry, status: .sent))
        let price = try #require(path.mids.last)
        await coordinator.handle(fill: fill(.buy, entry.quantity, at: price.exact, strategy: "micro_trend", sequence: 1))

        await coordinator.handle(tick: tick(mid: price * 0.994, at: second))
        let placed = router.placed.get()
        try #require(placed.count == 2, "the stop went out while the entry was unsettled")
        #expect(placed[1].reduceOnly == true && placed[1].side == .sell && placed[1].quantity == entry.quantity)
        #expect(mindset.evaluated.get().count == 1, "the stop did not ask mindsetd")
        // Sent beside the trade path (a task of its own): waited for, not assumed done.
        try await waitUntil("what is left of the entry to be cancelled after the stop") { router.cancelled.get() == [entry.clientOrderId] }
        // Under the entry's request id (its trace), not the stop's whose path sent it.
        #expect(router.cancelledUnder.get() == [entry.requestId])
        #expect(placed[1].requestId != entry.requestId)

        // The stop fills and ends; the entry is still unsettled: a strong move gives no second entry.
        await coordinator.handle(fill: fill(.sell, entry.quantity, at: (price * 0.994).exact, strategy: "micro_trend", sequence: 2))
        await coordinator.handle(order: order(placed[1], status: .filled))
        var up = TickPath(start: price * 0.994)
        up.alternating(0.002, 0.0005, count: 60)
        for mid in up.mids.dropFirst() {
            second += 1
            await coordinator.handle(tick: tick(mid: mid, at: second))
        }
        #expect(router.placed.get().count == 2, "no entry while the first entry's outcome is unknown")

        // The entry settles: entries resume.
        await coordinator.handle(order: order(entry, status: .filled))
        for mid in up.mids.dropFirst() where router.placed.get().count == 2 {
            second += 1
            await coordinator.handle(tick: tick(mid: mid * 1.05, at: second))
        }
        #expect(router.placed.get().count == 3)
        #expect(router.placed.get().last?.reduceOnly == nil)
    }

    @Test("the exit backoff counts refusals in a row: one an hour later starts over at 0.5 s")
    func backoffStartsOver() throws {
        let (strategy, _) = try longRunner()
        let runner = strategy.runner
        func stopAt(_ seconds: Double) -> Signal? {
            runner.onTick(tick(mid: 99, at: seconds)) { "r\(seconds)" }
        }
        #expect(stopAt(200) != nil)
        for _ in 0..<6 { runner.exitRefused(symbol: "BTCUSDT") }
        runner.orderEnded(symbol: "BTCUSDT", role: .exit)
        #expect(stopAt(205) == nil, "six in a row: 10 s")
        #expect(stopAt(3_800) != nil)
        runner.exitRefused(symbol: "BTCUSDT")
        runner.orderEnded(symbol: "BTCUSDT", role: .exit)
        #expect(stopAt(3_800.6) != nil, "a refusal an hour later waits 0.5 s, not 10")
    }

    @Test("an exit accepted, then ended without a fill (rejected, expired), is backed off like a refusal")
    func unfilledExitBacksOff() async throws {
        let router = FakeRouter()
        router.status.set(.acknowledged)
        let strategy = MicroTrendStrategy(settings: microTrendSettings())
        let feeder = Feeder(strategy.runner, step: 0.1)
        feeder.feed(quietMids())
        _ = try strategy.onFill(fill(.buy, 0.01, at: 100))
        let coordinator = TradeCoordinator(strategies: [strategy], mindset: FakeMindset(), router: router, logger: quietLogger)
        await coordinator.handle(tick: tick(mid: 99, at: 20))
        let stop = try #require(router.placed.get().first)
        await coordinator.handle(order: order(stop, status: .expired))
        await coordinator.handle(tick: tick(mid: 99, at: 20.1))
        #expect(router.placed.get().count == 1, "not on the next tick")
        await coordinator.handle(tick: tick(mid: 99, at: 20.6))
        #expect(router.placed.get().count == 2, "after 0.5 s")
    }

    @Test("a fill the position cannot take stops the symbol until routerd's record is read; a failed read is tried again until it succeeds")
    func failedRebuildIsRetried() async throws {
        let h = Harness()
        let attempts = Locked(0)
        await h.coordinator.setGapHandler(retryPause: .milliseconds(10)) {
            let attempt = attempts.update { value -> Int in
                value += 1
                return value
            }
            if attempt < 3 { throw TestFailure("routerd unavailable") }
        }
        // A fill whose amounts leave the exact range cannot be applied.
        let huge = ExactDecimal(mantissa: 999_999_999_999_999_999, scale: 0)
        h.strategy.configure { $0.book = PositionBook(quantity: huge, cost: huge) }
        await h.coordinator.handle(fill: fill(.buy, huge, at: 1_000_000, strategy: "scripted", sequence: 1))
        try await waitUntil("the third attempt") { attempts.get() >= 3 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(attempts.get() == 3, "no more attempts once one succeeded")
    }

    @Test("the stop cancels the entry that was unsettled when it went out, never a newer one that took the role meanwhile")
    func cancelsOnlyTheEntryItWasSentAgainst() async throws {
        let h = Harness()
        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(1)
        let entry = try #require(h.router.placed.get().first)
        h.router.stored.set(order(entry, status: .sent))
        h.router.error.set(nil)
        h.strategy.configure { $0.isEntry = false; $0.side = .sell }
        h.router.holdPlaces.set(true)
        let coordinator = h.coordinator
        let stopping = Task { await coordinator.handle(tick: tick(mid: 100, at: 2)) }
        try await waitUntil("the stop to reach routerd") { h.router.placed.get().count == 2 }
        let stop = h.router.placed.get()[1]
        // routerd's events outrun its answer: the stop filled, the entry settled, and a newer entry goes out.
        await coordinator.handle(order: order(stop, status: .filled))
        await coordinator.handle(order: order(entry, status: .filled))
        h.strategy.configure { $0.isEntry = true; $0.side = .buy }
        let entering = Task { await coordinator.handle(tick: tick(mid: 100, at: 3)) }
        try await waitUntil("the newer entry to reach routerd") { h.router.placed.get().count == 3 }
        h.router.holdPlaces.set(false)
        await stopping.value
        await entering.value
        try await Task.sleep(for: .milliseconds(50))
        let newer = try #require(h.router.placed.get()[2].clientOrderId)
        #expect(!h.router.cancelled.get().contains(newer))
    }
}
