import Foundation
import GRDB
import Logging
import Metrics
import BagbotDomain
import BagbotIPC
import BagbotStorage
import BagbotTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore




/// The project's recorded market data, beside the repository: `<repo>/../shared/data`.
let epoch = Date(timeIntervalSince1970: 1_700_000_000)

/// A quote tick: a bid and an ask, no traded size (a resting order it reaches fills in full).
func quote(_ symbol: String, bid: ExactDecimal, ask: ExactDecimal, at seconds: Double = 0) -> Tick {
    let tick = Tick(symbol: symbol, time: epoch.addingTimeInterval(seconds), bid: bid, ask: ask, last: bid, volume: 0, source: "test")
    var withLast = tick
    withLast.last = tick.mid
    return withLast
}

func newOrder(_ id: String, _ side: Side, _ quantity: ExactDecimal, symbol: String = "BTCUSDT", type: OrderType = .market,
              limit: ExactDecimal? = nil, strategy: String? = "s1", status: OrderStatus = .pendingNew) -> OrderRecord {
    OrderRecord(clientOrderId: id, venue: .paper, symbol: symbol, side: side, type: type, quantity: quantity,
                limitPrice: limit, status: status, strategyId: strategy, requestId: "req-\(id)", createdAt: epoch, updatedAt: epoch)
}

/// A router over a real SQLite file in its own directory.
struct RouterFixture {
    let dir: TempDir
    let database: DatabasePool
    let store: OrderStore
    /// Every test symbol on margin (shorts allowed, no leverage), with 100,000 of each quote currency;
    /// `PaperFundsTests` covers spot.
    /// Ticks stay fresh for ten minutes: on a loaded machine a test can take longer than the venue's default
    /// ten seconds between its tick and its order. The tests of stale data set their own age and clock.
    let paperSettings = PaperExchange.Settings(feeBps: 10, slippageBps: 5, startingBalances: ["USD": 100_000, "USDT": 100_000],
                                               marginSymbols: Set(testSymbols), maxTickAge: 600)

    init() throws {
        dir = try TempDir()
        database = try BagbotDatabase.open(path: dir.file("state/bagbot.db"))
        store = OrderStore(database: database)
    }

    /// Rules loose enough for any test price and size (tick 0.0001, step 10^-8), unless a test gives its own.
    static func looseRules(_ symbol: String) -> SymbolRules {
        let (base, quote) = symbol.hasSuffix("USDT") ? (String(symbol.dropLast(4)), "USDT") : (String(symbol.prefix(3)), String(symbol.dropFirst(3)))
        return SymbolRules(symbol: symbol, baseAsset: base, quoteAsset: quote, tickSize: 0.0001, stepSize: 0.00000001,
                           minQuantity: 0.00000001, maxQuantity: 1_000_000_000)
    }

    static let testSymbols = ["BTCUSDT", "EURUSD", "ETHUSDT", "XRPUSDT", "AAAUSDT", "BBBUSDT", "GBPJPY"]

    /// A router over the paper venue (on the same database), started: the last run's orders reconciled.
    func service(overrides: [String: AssetClass] = [:], storage: (any OrderStorage)? = nil,
                 events: any EventPublishing = IPCEventHub(logger: quietLogger),
                 rules: [SymbolRules] = testSymbols.map(looseRules), venues extra: [any TradingVenue] = [],
                 reconciliation: ReconciliationSettings = ReconciliationSettings(), paperTrading: Bool = true,
                 statusLagTicks: Int = 0, priceAgeLimit: Duration? = nil, dayClock: RouterService.DayClock = .wall,
                 clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
                 metrics: any MetricsFactory = MetricsSystem.factory, logger: Logger = quietLogger) async throws -> RouterService {
        let paper = try await PaperVenue(database: database, settings: paperSettings, rules: rules, logger: quietLogger,
                                         statusLagTicks: statusLagTicks)
        let service = try await RouterService(
            store: storage ?? store, venues: [paper] + extra, symbols: SymbolMap(overrides: overrides, paperTrading: paperTrading),
            tradingSwitch: TradingSwitch(stateDirectory: dir.file("state"), logger: quietLogger),
            events: events, logger: logger, reconciliation: reconciliation, priceAgeLimit: priceAgeLimit, dayClock: dayClock,
            clock: clock, metricsFactory: metrics)
        try await service.start()
        return service
    }

