import Foundation
import Logging
import Metrics
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotStorage
import NIOConcurrencyHelpers

/// routerd's core: checks each order, persists it, hands it to its symbol's venue and records what the
/// venue answers, through the lifecycle `pending_new` → `sent` → `acknowledged` → `partially_filled` →
/// `filled` | `cancelled` | `rejected` | `expired`, with `unknown` when a send's outcome is not known. Every
/// transition is written (time and cause) before anyone is told; fills are stored once per venue trade id.
///
/// An order is persisted and recorded `sent` (one synced transaction) before the venue is called, so after a
/// crash an order routerd does not have never left the machine, and a stored one means "ask the venue"
/// (`RouterService+Reconciliation.swift`); `pending_new` alone (a database written before 2026-12-06, when `sent`
/// was a transaction of its own) means "never left the machine". No order is ever sent twice.
///
/// Every operation runs in an exclusive section (`ExclusiveSections`), first come, first served, so a venue
/// event cannot be applied between a send and its record, and a lookup never answers "no such order" about an
/// order that reached routerd before it and is waiting its turn.
public actor RouterService: ExclusiveSections {
    /// routerd's core thread, shared with the paper venue (`RouterExecutor`).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { RouterExecutor.shared.asUnownedSerialExecutor() }
    let store: any OrderStorage
    let venues: [Venue: any TradingVenue]
    let symbols: SymbolMap
    /// Each venue's rules per symbol, read from the venues at start and taken again when a venue says they
    /// changed (`VenueEvent.rules`).
    var symbolRules: [Venue: [String: SymbolRules]] {
        didSet { publishedRules.withLockedValue { $0 = Self.routed(symbolRules, by: symbols) } }
    }
    /// The rules of each symbol at the venue its orders go to, for `router.symbolRules` (answered off the actor).
    public nonisolated var routedSymbolRules: [SymbolRules] { publishedRules.withLockedValue { $0 } }
    private nonisolated let publishedRules: NIOLockedValueBox<[SymbolRules]>
    /// From the tick an order was decided on to the order's hand-off to its venue (the feed notes the ticks).
    public nonisolated let tickToOrder = TickToOrderLatency()
    var tradingSwitch: TradingSwitch
    let events: any EventPublishing
    let logger: Logger
    let reconciliation: ReconciliationSettings
    var gate = ExclusiveGate()
    var lastTicks: [String: Tick] = [:]
    /// When each symbol's last tick was received, on `clock`: a price older than `priceAgeLimit` values nothing.
    var lastTickReceived: [String: ContinuousClock.Instant] = [:]
    var impossibleTicks = ImpossibleTicks()
    let priceAgeLimit: Duration?
    let clock: @Sendable () -> ContinuousClock.Instant
    private var ticks = 0
    private var ordersToday = 0
    var dayStart: Date
    /// What "today" is measured on (`dayClock`).
    let dayClock: DayClock
    /// The latest tick's time, for `DayClock.latestTick`.
    private var latestTickTime: Date?

    /// What says which day it is for routerd's day figures (`router.account`'s realised P&L and fees today, orders
    /// today). `wall`: this machine's clock. `latestTick`: the market's time, that of the latest tick, for a replay at
    /// max speed, whose ticks and fills keep the days they were recorded on (2020): on the wall clock's day none of its
    /// fills would count (docs/configuration.md, `router.replay.speed`).
    public enum DayClock: Sendable, Equatable {
        case wall
        case latestTick
    }
    /// Counts what may move a venue's holdings (an order handed to a venue, a cancel, a record of what a venue did):
    /// holdings read outside the exclusive section are taken only if it did not change meanwhile (`withHoldings`).
    var holdingsChanges = 0
    var healthyStore = true
    /// False until every order left over from the last run has been settled with its venue.
    var accepting = false
    /// Orders given up as not found, still to be looked up late (`LateLookup`).
    var lateLookups: [String: LateLookup] = [:]
    /// Orders whose outcome is still being settled with their venue (sent but not found there yet, or of
    /// unknown outcome), by client order id. New orders for their symbol wait, reduce-only ones excepted.
    var unsettled: [String: UnsettledOrder] = [:] {
        didSet { metrics.unsettled.record(unsettled.count) }
    }
    var metrics: RouterMetrics
    /// Each strategy's net position per symbol ("strategy|symbol"), from the fills recorded: what a
    /// reduce-only order of that strategy may not grow or flip.
    var strategyBooks: [String: PositionBook] = [:]
    /// The venue|asset pairs `router.account` last found short (`BookedHoldings`): logged when they change.
    var reportedShortfalls: Set<String> = []
    /// Each venue's connection as it last reported it, and when (`router.account` shows it per venue).
    var venueConnections: [Venue: (state: VenueConnectionState, since: Date)] = [:]
    /// Venues whose order stream was lost (or whose orders could not be reconciled when it came back), since when: new
    /// orders there wait until it is back and their orders are reconciled (`RouterService+Reconciliation.swift`).
    var reconcilePending: [Venue: Date] = [:] {
        didSet {
            for venue in Set(oldValue.keys).symmetricDifference(reconcilePending.keys) {
                metrics.ordersHeld(venue, reconcilePending[venue] != nil)
            }
        }
    }
    /// A write reported an error and may have landed anyway: `strategyBooks` is rebuilt from the record before
    /// it is used again.
    var booksMayBeStale = false
    /// This run's first synced write (`recordStart`) has not landed: a commit that failed in the last run could still
    /// come back, so an order that is not found is not yet called absent (`refuseLookUpWhileSealing`).
    var startUnrecorded = false
    let valuation: AccountValuation
    /// Venues whose books are in routerd's own database: a new order there is `sent`, executed and recorded in one
    /// transaction (`RecordingVenue`).
    let recordingVenues: [Venue: any RecordingVenue]
    /// The day's figures as last computed (`router.account`), brought up to date with the fills since.
    var dayLedger: DayLedger?
    /// The account's equity as `router.account` last valued it, and when: what the status line shows, so that it never
    /// asks a venue itself (a live venue whose stream is down would be read over REST, and an order arriving meanwhile
    /// would wait behind it).
    var lastEquity: (text: String, at: ContinuousClock.Instant)?

    struct UnsettledOrder: Sendable {
        var venue: Venue
        var symbol: String
        /// Lookups that found nothing at the venue.
        var misses: Int
        /// Look-ups of a final order that left its stored fills short of its filled quantity (`completeFills`).
        var shortLookups = 0
        /// Reports of the order's venue that could not be true (`implausibility`), none of them recorded: while any is
        /// the latest, a final order too is asked for again (`completeFills`).
        var refusedReports = 0
        /// An order none of whose writes can be read after its transaction failed, to be stored as this (rejected) by
        /// a synced write before it is settled (`sealAsNeverSent`).
        var sealing: OrderRecord?
    }

    public init(store: any OrderStorage, venues: [any TradingVenue], symbols: SymbolMap, tradingSwitch: TradingSwitch,
                events: any EventPublishing, logger: Logger, reconciliation: ReconciliationSettings = ReconciliationSettings(),
                account: RouterSettings.Account = RouterSettings.Account(), priceAgeLimit: Duration? = nil, dayClock: DayClock = .wall,
                clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
                metricsFactory: any MetricsFactory = MetricsSystem.factory) async throws {
        self.store = store
        metrics = RouterMetrics(factory: metricsFactory)
        self.priceAgeLimit = priceAgeLimit
        self.dayClock = dayClock
        self.clock = clock
        self.symbols = symbols
        self.tradingSwitch = tradingSwitch
        self.events = events
        self.logger = logger
        self.reconciliation = reconciliation
        var byVenue: [Venue: any TradingVenue] = [:]
        var rules: [Venue: [String: SymbolRules]] = [:]
        for venue in venues {
            byVenue[venue.id] = venue
            rules[venue.id] = Dictionary(try await venue.symbolRules().map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        }
        self.venues = byVenue
        symbolRules = rules
        valuation = AccountValuation(currency: account.currency, pegs: account.pegs, rules: rules)
        recordingVenues = Dictionary(venues.compactMap { $0 as? any RecordingVenue }.filter { $0.recordDatabase === store.database }.map { ($0.id, $0) },
                                     uniquingKeysWith: { first, _ in first })
        publishedRules = NIOLockedValueBox(Self.routed(rules, by: symbols))
        dayStart = DailyResetTime("00:00")!.dayStart(containing: Date())
        ordersToday = try await store.countOrders(since: dayStart)
        try await loadStrategyBooks()
    }

    /// Every strategy's positions as the recorded fills make them.
    func loadStrategyBooks() async throws {
        let snapshot = try await store.strategyPositions(through: try await store.lastFillSequence(), venues: accountVenues)
        strategyBooks = Dictionary(snapshot.positions.map { (Self.bookKey($0.strategyId, $0.symbol), $0.book) }, uniquingKeysWith: { _, last in last })
        holdingsChanges &+= 1
        booksMayBeStale = false
    }

    static func bookKey(_ strategyId: String, _ symbol: String) -> String { strategyId + "|" + symbol }

    /// One rule per symbol: that of the venue `symbols` routes it to. A live routerd also runs the paper venue, whose
    /// rules for the same symbol differ (its own step and minimum); arsenald and mindsetd size orders by these.
    private static func routed(_ rules: [Venue: [String: SymbolRules]], by symbols: SymbolMap) -> [SymbolRules] {
        rules.flatMap { venue, bySymbol in bySymbol.values.filter { symbols.venue(for: $0.symbol) == venue } }
            .sorted { $0.symbol < $1.symbol }
    }

    /// A venue's rules as it read them again. Taken outside the exclusive section: the venue may read them in the
    /// middle of a send that holds it (after Binance's -1013), and a rule is one value, replaced whole. A symbol
    /// the venue no longer lists is refused from now on, as the venue would refuse it. (The account's valuation
    /// keeps the assets read at start: a symbol's base and quote do not change.)
    func adoptRules(_ rules: [SymbolRules], of venue: Venue) {
        let updated = Dictionary(rules.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        let before = symbolRules[venue] ?? [:]
        guard updated != before else { return }
        let changed = Set(before.keys).union(updated.keys).filter { before[$0] != updated[$0] }.sorted()
        logger.notice("the venue's symbol rules changed; orders are checked against the new ones", metadata: [
            "venue": "\(venue.rawValue)", "symbols": "\(changed)",
        ])
        symbolRules[venue] = updated
    }

    // MARK: Venue events

    /// Subscribes to every venue's events and settles the orders left over from the last run; only then
    /// are new orders accepted.
    public func start() async throws {
        for venue in venues.values {
            let venueId = venue.id
            await venue.setEventHandler { [weak self] event in await self?.handle(event, from: venueId) }
        }
        // The paper venue runs inside routerd: connected from the start. The others say so themselves.
        if venues[.paper] != nil { venueConnections[.paper] = (.connected, Date()) }
        // Every venue's series from the start, at 0: an alert can tell "not held" from "not exported".
        for venue in venues.keys { metrics.ordersHeld(venue, false) }
        // A commit that failed in the last run (`CommitFailed`) could still come back while its frames are in the log:
        // a synced write of this start goes over them before any order is looked up or answered.
        do {
            try await store.recordStart()
        } catch {
            // Serving degraded beats not serving (cancels, positions): look-ups of unknown orders wait for the write.
            startUnrecorded = true
            logger.critical("could not write bagbot.db at start; an order not found is answered unavailable until a write lands", metadata: [
                "error": "\(error)",
            ])
        }
        try await exclusively { try await reconcileAll() }
        accepting = true
    }

    func handle(_ event: VenueEvent, from venue: Venue) async {
        if case .rules(let rules) = event { return adoptRules(rules, of: venue) }
        if case .orderMayHaveChanged(let clientOrderId, let symbol) = event {
            return await lookUpIfStillOpen(clientOrderId, symbol: symbol, at: venue)
        }
        // Stamped on arrival, before the wait for the exclusive section: a tick that queued behind a slow order is
        // as old as it is, and values nothing once older than `priceAgeLimit`.
        let arrived = clock()
        await exclusively {
            switch event {
            case .tick(let tick):
                apply(tick, arrived: arrived)
            case .order(let report):
                let found: OrderRecord??
                do { found = try await store.order(clientOrderId: report.clientOrderId) } catch { found = nil }
                if case .some(.none) = found {
                    // Not routerd's order (placed by hand at the venue): nothing to record.
                    logger.info("an order update from the venue for an order routerd never had; ignored", metadata: [
                        "venue": "\(venue.rawValue)", "client_order_id": "\(report.clientOrderId)",
                    ])
                    return
                }
                guard let stored = found ?? nil else {
                    // Unreadable now: looked up at the venue on the schedule, so the update is not lost.
                    logger.error("an order update from the venue could not be matched with a stored order; it will be looked up", metadata: [
                        "venue": "\(venue.rawValue)", "client_order_id": "\(report.clientOrderId)",
                    ])
                    unsettled[report.clientOrderId] = unsettled[report.clientOrderId]
                        ?? UnsettledOrder(venue: venue, symbol: report.fills.first?.symbol ?? "", misses: 0)
                    return
                }
                await record(report, for: stored, reason: "update from \(venue.rawValue)")
            case .connection(.connected):
                venueConnections[venue] = (.connected, Date())
                logger.notice("venue connected; reconciling its orders", metadata: ["venue": "\(venue.rawValue)"])
                await reconcileAfterConnecting(venue)
                // An execution of a given-up order while the stream was down is found now, not at its next look-up.
                for (id, entry) in lateLookups where entry.venue == venue { lateLookups[id]?.dueNow = true }
            case .connection(.disconnected):
                venueConnections[venue] = (.disconnected, Date())
                reconcilePending[venue] = reconcilePending[venue] ?? Date()
                logger.warning("venue disconnected; new orders there wait until it is back and its orders are reconciled (cancels and reduce-only orders still pass)",
                               metadata: ["venue": "\(venue.rawValue)"])
            case .rules, .orderMayHaveChanged:
                break
            }
        }
    }

    /// An order `venue` heard changed but has no record of: looked up there only when it is routerd's own and may still
    /// change (not final; given up as not found, whether or not its late look-ups are over; final but short of fills),
    /// then recorded as any update. Others (the trader's own orders at the venue, routerd's other final ones) cost no
    /// look-up. The look-up runs outside the exclusive section, so orders and ticks do not wait for its round trip; a
    /// failed one is left to the schedules that already ask about such orders (`settleUnsettled`, the late look-ups,
    /// brought forward).
    func lookUpIfStillOpen(_ clientOrderId: String, symbol: String, at venueId: Venue) async {
        let stored: Result<OrderRecord?, any Error> = await exclusively {
            do { return .success(try await store.order(clientOrderId: clientOrderId)) } catch { return .failure(error) }
        }
        guard case .success(let record) = stored else {
            // Unreadable now: looked up on the schedule, so the change is not lost.
            unsettled[clientOrderId] = unsettled[clientOrderId] ?? UnsettledOrder(venue: venueId, symbol: symbol, misses: 0)
            return
        }
        guard let record, record.venue == venueId else {
            logger.debug("an order changed at the venue that routerd never had (placed there by hand); not looked up", metadata: [
                "venue": "\(venueId.rawValue)", "client_order_id": "\(clientOrderId)",
            ])
            return
        }
        // A given-up order stays worth a look-up after its late look-ups are over (or with none configured): executed
        // at last, it is revived with its fills. Such orders are few, and always routerd's own.
        guard !record.status.isFinal || record.wasGivenUpAsNotFound || lateLookups[clientOrderId] != nil || unsettled[clientOrderId] != nil,
              let venue = venues[venueId] else { return }
        do {
            guard let report = try await venue.order(clientOrderId: clientOrderId, symbol: record.symbol) else { return }
            await handle(.order(report), from: venueId)
        } catch {
            // Its late look-up, if it has one left, goes at the next round rather than minutes later.
            lateLookups[clientOrderId]?.dueNow = true
            logger.warning("an order the venue reported changed could not be looked up; its schedule will", metadata: [
                "venue": "\(venueId.rawValue)", "client_order_id": "\(clientOrderId)", "error": "\(error)",
            ])
        }
    }

    private func apply(_ tick: Tick, arrived: ContinuousClock.Instant) {
        guard impossibleTicks.admit(tick, logger: logger) else { return }
        ticks += 1
        if dayClock == .latestTick, latestTickTime.map({ tick.time > $0 }) ?? true { latestTickTime = tick.time }
        lastTicks[tick.symbol] = tick
        lastTickReceived[tick.symbol] = arrived
        events.publish(Events.tick, topic: Topics.ticks, body: tick)
    }

    // MARK: Placing

    public func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        try await exclusively { try await execute(request) }
    }

    private func execute(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        let symbol = try RequestRules.checked(request)
        let reduceOnly = request.reduceOnly ?? false
        let clientOrderId = request.clientOrderId ?? "bb-" + Crypto.hex((try? Crypto.randomBytes(12)) ?? [])
        // Its first attempt may still come back (`sealAsNeverSent`): no answer may say it was not sent.
        if unsettled[clientOrderId]?.sealing != nil {
            throw IPCError(.internal, "order \(clientOrderId) is being settled after a failed write; look it up")
        }
        // Idempotent: a retried request with the same id returns the stored order, in whatever state. The id is
        // looked up only when the order cannot go ahead as a new one (a check refuses it, or its insert finds the
        // id taken), so a new order costs no read of its own (docs/performance.md, "Durable orders").
        let venueId: Venue
        let venue: any TradingVenue
        do {
            (venueId, venue) = try await checkNew(request, symbol: symbol, clientOrderId: clientOrderId, reduceOnly: reduceOnly)
        } catch {
            // A generated id is new: only a caller's own id can be a retry.
            if request.clientOrderId != nil, let existing = try await store.order(clientOrderId: clientOrderId) {
                return try await retried(existing, request, symbol: symbol, reduceOnly: reduceOnly)
            }
            throw error
        }

        let now = Date()
        let order = OrderRecord(
            clientOrderId: clientOrderId, venue: venueId, symbol: symbol, side: request.side, type: request.type,
            quantity: request.quantity, limitPrice: request.limitPrice, status: .pendingNew, reduceOnly: reduceOnly,
            strategyId: request.strategyId, requestId: request.requestId, timeInForce: Self.storedTimeInForce(request),
            createdAt: now, updatedAt: now)
        var refusal: VenueError?
        if let recordingVenue = recordingVenues[venueId] {
            switch try await placeRecording(order, at: recordingVenue, request: request) {
            case .answered(let answer): return answer
            case .refusedBeforeWriting(let error): refusal = error  // recorded below, as a live venue's refusal is
            }
        }
        var sent = order
        sent.status = .sent
        sent.updatedAt = Date()
        // The venue prepares the order (its checks, signing, its request under way) while the write below syncs, and
        // sends nothing that could place it until the order is on disk (`SendPermission`; docs/venues/binance.md).
        // Refused already, with nothing written: not asked again.
        let permission = SendPermission()
        let placing = refusal == nil ? Self.startPlacing(VenueOrderRequest(sent, quoteSequence: request.quoteSequence), at: venue, once: permission) : nil
        do {
            // Before the write: one that fails may have landed all the same.
            holdingsChanges &+= 1
            // Stored and `sent` in one synced transaction: on disk before the venue may send it, saying "ask the venue".
            try await store.insertSent(order, sent: sent, reason: "sent to \(venueId.rawValue)")
        } catch let taken as ClientOrderIdTaken {
            await Self.withdraw(placing, permission)
            // Nothing was written: the id is another order's (this one's first try, or a different order).
            guard let existing = try await store.order(clientOrderId: clientOrderId) else { throw taken }
            return try await retried(existing, request, symbol: symbol, reduceOnly: reduceOnly)
        } catch {
            await Self.withdraw(placing, permission)
            return logged(try await settleFailedSend(sent, request: request, refusal: refusal, error: error))
        }
        permission.grant()
        healthyStore = true
        metrics.ordered(venueId, .pendingNew)
        metrics.ordered(venueId, .sent)
        rollDay(today())
        ordersToday += 1
        events.publish(Events.order, topic: Topics.orders, body: sent, requestId: sent.requestId)
        let report: VenueOrderReport
        do {
            if let refusal { throw refusal }
            guard let placing else { throw VenueError.unavailable("the order was not handed to \(venueId.rawValue)") }
            tickToOrder.handedToVenue(symbol: symbol, quoteSequence: request.quoteSequence)
            let handed = ContinuousClock.now
            defer { metrics.answered(venueId, after: ContinuousClock.now - handed) }
            holdingsChanges &+= 1
            report = try await placing.value
        } catch VenueError.rejected(let reason) {
            return await settleRejected(sent, reason: reason, expecting: .sent)
        } catch VenueError.unavailable(let reason) {
            return await settleRejected(sent, reason: "venue unavailable, not sent: \(reason)", expecting: .sent)
        } catch VenueError.duplicate(let reason) {
            // The venue has an order under this id: what it is, the lookup says.
            return await markUnknown(sent, cause: "the venue reports a duplicate: \(reason)")
        } catch {
            return await markUnknown(sent, cause: "\(error)")
        }
        return logged(await record(report, for: sent, reason: "answer from \(venueId.rawValue)"))
    }

    /// The venue's `place` of a new order, begun at once on the global pool, not on routerd's core thread, which is
    /// about to block in the order's synced write (a task of its own keeps the trade's request id).
    private nonisolated static func startPlacing(_ order: VenueOrderRequest, at venue: any TradingVenue,
                                                 once permission: SendPermission) -> Task<VenueOrderReport, any Error> {
        Task(executorPreference: globalConcurrentExecutor) { try await venue.place(order, sendingOnce: permission) }
    }

    /// The order's record could not be written: the venue must not send it. Waits for its `place` to end, so that
    /// nothing of this attempt is still at work when the order is settled or retried.
    private nonisolated static func withdraw(_ placing: Task<VenueOrderReport, any Error>?, _ permission: SendPermission) async {
        permission.refuse()
        guard let placing else { return }
        placing.cancel()
        _ = await placing.result
    }

    private func logged(_ order: OrderRecord) -> OrderRecord {
        logger.info("order \(order.status.rawValue)", metadata: [
            "client_order_id": "\(order.clientOrderId)", "request_id": "\(order.requestId ?? "-")", "symbol": "\(order.symbol)",
            "side": "\(order.side.rawValue)", "quantity": "\(order.quantity)",
            "price": "\(order.averageFillPrice.map { "\($0)" } ?? "-")", "reason": "\(order.rejectReason ?? "-")",
        ])
        return order
    }

    /// What `placeRecording`'s transaction wrote of the venue's answer.
    struct RecordedAnswer: Sendable {
        var order: OrderRecord
        var newFills: [Fill]
    }

    /// What `placeRecording` came to: the answer, or a refusal of the venue's that wrote nothing, to be recorded
    /// as a live venue's is.
    enum RecordingOutcome {
        case answered(OrderRecord)
        case refusedBeforeWriting(VenueError)
    }

    /// A new order at a venue whose books are in routerd's database (`RecordingVenue`): stored, `sent`, executed and
    /// recorded in one synced transaction, so that it is in routerd's record and at the venue whole or not at all.
    private func placeRecording(_ order: OrderRecord, at venue: any RecordingVenue, request: PlaceOrderRequest) async throws -> RecordingOutcome {
        let store = self.store
        var draft = order
        draft.status = .sent
        draft.updatedAt = Date()
        let sent = draft
        let (sentReason, answerReason) = ("sent to \(sent.venue.rawValue)", "answer from \(sent.venue.rawValue)")
        let report: VenueOrderReport
        let recorded: RecordedAnswer?
        do {
            tickToOrder.handedToVenue(symbol: sent.symbol, quoteSequence: request.quoteSequence)
            let handed = ContinuousClock.now
            defer { metrics.answered(sent.venue, after: ContinuousClock.now - handed) }
            holdingsChanges &+= 1  // before the write: one that fails may have landed all the same
            (report, recorded) = try await venue.place(VenueOrderRequest(sent, quoteSequence: request.quoteSequence)) { db, report in
                try store.insert(order, in: db)
                _ = try store.write(sent, fills: [], reason: sentReason, expecting: .pendingNew, in: db)
                // A new order has no fills stored: any the report brings move it along.
                guard Self.advances(sent, by: report, givenUp: false) || !report.fills.isEmpty else { return nil }
                let answer = Self.updated(sent, by: report, givenUp: false)
                let newFills = try store.write(answer, fills: Self.fills(of: report, for: sent), reason: report.rejectReason ?? answerReason,
                                               expecting: .sent, in: db)
                return RecordedAnswer(order: answer, newFills: newFills)
            }
        } catch let taken as ClientOrderIdTaken {
            // Nothing was written: the id is another order's (this one's first try, or a different order).
            guard let existing = try await store.order(clientOrderId: order.clientOrderId) else { throw taken }
            return .answered(try await retried(existing, request, symbol: order.symbol, reduceOnly: order.reduceOnly))
        } catch let refusal as VenueError where refusal.wroteNothing {
            return .refusedBeforeWriting(refusal)
        } catch {
            return .answered(logged(try await settleFailedRecording(order, request: request, error: error)))
        }
        metrics.ordered(order.venue, .pendingNew)
        rollDay(today())
        ordersToday += 1
        healthyStore = true
        metrics.ordered(sent.venue, .sent)
        events.publish(Events.order, topic: Topics.orders, body: sent, requestId: sent.requestId)
        guard let recorded else { return .answered(logged(sent)) }
        return .answered(logged(await applyRecorded(recorded.order, newFills: recorded.newFills, report: report, stored: sent, givenUp: false)))
    }

    /// `placeRecording`'s transaction failed (a write of the venue's or routerd's). Everything of the order was in it,
    /// so what is stored says how far it got: nothing, and the order never left the machine; or all of it, when the
    /// transaction landed although an error was reported, and the record is the answer (its fills and events go out
    /// from the schedule, as for any write that landed). When not even that can be read, the order's fate is open
    /// (`internal`: the caller looks it up).
    private func settleFailedRecording(_ order: OrderRecord, request: PlaceOrderRequest, error: Error) async throws -> OrderRecord {
        leaveToSchedule(order)
        let found: OrderRecord?
        do {
            found = try await store.order(clientOrderId: order.clientOrderId)
        } catch let readError {
            // Not even read back: after a failed commit it must still be sealed before anything says it was not sent.
            if error is CommitFailed { unsettled[order.clientOrderId]?.sealing = Self.neverSent(order, cause: error) }
            logger.critical("an order's transaction at its venue failed and the order cannot be read back; it will be looked up", metadata: [
                "client_order_id": "\(order.clientOrderId)", "error": "\(error)", "read_error": "\(readError)",
            ])
            throw IPCError(.internal, "order \(order.clientOrderId): its record at \(order.venue.rawValue) failed and cannot be read back; it will be looked up")
        }
        guard let found else {
            // A statement failed before the commit: nothing of it was written, nor can it come back.
            guard error is CommitFailed else {
                throw IPCError(.notSent, "order \(order.clientOrderId) could not be recorded, so it was not sent: \(error)")
            }
            return try await sealAsNeverSent(order, request: request, cause: error)
        }
        logger.critical("an order's transaction at its venue reported an error but the order is stored; the record is the answer", metadata: [
            "client_order_id": "\(order.clientOrderId)", "status": "\(found.status.rawValue)", "error": "\(error)",
        ])
        // This attempt's transaction, or an earlier attempt's order under the same id: the stored order either way.
        return try await retried(found, request, symbol: order.symbol, reduceOnly: order.reduceOnly)
    }

    /// `insertSent` failed, and `sent` was not handed to its venue. Before the `COMMIT` (any error but `CommitFailed`)
    /// nothing was written: an order found under the id is an earlier attempt's (the write failed before its key was
    /// checked: a busy disk) and is the answer; none, and this one was not sent. A failed `COMMIT` may have landed or
    /// may come back at the next open, so the order is sealed as never sent: stored as rejected by a synced write
    /// over it when nothing of it can be read (`sealAsNeverSent`), or moved from `sent` to rejected (synced) when it
    /// can. `refusal`: a recording venue's, made before this write (a duplicate id is looked up, as after any write).
    private func settleFailedSend(_ sent: OrderRecord, request: PlaceOrderRequest, refusal: VenueError?, error: Error) async throws -> OrderRecord {
        let clientOrderId = sent.clientOrderId
        guard error is CommitFailed else {
            // A caller's own id may be an earlier attempt's, which may have been sent: "not sent" only once the id
            // is known to be free.
            if request.clientOrderId != nil {
                let existing: OrderRecord?
                do {
                    existing = try await store.order(clientOrderId: clientOrderId)
                } catch let readError {
                    healthyStore = false
                    throw IPCError(.internal, "order \(clientOrderId) could not be recorded (\(error)), nor could its id be looked up (\(readError)); look it up")
                }
                if let existing { return try await retried(existing, request, symbol: sent.symbol, reduceOnly: sent.reduceOnly) }
            }
            healthyStore = false
            throw IPCError(.notSent, "order \(clientOrderId) could not be recorded, so it was not sent: \(error)")
        }
        healthyStore = false
        let found: OrderRecord?
        do {
            found = try await store.order(clientOrderId: clientOrderId)
        } catch let readError {
            unsettled[clientOrderId] = UnsettledOrder(venue: sent.venue, symbol: sent.symbol, misses: 0, sealing: Self.neverSent(sent, cause: error))
            logger.critical("an order's record failed before it was sent and cannot be read back; it will be sealed as never sent", metadata: [
                "client_order_id": "\(clientOrderId)", "error": "\(error)", "read_error": "\(readError)",
            ])
            throw IPCError(.internal, "order \(clientOrderId) is being settled after a failed write; look it up")
        }
        guard let found else { return try await sealAsNeverSent(sent, request: request, cause: error) }
        // Every statement ran before the `COMMIT`, the insert of a new key among them: the order found is this one.
        guard found.status == .sent else { return try await retried(found, request, symbol: sent.symbol, reduceOnly: sent.reduceOnly) }
        metrics.ordered(sent.venue, .pendingNew)
        metrics.ordered(sent.venue, .sent)
        if case .duplicate(let reason) = refusal {
            return await markUnknown(found, cause: "the venue reports a duplicate: \(reason)")
        }
        logger.critical("an order's record reported an error but is stored as sent; it was not sent, and is rejected as never sent", metadata: [
            "client_order_id": "\(clientOrderId)", "error": "\(error)",
        ])
        let rejected = Self.neverSent(found, cause: error)
        // Synced: after a power cut a `sent` would come back, and count against the exits that follow until looked up.
        guard await transition(rejected, reason: "never_sent", expecting: .sent, durable: true) else {
            // The schedule writes it (`settleUnsettled`); until then nobody hears "not sent", nor may it go out.
            unsettled[clientOrderId] = UnsettledOrder(venue: sent.venue, symbol: sent.symbol, misses: 0, sealing: rejected)
            throw IPCError(.internal, "order \(clientOrderId) is being settled after a failed write; look it up")
        }
        return rejected
    }

    /// A new order none of whose writes can be read after its commit failed (`CommitFailed`): the failed commit could
    /// still come back at the next open, since SQLite takes every complete transaction it finds in the log. So the order
    /// is stored as rejected by a synced write before anyone is told, whose frames go over the failed commit's. Until such a write lands the order's fate is
    /// open: the caller hears `internal` (it looks the order up), a look-up is answered "being settled", its symbol
    /// waits, and the schedule tries the write again.
    private func sealAsNeverSent(_ order: OrderRecord, request: PlaceOrderRequest, cause: Error) async throws -> OrderRecord {
        let rejected = Self.neverSent(order, cause: cause)
        do {
            try await store.insert(rejected, durable: true)
        } catch is ClientOrderIdTaken {
            // Stored after all: the record is the answer.
            guard let stored = try? await store.order(clientOrderId: order.clientOrderId) else {
                throw IPCError(.internal, "order \(order.clientOrderId) is being settled after a failed write; look it up")
            }
            return try await retried(stored, request, symbol: order.symbol, reduceOnly: order.reduceOnly)
        } catch {
            unsettled[order.clientOrderId, default: UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)].sealing = rejected
            throw IPCError(.internal, "order \(order.clientOrderId) is being settled after a failed write; look it up")
        }
        unsettled[order.clientOrderId] = nil
        healthyStore = true
        metrics.ordered(order.venue, .rejected)
        events.publish(Events.order, topic: Topics.orders, body: rejected, requestId: rejected.requestId)
        return rejected
    }

    /// `order` rejected as never sent, its record having failed with `cause`.
    static func neverSent(_ order: OrderRecord, cause: Error) -> OrderRecord {
        var rejected = order
        rejected.status = .rejected
        rejected.rejectReason = RequestRules.sanitizedReason("never_sent: its record at \(order.venue.rawValue) failed: \(cause)")
        rejected.updatedAt = Date()
        return rejected
    }

    /// A live venue's order stored `sent` by a write that reported an error, and sealed as never sent
    /// (`settleFailedSend`): it was never handed to the venue, so it reduces nothing, and the schedule rejects it. A
    /// recording venue's `sent` is at that venue, and is looked up.
    func isSealedNeverSent(_ order: OrderRecord) -> Bool {
        order.status == .sent && unsettled[order.clientOrderId]?.sealing != nil && recordingVenues[order.venue] == nil
    }

    /// Refuses a look-up of an order whose fate is open after a failed write (`sealAsNeverSent`): "absent" would tell
    /// its caller it never arrived, and the write could still come back.
    func refuseLookUpWhileSealing(_ clientOrderId: String?) throws {
        guard let clientOrderId, unsettled[clientOrderId]?.sealing != nil else { return }
        throw IPCError(.unavailable, "order \(clientOrderId) is being settled after a failed write; ask again")
    }

    /// An order looked up and not found, while this run's first synced write has not landed (`startUnrecorded`).
    func refuseAbsenceBeforeStartIsRecorded(_ clientOrderId: String?) throws {
        guard let clientOrderId, startUnrecorded else { return }
        throw IPCError(.unavailable, "order \(clientOrderId) is not found, but bagbot.db has not yet taken a write since routerd started; ask again")
    }

    /// An order whose record may not be what routerd holds: the schedule reads it, looks it up, publishes what landed.
    private func leaveToSchedule(_ order: OrderRecord) {
        healthyStore = false
        booksMayBeStale = true
        unsettled[order.clientOrderId] = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
    }

    /// Why new orders to `venue` are refused now, if they are: its order stream down or its orders unreconciled
    /// (reduce-only orders pass that one), or the venue's own hold (Binance's -1015, which refuses every new order).
    func ordersHeldReason(_ venue: Venue) async -> String? {
        if let since = reconcilePending[venue] {
            return "\(venue.rawValue)'s order stream has been down or its orders unreconciled since \(since.formatted(.iso8601)); new orders there wait until it is back and they are reconciled (cancels and reduce-only orders still pass)"
        }
        return await venues[venue]?.ordersHeldReason()
    }

    /// Everything a new order must pass before it is stored: its id, routerd accepting orders, its route and the
    /// venue's rules, reduce-only or the trading switch, and no order in doubt for its symbol.
    private func checkNew(_ request: PlaceOrderRequest, symbol: String, clientOrderId: String,
                          reduceOnly: Bool) async throws -> (Venue, any TradingVenue) {
        if let id = request.clientOrderId { try RequestRules.checkClientOrderId(id) }
        guard accepting else {
            throw IPCError(.unavailable, "routerd is settling the orders of its last run with the venues; no new order until then")
        }
        guard let venueId = symbols.venue(for: symbol) else {
            throw IPCError(.badRequest, "no route for symbol \(symbol): add it under router.symbols")
        }
        guard let venue = venues[venueId] else {
            throw IPCError(.badRequest, "\(symbol) routes to \(venueId.rawValue), which is not configured in this routerd")
        }
        guard let rules = symbolRules[venueId]?[symbol] else {
            throw IPCError(.badRequest, "no trading rules for \(symbol) on \(venueId.rawValue): add it under router.\(venueId.rawValue).symbols")
        }
        let tick = lastTicks[symbol]
        if let violation = rules.violation(quantity: request.quantity, limitPrice: request.limitPrice,
                                           referencePrice: request.side == .buy ? tick?.ask : tick?.bid) {
            throw IPCError(.badRequest, "refused by rule \(violation.rule): \(violation)")
        }
        if reduceOnly {
            try await checkReducesOnly(symbol: symbol, side: request.side, quantity: request.quantity, strategyId: request.strategyId, venue: venue)
        } else {
            guard tradingSwitch.state.enabled else {
                throw IPCError(.tradingPaused, "trading is paused: \(tradingSwitch.state.reason.map(RequestRules.quoted) ?? "no reason given") (cancels and reduce-only orders still pass)")
            }
            if reconcilePending[venueId] != nil, let held = await ordersHeldReason(venueId) {
                throw IPCError(.unavailable, held)
            }
            if let blocking = unsettled.first(where: { $0.value.venue == venueId && $0.value.symbol == symbol }) {
                throw IPCError(.conflict, "order \(blocking.key) for \(symbol) has an outcome not yet known at \(venueId.rawValue); new \(symbol) orders wait until it is settled")
            }
            if let doubt = lateLookups.first(where: { $0.value.isInDoubt && $0.value.venue == venueId && $0.value.symbol == symbol }) {
                throw IPCError(.conflict, "order \(doubt.key) for \(symbol) was given up as not found at \(venueId.rawValue) but may still execute; new \(symbol) orders wait until it is looked up again (router.reconcile.late_lookup_seconds)")
            }
        }
        return (venueId, venue)
    }

    /// A limit order's time in force as stored: none for `gtc` (what a limit order without one is), as for a market order.
    static func storedTimeInForce(_ request: PlaceOrderRequest) -> TimeInForce? {
        request.timeInForce == .gtc ? nil : request.timeInForce
    }

    /// The answer to a request whose client order id is stored: that order, in whatever state, if the request is
    /// the same order; refused if it is a different one.
    private func retried(_ existing: OrderRecord, _ request: PlaceOrderRequest, symbol: String, reduceOnly: Bool) async throws -> OrderRecord {
        guard existing.symbol == symbol, existing.side == request.side, existing.quantity == request.quantity,
              existing.type == request.type, existing.limitPrice == request.limitPrice, existing.strategyId == request.strategyId,
              existing.reduceOnly == reduceOnly, existing.timeInForce == Self.storedTimeInForce(request) else {
            // Not `conflict` ("not sent, try again"): the id's order exists, and a caller whose ids are its idempotency
            // keys (arsenald's manual orders) must learn that, not place the same thing under a new key.
            throw IPCError(.keyReused, "clientOrderId \(existing.clientOrderId) already names a different order (\(existing.side.rawValue) \(existing.quantity) \(existing.symbol), \(existing.status.rawValue)); nothing was sent")
        }
        if existing.status == .pendingNew {
            // Orders are placed start to end in the exclusive section, so a pending_new order seen here is one
            // whose `sent` could not be recorded: it never left the machine.
            return try await rejectNeverSent(existing)
        }
        return existing
    }

    /// A reduce-only order may only shrink the position it is against: the strategy's (from its recorded
    /// fills), or without a strategy the venue's net position in the symbol, counting the reduce-only orders
    /// still open against it.
    private func checkReducesOnly(symbol: String, side: Side, quantity: ExactDecimal, strategyId: String?, venue: any TradingVenue) async throws {
        if booksMayBeStale { try await loadStrategyBooks() }
        let position: ExactDecimal
        if let strategyId {
            position = strategyBooks[Self.bookKey(strategyId, symbol)]?.quantity ?? .zero
        } else {
            position = try await venue.positions().first { $0.symbol == symbol }?.quantity ?? .zero
        }
        let whose = strategyId.map { "strategy \($0)'s" } ?? "the \(venue.id.rawValue) account's"
        var openReducing = ExactDecimal.zero
        // A pending_new order seen here never left the machine (orders are placed whole in the exclusive section).
        if !position.isZero, position.isPositive == (side == .sell) {
            for open in try await store.nonFinalOrders()
            where open.reduceOnly && open.status != .pendingNew && !isSealedNeverSent(open) && open.symbol == symbol
                && open.strategyId == strategyId && open.venue == venue.id {
                // A strategy's position is its recorded fills: what an exit may still sell is what its recorded fills
                // have not, also where the venue says more is filled than the fills it sent (that part sold, in
                // neither the book nor the venue's remaining). The venue's net position counts the venue's figure.
                let done = strategyId == nil ? open.filledQuantity : try await recordedQuantity(ofOrder: open.clientOrderId)
                openReducing = try openReducing + max(.zero, try open.quantity - done)
            }
            // Ended exits whose fills are still being looked up (the venue said more filled than it sent): what they
            // sold beyond their recorded fills is not in the book yet.
            if strategyId != nil {
                // The stored order's venue and symbol, not the entry's (noted from a report, it may lack them).
                for clientOrderId in unsettled.keys {
                    guard let ended = try await store.order(clientOrderId: clientOrderId), ended.status.isFinal, ended.reduceOnly,
                          ended.strategyId == strategyId, ended.venue == venue.id, ended.symbol == symbol else { continue }
                    let recorded = try await recordedQuantity(ofOrder: clientOrderId)
                    openReducing = try openReducing + max(.zero, try ended.filledQuantity - recorded)
                }
            }
            // One given up as not found may still execute until it is looked up again.
            for doubt in lateLookups.values
            where doubt.isInDoubt && doubt.reduceOnly && doubt.symbol == symbol && doubt.strategyId == strategyId && doubt.venue == venue.id {
                openReducing = try openReducing + doubt.remaining
            }
        }
        if let refusal = ReduceOnlyRule.refusal(side: side, quantity: quantity, position: position, alsoReducing: openReducing,
                                                whose: whose, symbol: symbol) {
            throw IPCError(.badRequest, refusal)
        }
    }

    /// The quantity of an order's fills routerd has recorded.
    private func recordedQuantity(ofOrder clientOrderId: String) async throws -> ExactDecimal {
        try ExactDecimal.sum(try await store.fills(ofOrder: clientOrderId).map(\.quantity))
    }

    // MARK: Cancelling

    public func cancel(clientOrderId: String) async throws -> OrderRecord {
        try await exclusively { try await cancelOrder(clientOrderId) }
    }

    private func cancelOrder(_ clientOrderId: String) async throws -> OrderRecord {
        try RequestRules.checkStoredClientOrderId(clientOrderId)
        try refuseLookUpWhileSealing(clientOrderId)
        guard let stored = try await store.order(clientOrderId: clientOrderId) else {
            try refuseAbsenceBeforeStartIsRecorded(clientOrderId)
            throw IPCError(.notFound, "no order \(clientOrderId)")
        }
        guard !stored.status.isFinal else {
            throw IPCError(.conflict, "order \(clientOrderId) is already \(stored.status.rawValue)")
        }
        if stored.status == .pendingNew { return try await rejectNeverSent(stored) }
        guard let venue = venues[stored.venue] else {
            throw IPCError(.unavailable, "order \(clientOrderId) is at \(stored.venue.rawValue), which is not configured in this routerd")
        }
        let report: VenueOrderReport
        holdingsChanges &+= 1
        do {
            report = try await venue.cancel(clientOrderId: clientOrderId, symbol: stored.symbol)
        } catch VenueError.rejected(let reason) {
            throw IPCError(.conflict, "\(stored.venue.rawValue) refused to cancel \(clientOrderId): \(reason)")
        } catch {
            unsettled[clientOrderId] = unsettled[clientOrderId] ?? UnsettledOrder(venue: stored.venue, symbol: stored.symbol, misses: 0)
            throw IPCError(.unavailable, "the cancel of \(clientOrderId) has an unknown outcome (\(error)); the order is being looked up at \(stored.venue.rawValue)")
        }
        // The venue may answer that the order had already filled (its report can lag its fills).
        let (recorded, agrees) = await recordReport(report, for: stored, reason: report.status == .filled ? "found filled when cancelling" : "cancel requested")
        guard agrees else {
            throw IPCError(.unavailable, "the answer to the cancel of \(clientOrderId) could not be recorded; the order is being looked up at \(stored.venue.rawValue)")
        }
        return recorded
    }

    // MARK: Recording

    /// Records what the venue says of `stored` (its status and the fills not stored yet), then tells
    /// subscribers: fills first, then the order. Never moves an order back (a stale report of an older state
    /// changes nothing), and never drops a fill: one reported for an order already final is recorded, and the
    /// order takes the venue's status, with a critical log. Returns the order as recorded; when the record
    /// cannot be written the order is left to reconciliation, and is returned as it was.
    @discardableResult
    func record(_ report: VenueOrderReport, for stored: OrderRecord, reason: String) async -> OrderRecord {
        await recordReport(report, for: stored, reason: reason).order
    }

    /// `record`, saying also whether the record now agrees with the report (false: a write failed, and the
    /// order is left to the schedule).
    func recordReport(_ report: VenueOrderReport, for stored: OrderRecord, reason: String) async -> (order: OrderRecord, agrees: Bool) {
        if let implausible = Self.implausibility(of: report, for: stored) {
            return refuse(report, of: stored, because: implausible)
        }
        let venueFills = Self.fills(of: report, for: stored)
        let lateFill = stored.status.isFinal && report.filledQuantity > stored.filledQuantity
        let givenUp = stored.wasGivenUpAsNotFound
        let revived = givenUp && !report.status.isFinal
        var advances = Self.advances(stored, by: report, givenUp: givenUp)
        if !advances, !report.fills.isEmpty, let known = try? await store.fills(ofOrder: stored.clientOrderId) {
            // Same state, but fills this record lacks (an earlier update was lost): they are recorded now.
            let ids = Set(known.map(\.fillId))
            advances = report.fills.contains { !ids.contains($0.fillId) && !ids.contains(OrderStore.otherSideFillId($0.fillId, side: stored.side)) }
        }
        guard advances else {
            guard givenUp, report.status.isFinal else { return (stored, true) }
            // A given-up order the venue reports ended, nothing filled: no longer in doubt, and recorded as the venue
            // has it, so that an older "working" answer (a look-up that was under way) cannot revive it. (Its
            // `order_events` keep the not_found_at_venue step.)
            var ended = stored
            ended.status = report.status
            ended.rejectReason = report.rejectReason ?? "ended at \(stored.venue.rawValue) after it was given up as not found"
            ended.updatedAt = max(report.time, stored.updatedAt)
            guard await transition(ended, reason: reason, expecting: stored.status) else { return (stored, false) }
            lateLookups[stored.clientOrderId] = nil
            return (ended, true)
        }
        if lateFill || revived {
            logger.critical("the venue reports an order recorded as final as working or filled; recording what the venue says", metadata: [
                "client_order_id": "\(stored.clientOrderId)", "recorded": "\(stored.status.rawValue)", "venue_status": "\(report.status.rawValue)",
            ])
        }
        let updated = Self.updated(stored, by: report, givenUp: givenUp)
        let newFills: [Fill]
        do {
            holdingsChanges &+= 1  // before the write: one that fails may have landed all the same
            newFills = try await store.commit(updated, fills: venueFills, reason: report.rejectReason ?? reason, expecting: stored.status,
                                              durable: false)
        } catch let past as OrderStore.FillsPastTheOrder {
            return refuse(report, of: stored, because: past.description)
        } catch {
            if (error as? IPCError)?.code != .conflict { healthyStore = false }
            booksMayBeStale = true
            logger.critical("could not record what the venue reported; the order will be looked up again", metadata: [
                "client_order_id": "\(stored.clientOrderId)", "venue_status": "\(report.status.rawValue)", "error": "\(error)",
            ])
            unsettled[stored.clientOrderId] = unsettled[stored.clientOrderId] ?? UnsettledOrder(venue: stored.venue, symbol: stored.symbol, misses: 0)
            return (stored, false)
        }
        return (await applyRecorded(updated, newFills: newFills, report: report, stored: stored, givenUp: givenUp), true)
    }

    /// `report` not recorded, for `problem`: the order stays unsettled, to be looked up again (`implausibility`).
    private func refuse(_ report: VenueOrderReport, of stored: OrderRecord, because problem: String) -> (order: OrderRecord, agrees: Bool) {
        var entry = unsettled[stored.clientOrderId] ?? UnsettledOrder(venue: stored.venue, symbol: stored.symbol, misses: 0)
        entry.refusedReports += 1
        unsettled[stored.clientOrderId] = entry
        // Once, then about once a minute at the default look-up interval: the order is asked for every round.
        if entry.refusedReports % 30 == 1 {
            logger.critical("a venue's report of an order cannot be true; not recorded, the order is looked up again and new orders for its symbol wait", metadata: [
                "client_order_id": "\(stored.clientOrderId)", "venue": "\(stored.venue.rawValue)", "problem": "\(problem)",
                "venue_status": "\(report.status.rawValue)", "refused": "\(entry.refusedReports)",
            ])
        }
        return (stored, false)
    }

    /// The largest fee, either way, that a fill may carry as a share of its value.
    static let largestFeeShare = ExactDecimal(mantissa: 2, scale: 1)

    /// Why `report` cannot be true of `stored`, or nil. A venue adapter's mistake, a changed exchange API or a corrupted
    /// answer must not reach the record: a fill of no quantity, or at no price, would move every position built from
    /// the fills (routerd's, arsenald's, mindsetd's) and every P&L with it. Such a report is not recorded (critical
    /// log); the order stays unsettled, so it is looked up again and new orders for its symbol wait (exits pass).
    static func implausibility(of report: VenueOrderReport, for stored: OrderRecord) -> String? {
        guard report.clientOrderId == stored.clientOrderId else { return "a report of order \(report.clientOrderId.prefix(64))" }
        guard !report.filledQuantity.isNegative else { return "a filled quantity of \(report.filledQuantity)" }
        guard report.filledQuantity <= stored.quantity else {
            return "\(report.filledQuantity) filled of an order for \(stored.quantity)"
        }
        if let average = report.averagePrice, !average.isPositive { return "an average price of \(average)" }
        // A venue reports an order it has as acknowledged at least: fills said to be of one still pending or sent (or
        // of unknown outcome) are no venue's. It also keeps an order recorded `sent` free of fills (`OrderStore.write`).
        if !report.fills.isEmpty, rank(report.status) < rank(.acknowledged) { return "fills in a report of an order \(report.status.rawValue)" }
        for fill in report.fills {
            func which() -> String { "fill \(fill.fillId.prefix(64))" }
            guard !fill.fillId.isEmpty else { return "a fill without an id" }
            guard fill.clientOrderId == stored.clientOrderId else { return "\(which()) of order \(fill.clientOrderId.prefix(64))" }
            guard fill.quantity.isPositive else { return "\(which()) of quantity \(fill.quantity)" }
            guard fill.price.isPositive else { return "\(which()) at a price of \(fill.price)" }
            // A fee beyond a fifth of the trade either way (a rebate is a small negative one; a paper fee rate is at most a
            // tenth) would turn a loss into a win in every P&L built from the fills, or lock the day for nothing.
            guard let notional = try? fill.quantity.multiplied(by: fill.price, scale: 16, rounding: .halfEven),
                  // Up to the 8 decimals fees are rounded up to: a fill worth a few satoshis may carry a fee of 1e-8.
                  let bound = try? notional.multiplied(by: Self.largestFeeShare, scale: 16, rounding: .up).rounded(toScale: 8, rounding: .up),
                  let least = try? ExactDecimal.zero - bound, fill.fee <= bound, fill.fee >= least else {
                return "\(which()) of \(fill.quantity) at \(fill.price) with a fee of \(fill.fee)"
            }
            // A sell's base-asset commission may come from the account's other holdings of the asset (a BNB pair with
            // fees in BNB): as large as the fill is possible there, not on a buy, which pays it out of what it receives.
            if let base = fill.baseCommission, base.isNegative || (stored.side == .buy && base >= fill.quantity) {
                return "\(which()) of \(fill.quantity) with \(base) of it taken as commission"
            }
        }
        guard let reported = try? ExactDecimal.sum(report.fills.map(\.quantity)), reported <= stored.quantity else {
            return "fills adding up to more than the order's quantity (\(stored.quantity))"
        }
        return nil
    }

    /// The fills of `report`, as routerd records them for `stored`.
    static func fills(of report: VenueOrderReport, for stored: OrderRecord) -> [Fill] {
        report.fills.map { fill in
            Fill(fillId: fill.fillId, clientOrderId: stored.clientOrderId, venue: stored.venue, symbol: stored.symbol, side: stored.side,
                 quantity: fill.quantity, price: fill.price, fee: fill.fee, baseCommission: fill.baseCommission, time: fill.time,
                 strategyId: stored.strategyId,
                 requestId: stored.requestId)
        }
    }

    /// Whether `report` moves `stored` along: a later status, more filled, or (`givenUp`: given up as not found)
    /// shown working after all, when it is live and must be known as live (cancellable, and holding its symbol).
    static func advances(_ stored: OrderRecord, by report: VenueOrderReport, givenUp: Bool) -> Bool {
        Self.rank(report.status) > Self.rank(stored.status) || report.filledQuantity > stored.filledQuantity || (givenUp && !report.status.isFinal)
    }

    /// `stored` as `report` has it, never back along the lifecycle: a stale report's fills are taken, its older
    /// status is not.
    static func updated(_ stored: OrderRecord, by report: VenueOrderReport, givenUp: Bool) -> OrderRecord {
        let revived = givenUp && !report.status.isFinal
        var updated = stored
        updated.status = revived || Self.rank(report.status) >= Self.rank(stored.status) ? report.status : stored.status
        updated.filledQuantity = max(report.filledQuantity, stored.filledQuantity)
        // An older report's average is of fewer fills.
        updated.averageFillPrice = report.filledQuantity >= stored.filledQuantity ? report.averagePrice ?? stored.averageFillPrice : stored.averageFillPrice
        updated.exchangeOrderId = report.exchangeOrderId ?? stored.exchangeOrderId
        // Found after it was given up: the venue's word replaces "not found" (a filled order has no reject reason).
        updated.rejectReason = givenUp ? report.rejectReason : (report.rejectReason ?? stored.rejectReason)
        updated.updatedAt = max(report.time, stored.updatedAt)
        return updated
    }

    /// What follows a recorded answer of the venue's (`updated`, with the fills it stored): metrics, the strategies'
    /// books, the events, and whether the order is settled.
    private func applyRecorded(_ updated: OrderRecord, newFills: [Fill], report: VenueOrderReport, stored: OrderRecord,
                               givenUp: Bool) async -> OrderRecord {
        healthyStore = true
        if updated.status != stored.status { metrics.ordered(updated.venue, updated.status) }
        if givenUp { lateLookups[stored.clientOrderId] = nil }
        metrics.filled(updated.venue, count: newFills.count)
        for fill in newFills {
            if let strategyId = fill.strategyId, countsInAccount(fill.venue) {
                let key = Self.bookKey(strategyId, fill.symbol)
                var book = strategyBooks[key] ?? PositionBook()
                do {
                    _ = try book.apply(fill)
                    strategyBooks[key] = book
                } catch {
                    // The record has the fill; the book is rebuilt from it before the next reduce-only check.
                    booksMayBeStale = true
                }
            }
            publish(fill)
        }
        // A venue that reports more filled than the fills it sent (an update lost on the way): the lookup
        // brings the whole order, every fill with it. Judged against the order as recorded, not this report: an
        // older report, short of nothing itself, must not end the search for a newer one's missing fills.
        let reported = (try? ExactDecimal.sum(report.fills.map(\.quantity))) ?? .zero
        if reported < updated.filledQuantity, (try? await recordedQuantity(ofOrder: updated.clientOrderId)) ?? .zero < updated.filledQuantity {
            unsettled[updated.clientOrderId] = unsettled[updated.clientOrderId] ?? UnsettledOrder(venue: updated.venue, symbol: updated.symbol, misses: 0)
        } else if updated.status.isFinal || updated.status == .acknowledged || updated.status == .partiallyFilled {
            unsettled[updated.clientOrderId] = nil
        }
        events.publish(Events.order, topic: Topics.orders, body: updated, requestId: updated.requestId)
        return updated
    }

    /// The reason an order the venue never showed was given up with.
    static let notFoundAtVenue = OrderRecord.notFoundAtVenue

    /// How far along the lifecycle a status is: an order only ever moves forward.
    static func rank(_ status: OrderStatus) -> Int {
        switch status {
        case .pendingNew: return 0
        case .sent: return 1
        case .unknown: return 2
        case .acknowledged: return 3
        case .partiallyFilled: return 4
        case .filled, .cancelled, .rejected, .expired: return 5
        }
    }

    /// Writes a status change with no fills; false (logged) when it cannot be written. `durable`: synced before it
    /// returns. (An order's `sent`, the one write that must be on disk before its venue is called, is written with the
    /// order itself: `OrderStorage.insertSent`.)
    func transition(_ order: OrderRecord, reason: String, expecting: OrderStatus, durable: Bool = false) async -> Bool {
        do {
            // Before the write: one that fails may have landed all the same.
            holdingsChanges &+= 1
            try await store.commit(order, fills: [], reason: reason, expecting: expecting, durable: durable)
            healthyStore = true
            if order.status != expecting { metrics.ordered(order.venue, order.status) }
        } catch {
            if (error as? IPCError)?.code != .conflict { healthyStore = false }
            logger.critical("could not record an order's status", metadata: [
                "client_order_id": "\(order.clientOrderId)", "status": "\(order.status.rawValue)", "error": "\(error)",
            ])
            return false
        }
        events.publish(Events.order, topic: Topics.orders, body: order, requestId: order.requestId)
        return true
    }

    /// The venue refused the order: it never worked there.
    func settleRejected(_ order: OrderRecord, reason: String, expecting: OrderStatus) async -> OrderRecord {
        var rejected = order
        rejected.status = .rejected
        rejected.rejectReason = RequestRules.sanitizedReason(reason)
        rejected.updatedAt = Date()
        if await transition(rejected, reason: rejected.rejectReason ?? "rejected", expecting: expecting) { return rejected }
        // Left as it is on disk: the next reconciliation looks it up and settles it.
        unsettled[order.clientOrderId] = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
        return order
    }

    /// An order that never left the machine (still `pending_new`): rejected with reason `never_sent`.
    func rejectNeverSent(_ order: OrderRecord) async throws -> OrderRecord {
        var rejected = order
        rejected.status = .rejected
        rejected.rejectReason = "never_sent: routerd stopped or failed before handing it to the venue"
        rejected.updatedAt = Date()
        guard await transition(rejected, reason: "never_sent", expecting: .pendingNew) else {
            throw IPCError(.notSent, "order \(order.clientOrderId) was never sent, and that could not be recorded yet")
        }
        return rejected
    }

    /// The send's outcome is not known: recorded as `unknown`, and looked up at the venue on a schedule.
    private func markUnknown(_ sent: OrderRecord, cause: String) async -> OrderRecord {
        logger.error("order outcome unknown; it will be looked up at the venue, never sent again", metadata: [
            "client_order_id": "\(sent.clientOrderId)", "venue": "\(sent.venue.rawValue)", "cause": "\(cause)",
        ])
        unsettled[sent.clientOrderId] = UnsettledOrder(venue: sent.venue, symbol: sent.symbol, misses: 0)
        var unknown = sent
        unknown.status = .unknown
        unknown.rejectReason = nil
        unknown.updatedAt = Date()
        return await transition(unknown, reason: "outcome unknown: \(RequestRules.sanitizedReason(cause) ?? "")", expecting: .sent) ? unknown : sent
    }

    // MARK: Queries

    // Queries wait their turn too: one answers after every order already waiting in the exclusive section, so
    // "absent" means "never arrived" (arsenald's confirmation frees the symbol on it) and a resync's fills
    // include every order placed before the resync asked.
    public func orders(_ query: OrdersQuery) async throws -> [OrderRecord] {
        if let id = query.clientOrderId { try RequestRules.checkStoredClientOrderId(id) }
        if let symbol = query.symbol { _ = try RequestRules.checkedSymbol(symbol) }
        try RequestRules.checkName(query.strategyId, field: "strategyId")
        return try await exclusively {
            try refuseLookUpWhileSealing(query.clientOrderId)
            let orders = try await store.orders(query)
            if orders.isEmpty { try refuseAbsenceBeforeStartIsRecorded(query.clientOrderId) }
            return orders
        }
    }

    /// `router.orders`: one page, with the next page's cursor.
    public func orderPage(_ query: OrdersQuery) async throws -> OrdersResponse {
        if let id = query.clientOrderId { try RequestRules.checkStoredClientOrderId(id) }
        if let symbol = query.symbol { _ = try RequestRules.checkedSymbol(symbol) }
        try RequestRules.checkName(query.strategyId, field: "strategyId")
        if let from = query.createdFrom, let before = query.createdBefore, from >= before {
            throw IPCError(.badRequest, "createdFrom must be before createdBefore")
        }
        return try await exclusively {
            try refuseLookUpWhileSealing(query.clientOrderId)
            let page = try await store.orderPage(query)
            if page.orders.isEmpty { try refuseAbsenceBeforeStartIsRecorded(query.clientOrderId) }
            return page
        }
    }

    /// The sequence it covers is fixed in turn; the long scan of the fill log up to it runs outside the
    /// exclusive section, so it never holds up ticks and orders.
    public func strategyPositions() async throws -> StrategyPositionsResponse {
        let through = try await exclusively { try await store.lastFillSequence() }
        var positions = try await store.strategyPositions(through: through, venues: accountVenues)
        positions.databaseId = scopedLogIdentity(positions.databaseId)
        return positions
    }

    /// Every venue's positions, venue by venue.
    public func positions() async throws -> [Position] {
        try await withHoldings(of: Array(venues.values)) { holdings in holdings.flatMap(\.positions) }
    }

    public func fills(_ query: FillsQuery) async throws -> FillsResponse {
        guard query.afterSequence >= 0 else { throw IPCError(.badRequest, "afterSequence must be zero or more") }
        // Not in the exclusive section: one read transaction is a consistent snapshot of the log, and mindsetd
        // reads it before judging an entry, so it must not wait behind orders being placed.
        var page = try await store.fills(after: query.afterSequence, limit: query.limit ?? 1_000)
        page.accountVenues = accountVenues.sorted { $0.rawValue < $1.rawValue }
        page.databaseId = scopedLogIdentity(page.databaseId)
        return page
    }

    /// A recorded fill on the stream. One of a venue that is not the account is in the log only: arsenald takes its
    /// place in the sequence from `router.fills`, which says to step over it.
    func publish(_ fill: Fill) {
        guard countsInAccount(fill.venue) else { return }
        events.publish(Events.fill, topic: Topics.fills, body: fill, requestId: fill.requestId)
    }

    /// Not in the exclusive section, like `fills`: one read of the log.
    public func fillHistory(_ query: FillHistoryQuery) async throws -> FillHistoryPage {
        if let limit = query.limit, !(1...1_000).contains(limit) { throw IPCError(.badRequest, "limit must be 1–1000") }
        if let before = query.beforeSequence, before < 1 { throw IPCError(.badRequest, "beforeSequence must be 1 or more") }
        return try await store.fillHistory(query)
    }

    public func setTrading(enabled: Bool, reason: String?) async throws -> TradingSwitchState {
        let reason = RequestRules.sanitizedReason(reason)
        // Exclusive, so an order being placed saw the switch as it was when it started, to its end.
        return try await exclusively {
            try tradingSwitch.set(enabled: enabled, reason: reason)
            logger.notice(enabled ? "trading resumed" : "trading paused", metadata: ["reason": "\(reason ?? "-")"])
            return tradingSwitch.state
        }
    }

    /// systemd's STATUS line: never waits for the exclusive section or a venue (the equity is `router.account`'s last).
    public var statusLine: String {
        let state = tradingSwitch.state.enabled ? "trading" : "PAUSED"
        let equity = lastEquity.map { "\($0.text) (\(Int((clock() - $0.at).components.seconds)) s ago)" } ?? "equity not read yet"
        let settling = unsettled.isEmpty ? "" : ", \(unsettled.count) order(s) being settled"
        return "\(state); ticks \(ticks), orders today \(ordersToday)\(settling); \(equity)"
    }

    public var isHealthy: Bool { healthyStore }

    /// Orders whose outcome is still being settled with their venue.
    public var unsettledOrders: [String] { unsettled.keys.sorted() }

    /// A moment of today, on `dayClock`: before a replay's first tick, the wall clock's.
    func today() -> Date {
        switch dayClock {
        case .wall: Date()
        case .latestTick: latestTickTime ?? Date()
        }
    }

    /// Moves `dayStart` to the day of `now` (a moment of `today()`). The wall clock's day only moves forward (a clock
    /// stepped back does not reopen yesterday); a replay's moves back once, from the wall clock's day to its first tick's.
    func rollDay(_ now: Date) {
        // UTC days are 24 hours long: no calendar work before the next one starts (it was 1 % of an order).
        guard now.timeIntervalSince(dayStart) >= 86_400 || (dayClock == .latestTick && now < dayStart) else { return }
        let start = DailyResetTime("00:00")!.dayStart(containing: now)
        if start > dayStart || dayClock == .latestTick {
            dayStart = start
            ordersToday = 0
        }
    }
}
