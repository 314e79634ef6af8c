import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// arsenald's tick loop (`TradeCoordinator.consume`) and its update loop (`apply`), wired as `ArsenalDaemon` wires
/// them: what routerd sends in one read reaches the strategies in routerd's order, and a burst of ticks does not
/// keep the coordinator's other callers out.
@Suite("arsenald's tick loop")
struct TickLoopTests {
    struct Wiring {
        let coordinator: TradeCoordinator
        let inbox = TickInbox(capacity: 65_536)
        let updates: AsyncStream<RouterUpdate>
        let updatesIn: AsyncStream<RouterUpdate>.Continuation
        let loops: [Task<Void, Never>]

        init(strategies: sending [Strategy], router: FakeRouter, mindset: FakeMindset = FakeMindset()) {
            coordinator = TradeCoordinator(strategies: strategies, mindset: mindset, router: router, logger: quietLogger)
            (updates, updatesIn) = AsyncStream.makeStream(of: RouterUpdate.self, bufferingPolicy: .unbounded)
            let (coordinator, inbox, updates) = (coordinator, inbox, updates)
            loops = [
                Task(executorPreference: coordinator.executor) { await coordinator.apply(updates, countingIn: inbox) },
                Task(executorPreference: coordinator.executor) {
                    await coordinator.consume(inbox, shouldStop: { false }, handled: { _ in (false, false) }, settled: { _, _ in })
                },
            ]
        }

        /// What one read of routerd's stream hands on, on the coordinator's loop as the stream's handler does.
        func receive(_ body: @escaping @Sendable (_ tick: (Tick) -> Void, _ update: (RouterUpdate) -> Void) -> Void) async throws {
            let (inbox, updatesIn) = (inbox, updatesIn)
            try await coordinator.executor.eventLoop.submit {
                body({ inbox.put($0) }, { update in
                    inbox.noteUpdateReceived()
                    updatesIn.yield(update)
                })
            }.get()
        }

        func stop() async {
            inbox.finish()
            updatesIn.finish()
            for loop in loops { await loop.value }
        }
    }

    @Test("a fill received between two ticks reaches the strategy before the second: the stop goes out on it")
    func fillBeforeLaterTicks() async throws {
        let router = FakeRouter()
        router.error.set(IPCError(.unavailable, "routerd is a test double here"))
        let wiring = Wiring(strategies: [MicroTrendStrategy(settings: microTrendSettings { $0.basics.baseQuantity = ["BTCUSDT": 1] })],
                            router: router)
        let entry = Fill(fillId: "f1", clientOrderId: "bb-entry", venue: .paper, symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100,
                         fee: 0, time: Date(timeIntervalSince1970: 1), strategyId: "micro_trend", requestId: "entry", sequence: nil)
        // One read: a tick at 100, the fill of a long entry at 100, then ticks at 98, 2 % below the entry (the stop is 0.5 %).
        try await wiring.receive { tick, update in
            tick(ArsenalCoreTests.tick(mid: 100, at: 1, sequence: 1))
            update(.fill(entry))
            for sequence in 2...50 { tick(ArsenalCoreTests.tick(mid: 98, at: Double(sequence), sequence: UInt64(sequence))) }
        }
        try await waitUntil("the stop") { !router.placed.get().isEmpty }
        await wiring.stop()
        let stop = try #require(router.placed.get().first)
        #expect(stop.reduceOnly == true)
        #expect(stop.side == .sell)
        #expect(stop.quoteSequence == 2)
    }

