import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// Several strategies on one symbol: the venue nets their positions, routerd checks each one's reduce-only
/// orders against its own.
@Suite("strategies sharing a symbol")
struct StrategiesOnOneSymbolTests {
    private func coordinator(_ strategies: [ScriptedStrategy], router: FakeRouter = FakeRouter()) -> TradeCoordinator {
        TradeCoordinator(strategies: strategies, mindset: FakeMindset(), router: router, logger: quietLogger)
    }

    private let marginRules = [SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001,
                                           minQuantity: 0.00001, maxQuantity: 100, shortSelling: true)]

    @Test("no entry against another strategy's open position: the venue would net them and neither stop could close its own")
    func noOpposingEntry() async throws {
        let long = ScriptedStrategy(id: "trend")
        let fader = ScriptedStrategy(id: "fader")
        long.configure { $0.book = PositionBook(quantity: 0.5, cost: 50) }
        // trend's position is held, it proposes nothing (in flight); fader wants to sell short.
        long.configure { $0.inFlight = true }
        fader.configure { $0.side = .sell }
        let router = FakeRouter()
        let coordinator = coordinator([long, fader], router: router)
        await coordinator.setSymbolRules(marginRules)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        #expect(router.placed.get().isEmpty)
        #expect(await coordinator.counters.entriesAgainstAnotherStrategy == 1)
        #expect(!fader.inFlight, "the skipped entry frees its strategy")

        // The same side adds up at the venue without netting: allowed.
        fader.configure { $0.side = .buy }
        await coordinator.handle(tick: tick(mid: 100, at: 2))
        #expect(router.placed.get().map(\.strategyId) == ["fader"])
    }

    @Test("no entry while another strategy's entry in the symbol is unsettled (its fills, and so its side, are not known yet)")
    func noEntryBesideAnUnsettledOne() async throws {
        let first = ScriptedStrategy(id: "first")
        let second = ScriptedStrategy(id: "second")
        let router = FakeRouter()
        let coordinator = coordinator([first, second], router: router)
        await coordinator.setSymbolRules(marginRules)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        #expect(router.placed.get().map(\.strategyId) == ["first"], "one entry per symbol and tick")
        await coordinator.handle(tick: tick(mid: 100, at: 2))
        #expect(router.placed.get().count == 1)
        #expect(await coordinator.counters.entriesAgainstAnotherStrategy == 1)
        await coordinator.handle(order: order(router.placed.get()[0], status: .filled))
        second.configure { $0.strength = 3 }
        await coordinator.handle(tick: tick(mid: 100, at: 3))
        #expect(router.placed.get().map(\.strategyId) == ["first", "second"])
    }

    @Test("every strategy's exit goes out on the same tick: a stop is never withdrawn for another exit")
    func exitsNeverCompete() async throws {
        let strong = ScriptedStrategy(id: "strong")
        let stop = ScriptedStrategy(id: "stopped")
        strong.configure { $0.isEntry = false; $0.side = .sell; $0.strength = 50 }
        stop.configure { $0.isEntry = false; $0.side = .sell; $0.strength = 10 }
        let entry = ScriptedStrategy(id: "entering")
        let router = FakeRouter()
        let coordinator = coordinator([strong, stop, entry], router: router)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        #expect(Set(router.placed.get().compactMap(\.strategyId)) == ["strong", "stopped"])
        #expect(router.placed.get().allSatisfy { $0.reduceOnly == true })
        #expect(entry.orderEndedCount == 1, "an entry waits for a tick without exits on its symbol")
    }

    @Test("a catch-up while the first of two exits is being placed does not free the second: no second stop on the next tick")
    func exitsHoldBeforeTheFirstAwait() async throws {
        let first = ScriptedStrategy(id: "first")
        let second = ScriptedStrategy(id: "second")
        for strategy in [first, second] { strategy.configure { $0.isEntry = false; $0.side = .sell } }
        let router = FakeRouter()
        router.holdPlaces.set(true)
        let coordinator = coordinator([first, second], router: router)
        let handling = Task { await coordinator.handle(tick: tick(mid: 100, at: 1)) }
        try await waitUntil("the first exit to reach routerd") { router.placed.get().count == 1 }
        await coordinator.confirmOrdersInFlight()
        router.holdPlaces.set(false)
        await handling.value
        #expect(router.placed.get().map(\.strategyId) == ["first", "second"])
        #expect(second.inFlight, "its order's events have not come: still held")
        await coordinator.handle(tick: tick(mid: 100, at: 2))
        // (first's filled answer came after the catch-up: its fills were fetched and it is free again.)
        #expect(router.placed.get().filter { $0.strategyId == "second" }.count == 1, "no second stop from the second")
    }

    /// A Micro Trend Follower holding a long of 0.01 at 100, its windows full of 10 s of quiet ticks.
    private func longMicroTrend() throws -> MicroTrendStrategy {
        let strategy = MicroTrendStrategy(settings: microTrendSettings())
        let feeder = Feeder(strategy.runner, step: 0.1)
        feeder.feed(quietMids())
        _ = try strategy.onFill(fill(.buy, 0.01, at: 100))
        return strategy
    }

    /// A Micro Trend Follower holding 0.000005 at 100, half of BTCUSDT's least tradable quantity.
    private func dustMicroTrend() throws -> MicroTrendStrategy {
        let strategy = MicroTrendStrategy(settings: microTrendSettings())
        Feeder(strategy.runner, step: 0.1).feed(quietMids())
        _ = try strategy.onFill(fill(.buy, ExactDecimal("0.000005")!, at: 100))
        return strategy
    }

    @Test("dust below the symbol's minimum quantity is flat: no stop for it (none would ever be tradable), and it does not bar another strategy's opposite entry")
    func dustIsFlat() async throws {
        let fader = ScriptedStrategy(id: "fader")
        fader.configure { $0.side = .sell }
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [try dustMicroTrend(), fader], mindset: FakeMindset(), router: router, logger: quietLogger)
        await coordinator.setSymbolRules(marginRules)
        await coordinator.handle(tick: tick(mid: 90, at: 11))
        #expect(router.placed.get().map(\.strategyId) == ["fader"], "no stop for the dust; fader's short entry goes")
        #expect(await coordinator.counters.belowMinimum == 0)
    }

    @Test("an exit routerd refuses by a rule makes arsenald read the rules again: the retried exit is rounded onto the venue's new step")
    func ruleRefusalRereadsRules() async throws {
        let strategy = try longMicroTrend()
        _ = try strategy.onFill(fill(.buy, ExactDecimal("0.0005")!, at: 100))
        let router = FakeRouter()
        let coarser = [SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.001,
                                   minQuantity: 0.001, maxQuantity: 100)]
        router.rules.set(coarser)
        router.error.set(IPCError(.badRequest, "refused by rule step_size: quantity 0.0105 is not a multiple of BTCUSDT's step size 0.001"))
        let coordinator = TradeCoordinator(strategies: [strategy], mindset: FakeMindset(), router: router, logger: quietLogger)
        await coordinator.setSymbolRules(marginRules)
        await coordinator.handle(tick: tick(mid: 99, at: 11))
        #expect(router.placed.get().map(\.quantity) == [ExactDecimal("0.0105")!], "rounded onto the step arsenald knew")
        router.error.set(nil)
        var time = 11.0
        while router.placed.get().count < 2 && time < 30 {
            time += 0.1
            await Task.yield()
            await coordinator.handle(tick: tick(mid: 99, at: time))
        }
        #expect(router.placed.get().map(\.quantity) == [ExactDecimal("0.0105")!, ExactDecimal("0.01")!], "the retry on the new step of 0.001")
    }

    @Test("a refused exit is backed off, not re-sent on every tick: 0.5 s, doubling to 10 s of market time; a fill resets it")
    func refusedExitBacksOff() async throws {
        let router = FakeRouter()
        router.status.set(.rejected)
        let coordinator = TradeCoordinator(strategies: [try longMicroTrend()], mindset: FakeMindset(), router: router, logger: quietLogger)
        var time = 0.0
        var sentAt: [Double] = []
        while time < 40 {
            let before = router.placed.get().count
            await coordinator.handle(tick: tick(mid: 99, at: 11 + time))
            if router.placed.get().count > before { sentAt.append(time) }
            time += 0.1
        }
        let gaps = zip(sentAt.dropFirst(), sentAt).map { (($0 - $1) * 10).rounded() / 10 }
        #expect(gaps.prefix(6) == [0.5, 1, 2, 4, 8, 10], "\(gaps)")
        #expect(router.placed.get().allSatisfy { $0.reduceOnly == true })

        // A fill (the position changed) resets the backoff: the next exit goes on the next tick.
        router.status.set(.filled)
        await coordinator.handle(fill: fill(.sell, 0.005, at: 99))
        let before = router.placed.get().count
        await coordinator.handle(tick: tick(mid: 99, at: 11 + time))
        #expect(router.placed.get().count == before + 1)
        #expect(router.placed.get().last?.quantity == 0.005)
    }
}