    /// An order as an earlier run left it: in routerd's record and, unless it never left the machine, in the
    /// paper venue's.
    func leftOver(_ order: OrderRecord, atVenue: Bool = true) async throws {
        try await store.insert(order)
        if order.status != .pendingNew {
            try await database.write { db in
                try db.execute(sql: "UPDATE orders SET status = ? WHERE client_order_id = ?", arguments: [order.status.rawValue, order.clientOrderId])
            }
        }
        guard atVenue else { return }
        try await database.write { db in try PaperOrderRecord(order).insert(db) }
    }

    /// The paper book as recorded on disk.
    func paperBook() async throws -> PaperExchange.Snapshot? {
        var settings = paperSettings
        settings.adopt(Self.testSymbols.map(Self.looseRules))
        return try await PaperVenueStore(database: database).loadBook(settings: settings)
    }

    func count(_ table: String) throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? -1 }
    }
}

extension RouterService {
    /// The replay feed's path in routerd: the tick goes to the paper venue, which reports it (and the fills
    /// of the resting orders it reaches) back as events.
    func onTick(_ tick: Tick) async {
        await (venues[.paper] as? PaperVenue)?.ingest(tick)
    }
}

extension PaperExchange.RestingOutcome {
    var order: OrderRecord {
        switch self {
        case .filled(let order, _), .expired(let order, _): return order
        }
    }

    /// The fill, or a fill of nothing for an order that expired (so a test reading prices fails visibly).
    var fill: Fill {
        switch self {
        case .filled(_, let fill): return fill
        case .expired(let order, _):
            return Fill(fillId: "none", clientOrderId: order.clientOrderId, venue: .paper, symbol: order.symbol, side: order.side,
                        quantity: 0, price: 0, fee: 0, time: order.updatedAt, strategyId: nil, requestId: nil)
        }
    }
}

/// Counts the committed transactions that changed `orders`.
final class OrderCommits: TransactionObserver, @unchecked Sendable {
    private var changed = false
    private(set) var count = 0
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "orders" }
    func databaseDidChange(with event: DatabaseEvent) { changed = true }
    func databaseDidCommit(_ db: Database) {
        if changed { count += 1 }
        changed = false
    }
    func databaseDidRollback(_ db: Database) { changed = false }
}

/// The real store, misbehaving as a disk can and SQLite cannot be made to: a commit writing an order with
/// status `failWhen`, or any insert while `failInsert` is set, reaches the disk and still reports an error (as
/// an I/O error after the write can); a commit with status `conflictWhen` is refused as a conflict; an insert while
/// `failBeforeInsert` is set fails before it writes.
final class MisbehavingStore: OrderStorage {
    let inner: OrderStore
    let failWhen = NIOLockedValueBox<OrderStatus?>(nil)
    let conflictWhen = NIOLockedValueBox<OrderStatus?>(nil)
    let failInsert = NIOLockedValueBox(false)
    /// Inserts fail before anything is written (a database busy beyond its timeout).
    let failBeforeInsert = NIOLockedValueBox(false)
    /// Reads of one order fail (a disk that cannot be read).
    let failReads = NIOLockedValueBox(false)
    /// Every commit's status and whether it was asked to be durable, in order.
    let commits = NIOLockedValueBox<[(OrderStatus, Bool)]>([])

    init(_ inner: OrderStore) { self.inner = inner }
    var database: DatabasePool { inner.database }

    nonisolated(nonsending) func commit(_ order: OrderRecord, fills: [Fill], reason: String?, expecting: OrderStatus?,
                                        durable: Bool) async throws -> [Fill] {
        commits.withLockedValue { $0.append((order.status, durable)) }
        if conflictWhen.withLockedValue({ $0 }) == order.status { throw IPCError(.conflict, "changed meanwhile") }
        let stored = try await inner.commit(order, fills: fills, reason: reason, expecting: expecting, durable: durable)
        if failWhen.withLockedValue({ $0 }) == order.status { throw IPCError(.internal, "disk I/O error after the write") }
        return stored
    }

