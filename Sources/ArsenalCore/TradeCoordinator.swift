import Foundation
import NIOPosix
import Logging
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// What became of a signal on the trade path.
public enum TradeOutcome: Sendable {
    /// Not sent, and why (no mindset decision was asked, or the approved size could not be traded).
    case notSent(String)
    /// Approved, but below the symbol's minimum once rounded down to its step size (why, in words).
    case belowMinimum(String)
    /// The mindset said no (or could not be asked: failing closed).
    case blocked(MindsetDecision)
    /// routerd's record of the order (a rejected one too), with the decision that let it through.
    case placed(OrderRecord, MindsetDecision)
    /// Sent, outcome unknown (a timeout, a lost connection, an answer that could not be read: anything routerd did
    /// not refuse explicitly): confirmed with routerd in the background.
    case unknown(clientOrderId: String)
}

/// Counters behind arsenald's status line, health details and (later) metrics.
public struct ArsenalCounters: Sendable, Equatable {
    public var ticks = 0
    public var signals = 0
    public var approved = 0
    public var blocked = 0
    /// Blocked because mindsetd could not be asked: the trade path fails closed.
    public var blockedMindsetUnavailable = 0
    /// Dropped because routerd was unreachable: never queued for a later burst.
    public var droppedRouterUnavailable = 0
    public var ordersPlaced = 0
    public var ordersRejected = 0
    /// Approved, but below the symbol's minimum quantity once rounded down to its step size.
    public var belowMinimum = 0
    /// Entries that would sell short a symbol its venue trades spot (no short selling), or before routerd's
    /// rules say it may be sold short: never sent.
    public var shortsNotAllowed = 0
    public var fills = 0
    public var closedTrades = 0
    /// Entries not sent because another strategy holds the opposite side of the symbol or has an entry in it
    /// unsettled (the venue would net the two positions).
    public var entriesAgainstAnotherStrategy = 0
}

