import Foundation
import GRDB
import BagbotDomain
import BagbotIPC
import BagbotStorage

/// routerd's tables in `bagbot.db`: orders (with their status history) and fills.
/// Every state change is one transaction, so a crash leaves each order either before or after it.
///
/// The order path's calls run on routerd's core thread, synchronously (see the note on `commit`); the scans
/// of the fill log and the API's queries go through GRDB's async API.
public final class OrderStore: OrderStorage {
    public let database: DatabasePool

    public init(database: DatabasePool) {
        self.database = database
    }

    /// Of an order's writes only `sent` is durable on its own (`DatabaseWriter.commit(durable:)`): it is what
    /// says "ask the venue" after any failure. Everything else that a power cut could lose is rebuilt by
    /// reconciliation (an order still `sent` is looked up, and what the venue did is adopted), so each order
    /// costs one fsync of routerd's (the order stored and `sent` in one transaction: `insertSent`) plus the venue's
    /// own; on the paper venue, whose synced transaction holds routerd's record too (`RecordingVenue`), one in all.
    /// See docs/reliability.md.
    ///
    /// The order path's calls (`nonisolated(nonsending)`) do their SQLite work on the caller's thread,
    /// synchronously: for RouterService that is routerd's core thread, which may wait for the disk. A write
    /// so begun always ends as committed or failed; a cancelled caller cannot abandon it half-way.
    /// Persists an order as it is. A duplicate client order id is refused by the primary key, so the same order can
    /// never be stored (or sent) twice.
    public nonisolated(nonsending) func insert(_ order: OrderRecord, durable: Bool) async throws {
        try database.commit(durable: durable) { db in try insert(order, in: db) }
    }

    /// One transaction for both steps: the order is on disk as `sent` before its venue is called, at the cost of one
    /// commit instead of two (docs/performance.md, "Binance order round trip"). Its history keeps both steps.
    public nonisolated(nonsending) func insertSent(_ order: OrderRecord, sent: OrderRecord, reason: String) async throws {
        try database.commit(durable: true) { db in
            try insert(order, in: db)
            _ = try write(sent, fills: [], reason: reason, expecting: .pendingNew, in: db)
        }
    }

    public func insert(_ order: OrderRecord, in db: Database) throws {
        do {
            try db.insertKeepingStatement(order)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            // The orders row is the only one with a key of the caller's: nothing of this order is written.
            throw ClientOrderIdTaken(clientOrderId: order.clientOrderId)
        }
        try db.insertKeepingStatement(OrderEventRecord(order, reason: order.rejectReason))
    }

    @discardableResult
    public nonisolated(nonsending) func commit(_ order: OrderRecord, fills: [Fill], reason: String?, expecting: OrderStatus?,
                                               durable: Bool) async throws -> [Fill] {
        try database.commit(durable: durable) { db in try write(order, fills: fills, reason: reason, expecting: expecting, in: db) }
    }

