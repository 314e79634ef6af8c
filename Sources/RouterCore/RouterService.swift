import Foundation
import Logging
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// routerd's core: validates and routes orders, persists each one before it is sent, executes on the
/// paper exchange, and publishes ticks, order updates and fills.
///
/// Every operation runs in an exclusive section (`exclusively`), first come, first served: the actor alone
/// would let another call in at each database await, so a tick could fill an order between its execution and
/// its commit, a retried order be settled while its first attempt is still being recorded, or a lookup
/// answer "no such order" about an order that reached routerd before it and is waiting its turn.
public actor RouterService {
    private let store: any OrderStorage
    private var paper: PaperExchange
    private let symbols: SymbolMap
    /// What each symbol's venue accepts, checked before an order is stored.
    private let symbolRules: [String: SymbolRules]
    private var tradingSwitch: TradingSwitch
    private let events: any EventPublishing
    private let logger: Logger
    private var ticks = 0
    private var ordersToday = 0
    private var dayStart: Date
    private var healthyStore = true
    private var exclusiveSectionBusy = false
    private var waitingForExclusiveSection: [CheckedContinuation<Void, Never>] = []

    public init(store: any OrderStorage, paperSettings: PaperExchange.Settings, symbolRules: [SymbolRules], symbols: SymbolMap,
                tradingSwitch: TradingSwitch, events: any EventPublishing, logger: Logger) async throws {
        self.store = store
        self.symbols = symbols
        self.symbolRules = Dictionary(symbolRules.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        self.tradingSwitch = tradingSwitch
        self.events = events
        self.logger = logger
        var paperSettings = paperSettings
        paperSettings.tickSizes = self.symbolRules.mapValues(\.tickSize)
        paper = PaperExchange(settings: paperSettings, snapshot: try await store.loadPaper())
        dayStart = DailyResetTime("00:00")!.dayStart(containing: Date())
        ordersToday = try await store.countOrders(since: dayStart)
    }

    /// After a crash, every order that is not final is settled before trading starts: the paper venue
    /// executes inside the same transaction that records the result, so a `pending_new` order never
    /// reached it and is rejected; a resting limit order is live again.
    public func reconcile() async throws {
        try await exclusively { try await reconcileOrders() }
    }

    private func reconcileOrders() async throws {
        for order in try await store.nonFinalOrders() {
            switch order.status {
            case .pendingNew:
                var settled = order
                settled.status = .rejected
                settled.rejectReason = "routerd stopped before the order was sent; never executed"
                settled.updatedAt = Date()
                try await store.commit(settled, fills: [], paper: nil)
                logger.warning("reconciled an order that was never sent", metadata: ["client_order_id": "\(order.clientOrderId)"])
            case .new, .partiallyFilled:
                paper.restore(resting: order)
                logger.info("restored a resting order", metadata: ["client_order_id": "\(order.clientOrderId)"])
            case .filled, .canceled, .rejected:
                break
            }
        }
    }

    public func onTick(_ tick: Tick) async {
        await exclusively { await apply(tick) }
    }

    private func apply(_ tick: Tick) async {
        // A price that is not positive, a crossed book or a price beyond any order's would poison equity,
        // marks and strategies.
        guard tick.bid.isPositive, tick.ask >= tick.bid, RequestRules.priceRange.contains(tick.bid), RequestRules.priceRange.contains(tick.ask),
              RequestRules.priceRange.contains(tick.last), !tick.volume.isNegative else {
            logger.warning("tick with an impossible price ignored", metadata: ["symbol": "\(tick.symbol)", "bid": "\(tick.bid)", "ask": "\(tick.ask)"])
            return
        }
        ticks += 1
        paper.record(tick)
        for clientOrderId in paper.crossedOrders(by: tick) {
            let before = paper
            guard let (order, fill) = paper.fillResting(clientOrderId, on: tick) else { continue }
            var filled = order
            filled.status = .filled
            filled.filledQuantity = fill.quantity
            filled.averageFillPrice = fill.price
            filled.exchangeOrderId = "paper-\(order.clientOrderId)"
            filled.updatedAt = fill.time
            do {
                // Only over an order still resting on disk: a cancel that was recorded although it reported
                // an error must not be overwritten by a fill.
                try await settle(filled, fills: [fill], onlyIfStatus: order.status)
            } catch {
                // Not recorded means not executed: only this fill is undone (earlier ones are on disk).
                let executed = paper
                paper = before
                guard let onDisk = try? await store.order(clientOrderId: clientOrderId), onDisk.status.isFinal else {
                    // The order keeps resting, and a later tick tries again.
                    break
                }
                // The disk says the order is over: it rests no more, whatever ended it.
                _ = paper.cancel(clientOrderId: clientOrderId)
                if onDisk.status == .filled {
                    // A fill was recorded although its commit reported an error (this one, or an earlier one
                    // whose answer was lost): the disk is the truth for the book and for subscribers.
                    let thisCommit = onDisk.filledQuantity == filled.filledQuantity && onDisk.averageFillPrice == filled.averageFillPrice
                    await adoptRecordedFill(of: onDisk, executed: thisCommit ? executed : nil)
                } else {
                    logger.critical("a resting order is final on disk; taken off the paper book", metadata: [
                        "client_order_id": "\(clientOrderId)", "status": "\(onDisk.status.rawValue)",
                    ])
                }
            }
        }
        events.publish(Events.tick, topic: Topics.ticks, body: tick)
    }

    /// A resting order's fill that is on disk although its commit reported an error. The book becomes the
    /// recorded one (`executed` when this very commit landed, else as read from disk) and the recorded fills
    /// and order are published; if they cannot be read the order event is held back too, so arsenald never
    /// frees a symbol without its fill (it catches up at its next gap or reconnect).
    private func adoptRecordedFill(of order: OrderRecord, executed: PaperExchange?) async {
        logger.critical("a resting order's fill was recorded although its commit reported an error; using the recorded outcome",
                        metadata: ["client_order_id": "\(order.clientOrderId)"])
        if let executed {
            var book = executed
            _ = book.cancel(clientOrderId: order.clientOrderId)
            paper = book
        } else if let recorded = try? await store.loadPaper() {
            paper.adopt(recorded)
        } else {
            healthyStore = false
            return
        }
        guard let fills = try? await store.fills(ofOrder: order.clientOrderId) else {
            healthyStore = false
            return
        }
        healthyStore = true
        for fill in fills { events.publish(Events.fill, topic: Topics.fills, body: fill) }
        events.publish(Events.order, topic: Topics.orders, body: order)
    }

    public func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        try await exclusively { try await execute(request) }
    }

    private func execute(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        let symbol = try RequestRules.checked(request)
        let clientOrderId = request.clientOrderId ?? "bb-" + Crypto.hex((try? Crypto.randomBytes(12)) ?? [])
        // Idempotent: a retried request with the same id returns the stored order; nothing is sent twice.
        if let existing = try await store.order(clientOrderId: clientOrderId) {
            guard existing.symbol == symbol, existing.side == request.side, existing.quantity == request.quantity,
                  existing.type == request.type, existing.limitPrice == request.limitPrice, existing.strategyId == request.strategyId else {
                throw IPCError(.conflict, "clientOrderId \(clientOrderId) is already used by a different order")
            }
            if existing.status == .pendingNew {
                // `place` runs start to end in the exclusive section, so a pending_new order seen here is one whose
                // result could not be recorded: it was never executed. Settle it now that the database may take it.
                guard let settled = await settleNeverExecuted(existing, reason: "its result could not be recorded, so it was never executed") else {
                    throw IPCError(.internal, "order \(clientOrderId) could not be recorded, so it was not executed; the database still refuses writes")
                }
                return settled
            }
            return existing
        }
        if let id = request.clientOrderId { try RequestRules.checkClientOrderId(id) }
        guard let venue = symbols.venue(for: symbol) else {
            throw IPCError(.badRequest, "no route for symbol \(symbol): add it under router.symbols")
        }
        guard let rules = symbolRules[symbol] else {
            throw IPCError(.badRequest, "no trading rules for \(symbol) on \(venue.rawValue): add it under router.paper.symbols")
        }
        let tick = paper.lastTick(for: symbol)
        if let violation = rules.violation(quantity: request.quantity, limitPrice: request.limitPrice,
                                           referencePrice: request.side == .buy ? tick?.ask : tick?.bid) {
            throw IPCError(.badRequest, "refused by rule \(violation.rule): \(violation)")
        }
        guard tradingSwitch.state.enabled else {
            throw IPCError(.tradingPaused, "trading is paused: \(tradingSwitch.state.reason.map(RequestRules.quoted) ?? "no reason given")")
        }
        let now = Date()
        var order = OrderRecord(
            clientOrderId: clientOrderId, venue: venue, symbol: symbol, side: request.side, type: request.type,
            quantity: request.quantity, limitPrice: request.limitPrice, status: .pendingNew, strategyId: request.strategyId,
            requestId: request.requestId, createdAt: now, updatedAt: now)
        try await store.insert(order)
        let inserted = order
        rollDay(now)
        ordersToday += 1

        order.updatedAt = Date()
        var fills: [Fill] = []
        let before = paper
        switch paper.submit(order) {
        case .filled(let fill):
            order.status = .filled
            order.filledQuantity = fill.quantity
            order.averageFillPrice = fill.price
            order.exchangeOrderId = "paper-\(clientOrderId)"
            fills = [fill]
        case .resting:
            order.status = .new
            order.exchangeOrderId = "paper-\(clientOrderId)"
        case .rejected(let reason):
            order.status = .rejected
            order.rejectReason = reason
        }
        do {
            try await settle(order, fills: fills)
        } catch {
            // The execution must not outlive a failed commit: the book goes back to what is on disk, and the
            // order is recorded as rejected (never executed). If even that cannot be written it stays
            // pending_new, and a retry with its id or the next start's reconcile settles it.
            let executed = paper
            paper = before
            if await settleNeverExecuted(inserted, reason: "its result could not be recorded, so it was never executed") == nil,
               let stored = try? await store.order(clientOrderId: clientOrderId), stored.status != .pendingNew,
               stored.status == order.status, stored.filledQuantity == order.filledQuantity {
                // The commit reported an error but reached the disk after all (possible with I/O errors):
                // the disk is the truth, so the book is the executed one, subscribers hear of the recorded fills
                // and order (arsenald frees the symbol on the order's event), and the caller gets the outcome.
                paper = executed
                logger.critical("an order commit reported an error but was recorded; using the recorded outcome",
                                metadata: ["client_order_id": "\(clientOrderId)", "status": "\(stored.status.rawValue)"])
                // Without its fills the order event is held back: arsenald must not free the symbol before the
                // fill is in its position (it catches up at its next gap or reconnect).
                if let recordedFills = try? await store.fills(ofOrder: clientOrderId) {
                    for fill in recordedFills { events.publish(Events.fill, topic: Topics.fills, body: fill) }
                    events.publish(Events.order, topic: Topics.orders, body: stored)
                    healthyStore = true
                }
                return stored
            }
            throw IPCError(.internal, "order \(clientOrderId) could not be recorded, so it was not executed: \(error)")
        }
        logger.info("order \(order.status.rawValue)", metadata: [
            "client_order_id": "\(clientOrderId)", "request_id": "\(request.requestId ?? "-")", "symbol": "\(symbol)",
            "side": "\(request.side.rawValue)", "quantity": "\(request.quantity)",
            "price": "\(order.averageFillPrice.map { "\($0)" } ?? "-")", "reason": "\(order.rejectReason ?? "-")",
        ])
        return order
    }

    public func cancel(clientOrderId: String) async throws -> OrderRecord {
        try await exclusively { try await cancelOrder(clientOrderId) }
    }

    private func cancelOrder(_ clientOrderId: String) async throws -> OrderRecord {
        try RequestRules.checkStoredClientOrderId(clientOrderId)
        guard let stored = try await store.order(clientOrderId: clientOrderId) else {
            throw IPCError(.notFound, "no order \(clientOrderId)")
        }
        guard !stored.status.isFinal else {
            throw IPCError(.conflict, "order \(clientOrderId) is already \(stored.status.rawValue)")
        }
        guard var order = paper.cancel(clientOrderId: clientOrderId) else {
            throw IPCError(.conflict, "order \(clientOrderId) is not resting on the venue")
        }
        order.status = .canceled
        order.updatedAt = Date()
        do {
            try await settle(order, fills: [])
        } catch {
            if let onDisk = try? await store.order(clientOrderId: clientOrderId), onDisk.status == .canceled {
                // The cancel reported an error but was recorded: the disk is the truth.
                logger.critical("a cancel reported an error but was recorded; the order is cancelled",
                                metadata: ["client_order_id": "\(clientOrderId)"])
                healthyStore = true
                events.publish(Events.order, topic: Topics.orders, body: onDisk)
                return onDisk
            }
            paper.restore(resting: stored)
            throw IPCError(.internal, "cancel of \(clientOrderId) could not be recorded; the order is still live: \(error)")
        }
        return order
    }

    /// Records a pending_new order that never reached the venue as rejected, only while it is still
    /// pending_new on disk (an outcome that was recorded after all is never overwritten); nil if that cannot
    /// be written. It does not clear the store's unhealthy mark: only a whole order result does.
    private func settleNeverExecuted(_ order: OrderRecord, reason: String) async -> OrderRecord? {
        var rejected = order
        rejected.status = .rejected
        rejected.rejectReason = reason
        rejected.updatedAt = Date()
        do {
            _ = try await store.commit(rejected, fills: [], paper: nil, onlyIfStatus: .pendingNew)
        } catch {
            logger.error("could not record a never-executed order as rejected", metadata: [
                "client_order_id": "\(order.clientOrderId)", "error": "\(error)",
            ])
            return nil
        }
        events.publish(Events.order, topic: Topics.orders, body: rejected)
        return rejected
    }

    /// Persists the outcome with the paper book, then tells subscribers: fills first, then the order.
    /// Nothing is published when the commit fails: subscribers only ever hear about recorded facts.
    private func settle(_ order: OrderRecord, fills: [Fill], onlyIfStatus: OrderStatus? = nil) async throws {
        let stored: [Fill]
        do {
            stored = try await store.commit(order, fills: fills, paper: paper.snapshot, onlyIfStatus: onlyIfStatus)
            healthyStore = true
        } catch {
            // A conflict (the order is no longer what it was on disk) is not a storage failure.
            if (error as? IPCError)?.code != .conflict { healthyStore = false }
            logger.critical("could not persist an order update", metadata: ["client_order_id": "\(order.clientOrderId)", "error": "\(error)"])
            throw error
        }
        for fill in stored { events.publish(Events.fill, topic: Topics.fills, body: fill) }
        events.publish(Events.order, topic: Topics.orders, body: order)
    }

    // Queries wait their turn too: one answers after every order already waiting in the exclusive section, so
    // "absent" means "never arrived" (arsenald's confirmation frees the symbol on it) and a resync's fills
    // include every order placed before the resync asked.
    public func orders(_ query: OrdersQuery) async throws -> [OrderRecord] {
        if let id = query.clientOrderId { try RequestRules.checkStoredClientOrderId(id) }
        if let symbol = query.symbol { _ = try RequestRules.checkedSymbol(symbol) }
        try RequestRules.checkName(query.strategyId, field: "strategyId")
        return try await exclusively { try await store.orders(query) }
    }

    /// The sequence it covers is fixed in turn; the long scan of the fill log up to it runs outside the
    /// exclusive section, so it never holds up ticks and orders.
    public func strategyPositions() async throws -> StrategyPositionsResponse {
        let through = try await exclusively { try await store.lastFillSequence() }
        return try await store.strategyPositions(through: through)
    }

    /// The book as committed: never an execution whose record is still being written.
    public func positions() async throws -> [Position] {
        try await exclusively { try paper.positions() }
    }

    public func fills(_ query: FillsQuery) async throws -> FillsResponse {
        guard query.afterSequence >= 0 else { throw IPCError(.badRequest, "afterSequence must be zero or more") }
        return try await exclusively {
            FillsResponse(fills: try await store.fills(after: query.afterSequence, limit: query.limit ?? 1_000), databaseId: try await store.databaseId(),
                          lastSequence: try await store.lastFillSequence())
        }
    }

    public func account() async throws -> AccountSummary {
        try await exclusively {
            try AccountSummary(venues: [paper.account()], tradingEnabled: tradingSwitch.state.enabled, pausedReason: tradingSwitch.state.reason)
        }
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

    public var statusLine: String {
        get async {
            await exclusively {
                let state = tradingSwitch.state.enabled ? "trading" : "PAUSED"
                let equity = (try? paper.equity().rounded(toScale: 2, rounding: .halfEven)).map { "\($0)" } ?? "out of range"
                return "\(state); ticks \(ticks), orders today \(ordersToday), equity \(equity)"
            }
        }
    }

    public var isHealthy: Bool { healthyStore }

    /// Every tradable symbol's rules, by symbol.
    public nonisolated var allSymbolRules: [SymbolRules] { symbolRules.values.sorted { $0.symbol < $1.symbol } }

    private func rollDay(_ now: Date) {
        let start = DailyResetTime("00:00")!.dayStart(containing: now)
        if start > dayStart {
            dayStart = start
            ordersToday = 0
        }
    }

    /// How many calls wait for the exclusive section (tests use it to order concurrent calls without sleeping).
    var waitingForTurn: Int { waitingForExclusiveSection.count }

    /// Runs `body` with no other exclusive section of this actor starting before it ends, even across its
    /// awaits. Waiters are served in arrival order; the section is handed to the next one directly, so a
    /// newcomer cannot slip in between.
    private func exclusively<T>(_ body: () async throws -> T) async rethrows -> T {
        if exclusiveSectionBusy {
            await withCheckedContinuation { waitingForExclusiveSection.append($0) }
        } else {
            exclusiveSectionBusy = true
        }
        defer {
            if waitingForExclusiveSection.isEmpty {
                exclusiveSectionBusy = false
            } else {
                waitingForExclusiveSection.removeFirst().resume()
            }
        }
        return try await body()
    }
}
