import Foundation
import BagbotDomain
import GRDB

/// What `RouterService` needs from its storage: `OrderStore` on `bagbot.db`, or a test's wrapper that makes
/// the disk misbehave in ways SQLite cannot be made to (a commit that lands and still reports an error).
///
/// The calls of the order path are `nonisolated(nonsending)`: they run on the caller's executor, which for
/// `RouterService` is routerd's core thread (`RouterExecutor`), and `OrderStore` does their SQLite work
/// there, synchronously, with no hop to another thread and back. The scans of the whole fill log
/// (`strategyPositions`, `dayLedger`) and the queries of the API leave that thread while they read.
public protocol OrderStorage: Sendable {
    /// The SQLite database the orders are in.
    var database: DatabasePool { get }
    /// Persists an order as it is, with its first `order_events` row; a client order id already stored is refused
    /// with `ClientOrderIdTaken`, and nothing is written. `durable`: synced before it returns (an order stored as
    /// rejected after a failed commit: `RouterService.sealAsNeverSent`). A new order routerd sends is stored with
    /// `insertSent` instead.
    nonisolated(nonsending) func insert(_ order: OrderRecord, durable: Bool) async throws
    /// `insert`'s writes in a transaction of someone else's on `database` (a venue's whose books are there:
    /// `RecordingVenue`), which commits them or rolls them back with its own.
    func insert(_ order: OrderRecord, in db: Database) throws
    /// A new order (`pending_new`) and its `sent` (with `reason`) in one transaction, synced before it returns: what
    /// a live venue's order writes before the venue is called. A client order id already stored is refused with
    /// `ClientOrderIdTaken`, and nothing is written. Any other error but `CommitFailed` means nothing was written; a
    /// `CommitFailed` came after every statement ran, so an order found under the id then is this one, stored `sent`.
    nonisolated(nonsending) func insertSent(_ order: OrderRecord, sent: OrderRecord, reason: String) async throws
    /// Writes the order's new state and, with its time and `reason`, the transition to `order_events`; stores
    /// those of `fills` not stored yet (a venue's trade id is stored once); returns the fills newly stored, with
    /// their sequence. `expecting`: only while the stored status is this one (else `conflict`, nothing written).
    /// `durable`: synced to disk before it returns (an order's `sent`).
    @discardableResult
    nonisolated(nonsending) func commit(_ order: OrderRecord, fills: [Fill], reason: String?, expecting: OrderStatus?,
                                        durable: Bool) async throws -> [Fill]
    /// `commit`'s writes in a transaction of someone else's on `database`, as `insert(_:in:)`.
    func write(_ order: OrderRecord, fills: [Fill], reason: String?, expecting: OrderStatus?, in db: Database) throws -> [Fill]
    nonisolated(nonsending) func order(clientOrderId: String) async throws -> OrderRecord?
    func orders(_ query: OrdersQuery) async throws -> [OrderRecord]
    /// One page of `query`, newest first (then by client order id, descending), with the cursor of the next page
    /// when more orders match.
    func orderPage(_ query: OrdersQuery) async throws -> OrdersResponse
    nonisolated(nonsending) func nonFinalOrders() async throws -> [OrderRecord]
    func countOrders(since: Date) async throws -> Int
    /// Orders rejected or expired since `since` with a reason starting `prefix`.
    func orders(givenUpSince since: Date, reasonPrefix prefix: String) async throws -> [OrderRecord]
    /// Final orders updated since `since` whose stored fills add up to less than their filled quantity (a venue that
    /// reported more filled than the fills it sent, before a restart): their fills are asked for again.
    func finalOrdersShortOfFills(updatedSince since: Date) async throws -> [OrderRecord]
    /// The sequence of the last fill recorded (0 for none).
    nonisolated(nonsending) func lastFillSequence() async throws -> Int64
    /// Each strategy's net position per symbol from the fills up to `through`.
    /// `venues`: only these venues' fills (nil: every venue's).
    func strategyPositions(through: Int64, venues: Set<Venue>?) async throws -> StrategyPositionsResponse
    /// The fills after `after` (at most `limit`), the database's identity and the log's last sequence, from one
    /// snapshot of the database.
    func fills(after: Int64, limit: Int) async throws -> FillsResponse
    /// Matching fills newest first, at most `query.limit`, with where the next page starts.
    func fillHistory(_ query: FillHistoryQuery) async throws -> FillHistoryPage
    /// The day's realised P&L and fees per venue and symbol, from every fill up to `through`.
    func dayLedger(since: Date, through: Int64) async throws -> DayLedger
    /// One order's fills with their sequence, oldest first.
    nonisolated(nonsending) func fills(ofOrder clientOrderId: String) async throws -> [Fill]
    /// Records a start of routerd in `router_starts`, synced: its frames go over whatever a commit that failed in
    /// the last run left in the log (`CommitFailed`), so that it cannot come back later.
    nonisolated(nonsending) func recordStart() async throws
    /// The database's own identity, made once with the file.
    nonisolated(nonsending) func databaseId() async throws -> String
}

extension OrderStorage {
    /// An order, unsynced: the next synced commit syncs it with itself.
    public nonisolated(nonsending) func insert(_ order: OrderRecord) async throws {
        try await insert(order, durable: false)
    }
}

/// `OrderStorage.insert` found the order's client order id stored already; nothing was written.
public struct ClientOrderIdTaken: Error, CustomStringConvertible {
    public let clientOrderId: String
    public var description: String { "client order id \(clientOrderId) is stored already" }
}