    public func write(_ order: OrderRecord, fills: [Fill], reason: String?, expecting: OrderStatus?, in db: Database) throws -> [Fill] {
        // Cached statements: the order path runs these with every order, and compiling them each time
        // through the query interface cost more than running them (docs/performance.md).
        var arguments: [(any DatabaseValueConvertible)?] = [
            order.status.rawValue, order.filledQuantity, order.averageFillPrice, order.exchangeOrderId, order.rejectReason,
            order.updatedAt.databaseText, order.clientOrderId,
        ]
        var sql = """
            UPDATE orders SET status = ?, filled_quantity = ?, average_fill_price = ?, exchange_order_id = ?, reject_reason = ?, \
            updated_at = ? WHERE client_order_id = ?
            """
        if let expecting {
            sql += " AND status = ?"
            arguments.append(expecting.rawValue)
        }
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
        guard db.changesCount == 1 else {
            if let expecting {
                throw IPCError(.conflict, "order \(order.clientOrderId) is not stored as \(expecting.rawValue)")
            }
            throw IPCError(.notFound, "order \(order.clientOrderId) is not stored")
        }
        try db.insertKeepingStatement(OrderEventRecord(order, reason: reason))
        var stored: [Fill] = []
        guard !fills.isEmpty else { return stored }
        var sequence = try Self.lastFillSequence(db)
        for var fill in fills {
            let owner = try Self.owner(ofFill: fill.fillId, in: db)
            if let owner {
                // Stored once per trade id.
                if owner == fill.clientOrderId { continue }
                // Both sides of one trade are orders of ours (a self-trade, where the symbol lets one happen: the
                // venue gives the buy and the sell the same trade id): the side stored second keeps its own id.
                let sideId = Self.otherSideFillId(fill.fillId, side: fill.side)
                let sideOwner = try Self.owner(ofFill: sideId, in: db)
                if sideOwner == fill.clientOrderId { continue }
                // Any other id that another order already has is a venue adapter's mistake (ids must be unique
                // across the venue), never a fill to drop in silence.
                guard sideOwner == nil, let first = try FillRow.fetchOne(db, key: ["fill_id": fill.fillId]), first.isOtherSide(of: fill) else {
                    throw IPCError(.internal, "fill id \(fill.fillId) of order \(fill.clientOrderId) is already stored for order \(owner)")
                }
                fill.fillId = sideId
            }
            sequence += 1
            let row = FillRow(fill, sequence: sequence)
            try db.insertKeepingStatement(row)
            stored.append(row.fill)
        }
        // Across reports too: fills under new ids that would add up past the order cannot be true (the transaction is
        // rolled back, nothing of the report is written). An order that was `sent` (or `pending_new`) until this
        // report has no fills before it (RouterService refuses fills in a report below `acknowledged`): the report's
        // own, checked against the order already, are all it has, and the first answer to an order costs no read.
        if !stored.isEmpty, expecting != .sent, expecting != .pendingNew {
            let quantities = try String.fetchAll(db.cachedStatement(sql: "SELECT quantity FROM fills WHERE client_order_id = ?"),
                                                 arguments: [order.clientOrderId])
            guard let total = try? ExactDecimal.sum(quantities.compactMap { ExactDecimal($0) }), total <= order.quantity else {
                throw FillsPastTheOrder(clientOrderId: order.clientOrderId, quantity: order.quantity)
            }
        }
        return stored
    }

    /// A report whose new fills would take the order's recorded fills past its quantity.
    public struct FillsPastTheOrder: Error, CustomStringConvertible {
        public var clientOrderId: String
        public var quantity: ExactDecimal
        public var description: String { "fills adding up to more than order \(clientOrderId)'s quantity (\(quantity)) with those recorded" }
    }

    private static func owner(ofFill fillId: String, in db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT client_order_id FROM fills WHERE fill_id = ?"), arguments: [fillId])
    }

    /// The id a fill is stored under when the other side of its trade, an order of ours too, was stored first under
    /// the venue's id (a self-trade). A trade has one buy and one sell, so the id names it together with its side.
    public static func otherSideFillId(_ fillId: String, side: Side) -> String {
        "\(fillId)/\(side.rawValue)"
    }

    public nonisolated(nonsending) func order(clientOrderId: String) async throws -> OrderRecord? {
        try database.readNow { db in
            // A kept statement: every order is looked up by its id first (a retry returns the stored order). Its
            // columns are named: a kept `SELECT *` would read a table rebuilt meanwhile (a migration run by
            // another daemon) under the old column order.
            try OrderRecord.fetchOne(db.cachedStatement(sql: Self.selectOrder), arguments: [clientOrderId])
        }
    }

    public func orders(_ query: OrdersQuery) async throws -> [OrderRecord] {
        var request = OrderRecord.all()
        if let id = query.clientOrderId { request = request.filter(OrderRecord.Columns.clientOrderId == id) }
        if let symbol = query.symbol { request = request.filter(OrderRecord.Columns.symbol == symbol.uppercased()) }
        if let status = query.status { request = request.filter(OrderRecord.Columns.status == status.rawValue) }
        if let strategy = query.strategyId { request = request.filter(OrderRecord.Columns.strategyId == strategy) }
        let limited = request.order(OrderRecord.Columns.createdAt.desc, Column.rowID.desc).limit(min(max(query.limit ?? 100, 1), 1_000))
        return try await database.read { db in try limited.fetchAll(db) }
    }