/// Drives the trade path: tick → strategies → best signal per symbol → mindset decision → order → fills
/// back to the strategy. mindsetd counts the closed trades itself, from routerd's fill log: each proposal
/// carries the fill sequence applied here, and mindsetd counts every trade those fills closed before it
/// judges an entry (docs/mindset.md).
public actor TradeCoordinator {
    private var strategies: [Strategy]
    /// The trader's own orders (`placeManualOrder`): not in `strategies` (it sees no tick).
    private let manual = ManualOrders()
    /// Each symbol's last tick: the price a manual order is proposed at.
    private var lastTicks = PerSymbol<Tick>()
    /// The strategies and the manual orders: what catch-ups, resyncs and fills go through.
    private var everyStrategy: [Strategy] { strategies + [manual] }
    private let mindset: MindsetPort
    private let router: RouterPort
    private let logger: Logger
    private let publish: @Sendable (String, Signal, MindsetDecision?) -> Void
    /// Every signal processed and what came of it, for `arsenal.signals`.
    public nonisolated let recentSignals: RecentSignals
    /// Told what came of every signal (arsenald's metrics).
    private let settledObserver: @Sendable (String, TradeOutcome) -> Void
    private let runID: String
    private var sequence = 0
    /// Fills up to this sequence are already in the positions (from a resync or applied one by one).
    private var appliedThrough: Int64 = 0
    /// The identity of routerd's database that `appliedThrough` counts in (nil until a resync says).
    private var databaseId: String?
    /// False in arsenald: no entry (a strategy's or the trader's) goes out until routerd's positions have been read
    /// (`resync`), at start and after every start-over. Before that the books are flat whatever the venue holds, and a
    /// warm strategy would enter beside the position (and beside a working order) of the run before. Exits still go
    /// out, and ticks still feed the strategies.
    private let tradesBeforeSnapshot: Bool
    private var withheldBeforeSnapshot = 0

    /// Whether routerd's positions have been read since the start (or the last start-over).
    public var hasPositionsSnapshot: Bool { databaseId != nil }
    /// The highest fill sequence received from that database's log, applied or held, or covered by a snapshot:
    /// every proposal carries it, so mindsetd counts the trades of every fill seen here before judging an entry.
    /// Never lowered while the database stays the same (a rebuild of the positions does not unsee a loss).
    private var seenThrough: Int64 = 0
    /// The database `seenThrough` counts in; unlike `databaseId`, kept across a rebuild of the positions.
    private var seenDatabaseId: String?
    /// The id of the fill at `seenThrough`, when that fill came here (not when a snapshot covered it).
    private var seenFillId: String?
    /// Fills that arrived past a gap in the fill log, applied once the gap is filled (fills are applied
    /// strictly in sequence: positions and closed-trade P&L depend on the order).
    private var heldFills: [Int64: Fill] = [:]
    /// Held fills that are not the account's (`FillsResponse.counts`): their sequence is passed, nothing applied.
    private var heldNotCounted: Set<Int64> = []
    /// Fetches the fills routerd has and this coordinator has not applied (routerd's fill log), applying them.
    private var onGap: (@Sendable () async throws -> Void)?
    /// The first pause before fetching again after a failed fetch (doubling to 30 s).
    private var gapRetryPause: Duration = .seconds(1)
    /// A fetch of missing fills is under way (with its retries); another was asked for meanwhile (it runs next).
    private var fetchingGap = false
    private var fetchAgain = false
    /// Orders that ended while their fills could not be fetched: freed once a fetch succeeds (and their fills add up).
    private var releaseAfterFetch: [(clientOrderId: String, strategyId: String, symbol: String, role: OrderRole, filled: ExactDecimal)] = []
    /// What the fills taken from routerd's log add up to, per order holding a role: a final order frees its role only
    /// once they add up to its filled quantity. routerd can record an order final before all its fills are in its log
    /// (a venue reporting more filled than the fills it sent; routerd fetches them later): freed on its final event
    /// alone, an entry's strategy would believe its position smaller than it is and send the entry again.
    private var filledTaken: [String: ExactDecimal] = [:]
    /// Holders whose fills cannot be added up here: a positions snapshot (or a start over) may already hold some of
    /// them. Their final record frees them once their fills were fetched, as before this tally.
    private var filledUntallied: Set<String> = []
    /// Final orders that hold their role until their fills add up to this (`filledTaken`).
    private var awaitingFills: [String: ExactDecimal] = [:]
    /// The order that holds each strategy's symbol busy in each role ("strategy|symbol|entry" or "…|exit" →
    /// client order id), from its signal on. Only that order's end frees the role: a late answer about an
    /// older order (a confirmation that took its time) must not free a symbol that a newer order holds, and the
    /// end of a stop sent while an entry is unsettled must not free the entry's hold.
    private var ordersInFlight: [String: String] = [:]
    /// Orders found working in a role another order holds (one let go of that routerd revived, or one adopted at a
    /// start beside the holder), by role key, oldest first: when the holder ends, the first takes the role over
    /// (`orderEnded`), so the role is free only once all of them have ended. Freed with the holder, the next signal
    /// would send its order beside one still filling.
    private var workingBeside: [String: [String]] = [:]
    private let settlement = SettlementWaiters()
    /// The orders `settle` waits for, and those it waited for in vain (not waited for again).
    private var settling: Set<String> = []
    private var unsettledAfterWaiting: Set<String> = []
    /// Orders whose `router.place` has not answered yet. A catch-up after a reconnect does not free their
    /// symbols: their fills may not be in what the catch-up read.
    private var ordersBeingPlaced: Set<String> = []
    /// Orders this coordinator let go of although they may still work: taken as never arrived by `confirm`, or given
    /// up by routerd as not found at their venue. Should routerd show one working after all, its role is held again
    /// (`holdAgainIfLetGo`). The latest `letGoLimit`, oldest first.
    private var letGo: [String] = []
    static let letGoLimit = 1_000
    /// The background `confirm` asking routerd's record about each order (one per order), numbered so that a
    /// confirmation replaced by a reconnect's does not unregister its successor.
    private var confirmations: [String: (number: Int, task: Task<Void, Never>)] = [:]
    private var confirmationsStarted = 0
    /// Counts fills that could not be applied: a positions snapshot asked for before the latest one may not hold it,
    /// and would lift its symbol's stop on a position without it (`resync(_:askedIn:)`).
    public private(set) var rebuildGeneration = 0
    /// What was applied is forgotten (`startOver`) and the positions wait for a snapshot: the marks that keep a
    /// symbol whose fill could not be applied from trading are not lifted by a catch-up meanwhile.
    private var awaitingSnapshot = false
    /// Counts catch-ups (`confirmOrdersInFlight`), so an order placed across one knows its events may have been missed.
    private var catchUps = 0
    /// Between two look-ups of an order whose outcome arsenald may not hear of by itself (`confirm`);
    /// `arsenal.confirm_interval_ms`.
    var confirmPause: Duration
    public private(set) var counters = ArsenalCounters()
    /// Each symbol's rules from routerd: approved quantities are rounded down onto the step size before an
    /// order is placed. A symbol without rules is sent as approved (routerd refuses it, naming the rule).
    private(set) var symbolRules: [String: SymbolRules] = [:]
    /// `readRulesAgain` is at work.
    private var readingRules = false
    /// Each strategy's confidence from mindsetd's grades (`strategy_confidence.json`); a strategy not in it
    /// ranks by its own running win rate.
    private var gradedConfidence: [String: Double] = [:]
    /// The actor runs on an event loop: arsenald gives it the loop its IPC clients share, so a tick's
    /// decision and order are sent and answered without a thread hop (see `EventLoopTaskExecutor`).
    public nonisolated let executor: EventLoopTaskExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    /// Keeps the registry's run-time choices across restarts (nil: not kept, in tests that do not need it).
    private let saveChoices: (@Sendable (StrategyChoices) throws -> Void)?
    /// The largest manual order per symbol (`arsenal.manual_max_quantity`); a symbol without one takes none.
    private let manualMaxQuantity: [String: ExactDecimal]

    public init(
        strategies: [Strategy], mindset: MindsetPort, router: RouterPort, logger: Logger,
        executor: EventLoopTaskExecutor = .for(MultiThreadedEventLoopGroup.singleton.next()),
        saveChoices: (@Sendable (StrategyChoices) throws -> Void)? = nil,
        manualMaxQuantity: [String: ExactDecimal] = [:], runID: String? = nil, recentSignals: RecentSignals = RecentSignals(),
        confirmPause: Duration = .seconds(2), tradesBeforeSnapshot: Bool = true,
        publish: @escaping @Sendable (String, Signal, MindsetDecision?) -> Void = { _, _, _ in },
        settled: @escaping @Sendable (_ strategyId: String, TradeOutcome) -> Void = { _, _ in }
    ) {
        self.tradesBeforeSnapshot = tradesBeforeSnapshot
        self.settledObserver = settled
        self.recentSignals = recentSignals
        self.executor = executor
        self.saveChoices = saveChoices
        self.manualMaxQuantity = manualMaxQuantity
        self.confirmPause = confirmPause
        self.strategies = strategies
        self.mindset = mindset
        self.router = router
        self.logger = logger
        self.publish = publish
        // Unique across restarts, so client order ids never collide with an earlier run's (a backtest, with no
        // earlier run, names its own so that its orders are the same every run).
        self.runID = runID ?? Crypto.hex((try? Crypto.randomBytes(4)) ?? Array(UInt32.random(in: 0...UInt32.max).bigEndianBytes))
    }

    /// Ranks signals by mindsetd's grades from now on.
    public func setGradedConfidence(_ confidence: [String: Double]) {
        gradedConfidence = confidence
    }

    public func strategyInfo() -> [StrategyInfo] { strategies.map { $0.info() } }

    // MARK: - Registry

    public func strategyInfo(id: String) throws -> StrategyInfo {
        try registered(id).info()
    }

    /// Enables or disables a strategy's entries; a disabled strategy still exits its open positions.
    /// Enabling is saved first and applied only once saved (a choice that would not survive a restart is not
    /// made). Disabling takes less risk and never waits for the disk: it applies at once, and a failed save
    /// is reported (it holds for this run only).
    public func setEnabled(_ enabled: Bool, strategyId id: String) throws -> StrategyInfo {
        let strategy = try registered(id)
        let next = strategy.choice(settingEnabled: enabled)
        if enabled {
            try keep(next, of: strategy)
            strategy.restore(next)
            logger.notice("strategy enabled", metadata: ["strategy": "\(id)"])
        } else {
            strategy.restore(next)
            logger.notice("strategy disabled: entries stop, exits and the stop still act", metadata: ["strategy": "\(id)"])
            try keep(next, of: strategy, refusing: false)
        }
        return strategy.info()
    }

    /// New values for some of a strategy's parameters, all applied or none, and only once saved.
    public func setParameters(_ values: [String: JSONValue], strategyId id: String) throws -> StrategyInfo {
        let strategy = try registered(id)
        let next: StrategyChoice
        do {
            next = try strategy.choice(setting: values)
        } catch {
            throw IPCError(.badRequest, "\(id): \(error)")
        }
        try keep(next, of: strategy)
        strategy.restore(next)
        logger.notice("strategy parameters changed", metadata: [
            "strategy": "\(id)", "parameters": "\(values.keys.sorted().map { "\($0)=\(next.parameters[$0].map { "\($0)" } ?? "?")" }.joined(separator: ", "))",
        ])
        return strategy.info()
    }

    private func registered(_ id: String) throws -> ConfigurableStrategy {
        guard let strategy = strategies.first(where: { $0.id == id }) as? ConfigurableStrategy else {
            throw IPCError(.notFound, "no strategy \"\(id)\" (registered: \(strategies.map(\.id).joined(separator: ", ")))")
        }
        return strategy
    }

    /// Saves every strategy's choices with `choice` as `strategy`'s; throws `unavailable` if it cannot. Saved on
    /// the actor, so two changes never save over each other (an operator's action, a few milliseconds).
    private func keep(_ choice: StrategyChoice, of strategy: ConfigurableStrategy, refusing: Bool = true) throws(IPCError) {
        guard let saveChoices else { return }
        var choices: [String: StrategyChoice] = [:]
        for other in strategies.compactMap({ $0 as? ConfigurableStrategy }) where !other.choice.isEmpty { choices[other.id] = other.choice }
        choices[strategy.id] = choice.isEmpty ? nil : choice
        do {
            try saveChoices(StrategyChoices(strategies: choices))
        } catch {
            logger.error("strategy choice not saved", metadata: ["strategy": "\(strategy.id)", "error": "\(error)"])
            throw IPCError(.unavailable, refusing ? "the choice could not be saved (\(error)); nothing changed"
                : "\(strategy.id) is disabled for this run, but the choice could not be saved (\(error)): it will not hold across a restart")
        }
    }

    /// The last fill sequence already in the strategies' positions (0 before the first resync).
    public var appliedSequence: Int64 { appliedThrough }

    /// After a reconnect's catch-up: the final event of an order in flight may have gone out while the stream was
    /// down, so routerd's record is asked about each (`confirm`), which frees its role once the order is settled and
    /// its fills applied. None is freed on the catch-up's word: it read the fill log outside routerd's placing of
    /// orders, so an order routerd was still placing (or one a live venue has not filled yet) is not in it, and a
    /// freed entry would be sent again beside it. An order still being placed frees its role itself when its answer
    /// comes; a role no order holds is freed.
    public func confirmOrdersInFlight() {
        catchUps += 1
        for strategy in everyStrategy {
            for symbol in strategy.symbols {
                for role in OrderRole.allCases {
                    guard let holder = ordersInFlight[inFlightKey(strategy.id, symbol, role)] else {
                        if !awaitingSnapshot { strategy.orderEnded(symbol: symbol, role: role) }
                        continue
                    }
                    if !ordersBeingPlaced.contains(holder) {
                        confirmInBackground(holder, symbol: symbol, role: role, strategyId: strategy.id, lookingNow: true)
                    }
                }
            }
        }
    }

    private func inFlightKey(_ strategyId: String, _ symbol: String, _ role: OrderRole) -> String {
        "\(strategyId)|\(symbol)|\(role)"
    }

    /// Frees `symbol`'s `role` for `strategy` when `clientOrderId` is the order holding it. An end heard twice (its
    /// event and its confirmation) changes nothing the second time: nothing holds the role then, and the strategy's
    /// mark may be another's (a fill that could not be applied stops the symbol until the snapshot).
    /// `takingOver` false: the role is freed outright, the orders working beside it forgotten (an exit freed so its
    /// position's stop can go out: routerd's reduce-only check bounds them as it bounds a second exit).
    private func orderEnded(_ clientOrderId: String, strategy: Strategy, symbol: String, role: OrderRole, takingOver: Bool = true) {
        let key = inFlightKey(strategy.id, symbol, role)
        guard let holder = ordersInFlight[key], holder == clientOrderId else {
            logger.debug("an order ended that does not hold its symbol (an older order, or an end heard twice)",
                         metadata: ["client_order_id": "\(clientOrderId)", "holder": "\(ordersInFlight[key] ?? "none")"])
            return
        }
        ordersInFlight[key] = nil
        forgetTally(of: clientOrderId)
        unsettledAfterWaiting.remove(clientOrderId)
        if !takingOver, let beside = workingBeside.removeValue(forKey: key) {
            logger.critical("orders working beside the exit are no longer held: the position's stop must be able to go out", metadata: [
                "client_order_ids": "\(beside)",
            ])
        }
        if let next = workingBeside[key]?.first {
            workingBeside[key]?.removeFirst()
            if workingBeside[key]?.isEmpty == true { workingBeside[key] = nil }
            ordersInFlight[key] = next
            // Its fills before now were applied while another order held the role: they were not tallied.
            filledUntallied.insert(next)
            logger.warning("the order holding a role ended; one working beside it holds the role now, until it ends", metadata: [
                "client_order_id": "\(next)", "ended": "\(clientOrderId)", "strategy": "\(strategy.id)", "symbol": "\(symbol)",
            ])
            confirmInBackground(next, symbol: symbol, role: role, strategyId: strategy.id, lookingNow: true)
            return
        }
        strategy.orderEnded(symbol: symbol, role: role)
        resumeSettledWaiters()
    }

    /// Notes `clientOrderId`, working while `key`'s role is held by another order, to take the role over when the
    /// holder ends.
    private func noteWorkingBeside(_ clientOrderId: String, key: String) {
        guard workingBeside[key]?.contains(clientOrderId) != true else { return }
        workingBeside[key, default: []].append(clientOrderId)
    }

    /// An order working beside a role's holder ended: true when it was one. Ended with nothing filled, it has nothing
    /// to take over. Ended with fills, it stays to take the role over when the holder ends, so that the role is freed
    /// only once its fills were fetched (`confirm`, as for any untallied holder): dropped now, the holder's end would
    /// free the role while its fills may still be on their way, and an entry could go out again. Given up as not found
    /// (again), it is let go of, so that it is held again should routerd revive it once more.
    private func endedBeside(_ order: OrderRecord, key: String) -> Bool {
        guard let index = workingBeside[key]?.firstIndex(of: order.clientOrderId) else { return false }
        if order.wasGivenUpAsNotFound { noteLetGo(order.clientOrderId) }
        guard order.filledQuantity.isZero else { return true }
        workingBeside[key]?.remove(at: index)
        if workingBeside[key]?.isEmpty == true { workingBeside[key] = nil }
        logger.notice("an order that was working beside its role's holder ended", metadata: ["client_order_id": "\(order.clientOrderId)"])
        return true
    }

    /// Frees the role of `clientOrderId`, final with `filled`, once the fills taken from routerd's log add up to it.
    /// Otherwise the role stays held, the order waits for its fills (`tally` frees it as they come), and routerd's
    /// record is asked about it in the background, each look-up fetching the fills missing. True when freed.
    @discardableResult
    private func endOnceFilled(_ clientOrderId: String, filled: ExactDecimal, strategy: Strategy, symbol: String, role: OrderRole) -> Bool {
        let taken = filledTaken[clientOrderId] ?? .zero
        guard filled.isPositive, taken < filled, !filledUntallied.contains(clientOrderId),
              ordersInFlight[inFlightKey(strategy.id, symbol, role)] == clientOrderId else {
            orderEnded(clientOrderId, strategy: strategy, symbol: symbol, role: role)
            return true
        }
        // The most ever said filled: a look-up answered before a late fill raised it must not lower what is awaited.
        let awaited = max(filled, awaitingFills[clientOrderId] ?? filled)
        if awaitingFills.updateValue(awaited, forKey: clientOrderId) == nil {
            logger.warning("an order ended before all its fills reached arsenald; its symbol stays busy until they are applied", metadata: [
                "client_order_id": "\(clientOrderId)", "filled": "\(filled)", "fills_applied": "\(taken)",
            ])
        }
        confirmInBackground(clientOrderId, symbol: symbol, role: role, strategyId: strategy.id)
        return false
    }

    /// Adds a fill taken from routerd's log to its order's tally while the order holds a role, and frees a final
    /// order that was waiting for it.
    private func tally(_ fill: Fill) {
        guard let strategy = strategy(fill.strategyId), !filledUntallied.contains(fill.clientOrderId),
              let role = OrderRole.allCases.first(where: { ordersInFlight[inFlightKey(strategy.id, fill.symbol, $0)] == fill.clientOrderId })
        else { return }
        guard let sum = try? (filledTaken[fill.clientOrderId] ?? .zero) + fill.quantity else {
            filledTaken[fill.clientOrderId] = nil
            filledUntallied.insert(fill.clientOrderId)
            return
        }
        filledTaken[fill.clientOrderId] = sum
        if let awaited = awaitingFills[fill.clientOrderId], sum >= awaited {
            logger.notice("the fills of an order that ended before them are applied; its symbol is free",
                          metadata: ["client_order_id": "\(fill.clientOrderId)", "filled": "\(sum)"])
            orderEnded(fill.clientOrderId, strategy: strategy, symbol: fill.symbol, role: role)
        }
    }

    private func forgetTally(of clientOrderId: String) {
        filledTaken[clientOrderId] = nil
        filledUntallied.remove(clientOrderId)
        awaitingFills[clientOrderId] = nil
    }

    /// The positions were set from a snapshot (or are to be): it may hold fills of the orders in flight, which their
    /// tallies never saw.
    private func untallyOrdersInFlight() {
        filledUntallied.formUnion(ordersInFlight.values)
        filledTaken.removeAll()
    }

    /// Takes the next fill of routerd's log: applied to its strategy's position when it `counts`, tallied for its order.
    private func take(_ fill: Fill, counts: Bool) {
        if counts { apply(fill) }
        tally(fill)
    }

    /// Returns when every order in flight now has ended (its end seen, its fills applied before it), or after
    /// `limit`. A paced replay settles each tick's orders before the next tick, so it trades the same every run.
    /// An order that outlived one wait (its outcome being confirmed) is not waited for again.
    public func settle(within limit: Duration) async {
        let pending = Set(ordersInFlight.values).subtracting(unsettledAfterWaiting)
        guard !pending.isEmpty else { return }
        settling = pending
        await withCheckedContinuation { settlement.add($0, within: limit) }
        settling = []
        unsettledAfterWaiting.formUnion(pending.intersection(ordersInFlight.values))
    }

    private func resumeSettledWaiters() {
        guard !settling.isEmpty, settling.isDisjoint(with: ordersInFlight.values) else { return }
        settlement.resumeAll()
    }

    /// arsenald's tick loop, run on the coordinator itself: handling a tick and settling its orders never hop
    /// between executors (each hop was a trip through the event loop's queue, a quarter of arsenald's time at max
    /// speed). A tick waits for the orders and fills received before it (`TickInbox`), so strategies see them in
    /// routerd's order. `shouldStop` is asked before each tick; `handled` after it, says whether the tick's orders
    /// must settle before the next tick (a paced replay) and whether routerd is due to hear of it, which `settled`
    /// is then told. Every `ticksBetweenTurns` ticks, and after each acknowledgement, the loop lets the coordinator's
    /// other callers in (updates, the trader's requests, health), as it would by waiting.
    func consume(_ ticks: TickInbox, shouldStop: @Sendable () -> Bool,
                 handled: @Sendable (Tick) -> (paced: Bool, acknowledge: Bool),
                 settled: @Sendable (Tick, _ acknowledge: Bool) -> Void) async {
        var sinceTurn = 0
        while true {
            guard let (tick, updatesBefore) = ticks.take() else {
                if await ticks.wait() { continue }
                break
            }
            if !ticks.updatesApplied(through: updatesBefore) {
                guard await ticks.waitForUpdates(through: updatesBefore) else { break }
            }
            if shouldStop() { break }
            let (paced, acknowledge) = handled(tick)
            let decidedAt = catchUps
            let outgoing = decide(tick)
            if !outgoing.isEmpty {
                if paced {
                    await send(outgoing, quote: tick.sequence)
                } else {
                    await sendBesideTheLoop(outgoing, quote: tick.sequence, decidedAt: decidedAt)
                }
            }
            if paced {
                await settle(within: .seconds(2))
                settled(tick, acknowledge)
            }
            sinceTurn += 1
            if sinceTurn == Self.ticksBetweenTurns || (paced && acknowledge) {
                sinceTurn = 0
                await Task.yield()
            }
        }
        // Queued entries are dropped; one already on its way (at mindsetd or routerd) ends as it would have.
        tickLoopStopped = true
        for task in Array(entriesBeside.values) { await task.value }
    }

    /// Ticks the loop handles before it lets other work on the coordinator run.
    static let ticksBetweenTurns = 16

    /// Live: a tick's exits go out from the loop (straight to routerd); its entry is sent by a task of its own, so
    /// that its wait for mindsetd (and routerd) holds up no other tick — above all no stop of another symbol. The
    /// entry holds its role from `decide`, so no second one of its strategy and symbol goes out meanwhile. A paced
    /// replay sends everything from the loop, in order, as a backtest does.
    /// `decidedAt`: `catchUps` when the tick was decided.
    func sendBesideTheLoop(_ outgoing: [(strategy: Strategy, signal: Signal)], quote: UInt64, decidedAt: Int) async {
        let exits = outgoing.filter { !$0.signal.isEntry }
        let entries = outgoing.filter { $0.signal.isEntry }
        if !exits.isEmpty { await send(exits, quote: quote) }
        guard !entries.isEmpty else { return }
        let id = nextEntryBeside
        nextEntryBeside += 1
        entriesToSend[id] = (entries, decidedAt)
        // Preferring the coordinator's loop, as the tick loop does, so the ports' calls stay on it.
        entriesBeside[id] = Task(executorPreference: executor) {
            await self.sendEntriesBeside(id, quote: quote)
        }
    }

    /// Sends the entries queued as `id` that still stand: not one whose role another order took meanwhile, whose
    /// strategy was disabled, decided before positions were read again (a resync or start-over: it may go beside
    /// what was just read), or queued when the tick loop stopped.
    private func sendEntriesBeside(_ id: Int, quote: UInt64) async {
        defer { entriesBeside[id] = nil }
        guard let (entries, catchUpsWhenDecided) = entriesToSend.removeValue(forKey: id) else { return }
        var standing: [(strategy: Strategy, signal: Signal)] = []
        for entry in entries {
            let clientOrderId = "bb-\(entry.signal.requestId)"
            let (strategyId, symbol) = (entry.strategy.id, entry.signal.symbol)
            let holdsItsRole = ordersInFlight[inFlightKey(strategyId, symbol, .entry)] == clientOrderId
            // Not after an exit of its own strategy and symbol went out meanwhile (a stop of a position another of its
            // entries opened, revived or working beside this one): a fresh entry right after a stop loss.
            let exitUnderWay = ordersInFlight[inFlightKey(strategyId, symbol, .exit)] != nil
                || workingBeside[inFlightKey(strategyId, symbol, .entry)]?.isEmpty == false
            if holdsItsRole, !exitUnderWay, entry.strategy.isEnabled, catchUps == catchUpsWhenDecided, !tickLoopStopped,
               tradesBeforeSnapshot || databaseId != nil {
                standing.append(entry)
                continue
            }
            ordersBeingPlaced.remove(clientOrderId)
            orderEnded(clientOrderId, strategy: entry.strategy, symbol: entry.signal.symbol, role: .entry)
            logger.info("an entry decided before a change was not sent", metadata: [
                "client_order_id": "\(clientOrderId)", "symbol": "\(entry.signal.symbol)", "strategy": "\(entry.strategy.id)",
            ])
        }
        if !standing.isEmpty { await send(standing, quote: quote) }
    }

    /// Entries sent beside the tick loop and not yet answered: the loop waits for them when it ends (queued ones are
    /// dropped then; one already at mindsetd or routerd ends as it would have).
    private var entriesBeside: [Int: Task<Void, Never>] = [:]
    private var entriesToSend: [Int: (entries: [(strategy: Strategy, signal: Signal)], catchUps: Int)] = [:]
    /// How many times positions were read again or confirmed (tests).
    var catchUpCount: Int { catchUps }

    /// Until the entries sent beside the tick loop have gone (tests).
    func entriesBesideSent() async {
        for task in Array(entriesBeside.values) { await task.value }
    }

    /// Set when the tick loop ends: entries queued and not yet sent are not sent.
    private var tickLoopStopped = false
    private var nextEntryBeside = 0

    /// Applies routerd's order and fill updates as they come, counting each in `ticks` once applied. When it ends
    /// (the stream finished, or this task cancelled), the tick loop ends too: a tick would otherwise wait forever
    /// for updates no one applies, and trading would stop without a word.
    func apply(_ updates: AsyncStream<RouterUpdate>, countingIn ticks: TickInbox) async {
        for await update in updates {
            await handle(update)
            ticks.noteUpdateApplied()
        }
        ticks.finish()
    }

    /// One tick through every strategy trading its symbol. Every exit goes out (each reduces its own strategy's
    /// position, which routerd checks one by one: exits never compete). Of the entries, the one ranked first by
    /// strength × confidence goes out, unless an exit goes out on the symbol this tick; the others are
    /// withdrawn.
    public func handle(tick: Tick) async {
        let outgoing = decide(tick)
        if !outgoing.isEmpty { await send(outgoing, quote: tick.sequence) }
    }

    /// The signals a tick makes, each already holding its role (see `handle(tick:)`): synchronous, so a loop on
    /// the actor (a backtest) pays no suspension for the ticks that make none.
    func decide(_ tick: Tick) -> [(strategy: Strategy, signal: Signal)] {
        counters.ticks += 1
        lastTicks[tick.symbol] = tick
        // Most ticks make no signal: nothing is built for them (docs/performance.md, "Backtest").
        var exits: [(strategy: Strategy, signal: Signal)] = []
        var entries: [(strategy: Strategy, signal: Signal)] = []
        for index in strategies.indices {
            let strategy = strategies[index]
            guard strategy.symbols.contains(tick.symbol), var signal = strategy.onTick(tick, requestId: nextRequestID) else { continue }
            if let graded = gradedConfidence[strategy.id] { signal.confidence = graded }
            counters.signals += 1
            if signal.isEntry {
                entries.append((strategy, signal))
            } else {
                exits.append((strategy, signal))
            }
        }
        if !tradesBeforeSnapshot, databaseId == nil, !entries.isEmpty {
            // Entries only: an exit reduces a position the books hold (none at start; after a start-over, the stops of
            // the positions still known must go out), and routerd bounds it.
            for (strategy, signal) in entries { strategy.orderEnded(symbol: tick.symbol, role: OrderRole(signal)) }
            entries = []
            withheldBeforeSnapshot += 1
            if withheldBeforeSnapshot == 1 {
                logger.notice("entries withheld until routerd's positions are read", metadata: ["symbol": "\(tick.symbol)"])
            }
        }
        if exits.isEmpty && entries.isEmpty { return [] }
        var outgoing = exits
        if !entries.isEmpty {
            // One entry per symbol: the strongest (the first of equals), and none beside an exit.
            let best = exits.isEmpty ? entries.indices.reduce(0) { entries[$1].signal.rank > entries[$0].signal.rank ? $1 : $0 } : nil
            for index in entries.indices where index != best {
                entries[index].strategy.orderEnded(symbol: tick.symbol, role: .entry)
            }
            if let best { outgoing.append(entries[best]) }
        }
        // Every signal going out holds its role before the first one is awaited: a catch-up while an earlier one is
        // being placed must not free a later one's strategy (it would send a second stop on the next tick).
        for signal in outgoing {
            let clientOrderId = "bb-\(signal.signal.requestId)"
            ordersInFlight[inFlightKey(signal.strategy.id, tick.symbol, OrderRole(signal.signal))] = clientOrderId
            ordersBeingPlaced.insert(clientOrderId)
        }
        return outgoing
    }

    /// Sends what `decide` returned, exits first, in order. `quote`: the sequence of the tick they were made on.
    func send(_ outgoing: [(strategy: Strategy, signal: Signal)], quote: UInt64) async {
        for (strategy, signal) in outgoing { await process(signal, from: strategy, quote: quote) }
    }

    /// The trader's own market order, through the strategies' path: an entry asks mindsetd, then goes to routerd
    /// (and obeys the rule against opposite positions); a reduce-only one goes straight to routerd and only
    /// reduces the trader's own (`manual`) position. The same events and records as a signal's.
    public func placeManualOrder(_ request: ManualOrderRequest) async throws -> ManualOrderResult {
        guard request.quantity.isPositive else { throw IPCError(.badRequest, "quantity must be positive, got \(request.quantity)") }
        guard let cap = manualMaxQuantity[request.symbol] else {
            throw IPCError(.badRequest, "no manual orders in \(request.symbol): set arsenal.manual_max_quantity.\(request.symbol)")
        }
        guard request.quantity <= cap else {
            throw IPCError(.badRequest, "quantity \(request.quantity) is above the largest manual order in \(request.symbol), \(cap) (arsenal.manual_max_quantity)")
        }
        let role: OrderRole = request.reduceOnly == true ? .exit : .entry
        if role == .entry, !tradesBeforeSnapshot, databaseId == nil {
            throw IPCError(.unavailable, "routerd's positions are not read yet (arsenald starting or resynchronising): no entry until they are")
        }
        if role == .exit, let rules = symbolRules[request.symbol], rules.tradableQuantity(request.quantity) != request.quantity {
            throw IPCError(.badRequest, "a reduce-only quantity must be tradable as asked (step \(rules.stepSize), between \(rules.minQuantity) and \(rules.maxQuantity)): \(request.quantity) would not close what was asked")
        }
        guard let tick = lastTicks[request.symbol] else {
            throw IPCError(.unavailable, "no price for \(request.symbol) yet: arsenald has not seen a tick of it")
        }
        if let holder = ordersInFlight[inFlightKey(manual.id, request.symbol, role)] {
            throw IPCError(.conflict, "manual order \(holder) for \(request.symbol) is still in flight; wait for it to settle")
        }
        if manual.isInFlight(symbol: request.symbol, role: .entry) || manual.isInFlight(symbol: request.symbol, role: .exit),
           ordersInFlight[inFlightKey(manual.id, request.symbol, .entry)] == nil, ordersInFlight[inFlightKey(manual.id, request.symbol, .exit)] == nil {
            throw IPCError(.conflict, "the trader's \(request.symbol) position is being rebuilt from routerd's record; try again shortly")
        }
        var requestId = nextRequestID()
        if let key = request.idempotencyKey {
            guard (1...31).contains(key.utf8.count), key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw IPCError(.badRequest, "idempotencyKey must be 1 to 31 of A-Z a-z 0-9 _ -")
            }
            requestId = request.keyedRequestId ?? requestId
            if ordersInFlight.values.contains("bb-\(requestId)") {
                throw IPCError(.conflict, "the order with idempotencyKey \(key) is still in flight")
            }
        }
        let signal = Signal(strategyId: manual.id, symbol: request.symbol, side: request.side, quantity: request.quantity,
                            price: request.side == .buy ? tick.ask : tick.bid, time: tick.time, strength: 1, confidence: 1,
                            isEntry: role == .entry, reason: "manual order", requestId: requestId)
        // The symbol's role is held from here, before the first await: a second manual order arriving while this one
        // is looked up or placed finds it in flight.
        // It counts as being placed from here too: a reconnect meanwhile must not start a confirmation of it, which
        // could take its absence before the send as "never arrived".
        let holdKey = inFlightKey(manual.id, request.symbol, role)
        ordersInFlight[holdKey] = "bb-\(requestId)"
        ordersBeingPlaced.insert("bb-\(requestId)")
        defer { ordersBeingPlaced.remove("bb-\(requestId)") }
        manual.track(request.symbol)
        manual.orderStillInFlight(symbol: request.symbol, role: role)
        if request.idempotencyKey != nil {
            let existing: OrderRecord?
            do {
                existing = try await router.order(clientOrderId: "bb-\(requestId)")
            } catch {
                orderEnded("bb-\(requestId)", strategy: manual, symbol: request.symbol, role: role)
                throw IPCError(.unavailable, "cannot tell from routerd whether this key's order exists: \(error)")
            }
            if let existing {
                orderEnded("bb-\(requestId)", strategy: manual, symbol: request.symbol, role: role)
                // A key reused for another order (the caller forgot it) must not be answered with the old order as if
                // it were this one: nothing would be sent and the caller would believe it was.
                if let difference = Self.difference(between: existing, and: request) {
                    throw IPCError(.keyReused, "idempotencyKey \(request.idempotencyKey ?? "") already names order \(existing.clientOrderId) "
                                   + "(\(existing.side.rawValue) \(existing.quantity) \(existing.symbol)\(existing.reduceOnly ? ", reduce-only" : "")), "
                                   + "which is not this request (\(difference)); nothing was sent")
                }
                return ManualOrderResult(outcome: .placed, signal: signal, order: existing, reason: "already placed with this idempotencyKey; not sent again",
                                         alreadyPlaced: true)
            }
        }
        counters.signals += 1
        switch await process(signal, from: manual) {
        case .notSent(let reason), .belowMinimum(let reason): return ManualOrderResult(outcome: .notSent, signal: signal, reason: reason)
        case .blocked(let decision): return ManualOrderResult(outcome: .blocked, signal: signal, decision: decision)
        case .placed(let order, let decision): return ManualOrderResult(outcome: .placed, signal: signal, decision: decision, order: order)
        case .unknown(let id): return ManualOrderResult(outcome: .unknown, signal: signal, reason: "order \(id) sent; routerd gave no answer arsenald could use (it is being looked up)")
        }
    }

    /// How the order a key already names differs from a manual request under that key, or nil when it is that
    /// request's order: the same symbol, side and kind (reduce-only or not), a market order of the trader's, and a
    /// quantity up to the one asked for an entry (mindsetd may scale it down, and the step size round it down), exactly
    /// the one asked for a reduce-only order (never scaled: a smaller one would leave part of the position open while
    /// the caller believes it closed).
    static func difference(between existing: OrderRecord, and request: ManualOrderRequest) -> String? {
        if existing.symbol != request.symbol.uppercased() { return "symbol \(request.symbol)" }
        if existing.side != request.side { return "side \(request.side.rawValue)" }
        if existing.reduceOnly != (request.reduceOnly == true) { return request.reduceOnly == true ? "reduce-only" : "not reduce-only" }
        if existing.type != .market || existing.limitPrice != nil { return "a market order" }
        if existing.strategyId != ManualTrading.strategyId { return "a manual order" }
        if existing.quantity > request.quantity { return "quantity \(request.quantity), smaller than the order's" }
        if existing.reduceOnly, existing.quantity != request.quantity {
            return "quantity \(request.quantity), where the reduce-only order is \(existing.quantity) (never scaled)"
        }
        return nil
    }

    /// Why another strategy's state on the symbol forbids this entry, or nil: an entry of its still unsettled
    /// (its direction's fills are not known yet), or a position on the opposite side.
    private func conflictingEntry(_ signal: Signal, from strategy: Strategy) -> String? {
        for other in everyStrategy where other !== strategy {
            if ordersInFlight[inFlightKey(other.id, signal.symbol, .entry)] != nil {
                return "\(other.id)'s entry in \(signal.symbol) is still unsettled"
            }
            if let held = other.position(of: signal.symbol)?.quantity, !held.isZero, held.isPositive != (signal.side == .buy),
               held.magnitude >= symbolRules[signal.symbol]?.minQuantity ?? .zero {
                return "\(other.id) holds the opposite side of \(signal.symbol) (\(held))"
            }
        }
        return nil
    }

    private func nextRequestID() -> String {
        sequence += 1
        return "\(runID)-\(sequence)"
    }

    /// `quote`: the sequence of the tick the signal was made on (a paced replay fills at its quote). The signal and
    /// what came of it are kept in `recentSignals`.
    @discardableResult
    private func process(_ signal: Signal, from strategy: Strategy, quote: UInt64? = nil) async -> TradeOutcome {
        recentSignals.proposed(signal)
        // Everything on the signal's path is the trade's: its lines and the calls it makes (`rid`).
        let outcome = await RequestId.$current.withValue(signal.requestId) { await trade(signal, from: strategy, quote: quote) }
        recentSignals.settled(signal.requestId, outcome)
        settledObserver(strategy.id, outcome)
        return outcome
    }

    private func trade(_ signal: Signal, from strategy: Strategy, quote: UInt64?) async -> TradeOutcome {
        var logger = logger
        logger[metadataKey: "request_id"] = "\(signal.requestId)"
        let clientOrderId = "bb-\(signal.requestId)"
        let role = OrderRole(signal)
        ordersInFlight[inFlightKey(strategy.id, signal.symbol, role)] = clientOrderId
        ordersBeingPlaced.insert(clientOrderId)
        defer { ordersBeingPlaced.remove(clientOrderId) }
        let catchUpsBefore = catchUps
        if signal.isEntry, let conflict = conflictingEntry(signal, from: strategy) {
            // Strategies' positions in one symbol net out at the venue: against another strategy's, an entry would
            // leave neither strategy's reduce-only stop able to close its own position there.
            counters.entriesAgainstAnotherStrategy += 1
            orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
            logger.info("entry skipped", metadata: ["symbol": "\(signal.symbol)", "reason": "\(conflict)"])
            return .notSent(conflict)
        }
        if signal.isEntry, signal.side == .sell, symbolRules[signal.symbol]?.shortSelling != true {
            // On spot it would sell coins the strategy does not hold (another's, or none: refused); without
            // routerd's rules yet it is not known to be allowed. An exit (reduce-only) still goes out.
            counters.shortsNotAllowed += 1
            orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
            logger.debug("short entry skipped: the symbol trades spot at its venue", metadata: ["symbol": "\(signal.symbol)"])
            return .notSent("\(signal.symbol) cannot be sold short at its venue (or routerd's rules for it are not known yet)")
        }
        publish(Events.signal, signal, nil)
        guard router.isConnected else {
            counters.droppedRouterUnavailable += 1
            if role == .exit { strategy.exitRefused(symbol: signal.symbol) }
            orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
            logger.warning("signal dropped: routerd unavailable", metadata: ["symbol": "\(signal.symbol)", "side": "\(signal.side.rawValue)"])
            return .notSent("routerd is unavailable")
        }
        let decision: MindsetDecision
        if signal.isEntry {
            do {
                var proposal = signal.proposal
                proposal.fillSequence = seenThrough
                proposal.fillDatabaseId = seenDatabaseId
                proposal.fillId = seenFillId
                decision = try await mindset.evaluate(proposal)
            } catch {
                counters.blocked += 1
                counters.blockedMindsetUnavailable += 1
                orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
                let closed = MindsetDecision.blocked("mindset_unavailable", "mindset unavailable (\(error)): failing closed", emotionState: "UNKNOWN")
                publish(Events.decision, signal, closed)
                recentSignals.decided(signal.requestId, closed)
                logger.warning("signal blocked: mindsetd unavailable, failing closed", metadata: ["error": "\(error)"])
                return .blocked(closed)
            }
        } else {
            // An exit or a stop reduces risk: it goes straight to routerd, reduce-only (routerd refuses it if it
            // would grow or flip the position, and passes it while paused). mindsetd is never asked, so neither
            // a slow nor an absent mindsetd delays it; it counts the closed trade from routerd's fill log.
            decision = MindsetDecision(approved: true, sizeMultiplier: 1, approvedQuantity: signal.quantity, emotionState: "-",
                                       reasons: ["exit: reduce-only, straight to routerd (mindsetd counts it from the fill log)"], codes: ["exit"])
        }
        publish(Events.decision, signal, decision)
        recentSignals.decided(signal.requestId, decision)
        guard decision.approved, decision.approvedQuantity.isPositive else {
            counters.blocked += 1
            orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
            logger.info("signal blocked by mindset", metadata: ["symbol": "\(signal.symbol)", "reasons": "\(decision.reasons.joined(separator: "; "))"])
            return .blocked(decision)
        }
        counters.approved += 1
        // mindsetd only ever shrinks a proposal: an answer that says more (a mismatched or faulty mindsetd) is held to
        // what the strategy proposed, so no size limit of the strategy's or the trader's is passed.
        var quantity = min(decision.approvedQuantity, signal.quantity)
        if let rules = symbolRules[signal.symbol] {
            guard let tradable = rules.tradableQuantity(quantity) else {
                counters.belowMinimum += 1
                if role == .exit { strategy.exitRefused(symbol: signal.symbol) }
                orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
                logger.info("approved size is below the symbol's minimum once rounded to its step size; no order", metadata: [
                    "symbol": "\(signal.symbol)", "approved": "\(decision.approvedQuantity)", "step_size": "\(rules.stepSize)",
                    "min_quantity": "\(rules.minQuantity)",
                ])
                return .belowMinimum("the approved size \(decision.approvedQuantity) is below \(signal.symbol)'s minimum once rounded to its step size")
            }
            quantity = tradable
        }
        // A stop sent while this strategy's entry is unsettled cancels what is left of that entry (noted now: by the
        // time routerd answers, a newer entry may hold the role). Not for the trader's own orders.
        let entryKey = inFlightKey(strategy.id, signal.symbol, .entry)
        let entriesToCancel = role == .exit && strategy !== manual
            ? (ordersInFlight[entryKey].map { [$0] } ?? []) + (workingBeside[entryKey] ?? []) : []
        // Exits and stops are reduce-only: routerd refuses them if they would grow or flip the position, and
        // lets them through while trading is paused.
        let request = PlaceOrderRequest(
            clientOrderId: clientOrderId, symbol: signal.symbol, side: signal.side, type: .market,
            quantity: quantity, reduceOnly: signal.isEntry ? nil : true, strategyId: signal.strategyId, requestId: signal.requestId,
            quoteSequence: quote)
        do {
            let order = try await placeResizingExit(request, of: strategy, logger: logger)
            counters.ordersPlaced += 1
            if order.status == .rejected || order.status == .cancelled || order.status == .expired {
                counters.ordersRejected += 1
                if role == .exit { strategy.exitRefused(symbol: signal.symbol) }
                // Ended with part of it filled (a market order a venue expired short, Binance's EXPIRED): the role
                // waits for that part's fills, or the strategy would believe its position smaller and enter again.
                endOnceFilled(clientOrderId, filled: order.filledQuantity, strategy: strategy, symbol: signal.symbol, role: role)
                logger.warning("order not accepted", metadata: ["client_order_id": "\(order.clientOrderId)", "reason": "\(order.rejectReason ?? order.status.rawValue)"])
            } else {
                for entry in entriesToCancel { cancelUnsettledEntry(entry, of: strategy, symbol: signal.symbol) }
                logger.info("order placed", metadata: [
                    "client_order_id": "\(order.clientOrderId)", "symbol": "\(order.symbol)", "side": "\(order.side.rawValue)",
                    "quantity": "\(order.quantity)", "status": "\(order.status.rawValue)",
                ])
                if order.status.isFinal && catchUps != catchUpsBefore {
                    // A catch-up ran while this order was being placed and left its symbol busy; its events may
                    // have gone out before the stream was back. Fetch its fills, then free the symbol.
                    do {
                        try await onGap?()
                        endOnceFilled(clientOrderId, filled: order.filledQuantity, strategy: strategy, symbol: signal.symbol, role: role)
                    } catch {
                        // Its fills may be missing: the symbol stays busy until a fetch succeeds.
                        releaseAfterFetch.append((clientOrderId, strategy.id, signal.symbol, role, order.filledQuantity))
                        fetchMissingFills()
                    }
                } else if !order.status.isFinal && catchUps != catchUpsBefore {
                    // Not final yet (a live venue's usual answer), and its final event may have gone out before the
                    // stream was back: routerd's record is asked until it is final, else nothing would free the symbol.
                    confirmInBackground(clientOrderId, symbol: signal.symbol, role: role, strategyId: signal.strategyId)
                }
            }
            return .placed(order, decision)
        } catch let error where PlaceRefusal.meansNotSent(error) {
            // routerd refused it before recording it as sent (or the call never went out): certainly not sent.
            counters.droppedRouterUnavailable += 1
            if role == .exit { strategy.exitRefused(symbol: signal.symbol) }
            orderEnded(clientOrderId, strategy: strategy, symbol: signal.symbol, role: role)
            logger.warning("signal dropped: order could not be sent", metadata: ["error": "\(error)"])
            guard PlaceRefusal.isRuleRefusal(error) else { return .notSent("the order could not be sent: \(error)") }
            readRulesAgain()
            // A size the mindset scaled down may be what fell under a rule (a minimum notional): say so.
            let sized = quantity < signal.quantity
                ? " (sent as \(quantity) of the \(signal.quantity) proposed: \(decision.reasons.joined(separator: "; ")))" : ""
            return .notSent("the order could not be sent: \(error)\(sized)")
        } catch {
            // Anything else (a timeout, a lost connection, an answer that could not be read) and the order may have
            // reached routerd and the venue: keep the symbol busy (no second order, no flip) until routerd's record
            // says what happened.
            logger.error("order outcome unknown; confirming with routerd",
                         metadata: ["client_order_id": "\(request.clientOrderId ?? "")", "error": "\(error)"])
            confirmInBackground(clientOrderId, symbol: signal.symbol, role: role, strategyId: signal.strategyId)
            return .unknown(clientOrderId: clientOrderId)
        }
    }

    /// Places `request`. A strategy's exit that routerd refuses as more than may still reduce the position (its
    /// reduce-only check counts what other exits have sold or may sell, fills the venue has not sent yet included)
    /// is sent once more at what routerd says may still go out, on the symbol's step: a stop that sells what is held
    /// beats one that sells nothing. Not the trader's own orders (a manual close is exactly what was asked).
    private func placeResizingExit(_ request: PlaceOrderRequest, of strategy: Strategy, logger: Logger) async throws -> OrderRecord {
        do {
            return try await router.place(request)
        } catch let error as IPCError where error.code == .badRequest && request.reduceOnly == true && strategy !== manual {
            guard let room = ReduceOnlyAllowance.parse(error.message), let rules = symbolRules[request.symbol],
                  let resized = rules.tradableQuantity(room), resized < request.quantity else { throw error }
            logger.warning("exit larger than routerd lets reduce the position; sent again at what may still go out", metadata: [
                "symbol": "\(request.symbol)", "asked": "\(request.quantity)", "sent": "\(resized)", "refusal": "\(error.message)",
            ])
            var smaller = request
            smaller.quantity = resized
            return try await router.place(smaller)
        }
    }

    /// A stop went out while the strategy's entry in the symbol is unsettled: what is left of that entry is
    /// cancelled, so it cannot fill after the stop and reopen the position at a worse average (a market order
    /// is usually final already: routerd then refuses the cancel, which changes nothing).
    /// Sent beside the trade path (a stop of another strategy on the same tick does not wait for it), and only
    /// while `entry` still holds the role or works beside its holder (`workingBeside`).
    private func cancelUnsettledEntry(_ entry: String, of strategy: Strategy, symbol: String) {
        let key = inFlightKey(strategy.id, symbol, .entry)
        guard ordersInFlight[key] == entry || workingBeside[key]?.contains(entry) == true else { return }
        let router = router
        let logger = logger
        // The cancel is the entry's story, not the stop's whose path this runs on.
        Task {
            await RequestId.$current.withValue(Self.requestId(ofOrder: entry)) {
                do {
                    let order = try await router.cancel(clientOrderId: entry)
                    logger.notice("unsettled entry cancelled after its position's stop", metadata: [
                        "client_order_id": "\(entry)", "status": "\(order.status.rawValue)", "filled": "\(order.filledQuantity)",
                    ])
                } catch {
                    logger.debug("unsettled entry not cancelled", metadata: ["client_order_id": "\(entry)", "error": "\(error)"])
                }
            }
        }
    }

    /// The request id an order's client order id carries (`bb-<request id>`), for the calls made about it later.
    static func requestId(ofOrder clientOrderId: String) -> String? {
        clientOrderId.hasPrefix("bb-") ? String(clientOrderId.dropFirst(3)) : nil
    }

    /// Confirms `clientOrderId` in the background (`confirm`, fetching its fills) unless a confirmation of it is
    /// under way: every `arsenal.confirm_interval_ms` 30 times, then every 15 intervals for as long as the order holds
    /// its role, under the order's own request id. `lookingNow` (a reconnect, when the order's final event may simply
    /// have been missed): the first look-up goes at once, replacing a confirmation under way, which may be in a slow
    /// pause after routerd was down (an exit's role would wait out that pause).
    private func confirmInBackground(_ clientOrderId: String, symbol: String, role: OrderRole, strategyId: String, lookingNow: Bool = false) {
        if let running = confirmations[clientOrderId] {
            guard lookingNow else { return }
            running.task.cancel()
        }
        confirmationsStarted += 1
        let number = confirmationsStarted
        let pause = confirmPause
        confirmations[clientOrderId] = (number, Task {
            defer { if confirmations[clientOrderId]?.number == number { confirmations[clientOrderId] = nil } }
            await RequestId.$current.withValue(Self.requestId(ofOrder: clientOrderId)) {
                await confirm(clientOrderId: clientOrderId, symbol: symbol, role: role, strategyId: strategyId,
                              pause: pause, fetchingFills: true, thenEvery: pause * 15, lookingNow: lookingNow)
            }
        })
    }

    /// Looks an uncertain order up by its id (never re-sending it) until routerd's record settles it: absent means it
    /// never arrived, final means done; either frees the symbol. It stops when the role is freed otherwise (the
    /// order's final event) or held by another order; while the order is being placed again its answer will tell.
    /// An entry's first answered look-up is not trusted to say absent: routerd, stalled while the order and the
    /// look-ups waited in its socket, may read them together and answer a look-up before the order is recorded, and
    /// a second entry would then go out beside the first. A pause after an answer, the order is recorded if it came.
    /// An exit is freed at once: a stop must not wait, and routerd's reduce-only check keeps a second exit from
    /// closing more than the position.
    /// `fetchingFills`: its fills are fetched from routerd's log before the symbol is freed (the record, read on
    /// the command connection, can be final while its fill is still queued on the stream, or was missed in a
    /// catch-up): freed with no fill applied, a strategy would send its entry again.
    /// An order that ended unfilled (rejected, cancelled, expired, nothing filled) has no fills to fetch: freed at
    /// once, as by its final event (an exit's end backed off like a refusal).
    /// After `attempts` look-ups it gives up (the role stays busy), or with `thenEvery` it asks at that slower pace
    /// for as long as the order holds its role: nothing else would free it. An exit whose `attempts` look-ups in a
    /// row all failed is freed (its position's stop must be able to go out; routerd counts its open reduce-only
    /// orders, so a second exit cannot close more than the position). A cancelled confirmation stops.
    func confirm(clientOrderId: String, symbol: String, role: OrderRole, strategyId: String, attempts: Int = 30,
                 pause: Duration = .seconds(2), fetchingFills: Bool = false, thenEvery slowPause: Duration? = nil,
                 lookingNow: Bool = false) async {
        var answeredBefore = false
        var asked = 0
        var failedInARow = 0
        while true {
            if asked < attempts {
                if asked > 0 || !lookingNow { try? await Task.sleep(for: pause) }
            } else if let slowPause {
                if asked == attempts {
                    logger.error("uncertain order still unsettled; the symbol stays busy, and routerd's record is asked less often",
                                 metadata: ["client_order_id": "\(clientOrderId)", "look_ups": "\(asked)", "every": "\(slowPause)"])
                }
                try? await Task.sleep(for: slowPause)
            } else {
                break
            }
            if Task.isCancelled { return }
            asked += 1
            guard let strategy = strategy(strategyId) else { return }
            guard ordersInFlight[inFlightKey(strategyId, symbol, role)] == clientOrderId else {
                logger.info("uncertain order no longer holds its symbol (its final event came, or a newer order holds it); not asked about again",
                            metadata: ["client_order_id": "\(clientOrderId)"])
                return
            }
            // Being placed (a manual order's key sent again): what routerd answered before the send proves nothing.
            if ordersBeingPlaced.contains(clientOrderId) {
                answeredBefore = false
                continue
            }
            do {
                let found = try await router.order(clientOrderId: clientOrderId)
                failedInARow = 0
                if ordersBeingPlaced.contains(clientOrderId) {
                    answeredBefore = false
                    continue
                }
                guard let order = found else {
                    guard answeredBefore || role == .exit else {
                        answeredBefore = true
                        continue
                    }
                    orderEnded(clientOrderId, strategy: strategy, symbol: symbol, role: role)
                    noteLetGo(clientOrderId)
                    logger.warning("uncertain order never reached routerd", metadata: ["client_order_id": "\(clientOrderId)"])
                    return
                }
                answeredBefore = true
                if order.status.isFinal {
                    logger.notice("uncertain order settled", metadata: ["client_order_id": "\(clientOrderId)", "status": "\(order.status.rawValue)"])
                    if order.status != .filled, order.filledQuantity.isZero, order.strategyId == strategyId {
                        handle(order: order)
                        return
                    }
                    guard fetchingFills else {
                        endOnceFilled(clientOrderId, filled: order.filledQuantity, strategy: strategy, symbol: symbol, role: role)
                        return
                    }
                    do {
                        try await onGap?()
                    } catch {
                        // Its fills may be missing: the symbol stays busy until a fetch succeeds.
                        releaseAfterFetch.append((clientOrderId, strategy.id, symbol, role, order.filledQuantity))
                        fetchMissingFills()
                        return
                    }
                    if endOnceFilled(clientOrderId, filled: order.filledQuantity, strategy: strategy, symbol: symbol, role: role) { return }
                    // Final at routerd, its fills not all in routerd's log yet (routerd fetches them from the venue):
                    // asked again, and freed as they come. An exit is not held past `attempts` look-ups: its position's
                    // stop must be able to go out (routerd's reduce-only check bounds a second exit).
                    if role == .exit, asked >= attempts {
                        orderEnded(clientOrderId, strategy: strategy, symbol: symbol, role: role, takingOver: false)
                        logger.critical("an exit's fills did not all reach arsenald; freed so the position's stop can go out", metadata: [
                            "client_order_id": "\(clientOrderId)", "filled": "\(order.filledQuantity)", "look_ups": "\(asked)",
                        ])
                        return
                    }
                    if asked == attempts {
                        // No new risk on a position arsenald cannot size: held until the fills come, or until arsenald
                        // restarts from routerd's positions. The stop still acts.
                        logger.critical("an entry's fills did not all reach arsenald; its symbol takes no new entry until they do", metadata: [
                            "client_order_id": "\(clientOrderId)", "filled": "\(order.filledQuantity)",
                            "fills_applied": "\(filledTaken[clientOrderId] ?? .zero)", "look_ups": "\(asked)",
                        ])
                    }
                    continue
                }
            } catch {
                failedInARow += 1
                if role == .exit, failedInARow >= attempts {
                    orderEnded(clientOrderId, strategy: strategy, symbol: symbol, role: role, takingOver: false)
                    logger.critical("an uncertain exit could not be looked up at routerd; freed so the position's stop can go out (routerd's reduce-only check bounds it)",
                                    metadata: ["client_order_id": "\(clientOrderId)", "failed_look_ups": "\(failedInARow)", "error": "\(error)"])
                    return
                }
                continue
            }
        }
        logger.error("uncertain order still unsettled; the symbol stays busy", metadata: ["client_order_id": "\(clientOrderId)", "look_ups": "\(asked)"])
    }

    /// True when fills counted in database `id`, whose log ends at `lastSequence`, continue what was applied
    /// (the same database, or none known yet, which is then taken as this one). False when the database
    /// changed or its log went back below what was applied (a backup restored with the same identity): then
    /// what was applied is forgotten, and only a positions snapshot is right.
    /// `appliedWhenAsked`: what was applied when the page was asked for. Fills applied since (the stream, another
    /// catch-up) may be past the page's end: that is not a log gone back.
    public func continues(database id: String, lastSequence: Int64, appliedWhenAsked: Int64? = nil) -> Bool {
        if let known = databaseId, known != id {
            startOver("routerd's database changed (was \(known), now \(id))")
            (seenThrough, seenDatabaseId, seenFillId) = (0, id, nil)
            return false
        }
        guard lastSequence >= min(appliedWhenAsked ?? appliedThrough, appliedThrough) else {
            startOver("routerd's fill log ends at \(lastSequence), before the \(appliedThrough) fills applied here: a restored backup?")
            (seenThrough, seenFillId) = (lastSequence, nil)
            return false
        }
        databaseId = id
        seenDatabaseId = id
        return true
    }

    /// Forgets every fill applied and held: the next positions snapshot is taken whatever its sequence, and
    /// a held fill that may belong to the old log is never applied.
    private func startOver(_ reason: String) {
        logger.critical("positions are rebuilt from routerd's record", metadata: ["reason": "\(reason)", "applied_through": "\(appliedThrough)"])
        appliedThrough = 0
        heldFills.removeAll()
        heldNotCounted.removeAll()
        databaseId = nil
        awaitingSnapshot = true
        untallyOrdersInFlight()
    }

    /// routerd refused an order by a symbol rule: the venue's rules may have changed since they were read (Binance
    /// changes a step size now and then, and routerd follows it), so they are read again, and the retried exit is
    /// rounded onto the new step. One read at a time.
    private func readRulesAgain() {
        guard !readingRules else { return }
        readingRules = true
        Task {
            defer { readingRules = false }
            await RequestId.$current.withValue(nil) {
                do {
                    setSymbolRules(try await router.symbolRules())
                    logger.notice("symbol rules read again from routerd after a refusal by rule")
                } catch {
                    logger.warning("symbol rules could not be read again; the last ones stay", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Reads routerd's rules again while connected (the daemon does so every minute): fees and rules change while
    /// arsenald stays connected. Not read this time, the last ones stay.
    public func readSymbolRulesAgain() async {
        guard router.isConnected else { return }
        do {
            setSymbolRules(try await router.symbolRules())
        } catch {
            logger.debug("symbol rules not read this time; the last ones stay", metadata: ["error": "\(error)"])
        }
    }

    /// Each symbol's least tradable quantity, from routerd's rules: a position below it is dust, and flat.
    public var minimumQuantities: [String: ExactDecimal] { symbolRules.mapValues(\.minQuantity) }

    /// Takes routerd's rules for every symbol (at each connection: a venue's rules may change).
    public func setSymbolRules(_ rules: [SymbolRules]) {
        let before = symbolRules
        symbolRules = Dictionary(rules.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        for (symbol, rule) in symbolRules.sorted(by: { $0.key < $1.key }) where before[symbol]?.feeRate != rule.feeRate {
            logger.notice("the venue's fee for a symbol, counted in the strategies' thresholds where above their fee_rate", metadata: [
                "symbol": "\(symbol)", "fee_rate": "\(rule.feeRate.map { "\($0)" } ?? "-")",
                "before": "\(before[symbol]?.feeRate.map { "\($0)" } ?? "-")",
            ])
        }
        for strategy in everyStrategy {
            for symbol in strategy.symbols {
                if let rules = symbolRules[symbol] { strategy.setSymbolRules(rules) }
            }
        }
    }

    public func handle(_ update: RouterUpdate) async {
        switch update {
        case .order(let order): handle(order: order)
        case .fill(let fill): await handle(fill: fill)
        }
    }

    /// An order update from routerd: a final order frees its symbol (in its role: exits are the reduce-only
    /// orders) for the next signal.
    public func handle(order: OrderRecord) {
        guard let strategy = strategy(order.strategyId) else { return }
        let role: OrderRole = order.reduceOnly ? .exit : .entry
        guard order.status.isFinal else {
            holdAgainIfLetGo(order, strategy: strategy, role: role)
            return
        }
        if endedBeside(order, key: inFlightKey(strategy.id, order.symbol, role)) { return }
        // Only an order of this coordinator's (the one holding the role), not a take-profit or flatten order routerd
        // placed for the strategy, is held again if it turns up working.
        if order.wasGivenUpAsNotFound, ordersInFlight[inFlightKey(strategy.id, order.symbol, role)] == order.clientOrderId {
            noteLetGo(order.clientOrderId)
        }
        if role == .exit, order.status != .filled, order.filledQuantity.isZero,
           ordersInFlight[inFlightKey(strategy.id, order.symbol, .exit)] == order.clientOrderId {
            // Accepted, then ended without a fill (rejected, expired, cancelled): a refusal, backed off like one.
            strategy.exitRefused(symbol: order.symbol)
        }
        endOnceFilled(order.clientOrderId, filled: order.filledQuantity, strategy: strategy, symbol: order.symbol, role: role)
    }

    /// After positions were taken from a snapshot (a start, or routerd's database changed), what this coordinator held
    /// in flight before is gone, but routerd may still be settling orders of its strategies: `working`, each not final
    /// at routerd (unknown, sent, resting), holds its role until it ends, and is confirmed; `givenUp`, orders routerd
    /// gave up as not found at their venue (final), are let go of, so that one found working later holds its role again.
    /// Without this, the first signal after a restart would send a second entry beside an order still in doubt.
    /// An adopted order's fills before the snapshot are in it: its tally is unknown, and its final record frees it.
    /// Only this coordinator's own orders (`bb-…`: its strategies' and the trader's manual ones), which it holds while
    /// they work; not mindsetd's flattening orders (`mf-…`), which it never held.
    public func adopt(working: [OrderRecord], givenUp: [OrderRecord]) {
        for order in givenUp where order.wasGivenUpAsNotFound && Self.isOwn(order) {
            guard let strategy = strategy(order.strategyId) else { continue }
            // A revived order is held again only in a symbol its strategy trades: the trader's, whatever it is.
            if strategy === manual { manual.track(order.symbol) }
            noteLetGo(order.clientOrderId)
        }
        for order in working where !order.status.isFinal && Self.isOwn(order) {
            guard let strategy = strategy(order.strategyId), strategy.symbols.contains(order.symbol) || strategy === manual else { continue }
            let role: OrderRole = order.reduceOnly ? .exit : .entry
            let key = inFlightKey(strategy.id, order.symbol, role)
            if let holder = ordersInFlight[key] {
                if holder != order.clientOrderId {
                    logger.critical("routerd has an order working beside the one that holds its role; the role stays held until both end", metadata: [
                        "client_order_id": "\(order.clientOrderId)", "holder": "\(holder)", "status": "\(order.status.rawValue)",
                    ])
                    noteWorkingBeside(order.clientOrderId, key: key)
                }
                continue
            }
            ordersInFlight[key] = order.clientOrderId
            filledUntallied.insert(order.clientOrderId)
            if strategy === manual { manual.track(order.symbol) }
            strategy.orderStillInFlight(symbol: order.symbol, role: role)
            logger.notice("an order routerd is still settling holds its role", metadata: [
                "client_order_id": "\(order.clientOrderId)", "strategy": "\(strategy.id)", "symbol": "\(order.symbol)",
                "status": "\(order.status.rawValue)",
            ])
            confirmInBackground(order.clientOrderId, symbol: order.symbol, role: role, strategyId: strategy.id)
        }
    }

    /// Whether this coordinator placed `order`: a market order whose client order id is `bb-<its request id>` (routerd
    /// also names `bb-…` an order sent to it without an id, such as one placed by hand over IPC, which may rest).
    static func isOwn(_ order: OrderRecord) -> Bool {
        order.type == .market && order.requestId.map { order.clientOrderId == "bb-" + $0 } == true
    }

    private func noteLetGo(_ clientOrderId: String) {
        guard !letGo.contains(clientOrderId) else { return }
        letGo.append(clientOrderId)
        if letGo.count > Self.letGoLimit { letGo.removeFirst(letGo.count - Self.letGoLimit) }
    }

    /// A working order this coordinator let go of (`letGo`): routerd revived it (found at its venue after it was given
    /// up as not found), or a confirmation took it as never arrived. Its role is held again until routerd's record
    /// says it ended (its final event, or a confirmation started now), or the next signal would double up with it.
    /// Any other working order (a take-profit or flatten order routerd placed for a strategy, an event older than the
    /// answer that ended it) is left alone. With a newer order holding the role, both are working: said loudly, and
    /// it takes the role over when the newer one ends (`workingBeside`).
    private func holdAgainIfLetGo(_ order: OrderRecord, strategy: Strategy, role: OrderRole) {
        guard let index = letGo.lastIndex(of: order.clientOrderId), strategy.symbols.contains(order.symbol) else { return }
        letGo.remove(at: index)
        let key = inFlightKey(strategy.id, order.symbol, role)
        if ordersInFlight[key] == order.clientOrderId { return }
        guard let holder = ordersInFlight[key] else {
            ordersInFlight[key] = order.clientOrderId
            // Fills of it may have been applied while nothing held the role: they were not tallied.
            filledUntallied.insert(order.clientOrderId)
            strategy.orderStillInFlight(symbol: order.symbol, role: role)
            logger.warning("an order let go of is working at routerd after all; its symbol is held until it ends", metadata: [
                "client_order_id": "\(order.clientOrderId)", "status": "\(order.status.rawValue)",
            ])
            confirmInBackground(order.clientOrderId, symbol: order.symbol, role: role, strategyId: strategy.id)
            return
        }
        logger.critical("an order let go of is working at routerd beside a newer one in the same role; the role stays held until both end", metadata: [
            "client_order_id": "\(order.clientOrderId)", "holder": "\(holder)", "status": "\(order.status.rawValue)",
        ])
        noteWorkingBeside(order.clientOrderId, key: key)
    }

    /// Called when a fill arrives past a gap, or cannot be applied, so the daemon fetches the missing fills (or a
    /// positions snapshot). A failed fetch is tried again, 1 s then doubling to 30 s, until it succeeds: until
    /// then the symbol whose fill could not be applied sends nothing.
    func setConfirmPause(_ pause: Duration) { confirmPause = pause }

    public func setGapHandler(retryPause: Duration = .seconds(1), _ handler: @escaping @Sendable () async throws -> Void) {
        onGap = handler
        gapRetryPause = retryPause
    }

    private func fetchMissingFills() {
        guard let onGap else { return }
        guard !fetchingGap else {
            fetchAgain = true
            return
        }
        fetchingGap = true
        // Beside every trade: the request id of the trade path that started it is not this work's.
        Task {
            await RequestId.$current.withValue(nil) {
                repeat {
                    fetchAgain = false
                    var pause = gapRetryPause
                    while true {
                        do {
                            try await onGap()
                            break
                        } catch {
                            logger.error("could not fetch missing fills from routerd; trying again", metadata: ["error": "\(error)", "in": "\(pause)"])
                        }
                        try? await Task.sleep(for: pause)
                        if Task.isCancelled { break }
                        pause = min(pause * 2, .seconds(30))
                    }
                } while fetchAgain && !Task.isCancelled
                fetchingGap = false
                let released = releaseAfterFetch
                releaseAfterFetch.removeAll()
                for order in released {
                    if let strategy = strategy(order.strategyId) {
                        endOnceFilled(order.clientOrderId, filled: order.filled, strategy: strategy, symbol: order.symbol, role: order.role)
                    }
                }
            }
        }
    }

    public var heldFillCount: Int { heldFills.count }

    /// `counts`: false for a fill of a venue that is not the trader's account (a paper run's fill in the log of a
    /// live routerd): its place in the sequence is taken, so the fills after it follow on, and it moves no position.
    public func handle(fill: Fill, counts: Bool = true) async {
        guard let sequence = fill.sequence else {
            take(fill, counts: counts)
            return
        }
        if sequence >= seenThrough { (seenThrough, seenFillId) = (sequence, fill.fillId) }
        guard sequence > appliedThrough else { return }
        guard sequence == appliedThrough + 1 else {
            let newGap = heldFills.isEmpty
            heldFills[sequence] = fill
            if !counts { heldNotCounted.insert(sequence) }
            if newGap {
                logger.warning("fill arrived past a gap in the fill log; holding it until the missing fills are fetched",
                               metadata: ["expected": "\(appliedThrough + 1)", "got": "\(sequence)"])
                fetchMissingFills()
            }
            return
        }
        appliedThrough = sequence
        take(fill, counts: counts)
        drainHeldFills(afterJump: false)
    }

    /// Applies held fills that now follow on. `afterJump`: a resync moved `appliedThrough` past some of them
    /// (otherwise every held fill is still ahead, and the cost stays per fill applied, not per fill held).
    private func drainHeldFills(afterJump: Bool) {
        if afterJump {
            heldFills = heldFills.filter { $0.key > appliedThrough }
            heldNotCounted = heldNotCounted.filter { $0 > appliedThrough }
        }
        while let next = heldFills.removeValue(forKey: appliedThrough + 1) {
            appliedThrough += 1
            take(next, counts: heldNotCounted.remove(appliedThrough) == nil)
        }
    }

    private func apply(_ fill: Fill) {
        counters.fills += 1
        guard let strategy = strategy(fill.strategyId) else { return }
        let closed: ClosedTrade?
        do {
            closed = try strategy.onFill(fill)
        } catch {
            // The position no longer matches routerd's: no new signal for the symbol, and the positions are
            // rebuilt from routerd's record (the fetch of "missing" fills, with nothing applied, takes a snapshot).
            logger.critical("a fill could not be applied to the strategy's position; rebuilding positions from routerd",
                            metadata: ["fill_id": "\(fill.fillId)", "error": "\(error)"])
            for role in OrderRole.allCases { strategy.orderStillInFlight(symbol: fill.symbol, role: role) }
            startOver("fill \(fill.fillId) could not be applied")
            rebuildGeneration += 1
            fetchMissingFills()
            return
        }
        if closed != nil { counters.closedTrades += 1 }
    }

    /// Sets every strategy's positions from routerd's record of fills (after a restart or reconnect).
    /// Returns false, changing nothing, when the snapshot is older than fills already applied (the fill
    /// stream and the query use different connections): the caller asks for a fresh one.
    /// No order in flight is freed by a snapshot (it may predate the order's fills; a freed entry would be sent
    /// again). After a reconnect each one not being placed is confirmed from routerd's record, as its final event
    /// may have been missed; `keepingOrdersInFlight`: the snapshot fills a gap in the fill log while the stream
    /// stayed up, so their events are still to come.
    /// `generation`: `rebuildGeneration` when the snapshot was asked for; one asked for before a fill failed to apply
    /// is refused (the caller asks again).
    @discardableResult
    /// `adopting`: the orders routerd was settling when the snapshot was asked for (`adopt`), taken in the same step, so
    /// that no tick between the two sends an entry beside one of them.
    public func resync(_ snapshot: StrategyPositionsResponse, keepingOrdersInFlight: Bool = false, askedIn generation: Int? = nil,
                       adopting: OrdersToAdopt? = nil) -> Bool {
        if let known = databaseId, known != snapshot.databaseId {
            startOver("routerd's database changed (was \(known), now \(snapshot.databaseId))")
        }
        if let seen = seenDatabaseId, seen != snapshot.databaseId { (seenThrough, seenFillId) = (0, nil) }
        seenDatabaseId = snapshot.databaseId
        guard snapshot.throughSequence >= appliedThrough else { return false }
        if let generation, generation < rebuildGeneration { return false }
        databaseId = snapshot.databaseId
        if snapshot.throughSequence > seenThrough { (seenThrough, seenFillId) = (snapshot.throughSequence, nil) }
        let positions = snapshot.positions
        appliedThrough = snapshot.throughSequence
        awaitingSnapshot = false
        withheldBeforeSnapshot = 0
        untallyOrdersInFlight()
        defer { drainHeldFills(afterJump: true) }
        catchUps += 1
        for position in positions where position.strategyId == manual.id { manual.track(position.symbol) }
        for strategy in everyStrategy {
            for symbol in strategy.symbols {
                let position = positions.first { $0.strategyId == strategy.id && $0.symbol == symbol }
                strategy.resync(symbol: symbol, position: position?.book ?? PositionBook())
                for role in OrderRole.allCases {
                    guard let holder = ordersInFlight[inFlightKey(strategy.id, symbol, role)] else { continue }
                    strategy.orderStillInFlight(symbol: symbol, role: role)
                    if !keepingOrdersInFlight && !ordersBeingPlaced.contains(holder) {
                        confirmInBackground(holder, symbol: symbol, role: role, strategyId: strategy.id, lookingNow: true)
                    }
                }
            }
        }
        if let adopting { adopt(working: adopting.working, givenUp: adopting.givenUp) }
        resumeSettledWaiters()
        logger.info("positions resynchronised from routerd", metadata: ["positions": "\(positions.filter { !$0.quantity.isZero }.count)", "through_fill": "\(snapshot.throughSequence)"])
        return true
    }

    private func strategy(_ id: String?) -> Strategy? {
        guard let id else { return nil }
        if id == manual.id { return manual }
        return strategies.first { $0.id == id }
    }
}

extension UInt32 {
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }
}
