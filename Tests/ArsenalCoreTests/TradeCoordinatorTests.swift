import Foundation
import BagbotDomain
import BagbotStorage
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// A strategy that proposes a trade on every tick while it has no order in flight, and keeps its
/// position from fills — the coordinator's contract without the market logic.
final class ScriptedStrategy: Strategy, @unchecked Sendable {
    let id: String
    let kind = "scripted"
    let symbols: [String]
    var isEnabled = true
    private let state = Locked(State())

    struct State {
        /// The roles with an order in flight (any one holds new signals back).
        var rolesInFlight: Set<OrderRole> = []
        var inFlight: Bool {
            get { !rolesInFlight.isEmpty }
            set { rolesInFlight = newValue ? [.entry, .exit] : [] }
        }
        var side: Side = .buy
        var quantity: ExactDecimal = 1
        var strength = 2.0
        var isEntry = true
        var emitted: [Signal] = []
        var orderEnded = 0
        var fills: [Fill] = []
        var resyncs: [(symbol: String, quantity: ExactDecimal, averagePrice: ExactDecimal)] = []
        var book = PositionBook()
        var stats = StrategyStats()
        var exitRefusals = 0
    }

    init(id: String = "scripted", symbols: [String] = ["BTCUSDT"]) {
        self.id = id
        self.symbols = symbols
    }

    var emitted: [Signal] { state.get().emitted }
    var orderEndedCount: Int { state.get().orderEnded }
    var fills: [Fill] { state.get().fills }
    var resyncs: [(symbol: String, quantity: ExactDecimal, averagePrice: ExactDecimal)] { state.get().resyncs }
    var inFlight: Bool { state.get().inFlight }
    var position: PositionBook { state.get().book }
    func configure(_ change: (inout State) -> Void) { state.update(change) }

    func onTick(_ tick: Tick, requestId: () -> String) -> Signal? {
        let current = state.get()
        // As the runner: an exit (a stop) may go while an entry is unsettled; nothing else while anything is.
        guard isEnabled, current.isEntry ? !current.inFlight : !current.rolesInFlight.contains(.exit) else { return nil }
        let signal = Signal(strategyId: id, symbol: tick.symbol, side: current.side, quantity: current.quantity,
                            price: current.side == .buy ? tick.ask : tick.bid, time: tick.time, strength: current.strength,
                            confidence: 0.5, isEntry: current.isEntry, reason: "scripted", requestId: requestId())
        state.update {
            $0.rolesInFlight.insert(OrderRole(signal))
            $0.emitted.append(signal)
        }
        return signal
    }

    func onFill(_ fill: Fill) throws -> ClosedTrade? {
        try state.update { state in
            state.fills.append(fill)
            guard let closed = try state.book.apply(fill) else { return nil }
            let trade = ClosedTrade(strategyId: id, symbol: fill.symbol, side: closed.closedSide, quantity: closed.quantity,
                                    entryPrice: closed.entryPrice, exitPrice: fill.price, pnl: closed.pnl, closedAt: fill.time,
                                    requestId: fill.requestId)
            state.stats.record(trade)
            return trade
        }
    }

    func orderEnded(symbol: String, role: OrderRole) {
        state.update {
            $0.rolesInFlight.remove(role)
            $0.orderEnded += 1
        }
    }

    func position(of symbol: String) -> PositionBook? { symbols.contains(symbol) ? state.get().book : nil }

    func exitRefused(symbol: String) {
        state.update { $0.exitRefusals += 1 }
    }

    var exitRefusals: Int { state.get().exitRefusals }

    func setSymbolRules(_ rules: SymbolRules) {}

    func orderStillInFlight(symbol: String, role: OrderRole) {
        state.update { $0.rolesInFlight.insert(role) }
    }

    func resync(symbol: String, position: PositionBook) {
        state.update {
            $0.resyncs.append((symbol, position.quantity, position.averagePrice))
            $0.book = position
            $0.inFlight = false
        }
    }

    func info() -> StrategyInfo {
        let current = state.get()
        return StrategyInfo(id: id, kind: kind, enabled: isEnabled, symbols: symbols, positions: [symbols[0]: current.book.quantity],
                            signals: current.emitted.count, fills: current.fills.count, realizedPnl: current.stats.realizedPnl,
                            trades: current.stats.trades, wins: current.stats.wins)
    }
}

struct MindsetDown: Error, CustomStringConvertible {
    var description: String { "mindsetd unavailable" }
}

final class FakeMindset: MindsetPort, @unchecked Sendable {
    let evaluated = Locked<[TradeProposal]>([])
    let failEvaluate = Locked(false)
    /// Fraction of the proposed quantity to approve; nil blocks.
    let approveFraction = Locked<Double?>(1)
    /// While true, evaluations wait (a mindsetd that does not answer yet).
    let holdEvaluations = Locked(false)

    /// For each call, whether it ran on this executor's loop thread (nil: not watched).
    let watchedExecutor = Locked<EventLoopTaskExecutor?>(nil)
    let callsOnLoop = Locked<[Bool]>([])

    func evaluate(_ proposal: TradeProposal) async throws -> MindsetDecision {
        evaluated.update { $0.append(proposal) }
        while holdEvaluations.get() { try? await Task.sleep(for: .milliseconds(10)) }
        if let executor = watchedExecutor.get() { callsOnLoop.update { $0.append(executor.eventLoop.inEventLoop) } }
        if failEvaluate.get() { throw MindsetDown() }
        guard let fraction = approveFraction.get() else {
            return MindsetDecision(approved: false, sizeMultiplier: 0, approvedQuantity: 0, emotionState: "LOCKED",
                                   reasons: ["locked: test"], codes: ["locked"])
        }
        return MindsetDecision(approved: true, sizeMultiplier: fraction, approvedQuantity: try proposal.quantity.times(ExactDecimal(rounding: fraction, scale: 6, rounding: .down)!).normalized,
                               emotionState: "CAUTIOUS", reasons: ["state CAUTIOUS: size × \(fraction)"], codes: ["state_size"])
    }
}

final class FakeRouter: RouterPort, @unchecked Sendable {
    let connected = Locked(true)
    /// What `order(clientOrderId:)` finds in routerd's record (nil: never recorded).
    let stored = Locked<OrderRecord?>(nil)
    let lookups = Locked(0)
    /// The next this many look-ups find nothing, whatever is stored (routerd answering a look-up before the order
    /// that arrived with it).
    let absentForLookups = Locked(0)
    /// The look-ups (counted from 1, as `lookups`) that fail as if routerd did not answer.
    let failingLookups = Locked<Set<Int>>([])

    /// While set, `order(clientOrderId:)` does not answer (a look-up waiting behind a busy routerd).
    let holdLookups = Locked(false)