    /// `router.orders`: filtered, newest first with the client order id breaking ties, cut at `after`. The cursor is
    /// the last order's stored `created_at` text and its id (`<created_at>|<id>`): compared as stored, so no time is
    /// rounded on its way through a `Date`.
    public func orderPage(_ query: OrdersQuery) async throws -> OrdersResponse {
        var request = OrderRecord.all()
        if let id = query.clientOrderId { request = request.filter(OrderRecord.Columns.clientOrderId == id) }
        if let symbol = query.symbol { request = request.filter(OrderRecord.Columns.symbol == symbol.uppercased()) }
        if let status = query.status { request = request.filter(OrderRecord.Columns.status == status.rawValue) }
        if let strategy = query.strategyId { request = request.filter(OrderRecord.Columns.strategyId == strategy) }
        if let from = query.createdFrom { request = request.filter(OrderRecord.Columns.createdAt >= from) }
        if let before = query.createdBefore { request = request.filter(OrderRecord.Columns.createdAt < before) }
        if let after = query.after {
            let (createdAt, id) = try Self.parseCursor(after)
            request = request.filter(sql: "created_at < ? OR (created_at = ? AND client_order_id < ?)", arguments: [createdAt, createdAt, id])
        }
        let limit = min(max(query.limit ?? 100, 1), 1_000)
        let page = request.order(OrderRecord.Columns.createdAt.desc, OrderRecord.Columns.clientOrderId.desc).limit(limit + 1)
        return try await database.read { db in
            let rows = try Row.fetchAll(db, page)
            let orders = try rows.prefix(limit).map { try OrderRecord(row: $0) }
            var next: String?
            if rows.count > limit, let last = rows.prefix(limit).last {
                let createdAt: String = last["created_at"]
                let id: String = last["client_order_id"]
                next = "\(createdAt)|\(id)"
            }
            return OrdersResponse(orders: orders, nextCursor: next)
        }
    }

    /// A cursor this store made: `created_at` text (digits, `-`, `:`, `.`, space, `T`) and a client order id.
    static func parseCursor(_ cursor: String) throws -> (String, String) {
        let parts = cursor.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, (1...40).contains(parts[0].utf8.count),
              parts[0].utf8.allSatisfy({ (48...57).contains($0) || "-:. TZ".utf8.contains($0) }) else {
            throw IPCError(.badRequest, "after: not a cursor of router.orders")
        }
        try RequestRules.checkStoredClientOrderId(String(parts[1]))
        return (String(parts[0]), String(parts[1]))
    }

    static let selectOrder = """
        SELECT client_order_id, venue, symbol, side, type, quantity, limit_price, status, filled_quantity, average_fill_price, \
        exchange_order_id, reduce_only, strategy_id, request_id, reject_reason, created_at, updated_at, time_in_force \
        FROM orders WHERE client_order_id = ?
        """

    public nonisolated(nonsending) func nonFinalOrders() async throws -> [OrderRecord] {
        let open = OrderStatus.allCases.filter { !$0.isFinal }.map(\.rawValue)
        return try database.readNow { db in
            try OrderRecord.filter(open.contains(OrderRecord.Columns.status))
                .order(OrderRecord.Columns.createdAt, Column.rowID).fetchAll(db)
        }
    }

    /// Orders given up since `since` with a reason starting `prefix` (`not_found_at_venue`): their late look-ups
    /// outlive a restart.
    public func orders(givenUpSince since: Date, reasonPrefix prefix: String) async throws -> [OrderRecord] {
        try await database.read { db in
            try OrderRecord.filter(OrderRecord.Columns.updatedAt >= since && OrderRecord.Columns.rejectReason.like(prefix + "%"))
                .filter([OrderStatus.rejected.rawValue, OrderStatus.expired.rawValue].contains(OrderRecord.Columns.status))
                .order(OrderRecord.Columns.updatedAt).fetchAll(db)
        }
    }