    /// Every write made in a venue's transaction (`RecordingVenue`), by status, in order.
    let venueWrites = NIOLockedValueBox<[OrderStatus]>([])

    /// In a venue's transaction `failWhen` fails after the write too, which takes the whole transaction back.
    func write(_ order: OrderRecord, fills: [Fill], reason: String?, expecting: OrderStatus?, in db: Database) throws -> [Fill] {
        venueWrites.withLockedValue { $0.append(order.status) }
        if conflictWhen.withLockedValue({ $0 }) == order.status { throw IPCError(.conflict, "changed meanwhile") }
        let stored = try inner.write(order, fills: fills, reason: reason, expecting: expecting, in: db)
        if failWhen.withLockedValue({ $0 }) == order.status { throw IPCError(.internal, "disk I/O error after the write") }
        return stored
    }

    /// In a venue's transaction `failInsert` fails after the write too, which takes the whole transaction back.
    func insert(_ order: OrderRecord, in db: Database) throws {
        if failBeforeInsert.withLockedValue({ $0 }) { throw DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked") }
        try inner.insert(order, in: db)
        if failInsert.withLockedValue({ $0 }) { throw IPCError(.internal, "disk I/O error after the write") }
    }

    nonisolated(nonsending) func insert(_ order: OrderRecord, durable: Bool) async throws {
        if failBeforeInsert.withLockedValue({ $0 }) { throw DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked") }
        try await inner.insert(order, durable: durable)
        if failInsert.withLockedValue({ $0 }) { throw IPCError(.internal, "disk I/O error after the write") }
    }
    /// `insertSent`'s `COMMIT` fails with nothing of it visible (a sync that failed after its frames were written).
    let failSendUnseen = NIOLockedValueBox(false)

    /// `failBeforeInsert` fails before anything is written; `conflictWhen == .sent` too. `failInsert`, or `failWhen
    /// == .sent`, fails after the transaction landed, as a `COMMIT` that reports an error can.
    /// Runs at the start of `insertSent`, on its thread (blocking it, as a slow sync does).
    let whileInsertingSent = NIOLockedValueBox<(@Sendable (OrderRecord) -> Void)?>(nil)

    nonisolated(nonsending) func insertSent(_ order: OrderRecord, sent: OrderRecord, reason: String) async throws {
        commits.withLockedValue { $0.append((sent.status, true)) }
        whileInsertingSent.withLockedValue { $0 }?(sent)
        if failBeforeInsert.withLockedValue({ $0 }) { throw DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked") }
        if conflictWhen.withLockedValue({ $0 }) == .sent { throw IPCError(.conflict, "changed meanwhile") }
        if failSendUnseen.withLockedValue({ $0 }) {
            // Every statement run, then the whole transaction taken back: nothing of it visible.
            struct Unseen: Error {}
            _ = try? inner.database.commit(durable: true) { db in
                try inner.insert(order, in: db)
                _ = try inner.write(sent, fills: [], reason: reason, expecting: .pendingNew, in: db)
                throw Unseen()
            }
            throw CommitFailed(error: DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error"))
        }
        try await inner.insertSent(order, sent: sent, reason: reason)
        if failInsert.withLockedValue({ $0 }) || failWhen.withLockedValue({ $0 }) == .sent {
            throw CommitFailed(error: DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error"))
        }
    }

    nonisolated(nonsending) func order(clientOrderId: String) async throws -> OrderRecord? {
        if failReads.withLockedValue({ $0 }) { throw DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error") }
        return try await inner.order(clientOrderId: clientOrderId)
    }
    func orders(_ query: OrdersQuery) async throws -> [OrderRecord] { try await inner.orders(query) }
    func orderPage(_ query: OrdersQuery) async throws -> OrdersResponse { try await inner.orderPage(query) }
    nonisolated(nonsending) func nonFinalOrders() async throws -> [OrderRecord] { try await inner.nonFinalOrders() }
    func countOrders(since: Date) async throws -> Int { try await inner.countOrders(since: since) }
    func orders(givenUpSince since: Date, reasonPrefix prefix: String) async throws -> [OrderRecord] {
        try await inner.orders(givenUpSince: since, reasonPrefix: prefix)
    }
    func finalOrdersShortOfFills(updatedSince since: Date) async throws -> [OrderRecord] {
        try await inner.finalOrdersShortOfFills(updatedSince: since)
    }
    nonisolated(nonsending) func lastFillSequence() async throws -> Int64 { try await inner.lastFillSequence() }
    func strategyPositions(through: Int64, venues: Set<Venue>?) async throws -> StrategyPositionsResponse {
        try await inner.strategyPositions(through: through, venues: venues)
    }
    func dayLedger(since: Date, through: Int64) async throws -> DayLedger { try await inner.dayLedger(since: since, through: through) }
    func fills(after: Int64, limit: Int) async throws -> FillsResponse { try await inner.fills(after: after, limit: limit) }
    func fillHistory(_ query: FillHistoryQuery) async throws -> FillHistoryPage { try await inner.fillHistory(query) }
    nonisolated(nonsending) func fills(ofOrder clientOrderId: String) async throws -> [Fill] { try await inner.fills(ofOrder: clientOrderId) }
    nonisolated(nonsending) func databaseId() async throws -> String { try await inner.databaseId() }
    /// `recordStart` fails (a disk full or read-only at start).
    let failRecordStart = NIOLockedValueBox(false)
    nonisolated(nonsending) func recordStart() async throws {
        if failRecordStart.withLockedValue({ $0 }) { throw DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full") }
        try await inner.recordStart()
    }
}

/// The paper venue, whose commit of every new order (`RecordingVenue`) reports an error: after it landed, or without
/// anything of it becoming visible (as a commit whose sync failed after its frames were written).
actor PaperWithFailingCommits: RecordingVenue {
    enum Failure { case landedAnyway, failedUnseen }
    private struct Unseen: Error {}
    let paper: PaperVenue
    let failure: Failure
    init(_ paper: PaperVenue, _ failure: Failure) {
        self.paper = paper
        self.failure = failure
    }
    nonisolated var id: Venue { .paper }
    nonisolated var recordDatabase: DatabasePool { paper.recordDatabase }
    func place(_ order: VenueOrderRequest) async throws -> VenueOrderReport { try await paper.place(order) }
    func place<Recorded: Sendable>(_ order: VenueOrderRequest, recording: @Sendable (Database, VenueOrderReport) throws -> Recorded) async throws
        -> (report: VenueOrderReport, recorded: Recorded) {
        let failed = CommitFailed(error: DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error"))
        switch failure {
        case .landedAnyway:
            _ = try await paper.place(order, recording: recording)
        case .failedUnseen:
            // Everything written, then taken back, in the venue's memory too.
            _ = try? await paper.place(order) { db, report in
                _ = try recording(db, report)
                throw Unseen()
            }
        }
        throw failed
    }
    func symbolRules() async throws -> [SymbolRules] { await paper.symbolRules() }
    func cancel(clientOrderId: String, symbol: String) async throws -> VenueOrderReport {
        try await paper.cancel(clientOrderId: clientOrderId, symbol: symbol)
    }
    func order(clientOrderId: String, symbol: String) async throws -> VenueOrderReport? {
        try await paper.order(clientOrderId: clientOrderId, symbol: symbol)
    }
    func openOrders() async throws -> [VenueOrderReport] { try await paper.openOrders() }
    func fills(since: Date) async throws -> [VenueFill] { try await paper.fills(since: since) }
    func balances() async throws -> [AssetBalance] { try await paper.balances() }
    func positions() async throws -> [Position] { try await paper.positions() }
    func setEventHandler(_ handler: @escaping @Sendable (VenueEvent) async -> Void) async { await paper.setEventHandler(handler) }
}