    @Test("live, an entry waiting for a slow mindsetd holds up no other tick: a stop of another symbol goes out at once")
    func stopNotBehindAnotherSymbolsEntry() async throws {
        let router = FakeRouter()
        let mindset = FakeMindset()
        mindset.holdEvaluations.set(true)
        let entries = ScriptedStrategy(id: "eur-entries", symbols: ["EURUSD"])
        let wiring = Wiring(strategies: [entries, MicroTrendStrategy(settings: microTrendSettings { $0.basics.baseQuantity = ["BTCUSDT": 1] })],
                            router: router, mindset: mindset)
        let entry = Fill(fillId: "f1", clientOrderId: "bb-entry", venue: .paper, symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100,
                         fee: 0, time: Date(timeIntervalSince1970: 1), strategyId: "micro_trend", requestId: "entry", sequence: nil)
        // An EURUSD entry (to a mindsetd that does not answer yet), then BTCUSDT 2 % below the long's entry (its stop
        // is 0.5 %): the stop goes out while the entry still waits (behind it, it would wait for ever here).
        try await wiring.receive { tick, update in
            tick(ArsenalCoreTests.tick(mid: 100, at: 1, sequence: 1))
            update(.fill(entry))
            tick(ArsenalCoreTests.tick("EURUSD", mid: 1.1, at: 2, sequence: 1))
            tick(ArsenalCoreTests.tick(mid: 98, at: 3, sequence: 2))
        }
        try await waitUntil("the stop, while the entry waits for mindsetd") { router.placed.get().contains { $0.symbol == "BTCUSDT" } }
        #expect(router.placed.get().count == 1 && router.placed.get().first?.reduceOnly == true, "the stop went out before the entry")
        mindset.holdEvaluations.set(false)
        try await waitUntil("the entry, once mindsetd answers") { router.placed.get().contains { $0.symbol == "EURUSD" } }
        await wiring.stop()
    }

    @Test("if the task applying updates ends, the tick loop ends with it instead of waiting forever")
    func updatesEndingEndsTheTickLoop() async throws {
        let wiring = Wiring(strategies: [TickCounter()], router: FakeRouter())
        wiring.loops[0].cancel()
        await wiring.loops[0].value
        let fill = Fill(fillId: "f1", clientOrderId: "bb-x", venue: .paper, symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100,
                        fee: 0, time: Date(timeIntervalSince1970: 1), strategyId: "counter", requestId: "x", sequence: nil)
        try? await wiring.receive { tick, update in
            update(.fill(fill))
            tick(ArsenalCoreTests.tick(mid: 100, at: 1, sequence: 1))
        }
        let ended = Locked(false)
        let loop = wiring.loops[1]
        Task {
            await loop.value
            ended.set(true)
        }
        try await waitUntil("the tick loop to end", timeout: .seconds(5)) { ended.get() }
        await wiring.stop()
    }

    @Test("during a long burst of ticks, the coordinator's other callers still get in")
    func otherCallersGetIn() async throws {
        // The call is made from the coordinator's own event loop at the burst's 100th tick, so a busy machine
        // starving the test's task cannot make it late: it waits only for the tick loop to let it in.
        let counter = TickCounter()
        let wiring = Wiring(strategies: [counter], router: FakeRouter())
        let answered = Locked<Int?>(nil)
        let coordinator = wiring.coordinator
        counter.whenSeen.set { count in
            guard count == 100 else { return }
            Task(executorPreference: coordinator.executor) { answered.set(await coordinator.counters.ticks) }
        }
        let total = 20_000
        try await wiring.receive { tick, _ in
            for sequence in 1...total { tick(ArsenalCoreTests.tick(mid: 100, at: Double(sequence), sequence: UInt64(sequence))) }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while await wiring.coordinator.counters.ticks < total, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await wiring.coordinator.counters.ticks == total)
        await wiring.stop()
        let handledWhenAnswered = try #require(answered.get(), "the call was never answered")
        #expect(handledWhenAnswered < total, "the call waited for the whole burst")
    }
}

/// Counts the ticks it is shown (and calls `whenSeen` with each count); never signals.
final class TickCounter: Strategy, @unchecked Sendable {
    let id = "counter"
    let kind = "counter"
    let symbols = ["BTCUSDT"]
    var isEnabled = true
    let seen = Locked(0)
    let whenSeen = Locked<(@Sendable (Int) -> Void)?>(nil)

    func onTick(_ tick: Tick, requestId: () -> String) -> Signal? {
        let count = seen.update { $0 += 1; return $0 }
        whenSeen.get()?(count)
        return nil
    }

    func onFill(_ fill: Fill) throws -> ClosedTrade? { nil }
    func orderEnded(symbol: String, role: OrderRole) {}
    func orderStillInFlight(symbol: String, role: OrderRole) {}
    func position(of symbol: String) -> PositionBook? { nil }
    func exitRefused(symbol: String) {}
    func resync(symbol: String, position: PositionBook) {}
    func setSymbolRules(_ rules: SymbolRules) {}
    func info() -> StrategyInfo {
        StrategyInfo(id: id, kind: kind, enabled: isEnabled, symbols: symbols, positions: [:], signals: 0, fills: 0, realizedPnl: 0, trades: 0, wins: 0)
    }
}