    public func finalOrdersShortOfFills(updatedSince since: Date) async throws -> [OrderRecord] {
        let final = OrderStatus.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ",")
        // Summed exactly here, not by SQLite (its SUM of decimal text is a Double).
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT orders.*, GROUP_CONCAT(fills.quantity, ' ') AS bagbot_fill_quantities FROM orders
                LEFT JOIN fills ON fills.client_order_id = orders.client_order_id
                WHERE orders.status IN (\(final)) AND orders.updated_at >= ?
                GROUP BY orders.client_order_id
                """, arguments: [since])
        }
        return try rows.compactMap { row in
            let order = try OrderRecord(row: row)
            guard order.filledQuantity.isPositive else { return nil }
            let quantities = (row["bagbot_fill_quantities"] as String?)?.split(separator: " ").map { ExactDecimal($0) } ?? []
            guard !quantities.contains(nil), let sum = try? ExactDecimal.sum(quantities.compactMap { $0 }) else { return order }
            return sum < order.filledQuantity ? order : nil
        }
    }

    public func countOrders(since: Date) async throws -> Int {
        try await database.read { db in try OrderRecord.filter(OrderRecord.Columns.createdAt >= since).fetchCount(db) }
    }

    public nonisolated(nonsending) func lastFillSequence() async throws -> Int64 {
        try database.readNow { db in try Self.lastFillSequence(db) }
    }

    private static func lastFillSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(sequence), 0) FROM fills")) ?? 0
    }

    public nonisolated(nonsending) func recordStart() async throws {
        try database.commit(durable: true) { db in
            try db.execute(sql: "INSERT INTO router_starts (time) VALUES (?)", arguments: [Date().databaseText])
        }
    }

    public nonisolated(nonsending) func databaseId() async throws -> String {
        try database.readNow { db in try Self.databaseId(db) }
    }

    private static func databaseId(_ db: Database) throws -> String {
        guard let id = try String.fetchOne(db, sql: "SELECT id FROM database_identity") else {
            throw IPCError(.internal, "the database has no identity row")
        }
        return id
    }

    /// Each strategy's net position per symbol, rebuilt from its fills up to `through` in the order they happened.
    public func strategyPositions(through: Int64, venues: Set<Venue>? = nil) async throws -> StrategyPositionsResponse {
        try await database.read { db in
            var books: [String: [String: PositionBook]] = [:]
            let fills = try FillRow.inSequence.filter(FillRow.Columns.strategyId != nil && FillRow.Columns.sequence <= through).fetchCursor(db)
            while let row = try fills.next() {
                guard let strategy = row.strategyId, venues?.contains(row.venue) ?? true else { continue }
                _ = try books[strategy, default: [:]][row.symbol, default: PositionBook()].apply(row.fill)
            }
            let positions = books.flatMap { strategy, symbols in
                // Below one unit of 10^-8 no venue can trade it: dust left by fills recorded as doubles before
                // money was exact (0.1 + 0.2 − 0.30000000000000004) is flat, as it was then.
                symbols.map { StrategyPosition(strategyId: strategy, symbol: $0.key,
                                               book: $0.value.quantity.magnitude < RequestRules.quantityRange.lowerBound ? PositionBook() : $0.value) }
            }.sorted { ($0.strategyId, $0.symbol) < ($1.strategyId, $1.symbol) }
            return StrategyPositionsResponse(positions: positions, throughSequence: through, databaseId: try Self.databaseId(db))
        }
    }

    /// The day's ledger from every fill up to `through` (`DayLedger`).
    public func dayLedger(since: Date, through: Int64) async throws -> DayLedger {
        try await database.read { db in
            var ledger = DayLedger(dayStart: since)
            let fills = try FillRow.inSequence.filter(FillRow.Columns.sequence <= through).fetchCursor(db)
            while let row = try fills.next() { try ledger.apply(row.fill) }
            return ledger
        }
    }

    /// Fills with a sequence above `after`, oldest first, with their sequence, the database's identity and the
    /// log's last sequence, all from one read transaction: one snapshot of the log, read beside the order
    /// path's writes rather than after them (WAL).
    public func fills(after: Int64, limit: Int) async throws -> FillsResponse {
        let request = FillRow.inSequence.filter(FillRow.Columns.sequence > after).limit(min(max(limit, 1), 10_000))
        return try await database.read { db in
            FillsResponse(fills: try request.fetchAll(db).map(\.fill), databaseId: try Self.databaseId(db),
                          lastSequence: try Self.lastFillSequence(db))
        }
    }

    public func fillHistory(_ query: FillHistoryQuery) async throws -> FillHistoryPage {
        var request = FillRow.all()
        if let symbol = query.symbol { request = request.filter(FillRow.Columns.symbol == symbol.uppercased()) }
        if let strategy = query.strategyId { request = request.filter(FillRow.Columns.strategyId == strategy) }
        if let id = query.clientOrderId { request = request.filter(FillRow.Columns.clientOrderId == id) }
        if let before = query.beforeSequence { request = request.filter(FillRow.Columns.sequence < before) }
        let limit = min(max(query.limit ?? 100, 1), 1_000)
        let page = request.order(FillRow.Columns.sequence.desc).limit(limit + 1)
        let rows = try await database.read { db in try page.fetchAll(db) }
        let fills = rows.prefix(limit).map(\.fill)
        return FillHistoryPage(fills: fills, nextBefore: rows.count > limit ? fills.last?.sequence : nil)
    }

    public nonisolated(nonsending) func fills(ofOrder clientOrderId: String) async throws -> [Fill] {
        let request = FillRow.inSequence.filter(FillRow.Columns.clientOrderId == clientOrderId)
        return try database.readNow { db in try request.fetchAll(db).map(\.fill) }
    }

}
