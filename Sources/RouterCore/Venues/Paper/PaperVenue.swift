import Foundation
import Logging
import GRDB
import BagbotDomain
import BagbotStorage

/// The embedded venue: `PaperExchange`'s matching with books of its own on disk (`PaperVenueStore`). It
/// behaves as an exchange towards routerd: it refuses a client order id it has seen, answers lookups by
/// client order id after a restart, and reports resting orders the market fills as events. A new order's
/// execution is one transaction with routerd's `sent` and record of it (`RecordingVenue`); what the market does to
/// a resting order later, and cancels, are written apart from routerd's record, as at a live venue.
public actor PaperVenue: RecordingVenue, ExclusiveSections {
    /// routerd's core thread, shared with `RouterService`: an order placed here is a plain call, and the
    /// venue's books are written on this thread (`RouterExecutor`).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { RouterExecutor.shared.asUnownedSerialExecutor() }
    public nonisolated let id = Venue.paper
    /// Its books' database (`RecordingVenue`): every execution is written there synced.
    public nonisolated let recordDatabase: DatabasePool
    private let store: PaperVenueStore
    private var exchange: PaperExchange
    private let rules: [SymbolRules]
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private var handler: (@Sendable (VenueEvent) async -> Void)?
    var gate = ExclusiveGate()
    /// A write failed and reading the books back failed too: memory may not match the disk, so nothing is
    /// executed until the books are read again.
    private var booksUnreadable = false
    private var impossibleTicks = ImpossibleTicks()
    /// `router.paper.status_lag_ticks`: a filled market order is answered `acknowledged` with its fills, and its
    /// final status is reported this many ticks of its symbol later (0: at once, with its fills).
    private let statusLagTicks: Int
    /// Those orders, each with the ticks still to come before its status is reported. Not kept across a restart:
    /// routerd then settles them by looking them up.
    private var lagging: [(clientOrderId: String, symbol: String, ticksLeft: Int)] = []

    /// The markets of `settings` are set from `rules`.
    public init(database: DatabasePool, settings: PaperExchange.Settings, rules: [SymbolRules], logger: Logger,
                clock: @escaping @Sendable () -> Date = { Date() }, statusLagTicks: Int = 0) async throws {
        self.statusLagTicks = statusLagTicks
        var settings = settings
        settings.adopt(rules)
        store = PaperVenueStore(database: database)
        recordDatabase = database
        self.rules = rules
        self.clock = clock
        self.logger = logger
        exchange = PaperExchange(settings: settings, snapshot: try await store.loadBook(settings: settings))
        let working = try await store.workingOrders()
        let counts = try await store.fillCounts(working.map(\.clientOrderId))
        for order in working { exchange.restore(resting: order, fills: counts[order.clientOrderId] ?? 0) }
    }

    static func exchangeOrderId(_ clientOrderId: String) -> String { "paper-" + clientOrderId }

    public func setEventHandler(_ handler: @escaping @Sendable (VenueEvent) async -> Void) {
        self.handler = handler
    }

    public func symbolRules() -> [SymbolRules] { rules }

    /// The latest tick of `symbol` this venue has seen.
    public func lastTick(for symbol: String) -> Tick? { exchange.lastTick(for: symbol) }

    public func place(_ request: VenueOrderRequest) async throws -> VenueOrderReport {
        try await place(request, recording: { _, _ in }).report
    }

    public func place<Recorded: Sendable>(_ request: VenueOrderRequest,
                                          recording: @Sendable (Database, VenueOrderReport) throws -> Recorded) async throws
        -> (report: VenueOrderReport, recorded: Recorded) {
        try await exclusively {
            try await requireReadableBooks()
            let now = clock()
            var order = OrderRecord(
                clientOrderId: request.clientOrderId, venue: .paper, symbol: request.symbol, side: request.side, type: request.type,
                quantity: request.quantity, limitPrice: request.limitPrice, status: .acknowledged,
                exchangeOrderId: Self.exchangeOrderId(request.clientOrderId), reduceOnly: request.reduceOnly,
                strategyId: request.strategyId, requestId: request.requestId, timeInForce: request.timeInForce, createdAt: now, updatedAt: now)
            let before = exchange
            var fills: [Fill] = []
            switch exchange.submit(order, at: now, quoteSequence: request.quoteSequence) {
            case .filled(let fill):
                order.status = .filled
                order.filledQuantity = fill.quantity
                order.averageFillPrice = fill.price
                fills = [fill]
            case .resting:
                order.status = .acknowledged
            case .rejected(let reason):
                order.status = .rejected
                order.rejectReason = reason
            case .expired(let reason):
                order.status = .expired
                order.rejectReason = reason
            }
            let lags = statusLagTicks > 0 && order.type == .market && order.status == .filled
            var reported = order
            // Executed and recorded as filled; the report says so only later (`statusLagTicks`).
            if lags { reported.status = .acknowledged }
            let report = Self.report(reported, fills: fills)
            // An exchange refuses a client order id it has seen (Binance: -2010 "Duplicate order sent."): the
            // order's first record does, without a read before it (`PaperVenueStore.record`).
            let recorded = try await persist(order, new: true, fills: fills, undoing: before) { db in
                do { return try recording(db, report) } catch { throw RecordingFailed(error: error) }
            }
            if lags { lagging.append((order.clientOrderId, order.symbol, statusLagTicks)) }
            return (report, recorded)
        }
    }

    public func cancel(clientOrderId: String, symbol: String) async throws -> VenueOrderReport {
        try await exclusively {
            try await requireReadableBooks()
            let before = exchange
            guard var order = exchange.cancel(clientOrderId: clientOrderId) else {
                // Not working: it ended already (the answer says how), or the venue never had it.
                guard let ended = try await store.report(clientOrderId: clientOrderId) else {
                    throw VenueError.rejected("unknown order \(clientOrderId)")
                }
                return ended
            }
            order.status = .cancelled
            order.updatedAt = clock()
            try await persist(order, fills: [], undoing: before)
            return try await store.report(clientOrderId: clientOrderId) ?? Self.report(order, fills: [])
        }
    }

    public func order(clientOrderId: String, symbol: String) async throws -> VenueOrderReport? {
        try await exclusively { try await store.report(clientOrderId: clientOrderId) }
    }

    public func openOrders() async throws -> [VenueOrderReport] {
        try await exclusively {
            var reports: [VenueOrderReport] = []
            for order in try await store.workingOrders() {
                if let report = try await store.report(clientOrderId: order.clientOrderId) { reports.append(report) }
            }
            return reports
        }
    }

    public func fills(since: Date) async throws -> [VenueFill] {
        try await exclusively { try await store.fills(since: since) }
    }

    public func balances() async throws -> [AssetBalance] {
        try await exclusively { try exchange.balances() }
    }

    public func positions() async throws -> [Position] {
        try await exclusively { try exchange.positions() }
    }

    /// Both in one section: a tick filling a resting order between two reads would pair the cash from before the fill
    /// with the position from after it (a false drawdown for mindsetd).
    public func holdings() async throws -> (balances: [AssetBalance], positions: [Position]) {
        try await exclusively { (try exchange.balances(), try exchange.positions()) }
    }

    /// Every balance valued in the account's currency at the current marks.
    public func valuation() async throws -> PaperExchange.Valuation {
        try await exclusively { try exchange.valuation() }
    }

    /// A tick of the replay feed: the venue's market data. Resting orders it reaches are filled and recorded
    /// one by one; then the fills and the tick go to the event handler, outside the venue's exclusive section
    /// (the handler may wait for routerd, which may be waiting for this venue).
    public func ingest(_ tick: Tick) async {
        guard impossibleTicks.admit(tick, logger: logger) else { return }
        let events: [VenueEvent] = await exclusively {
            exchange.record(tick, at: clock())
            var events: [VenueEvent] = []
            guard (try? await requireReadableBooks()) != nil else { return [.tick(tick)] }
            var traded = TradedVolume(tick)
            for clientOrderId in exchange.crossedOrders(by: tick) where !traded.isUsedUp {
                // A write failed and the books could not be read back: memory may not match the disk, so
                // nothing more executes until they can be (the next tick tries again).
                if booksUnreadable { break }
                let before = exchange
                var ended: OrderRecord
                var fills: [Fill] = []
                switch exchange.fillResting(clientOrderId, on: tick, traded: &traded) {
                case nil:
                    continue
                case .filled(let order, let fill):
                    // Filled, or partly filled and still resting for the rest.
                    ended = order
                    fills = [fill]
                case .expired(let order, let reason):
                    ended = order
                    ended.status = .expired
                    ended.rejectReason = reason
                    ended.updatedAt = tick.time
                }
                do {
                    try await persist(ended, fills: fills, undoing: before)
                    // With every fill of the order so far, so routerd misses none even if an event was lost.
                    let whole = (try? await store.report(clientOrderId: clientOrderId)) ?? nil
                    events.append(.order(whole ?? Self.report(ended, fills: fills)))
                } catch {
                    // The write may have landed: if the disk shows more of the order done than routerd was told,
                    // routerd hears it as the disk has it; otherwise a later tick tries again.
                    if let recorded = try? await store.report(clientOrderId: clientOrderId),
                       recorded.status.isFinal || recorded.filledQuantity > before.restingOrder(clientOrderId)?.filledQuantity ?? .zero {
                        events.append(.order(recorded))
                    }
                }
            }
            events += await lateStatuses(on: tick)
            events.append(.tick(tick))
            return events
        }
        guard let handler else { return }
        for event in events { await handler(event) }
    }

    /// The final statuses of lagging market orders (`statusLagTicks`) that this tick of their symbol makes due, as
    /// recorded (the venue's record has them final since their execution).
    private func lateStatuses(on tick: Tick) async -> [VenueEvent] {
        guard !lagging.isEmpty else { return [] }
        var due: [String] = []
        for index in lagging.indices where lagging[index].symbol == tick.symbol {
            lagging[index].ticksLeft -= 1
            if lagging[index].ticksLeft <= 0 { due.append(lagging[index].clientOrderId) }
        }
        var events: [VenueEvent] = []
        var reported: Set<String> = []
        for clientOrderId in due {
            // An order whose record cannot be read now is reported on a later tick, never dropped.
            guard let report = (try? await store.report(clientOrderId: clientOrderId)) ?? nil else { continue }
            events.append(.order(report))
            reported.insert(clientOrderId)
        }
        lagging.removeAll { reported.contains($0.clientOrderId) }
        return events
    }

    /// Writes an execution; when that fails the book goes back to what is on disk (the write may have landed
    /// after all), and the caller hears that the outcome is not known, so it looks the order up instead of
    /// believing either answer.
    /// `alongside`: more writes in the same transaction (`RecordingVenue`).
    @discardableResult
    private func persist<Alongside>(_ order: OrderRecord, new: Bool = false, fills: [Fill], undoing before: PaperExchange,
                                    alongside: (Database) throws -> Alongside = { _ in }) async throws -> Alongside {
        do {
            return try await store.record(order, new: new, fills: fills, book: exchange.snapshot, market: exchange.settings.markets[order.symbol],
                                          alongside: alongside)
        } catch is PaperOrderIdTaken {
            exchange = before
            throw VenueError.duplicate("client order id \(order.clientOrderId) is already known to the paper venue")
        } catch let failed as CommitFailed {
            // Its frames may come back at the next open: routerd settles that for a new order
            // (`RecordingVenue`), and treats it as an outcome not known elsewhere, as `unknownOutcome`.
            exchange = before
            await reloadFromDisk()
            logger.critical("the paper venue's commit failed", metadata: ["client_order_id": "\(order.clientOrderId)", "error": "\(failed)"])
            throw failed
        } catch let failed as RecordingFailed {
            // routerd's writes failed before the commit and took the transaction back with them: the books are as
            // before, and routerd's error is the answer (`RecordingVenue`; a retry of an id routerd has ends here).
            exchange = before
            throw failed.error
        } catch {
            exchange = before
            await reloadFromDisk()
            logger.critical("the paper venue could not record an execution", metadata: [
                "client_order_id": "\(order.clientOrderId)", "error": "\(error)",
            ])
            throw VenueError.unknownOutcome("the paper venue could not confirm its record: \(error)")
        }
    }

    /// Takes the book and the working orders as recorded on disk; market data stays. If they cannot be
    /// read, the venue executes nothing until they can (`requireReadableBooks`).
    private func reloadFromDisk() async {
        do {
            let book = try await store.loadBook(settings: exchange.settings)
            let working = try await store.workingOrders()
            let counts = try await store.fillCounts(working.map(\.clientOrderId))
            exchange.adopt(book)
            exchange.replaceResting(working, fillCounts: counts)
            booksUnreadable = false
        } catch {
            booksUnreadable = true
        }
    }

    private func requireReadableBooks() async throws {
        guard booksUnreadable else { return }
        await reloadFromDisk()
        if booksUnreadable {
            throw VenueError.unavailable("the paper venue cannot read its books back after a failed write")
        }
    }

    /// An error of `place(_:recording:)`'s `recording`, kept apart from the venue's own on its way out.
    private struct RecordingFailed: Error {
        let error: Error
    }

    static func report(_ order: OrderRecord, fills: [Fill]) -> VenueOrderReport {
        VenueOrderReport(
            clientOrderId: order.clientOrderId, exchangeOrderId: exchangeOrderId(order.clientOrderId), status: order.status,
            filledQuantity: order.filledQuantity, averagePrice: order.averageFillPrice,
            fills: fills.map { VenueFill(fillId: $0.fillId, clientOrderId: $0.clientOrderId, symbol: $0.symbol, side: $0.side,
                                         quantity: $0.quantity, price: $0.price, fee: $0.fee, time: $0.time) },
            rejectReason: order.rejectReason, time: order.updatedAt)
    }
}