    func order(clientOrderId: String) async throws -> OrderRecord? {
        let number = lookups.update { $0 += 1; return $0 }
        while holdLookups.get() { try? await Task.sleep(for: .milliseconds(1)) }
        if failingLookups.get().contains(number) { throw IPCError(.timeout, "no answer to look-up \(number)") }
        let absent = absentForLookups.update { count -> Bool in
            defer { count = max(0, count - 1) }
            return count > 0
        }
        guard !absent, let record = stored.get() else { return nil }
        // Another order than the one the test settled (a confirmation running in the background): routerd has
        // it, still unsettled.
        guard record.clientOrderId == clientOrderId else {
            var other = record
            other.clientOrderId = clientOrderId
            other.status = .sent
            return other
        }
        return record
    }
    let rules = Locked<[SymbolRules]>([])
    func symbolRules() async throws -> [SymbolRules] { rules.get() }
    let cancelled = Locked<[String]>([])
    /// The task's request id at each cancel (`RequestId.current`: what its `rid` would be).
    let cancelledUnder = Locked<[String?]>([])
    func cancel(clientOrderId: String) async throws -> OrderRecord {
        cancelled.update { $0.append(clientOrderId) }
        cancelledUnder.update { $0.append(RequestId.current) }
        guard let request = placed.get().first(where: { $0.clientOrderId == clientOrderId }) else {
            throw IPCError(.notFound, "no order \(clientOrderId)")
        }
        return ArsenalCoreTests.order(request, status: .cancelled)
    }
    let placed = Locked<[PlaceOrderRequest]>([])
    let status = Locked(OrderStatus.filled)
    /// What the answer says filled when set (an order ended short: `expired` with part filled); else all of a filled one.
    let answeredFilled = Locked<ExactDecimal?>(nil)
    let error = Locked<IPCError?>(nil)

    var isConnected: Bool { connected.get() }

    let watchedExecutor = Locked<EventLoopTaskExecutor?>(nil)
    let callsOnLoop = Locked<[Bool]>([])

    /// While set, `place` does not answer (a busy routerd, a slow commit) until it is cleared.
    let holdPlaces = Locked(false)
    /// While set, a reduce-only order larger than this is refused as routerd refuses it, saying what may still go out.
    let reduceOnlyRoom = Locked<ExactDecimal?>(nil)

    func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        placed.update { $0.append(request) }
        while holdPlaces.get() { try? await Task.sleep(for: .milliseconds(1)) }
        if request.reduceOnly == true, let room = reduceOnlyRoom.get(), request.quantity > room {
            throw IPCError(.badRequest, "reduce-only sell of \(request.quantity) refused: it would flip strategy s1's position"
                           + ReduceOnlyAllowance.phrase(room))
        }
        if let executor = watchedExecutor.get() { callsOnLoop.update { $0.append(executor.eventLoop.inEventLoop) } }
        if let error = error.get() { throw error }
        let now = Date()
        return OrderRecord(clientOrderId: request.clientOrderId ?? "generated", venue: .paper, symbol: request.symbol,
                           side: request.side, type: request.type, quantity: request.quantity, status: status.get(),
                           filledQuantity: answeredFilled.get() ?? (status.get() == .filled ? request.quantity : 0), strategyId: request.strategyId,
                           requestId: request.requestId, rejectReason: status.get() == .rejected ? "test rejection" : nil,
                           createdAt: now, updatedAt: now)
    }
}

struct Harness {
    let strategy = ScriptedStrategy()
    let mindset = FakeMindset()
    let router = FakeRouter()
    let published = Locked<[(method: String, signal: Signal, decision: MindsetDecision?)]>([])
    let coordinator: TradeCoordinator

    init() {
        let published = published
        coordinator = TradeCoordinator(strategies: [strategy], mindset: mindset, router: router, logger: quietLogger,
                                       manualMaxQuantity: ["BTCUSDT": 10],
                                       publish: { method, signal, decision in published.update { $0.append((method, signal, decision)) } })
    }

    func tickAt(_ seconds: Double) async {
        await coordinator.handle(tick: tick(mid: 100, at: seconds))
    }
}

func order(_ request: PlaceOrderRequest, status: OrderStatus) -> OrderRecord {
    OrderRecord(clientOrderId: request.clientOrderId!, venue: .paper, symbol: request.symbol, side: request.side,
                type: request.type, quantity: request.quantity, status: status, reduceOnly: request.reduceOnly ?? false,
                strategyId: request.strategyId,
                requestId: request.requestId, createdAt: epoch, updatedAt: epoch)
}

@Suite("TradeCoordinator")
struct TradeCoordinatorTests {
    @Test("an approved signal is placed with the approved quantity and a client order id bb-<request id>")
    func approvedSignalIsPlaced() async throws {
        let h = Harness()
        await h.coordinator.setSymbolRules([SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01,
                                                        stepSize: 0.00001, minQuantity: 0.00001, maxQuantity: 100, shortSelling: true)])
        h.mindset.approveFraction.set(0.4)
        h.strategy.configure { $0.quantity = 2.5; $0.side = .sell }
        await h.tickAt(1)

        let signal = try #require(h.strategy.emitted.first)
        let proposals = h.mindset.evaluated.get()
        var expected = signal.proposal
        expected.fillSequence = 0
        #expect(proposals == [expected])
        let placed = h.router.placed.get()
        try #require(placed.count == 1)
        let request = placed[0]
        #expect(request.quantity == 1)
        #expect(request.clientOrderId == "bb-\(signal.requestId)")
        #expect(request.symbol == "BTCUSDT")
        #expect(request.side == .sell)
        #expect(request.type == .market)
        #expect(request.limitPrice == nil)
        #expect(request.strategyId == "scripted")
        #expect(request.requestId == signal.requestId)
        // The id is one that every venue (and routerd's check) accepts.
        let id = try #require(request.clientOrderId)
        #expect(id.hasPrefix("bb-"))
        #expect((1...36).contains(id.utf8.count))
        #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._:/-".contains($0)) })

        let counters = await h.coordinator.counters
        #expect(counters.ticks == 1)
        #expect(counters.signals == 1)
        #expect(counters.approved == 1)
        #expect(counters.blocked == 0)
        #expect(counters.ordersPlaced == 1)
        // The order is filled but its order event has not come yet: the symbol stays busy.
        #expect(h.strategy.inFlight)
        #expect(h.published.get().map(\.method) == [Events.signal, Events.decision])
    }

    @Test("client order ids are unique across signals and across coordinator restarts")
    func uniqueClientOrderIds() async throws {
        var ids: [String] = []
        for _ in 0..<3 {
            let h = Harness()
            for second in 0..<5 {
                await h.tickAt(Double(second))
                await h.coordinator.handle(order: order(h.router.placed.get().last!, status: .filled))
            }
            ids += h.router.placed.get().compactMap(\.clientOrderId)
        }
        #expect(ids.count == 15)
        #expect(Set(ids).count == 15)
    }

    @Test("an exit goes out, reduce-only and whole, even when mindsetd cannot answer")
    func exitsNeverWaitForMindset() async throws {
        let h = Harness()
        h.mindset.failEvaluate.set(true)
        h.strategy.configure { $0.isEntry = false; $0.side = .sell; $0.quantity = 2 }
        await h.tickAt(1)
        let placed = h.router.placed.get()
        try #require(placed.count == 1)
        #expect(placed[0].reduceOnly == true)
        #expect(placed[0].quantity == 2)
        #expect(await h.coordinator.counters.blockedMindsetUnavailable == 0)
    }

    @Test("an exit refused as larger than may still reduce the position goes again at what routerd allows, on the step; a manual close does not")
    func exitResizedToWhatMayGo() async throws {
        let h = Harness()
        await h.coordinator.setSymbolRules([SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01,
                                                        stepSize: 0.001, minQuantity: 0.001, maxQuantity: 100, shortSelling: false)])
        h.router.reduceOnlyRoom.set(ExactDecimal("0.5004")!)
        h.strategy.configure { $0.isEntry = false; $0.side = .sell; $0.quantity = ExactDecimal("0.7")! }
        await h.tickAt(1)
        let placed = h.router.placed.get()
        #expect(placed.map(\.quantity) == [ExactDecimal("0.7")!, ExactDecimal("0.5")!], "\(placed.map(\.quantity))")
        #expect(placed.map(\.clientOrderId) == [placed[0].clientOrderId, placed[0].clientOrderId], "the refused one was never stored")
        // The trader's own close is exactly what was asked: refused, not resized.
        h.strategy.isEnabled = false
        let manual = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: ExactDecimal("0.7")!,
                                                                                 reduceOnly: true))
        #expect(manual.outcome == .notSent, "\(manual)")
        #expect(h.router.placed.get().dropFirst(2).map(\.quantity) == [ExactDecimal("0.7")!])
    }

    @Test("rules read again while connected: a fee routerd now gives is taken; not connected, routerd is not asked")
    func rulesReadAgain() async throws {
        let h = Harness()
        var rules = SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001,
                                minQuantity: 0.00001, maxQuantity: 9_000, shortSelling: false)
        h.router.rules.set([rules])
        await h.coordinator.readSymbolRulesAgain()
        #expect(await h.coordinator.symbolRules["BTCUSDT"]?.feeRate == nil)
        rules.feeRate = ExactDecimal("0.001")!
        h.router.rules.set([rules])
        h.router.connected.set(false)
        await h.coordinator.readSymbolRulesAgain()
        #expect(await h.coordinator.symbolRules["BTCUSDT"]?.feeRate == nil, "not connected: not asked")
        h.router.connected.set(true)
        await h.coordinator.readSymbolRulesAgain()
        #expect(await h.coordinator.symbolRules["BTCUSDT"]?.feeRate == ExactDecimal("0.001")!)
    }

    @Test("a stop or an exit never waits for mindsetd: it is not asked at all, and goes straight to routerd reduce-only")
    func exitsSkipMindset() async throws {
        let h = Harness()
        h.strategy.configure { $0.isEntry = false; $0.side = .sell; $0.quantity = 2 }
        await h.tickAt(1)
        #expect(h.mindset.evaluated.get().isEmpty, "mindsetd was asked about an exit")
        #expect(h.router.placed.get().map(\.reduceOnly) == [true])
        let decisions = h.published.get().filter { $0.method == Events.decision }
        #expect(decisions.first?.decision?.codes == ["exit"])
    }

    @Test("mindsetd failing fails closed: blocked, counted, router not called, symbol freed")
    func mindsetUnavailableFailsClosed() async throws {
        let h = Harness()
        h.mindset.failEvaluate.set(true)
        await h.tickAt(1)
        await h.tickAt(2)

        #expect(h.router.placed.get().isEmpty)
        let counters = await h.coordinator.counters
        #expect(counters.blocked == 2)
        #expect(counters.blockedMindsetUnavailable == 2)
        #expect(counters.approved == 0)
        #expect(counters.ordersPlaced == 0)
        #expect(h.strategy.orderEndedCount == 2)
        let decisions = h.published.get().filter { $0.method == Events.decision }
        #expect(decisions.count == 2)
        #expect(decisions.allSatisfy { $0.decision?.approved == false })
        #expect(decisions.first?.decision?.reasons.first?.contains("failing closed") == true)
    }

    @Test("live, an entry queued beside the tick loop and decided before positions were read again is not sent")
    func queuedEntryDroppedAfterResync() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        // Positions read again before the queued entry's turn on the coordinator.
        await h.coordinator.decideAndQueue(tick(mid: 100, at: 1), thenResync: StrategyPositionsResponse(positions: [], throughSequence: 0))
        await h.coordinator.entriesBesideSent()
        #expect(h.router.placed.get().isEmpty, "an entry decided on the positions before")
        #expect(!h.strategy.inFlight, "its role freed")
        await h.coordinator.decideAndQueue(tick(mid: 100, at: 2))
        await h.coordinator.entriesBesideSent()
        #expect(h.router.placed.get().count == 1, "nothing changed: sent")
    }

    @Test("live, an entry queued beside the tick loop is not sent once an exit of its strategy and symbol went out meanwhile")
    func queuedEntryDroppedAfterAnExit() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        let strategy = h.strategy
        await h.coordinator.decideAndQueue(tick(mid: 100, at: 1), thenDecide: {
            // A stop of a position another of its orders opened: the strategy's next signal is an exit.
            strategy.configure { $0.rolesInFlight = []; $0.isEntry = false; $0.side = .sell }
            return tick(mid: 90, at: 2)
        })
        await h.coordinator.entriesBesideSent()
        #expect(h.router.placed.get().isEmpty, "a fresh entry right after the stop")
    }

    @Test("before routerd's positions are read, an exit still goes out: only entries wait")
    func exitBeforeSnapshot() async throws {
        let strategy = ScriptedStrategy()
        strategy.configure { $0.isEntry = false; $0.side = .sell }
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [strategy], mindset: FakeMindset(), router: router, logger: quietLogger,
                                           tradesBeforeSnapshot: false)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        #expect(router.placed.get().first?.reduceOnly == true)
    }

    @Test("before routerd's positions are read, the trader's own entry is refused (unavailable), not sent")
    func manualEntryBeforeSnapshot() async throws {
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [ScriptedStrategy()], mindset: FakeMindset(), router: router, logger: quietLogger,
                                           manualMaxQuantity: ["BTCUSDT": 10], tradesBeforeSnapshot: false)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        let refused = await #expect(throws: IPCError.self) {
            _ = try await coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        }
        #expect(refused?.code == .unavailable)
        #expect(router.placed.get().isEmpty)
    }

    @Test("an approval larger than the proposal (a faulty mindsetd) places no more than the strategy proposed")
    func approvalCappedAtProposal() async throws {
        let h = Harness()
        h.mindset.approveFraction.set(2)
        h.strategy.configure { $0.quantity = 1.5 }
        await h.tickAt(1)
        let placed = try #require(h.router.placed.get().first)
        #expect(placed.quantity == 1.5)
    }

    @Test("in arsenald no signal goes out before routerd's positions are read; ticks still feed the strategies")
    func noSignalBeforeSnapshot() async throws {
        let strategy = ScriptedStrategy()
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [strategy], mindset: FakeMindset(), router: router, logger: quietLogger,
                                           tradesBeforeSnapshot: false)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        #expect(router.placed.get().isEmpty, "an entry beside whatever the run before left")
        #expect(strategy.emitted.count == 1 && !strategy.inFlight, "the signal was made, and withdrawn")
        #expect(await coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        await coordinator.handle(tick: tick(mid: 100, at: 2))
        #expect(router.placed.get().count == 1)
    }

    @Test("a blocked decision places nothing and frees the symbol")
    func blockedDecision() async {
        let h = Harness()
        h.mindset.approveFraction.set(nil)
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty)
        let counters = await h.coordinator.counters
        #expect(counters.blocked == 1)
        #expect(counters.blockedMindsetUnavailable == 0)
        #expect(h.strategy.orderEndedCount == 1)
    }

    @Test("routerd down: signals are dropped and counted, never queued for a burst later")
    func routerDownDropsSignals() async throws {
        let h = Harness()
        h.router.connected.set(false)
        for second in 0..<3 { await h.tickAt(Double(second)) }
        #expect(h.router.placed.get().isEmpty)
        #expect(h.mindset.evaluated.get().isEmpty, "nothing is approved for an order that cannot be sent")
        var counters = await h.coordinator.counters
        #expect(counters.droppedRouterUnavailable == 3)
        #expect(h.strategy.orderEndedCount == 3)

        h.router.connected.set(true)
        await h.tickAt(10)
        let placed = h.router.placed.get()
        #expect(placed.count == 1, "only the fresh signal may be sent")
        #expect(placed.first?.requestId == h.strategy.emitted.last?.requestId)
        #expect(h.strategy.emitted.count == 4)
        counters = await h.coordinator.counters
        #expect(counters.ordersPlaced == 1)
        #expect(counters.droppedRouterUnavailable == 3)
    }

    @Test("an order that cannot be sent is dropped; a timeout keeps the symbol busy until the order event")
    func placeFailures() async throws {
        let h = Harness()
        h.router.error.set(IPCError(.unavailable, "connection lost"))
        await h.tickAt(1)
        var counters = await h.coordinator.counters
        #expect(counters.droppedRouterUnavailable == 1)
        #expect(!h.strategy.inFlight)

        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(2)
        counters = await h.coordinator.counters
        #expect(counters.droppedRouterUnavailable == 1)
        #expect(h.strategy.inFlight)
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2, "no second order while the first one's fate is unknown")

        // routerd's order event settles it.
        let timedOut = h.router.placed.get()[1]
        await h.coordinator.handle(order: order(timedOut, status: .acknowledged))
        #expect(h.strategy.inFlight, "a live order keeps the symbol busy")
        await h.coordinator.handle(order: order(timedOut, status: .filled))
        #expect(!h.strategy.inFlight)
    }

    @Test("a late answer about an older order does not free a symbol that a newer order holds")
    func lateConfirmationOfAnOlderOrder() async throws {
        let h = Harness()
        h.router.error.set(IPCError(.connectionLost, "closed before the answer"))
        await h.tickAt(1)
        let first = try #require(h.router.placed.get().first)
        // Its fill event frees the symbol while its confirmation is still under way.
        await h.coordinator.handle(order: order(first, status: .filled))
        #expect(!h.strategy.inFlight)

        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(2)
        #expect(h.strategy.inFlight)
        #expect(h.router.placed.get().count == 2)
        h.router.error.set(nil)

        // The first order's confirmation finally answers: it must not free the second order's symbol.
        h.router.stored.set(order(first, status: .filled))
        await h.coordinator.confirm(clientOrderId: first.clientOrderId ?? "", symbol: first.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 1, pause: .zero)
        #expect(h.strategy.inFlight, "the second order's outcome is still unknown")
        await h.coordinator.handle(order: order(first, status: .filled))
        #expect(h.strategy.inFlight, "a repeated event about the first order changes nothing either")

        let second = h.router.placed.get()[1]
        h.router.stored.set(order(second, status: .filled))
        await h.coordinator.confirm(clientOrderId: second.clientOrderId ?? "", symbol: second.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 1, pause: .zero)
        #expect(!h.strategy.inFlight)
    }

    @Test("an order lost with its connection is confirmed by looking it up, never by sending it again")
    func uncertainOrdersAreConfirmed() async throws {
        let h = Harness()
        h.router.error.set(IPCError(.connectionLost, "closed before the answer"))
        await h.tickAt(1)
        #expect(h.strategy.inFlight, "the order may have been executed: the symbol stays busy")
        #expect(await h.coordinator.counters.droppedRouterUnavailable == 0)
        h.router.error.set(nil)

        // routerd recorded it and it filled: the lookup frees the symbol; nothing is placed again.
        let sent = try #require(h.router.placed.get().first)
        h.router.stored.set(order(sent, status: .filled))
        await h.coordinator.confirm(clientOrderId: sent.clientOrderId ?? "", symbol: sent.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 3, pause: .zero)
        #expect(!h.strategy.inFlight)
        #expect(h.router.placed.get().count == 1)

        // Never recorded: it never arrived, so the symbol is free.
        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(2)
        #expect(h.strategy.inFlight)
        h.router.error.set(nil)
        h.router.stored.set(nil)
        let second = h.router.placed.get()[1]
        await h.coordinator.confirm(clientOrderId: second.clientOrderId ?? "", symbol: second.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 3, pause: .zero)
        #expect(!h.strategy.inFlight)
        #expect(h.router.placed.get().count == 2)
        // It reached routerd after all (a stalled routerd read it late): its working event holds the symbol again.
        await h.coordinator.setConfirmPause(.seconds(30))
        await h.coordinator.handle(order: order(second, status: .acknowledged))
        #expect(h.strategy.inFlight, "taken as never arrived, then working: no second entry beside it")
        await h.tickAt(3)
        #expect(h.router.placed.get().count == 2)
    }

    @Test("an entry absent at its first answered look-up but recorded at the next is not taken as never arrived")
    func absentOnceIsNotNeverArrived() async throws {
        let h = Harness()
        // Only the confirmations the test starts: a slow run must not see the background one's look-ups too.
        await h.coordinator.setConfirmPause(.seconds(600))
        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(1)
        #expect(h.strategy.inFlight)
        // routerd, stalled with the order and the first look-up in its socket, answered the look-up first.
        let sent = try #require(h.router.placed.get().first)
        h.router.error.set(nil)
        h.router.stored.set(order(sent, status: .acknowledged))
        h.router.absentForLookups.set(1)
        await h.coordinator.confirm(clientOrderId: sent.clientOrderId ?? "", symbol: sent.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 3, pause: .zero)
        #expect(h.router.lookups.get() == 3)
        #expect(h.strategy.inFlight, "the order is working at routerd: no second entry")
        #expect(h.router.placed.get().count == 1, "nothing was sent again")

        // A first answer of absent is asked again; absent after an answer, it never arrived.
        h.router.stored.set(nil)
        await h.coordinator.confirm(clientOrderId: sent.clientOrderId ?? "", symbol: sent.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 1, pause: .zero)
        #expect(h.strategy.inFlight, "one answer of absent proves nothing")
        await h.coordinator.confirm(clientOrderId: sent.clientOrderId ?? "", symbol: sent.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 2, pause: .zero)
        #expect(!h.strategy.inFlight)
    }

    @Test("a confirmation that has asked its number of times asks on, slower, while the order holds its role")
    func confirmationAsksOn() async throws {
        let h = Harness()
        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(1)
        h.router.error.set(nil)
        let entry = try #require(h.router.placed.get().first)
        // routerd does not answer the first five look-ups, then has the entry filled.
        h.router.failingLookups.set([1, 2, 3, 4, 5])
        h.router.stored.set(order(entry, status: .filled))
        await h.coordinator.confirm(clientOrderId: entry.clientOrderId ?? "", symbol: entry.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 2, pause: .zero, thenEvery: .milliseconds(1))
        #expect(h.router.lookups.get() == 6)
        #expect(!h.strategy.inFlight)
    }

    @Test("an uncertain exit that cannot be looked up, time after time, is freed so its position's stop can go out")
    func unreadableExitIsFreed() async throws {
        let h = Harness()
        // Only the confirmations the test starts: a slow run must not see the background one's look-ups too.
        await h.coordinator.setConfirmPause(.seconds(600))
        h.strategy.configure { $0.isEntry = false; $0.side = .sell }
        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(1)
        h.router.error.set(nil)
        let exit = try #require(h.router.placed.get().first)
        h.router.failingLookups.set(Set(1...100))
        await h.coordinator.confirm(clientOrderId: exit.clientOrderId ?? "", symbol: exit.symbol, role: .exit, strategyId: "scripted",
                                    attempts: 3, pause: .zero, thenEvery: .milliseconds(1))
        #expect(h.router.lookups.get() == 3, "freed after its attempts failed in a row")
        #expect(!h.strategy.inFlight)
    }

    @Test("look-ups that fail do not count as answers, nor undo one; an uncertain exit absent at once is freed at once")
    func absentAfterAnAnswerAndExits() async throws {
        let h = Harness()
        // Only the confirmations the test starts: a slow run must not see the background one's look-ups too.
        await h.coordinator.setConfirmPause(.seconds(600))
        h.router.error.set(IPCError(.timeout, "no answer"))
        await h.tickAt(1)
        h.router.error.set(nil)
        let sent = try #require(h.router.placed.get().first)
        // Two failed look-ups (routerd still stalled), then absent: the first answer, asked again.
        h.router.failingLookups.set([1, 2])
        await h.coordinator.confirm(clientOrderId: sent.clientOrderId ?? "", symbol: sent.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 3, pause: .zero)
        #expect(h.router.lookups.get() == 3)
        #expect(h.strategy.inFlight)
        // Absent, a failed look-up, absent: never arrived.
        h.router.failingLookups.set([5])
        await h.coordinator.confirm(clientOrderId: sent.clientOrderId ?? "", symbol: sent.symbol, role: .entry, strategyId: "scripted",
                                    attempts: 3, pause: .zero)
        #expect(h.router.lookups.get() == 6)
        #expect(!h.strategy.inFlight)

        // An exit whose outcome is unknown: absent at its first answer frees its role at once (its stop must not wait).
        let e = Harness()
        await e.coordinator.setConfirmPause(.seconds(600))
        e.strategy.configure { $0.isEntry = false; $0.side = .sell }
        e.router.error.set(IPCError(.timeout, "no answer"))
        await e.tickAt(1)
        e.router.error.set(nil)
        let exit = try #require(e.router.placed.get().first)
        #expect(e.strategy.inFlight)
        await e.coordinator.confirm(clientOrderId: exit.clientOrderId ?? "", symbol: exit.symbol, role: .exit, strategyId: "scripted",
                                    attempts: 1, pause: .zero)
        #expect(!e.strategy.inFlight)
    }

    @Test("fills past a gap are held, the gap is reported once, and a catch-up applies everything in order with its closed trades")
    func gapsAreFilledInOrder() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 1, seconds: 1))
        // 2 and 3 were missed (say, during a disconnection); 4 and 5 arrive on the stream first.
        await h.coordinator.handle(fill: fill(.buy, 1, at: 104, strategy: "scripted", sequence: 4, seconds: 4))
        await h.coordinator.handle(fill: fill(.sell, 1, at: 105, strategy: "scripted", sequence: 5, seconds: 5))
        // The fetch runs beside the trade path.
        try await waitUntil("the gap to be reported") { gaps.get() >= 1 }
        #expect(gaps.get() == 1)
        #expect(await h.coordinator.heldFillCount == 2)
        #expect(h.strategy.position.quantity == 1, "nothing past the gap is applied yet")

        // The catch-up delivers the missed fills: 2 closes the first lot (loss of 2), 3 opens again; then 4 and 5 follow.
        await h.coordinator.handle(fill: fill(.sell, 1, at: 98, strategy: "scripted", sequence: 2, seconds: 2))
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 3, seconds: 3))
        #expect(await h.coordinator.heldFillCount == 0)
        #expect(await h.coordinator.appliedSequence == 5)
        #expect(h.strategy.fills.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(h.strategy.info().realizedPnl == 1, "−2, then +3: 5 closes one of two lots averaged at 102")
        #expect(await h.coordinator.counters.closedTrades == 2)
    }

    @Test("a fill that is not the account's (a paper run's, in a live log) takes its place in the sequence and moves nothing, held or not")
    func fillsOutsideTheAccountAreSteppedOver() async throws {
        let h = Harness()
        await h.coordinator.setGapHandler {}
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 1, seconds: 1))
        await h.coordinator.handle(fill: fill(.buy, 5, at: 50, strategy: "scripted", sequence: 2, seconds: 2), counts: false)
        #expect(await h.coordinator.appliedSequence == 2, "the next fill follows on")
        #expect(h.strategy.position.quantity == 1)
        // Past a gap: 4 (live) arrives first, then the catch-up brings 3, not the account's.
        await h.coordinator.handle(fill: fill(.sell, 1, at: 101, strategy: "scripted", sequence: 4, seconds: 4))
        #expect(await h.coordinator.heldFillCount == 1)
        await h.coordinator.handle(fill: fill(.sell, 5, at: 60, strategy: "scripted", sequence: 3, seconds: 3), counts: false)
        #expect(await h.coordinator.heldFillCount == 0)
        #expect(await h.coordinator.appliedSequence == 4)
        #expect(h.strategy.fills.map(\.sequence) == [1, 4], "only the account's fills reach the strategy")
        #expect(h.strategy.position.quantity == 0)
        // Held itself: 6 (not the account's) waits behind the missing 5, then passes without a trace.
        await h.coordinator.handle(fill: fill(.buy, 2, at: 70, strategy: "scripted", sequence: 6, seconds: 6), counts: false)
        await h.coordinator.handle(fill: fill(.buy, 1, at: 102, strategy: "scripted", sequence: 5, seconds: 5))
        #expect(await h.coordinator.appliedSequence == 6)
        #expect(h.strategy.fills.map(\.sequence) == [1, 4, 5])
    }

    @Test("every proposal carries the fill sequence applied, so mindsetd counts the trades those fills closed first")
    func proposalsCarryTheFillSequence() async throws {
        let h = Harness()
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 1, seconds: 1))
        await h.coordinator.handle(fill: fill(.sell, 1, at: 90, strategy: "scripted", sequence: 2, seconds: 2, id: "loss"))
        h.strategy.configure { $0.inFlight = false }
        await h.tickAt(3)
        #expect(h.mindset.evaluated.get().map(\.fillSequence) == [2])
        #expect(h.mindset.evaluated.get().map(\.fillId) == ["loss"], "the fill at that sequence, so a rewritten log shows")
        // A fill past a gap is held, not applied, but it was seen: mindsetd counts through it (it reads the log).
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 9, seconds: 4))
        h.strategy.configure { $0.inFlight = false }
        await h.tickAt(5)
        #expect(h.mindset.evaluated.get().map(\.fillSequence) == [2, 9])
        #expect(h.mindset.evaluated.get().map(\.fillDatabaseId) == [nil, nil], "no resync yet: no database known")
    }

    @Test("a rebuild of the positions (a fill that cannot be applied) never lowers the sequence a proposal carries")
    func seenSequenceNeverGoesDown() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0, databaseId: "db-1")))
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 1, seconds: 1))
        await h.coordinator.handle(fill: fill(.sell, 1, at: 90, strategy: "scripted", sequence: 2, seconds: 2))
        // A fill the strategy's book cannot take: positions are rebuilt from routerd, applied drops to 0.
        await h.coordinator.handle(fill: fill(.buy, 999_999_999_999_999_999, at: 999_999_999_999_999_999, strategy: "scripted", sequence: 3, seconds: 3))
        #expect(await h.coordinator.appliedSequence == 0)
        h.strategy.configure { $0.inFlight = false }
        await h.tickAt(5)
        #expect(h.mindset.evaluated.get().last?.fillSequence == 3, "the loss at 2 (and what came after) is still counted first")
        #expect(h.mindset.evaluated.get().last?.fillDatabaseId == "db-1")
    }

    @Test("a rejected order frees the symbol and is counted")
    func rejectedOrder() async {
        let h = Harness()
        h.router.status.set(.rejected)
        await h.tickAt(1)
        let counters = await h.coordinator.counters
        #expect(counters.ordersPlaced == 1)
        #expect(counters.ordersRejected == 1)
        #expect(!h.strategy.inFlight)
    }

    @Test("fills reach the strategy, which closes its trades from them")
    func fillsBecomeClosedTrades() async throws {
        let h = Harness()
        await h.coordinator.handle(fill: fill(.buy, 2, at: 100, fee: 0.2, strategy: "scripted", sequence: 1, seconds: 1))
        let closing = fill(.sell, 2, at: 103, fee: 0.2, strategy: "scripted", sequence: 2, seconds: 2)
        await h.coordinator.handle(fill: closing)
        #expect(h.strategy.info().realizedPnl == 5.6)
        let counters = await h.coordinator.counters
        #expect(counters.fills == 2)
        #expect(counters.closedTrades == 1)

        // A fill of no known strategy is counted but goes nowhere.
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "someone-else", sequence: 3))
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: nil, sequence: 4))
        #expect(h.strategy.fills.count == 2)
        #expect(await h.coordinator.counters.fills == 4)
    }

    @Test("a fill with a sequence at or below what was applied is ignored")
    func duplicateFillsIgnored() async throws {
        let h = Harness()
        // The fill log already holds two fills before this run: the baseline says so.
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 2)))
        let first = fill(.buy, 1, at: 100, strategy: "scripted", sequence: 3)
        await h.coordinator.handle(fill: first)
        await h.coordinator.handle(fill: first)
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 2))
        #expect(h.strategy.fills.count == 1)
        #expect(h.strategy.position.quantity == 1)
        #expect(await h.coordinator.counters.fills == 1)

        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 4))
        #expect(h.strategy.position.quantity == 2)
    }

    @Test("another database id (a restored backup, a new file) means a resync from its positions, whatever its sequences")
    func databaseChangeResyncs() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 10, databaseId: "db-1")))
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 11))
        // A fill past a gap, from the old database, is held…
        await h.coordinator.handle(fill: fill(.buy, 5, at: 100, strategy: "scripted", sequence: 13))
        #expect(await h.coordinator.heldFillCount == 1)
        #expect(await h.coordinator.continues(database: "db-1", lastSequence: 13))

        // …and the new database's snapshot, with lower sequences, is taken all the same, dropping what was held.
        let restored = StrategyPositionsResponse(
            positions: [StrategyPosition(strategyId: "scripted", symbol: "BTCUSDT", quantity: 3, averagePrice: 90)],
            throughSequence: 4, databaseId: "db-2")
        #expect(await h.coordinator.resync(restored))
        #expect(h.strategy.position.quantity == 3)
        #expect(await h.coordinator.appliedSequence == 4)
        #expect(await h.coordinator.heldFillCount == 0)
        #expect(await h.coordinator.continues(database: "db-2", lastSequence: 4))
        // Its next fill applies.
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 5))
        #expect(h.strategy.position.quantity == 4)
    }

    @Test("a catch-up's page that ends before fills applied since it was asked for (the stream, another catch-up) is no log gone back")
    func pageOvertakenByTheStream() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 500, databaseId: "db-1")))
        // Asked with 500 applied; fill 501 arrives on the stream before the page, which ends at 500.
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 501))
        #expect(await h.coordinator.continues(database: "db-1", lastSequence: 500, appliedWhenAsked: 500))
        #expect(await h.coordinator.appliedSequence == 501, "nothing forgotten")
        #expect(h.strategy.position.quantity == 1)
        // A log that ends before what was applied when it was asked for went back.
        #expect(await h.coordinator.continues(database: "db-1", lastSequence: 499, appliedWhenAsked: 500) == false)
        #expect(await h.coordinator.appliedSequence == 0)
    }

    @Test("a fill the position cannot take during a reconnect's catch-up keeps the symbol stopped until the snapshot, whatever the catch-up frees")
    func unappliableFillSurvivesTheCatchUp() async throws {
        let h = Harness()
        await h.coordinator.setGapHandler {}
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        let askedBefore = await h.coordinator.rebuildGeneration
        await h.coordinator.handle(fill: fill(.buy, 1_000_000_000, at: 999_999_999_999, strategy: "scripted", sequence: 1))
        #expect(h.strategy.inFlight)
        await h.coordinator.confirmOrdersInFlight()
        #expect(h.strategy.inFlight, "its position is not known until the snapshot")
        await h.tickAt(2)
        #expect(h.router.placed.get().isEmpty)
        // A snapshot asked for before the fill failed does not lift the stop; one asked for after does, whatever it
        // holds (routerd's log may have gone back: its record is the truth).
        let snapshot = StrategyPositionsResponse(positions: [], throughSequence: 0)
        #expect(await h.coordinator.resync(snapshot, askedIn: askedBefore) == false)
        #expect(h.strategy.inFlight)
        #expect(await h.coordinator.resync(snapshot, askedIn: await h.coordinator.rebuildGeneration))
        await h.coordinator.confirmOrdersInFlight()
        #expect(!h.strategy.inFlight)
    }

    @Test("an order's end heard twice (its event, then its confirmation) does not lift the stop a fill that could not be applied set")
    func endHeardTwice() async throws {
        let h = Harness()
        await h.coordinator.setGapHandler {}
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        h.router.status.set(.acknowledged)
        await h.tickAt(1)
        let placed = try #require(h.router.placed.get().first)
        await h.coordinator.handle(order: order(placed, status: .cancelled))
        #expect(!h.strategy.inFlight)
        await h.coordinator.handle(fill: fill(.buy, 1_000_000_000, at: 999_999_999_999, strategy: "scripted", sequence: 1))
        #expect(h.strategy.inFlight)
        await h.coordinator.handle(order: order(placed, status: .cancelled))
        #expect(h.strategy.inFlight, "the second end of the same order frees nothing")
    }

    @Test("a fill log that went back below what was applied (a backup restored with its identity) means a rebuild")
    func restoredBackupResyncs() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 500, databaseId: "db-1")))
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 501))
        // The catch-up after the restore finds the same identity, but a log that ends at 400.
        #expect(await h.coordinator.continues(database: "db-1", lastSequence: 400) == false)
        #expect(await h.coordinator.appliedSequence == 0)
        let restored = StrategyPositionsResponse(
            positions: [StrategyPosition(strategyId: "scripted", symbol: "BTCUSDT", quantity: 2, averagePrice: 100)],
            throughSequence: 400, databaseId: "db-1")
        #expect(await h.coordinator.resync(restored))
        #expect(h.strategy.position.quantity == 2)
        // New fills of the restored log (401, …) are applied, not dropped as already seen.
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 401))
        #expect(h.strategy.position.quantity == 3)
    }

    @Test("a fill the position cannot take (amounts out of range) stops the symbol and rebuilds from routerd")
    func unappliableFillRebuilds() async throws {
        let h = Harness()
        let gaps = Locked(0)
        await h.coordinator.setGapHandler { gaps.update { $0 += 1 } }
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 0)))
        await h.coordinator.handle(fill: fill(.buy, 1_000_000_000, at: 999_999_999_999, strategy: "scripted", sequence: 1))
        #expect(await h.coordinator.appliedSequence == 0, "nothing counts as applied: the snapshot decides")
        #expect(h.strategy.inFlight, "no new signal for the symbol until the rebuild")
        try await waitUntil("the rebuild is asked for") { gaps.get() == 1 }
    }

    @Test("resync with a snapshot older than applied fills returns false and changes nothing")
    func resyncRefusesOldSnapshots() async throws {
        let h = Harness()
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 4)))
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 5))

        let stale = StrategyPositionsResponse(
            positions: [StrategyPosition(strategyId: "scripted", symbol: "BTCUSDT", quantity: 7, averagePrice: 90)], throughSequence: 4)
        #expect(await h.coordinator.resync(stale) == false)
        #expect(h.strategy.resyncs.count == 1)
        #expect(h.strategy.position.quantity == 1)

        let fresh = StrategyPositionsResponse(
            positions: [StrategyPosition(strategyId: "scripted", symbol: "BTCUSDT", quantity: 2, averagePrice: 95),
                        StrategyPosition(strategyId: "other", symbol: "BTCUSDT", quantity: 9, averagePrice: 1)],
            throughSequence: 6)
        #expect(await h.coordinator.resync(fresh) == true)
        #expect(h.strategy.resyncs.count == 2)
        #expect(h.strategy.position.quantity == 2)
        #expect(h.strategy.position.averagePrice == 95)

        // Fills included in the snapshot are not applied again; later ones are.
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "scripted", sequence: 6))
        #expect(h.strategy.position.quantity == 2)
        await h.coordinator.handle(fill: fill(.buy, 1, at: 101, strategy: "scripted", sequence: 7))
        #expect(h.strategy.position.quantity == 3)

        // A strategy with no position in the snapshot is set flat.
        #expect(await h.coordinator.resync(StrategyPositionsResponse(positions: [], throughSequence: 7)))
        #expect(h.strategy.position.isFlat)
    }

    @Test("fed from a task that prefers its executor, the coordinator asks the mindset and places the order on its loop's thread")
    func staysOnItsLoop() async throws {
        // As arsenald runs it: the tasks feeding ticks prefer the coordinator's executor (its IPC clients'
        // loop), so the port calls, which are not isolated to the actor, stay on that thread too: no hop.
        let onLoop = Harness()
        onLoop.mindset.watchedExecutor.set(onLoop.coordinator.executor)
        onLoop.router.watchedExecutor.set(onLoop.coordinator.executor)
        await Task(executorPreference: onLoop.coordinator.executor) { await onLoop.tickAt(1) }.value
        #expect(onLoop.mindset.callsOnLoop.get() == [true])
        #expect(onLoop.router.callsOnLoop.get() == [true])

        // From an ordinary task the same calls leave the loop for Swift's global executor (two hops per call).
        let plain = Harness()
        plain.mindset.watchedExecutor.set(plain.coordinator.executor)
        plain.router.watchedExecutor.set(plain.coordinator.executor)
        await plain.tickAt(1)
        #expect(plain.mindset.callsOnLoop.get() == [false])
        #expect(plain.router.callsOnLoop.get() == [false])
    }

    @Test("an approved size is rounded down onto the symbol's step size; below its minimum no order goes out")
    func roundedToStepSize() async throws {
        let h = Harness()
        await h.coordinator.setSymbolRules([SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01,
                                                        stepSize: 0.001, minQuantity: 0.002, maxQuantity: 100)])
        h.strategy.configure { $0.quantity = 0.0123456 }
        await h.tickAt(1)
        #expect(h.router.placed.get().map(\.quantity) == [0.012], "0.0123456 rounds down to 0.012, never up")
        h.strategy.configure { $0.inFlight = false; $0.quantity = 0.0019 }
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1, "0.0019 rounds to 0.001, below the minimum 0.002: no order")
        #expect(await h.coordinator.counters.belowMinimum == 1)
        #expect(!h.strategy.inFlight, "the symbol is free again")
    }

    @Test("a short entry in a symbol traded spot, or before routerd's rules are known, never goes out; an exit sell does")
    func noShortsOnSpot() async throws {
        let unknown = Harness()
        unknown.strategy.configure { $0.side = .sell; $0.quantity = 0.5 }
        await unknown.tickAt(1)
        #expect(unknown.router.placed.get().isEmpty, "no rules yet: not known to be allowed")
        let h = Harness()
        await h.coordinator.setSymbolRules([SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01,
                                                        stepSize: 0.001, minQuantity: 0.001, maxQuantity: 100, shortSelling: false)])
        h.strategy.configure { $0.side = .sell; $0.quantity = 0.5 }
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty)
        #expect(await h.coordinator.counters.shortsNotAllowed == 1)
        #expect(!h.strategy.inFlight, "the symbol is free again")
        h.strategy.configure { $0.isEntry = false }
        await h.tickAt(2)
        #expect(h.router.placed.get().map(\.side) == [.sell])
        #expect(h.router.placed.get().first?.reduceOnly == true)
    }

    @Test("one signal per symbol: the stronger one goes to the mindset, the weaker is withdrawn; other symbols are not seen")
    func oneSignalPerSymbol() async throws {
        let weak = ScriptedStrategy(id: "weak")
        let strong = ScriptedStrategy(id: "strong")
        let forex = ScriptedStrategy(id: "forex", symbols: ["EURUSD"])
        weak.configure { $0.strength = 1.2 }
        strong.configure { $0.strength = 3 }
        let mindset = FakeMindset()
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [weak, strong, forex], mindset: mindset, router: router, logger: quietLogger)
        await coordinator.handle(tick: tick(mid: 100, at: 1))

        #expect(mindset.evaluated.get().map(\.strategyId) == ["strong"])
        #expect(router.placed.get().map(\.strategyId) == ["strong"])
        #expect(weak.orderEndedCount == 1)
        #expect(!weak.inFlight)
        #expect(strong.orderEndedCount == 0)
        #expect(forex.emitted.isEmpty)
        let counters = await coordinator.counters
        #expect(counters.signals == 2)
        #expect(counters.ordersPlaced == 1)
    }

    @Test("signals are ranked by mindsetd's grades from strategy_confidence.json: a graded-down strategy yields")
    func rankedByGrades() async throws {
        let dir = try TempDir()
        let strong = ScriptedStrategy(id: "strong")
        let steady = ScriptedStrategy(id: "steady")
        strong.configure { $0.strength = 3 }
        steady.configure { $0.strength = 2 }
        func report(_ confidence: Double) -> GradeReport {
            GradeReport(grade: .c, score: confidence * 100, trades: 20, winRate: 0.5, profitFactor: 1, expectancy: 0,
                        maxDrawdown: 0, sizeFactor: 0.75, confidence: confidence)
        }
        try AtomicFile.writeJSON(GradeBook(overall: report(0.5), strategies: ["strong": report(0.2), "steady": report(0.9)]),
                                 to: dir.path + "/" + GradeBook.fileName)
        var file = StrategyConfidenceFile(stateDirectory: dir.path)
        let confidence = try #require(try file.readIfChanged())
        #expect(confidence == ["strong": 0.2, "steady": 0.9])
        #expect(try file.readIfChanged() == nil, "an unchanged file is not read again")

        let mindset = FakeMindset()
        let coordinator = TradeCoordinator(strategies: [strong, steady], mindset: mindset, router: FakeRouter(), logger: quietLogger)
        await coordinator.setGradedConfidence(confidence)
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        // 3 × 0.2 = 0.6 against 2 × 0.9 = 1.8.
        #expect(mindset.evaluated.get().map(\.strategyId) == ["steady"])
        #expect(mindset.evaluated.get().first?.confidence == 0.9)
        #expect(strong.orderEndedCount == 1)
    }

    @Test("an exit is never withdrawn for another strategy's entry, however the grades rank them")
    func exitBeatsEntry() async throws {
        let graded = ScriptedStrategy(id: "graded_down")
        let star = ScriptedStrategy(id: "star")
        graded.configure { $0.strength = 1; $0.isEntry = false; $0.side = .sell }
        star.configure { $0.strength = 5 }
        let mindset = FakeMindset()
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [star, graded], mindset: mindset, router: router, logger: quietLogger)
        await coordinator.setGradedConfidence(["graded_down": 0.05, "star": 0.95])
        await coordinator.handle(tick: tick(mid: 100, at: 1))
        #expect(router.placed.get().map(\.strategyId) == ["graded_down"])
        #expect(router.placed.get().first?.reduceOnly == true)
        #expect(star.orderEndedCount == 1)
    }

    @Test("only graded strategies take their confidence from the file; an ungraded one keeps its own")
    func ungradedKeepsOwnConfidence() throws {
        let dir = try TempDir()
        let ungraded = GradeReport(grade: nil, score: nil, trades: 2, winRate: 1, profitFactor: nil, expectancy: 5, maxDrawdown: 0,
                                   sizeFactor: 1, confidence: 0.5)
        let graded = GradeReport(grade: .b, score: 70, trades: 20, winRate: 0.6, profitFactor: 1.5, expectancy: 5, maxDrawdown: 10,
                                 sizeFactor: 1, confidence: 0.7)
        try AtomicFile.writeJSON(GradeBook(overall: graded, strategies: ["new": ungraded, "old": graded]), to: dir.path + "/" + GradeBook.fileName)
        var file = StrategyConfidenceFile(stateDirectory: dir.path)
        #expect(try file.readIfChanged() == ["old": 0.7])
    }

    @Test("a corrupt strategy_confidence.json is an error the daemon reports, and leaves the ranking as it was")
    func corruptConfidenceFile() throws {
        let dir = try TempDir()
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir.path + "/" + GradeBook.fileName))
        var file = StrategyConfidenceFile(stateDirectory: dir.path)
        #expect(throws: (any Error).self) { try file.readIfChanged() }
        // mindsetd's file: arsenald never moves it aside.
        #expect(FileManager.default.fileExists(atPath: file.path))
        var absent = StrategyConfidenceFile(stateDirectory: dir.path + "/none")
        #expect(try absent.readIfChanged() == nil)
    }

    @Test("end to end with the Micro Trend Follower: a strong trend becomes one scaled order")
    func withMicroTrendFollower() async throws {
        let mindset = FakeMindset()
        mindset.approveFraction.set(0.5)
        let router = FakeRouter()
        let coordinator = TradeCoordinator(strategies: [MicroTrendStrategy(settings: microTrendSettings())], mindset: mindset,
                                           router: router, logger: quietLogger)
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 120)
        for (index, mid) in path.mids.enumerated() {
            await coordinator.handle(tick: tick(mid: mid, at: Double(index)))
        }
        let placed = router.placed.get()
        try #require(placed.count == 1)
        #expect(placed[0].side == .buy)
        #expect(placed[0].quantity == 0.005)
        #expect(placed[0].strategyId == "micro_trend")
        let info = try #require(await coordinator.strategyInfo().first)
        #expect(info.signals == 1)
        #expect(info.positions["BTCUSDT"] == 0)

        // The fill moves the strategy's position; the order event frees it.
        await coordinator.handle(fill: Fill(fillId: "f1", clientOrderId: placed[0].clientOrderId!, venue: .paper, symbol: "BTCUSDT",
                                            side: .buy, quantity: 0.005, price: 120, fee: 0, time: epoch, strategyId: "micro_trend",
                                            requestId: placed[0].requestId, sequence: 1))
        #expect(await coordinator.strategyInfo().first?.positions["BTCUSDT"] == 0.005)
        #expect(await coordinator.counters.signals == 1)
    }
}
