import Foundation
import BagbotDomain
import GRDB
import BagbotStorage

/// The paper venue's books in `bagbot.db` (`paper_orders`, `paper_fills`, `paper_balances`,
/// `paper_positions`), apart from routerd's own `orders` and `fills`: each execution is one transaction of
/// its own, as at an exchange, so after a crash the venue knows exactly what it did, whatever routerd had
/// recorded by then.
struct PaperVenueStore: Sendable {
    let database: DatabasePool

    /// Records an order as it now is and its new fills, with what they did to the book: the balances of the
    /// symbol's two assets and its position (nothing else moves), in one transaction, synced to disk before
    /// it returns, as an exchange's own record is. routerd's record of what the venue answered is not synced
    /// on its own, and routerd answers its caller right after: if a power cut took both, a cancel or a fill
    /// that the caller (and mindsetd's own synced files) already heard of would be undone. With the venue's
    /// record synced, routerd's reconciliation finds it and adopts it. Runs on the caller's thread (routerd's
    /// core thread): see `OrderStorage`.
    ///
    /// `new`: the order's first record, refused with `PaperOrderIdTaken` (nothing written) if the venue has an order
    /// under its client order id already, as an exchange refuses one it has seen; otherwise the order's row is replaced.
    /// `alongside`: more writes in the same transaction, after the venue's (routerd's, for a new order: `RecordingVenue`).
    nonisolated(nonsending) func record<Alongside>(_ order: OrderRecord, new: Bool = false, fills: [Fill], book: PaperExchange.Snapshot,
                                                   market: PaperExchange.Market?,
                                                   alongside: (Database) throws -> Alongside) async throws -> Alongside {
        do {
            return try database.commit(durable: true) { db in
                try Self.write(order, new: new, fills: fills, book: book, market: market, db)
                return try alongside(db)
            }
        } catch let error as DatabaseError where new && error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            // Rolled back, so an order found under the id now was there before: a duplicate, not a failed write.
            guard (try? database.readNow({ db in try Self.hasOrder(order.clientOrderId, db) })) == true else { throw error }
            throw PaperOrderIdTaken(clientOrderId: order.clientOrderId)
        }
    }

    private static func hasOrder(_ clientOrderId: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM paper_orders WHERE client_order_id = ?)"),
                          arguments: [clientOrderId]) ?? false
    }

    private static func write(_ order: OrderRecord, new: Bool, fills: [Fill], book: PaperExchange.Snapshot,
                              market: PaperExchange.Market?, _ db: Database) throws {
        try db.insertKeepingStatement(PaperOrderRecord(order), upsertKey: new ? nil : "client_order_id")
        for fill in fills { try db.insertKeepingStatement(PaperFillRecord(fill)) }
        guard !fills.isEmpty else { return }
        guard let market else { throw PaperBookError("no paper market for \(order.symbol)") }
        for asset in [market.baseAsset, market.quoteAsset] {
            try db.insertKeepingStatement(PaperBalanceRecord(asset: asset, balance: book.balances[asset] ?? .zero,
                                                             feesPaid: book.feesPaid[asset] ?? .zero), upsertKey: "asset")
        }
        if let position = book.positions[order.symbol] {
            try db.insertKeepingStatement(PaperPositionRecord(symbol: order.symbol, position), upsertKey: "symbol")
        }
    }

    nonisolated(nonsending) func report(clientOrderId: String) async throws -> VenueOrderReport? {
        try database.readNow { db in
            guard let order = try PaperOrderRecord.fetchOne(db, key: clientOrderId) else { return nil }
            let fills = try PaperFillRecord.filter(PaperFillRecord.Columns.clientOrderId == clientOrderId)
                .order(PaperFillRecord.Columns.time, Column("fill_id")).fetchAll(db)
            return order.report(fills: fills)
        }
    }

    /// Orders still working, oldest first. The condition is the one of their index (`paper_orders_working`), word
    /// for word, so that SQLite uses it.
    func workingOrders() async throws -> [OrderRecord] {
        try await database.read { db in
            try PaperOrderRecord.fetchAll(db, sql: Self.selectWorking).map(\.order)
        }
    }

    static let selectWorking = "SELECT * FROM paper_orders WHERE status IN ('acknowledged', 'partially_filled') ORDER BY created_at, rowid"

    /// How many fills each of these orders has had.
    func fillCounts(_ clientOrderIds: [String]) async throws -> [String: Int] {
        guard !clientOrderIds.isEmpty else { return [:] }
        return try await database.read { db in
            var counts: [String: Int] = [:]
            let placeholders = clientOrderIds.map { _ in "?" }.joined(separator: ", ")
            let rows = try Row.fetchAll(db, sql: """
                SELECT client_order_id, COUNT(*) AS fills FROM paper_fills WHERE client_order_id IN (\(placeholders)) GROUP BY client_order_id
                """, arguments: StatementArguments(clientOrderIds))
            for row in rows { counts[row["client_order_id"]] = row["fills"] }
            return counts
        }
    }

    func fills(since: Date) async throws -> [VenueFill] {
        try await database.read { db in
            try PaperFillRecord.filter(PaperFillRecord.Columns.time >= since).order(PaperFillRecord.Columns.time, Column("fill_id"))
                .fetchAll(db).map(\.fill)
        }
    }

    /// The book as recorded. The first time (a new file, or one from before balances were kept per asset)
    /// the balances are the configured starting ones with every recorded paper fill applied in the order it
    /// happened, and are written at once: later changes to the starting balances do not touch an account
    /// that has started.
    func loadBook(settings: PaperExchange.Settings) async throws -> PaperExchange.Snapshot {
        // A read, as every time but the first: reading the books back must not need the writer, which may be
        // what just failed.
        if let recorded = try await database.read({ db in try Self.recordedBook(db) }) { return recorded }
        return try await database.write { db in
            if let recorded = try Self.recordedBook(db) { return recorded }
            var positions: [String: PaperExchange.PaperPosition] = [:]
            for record in try PaperPositionRecord.fetchAll(db) { positions[record.symbol] = record.position }
            var snapshot = PaperExchange.Snapshot(balances: settings.startingBalances, positions: positions)
            let fills = try PaperFillRecord.order(Column.rowID).fetchCursor(db)
            while let fill = try fills.next() {
                guard let market = settings.markets[fill.symbol] else {
                    throw PaperBookError("the paper fill \(fill.fillId) is in \(fill.symbol), which router.paper.symbols no longer lists: "
                                         + "add it back so the balances can be rebuilt")
                }
                try snapshot.apply(fill.fill, market: market)
            }
            try Self.save(snapshot, db)
            return snapshot
        }
    }

    /// The book as written, or nil before balances were first written.
    private static func recordedBook(_ db: Database) throws -> PaperExchange.Snapshot? {
        let records = try PaperBalanceRecord.fetchAll(db)
        guard !records.isEmpty else { return nil }
        var positions: [String: PaperExchange.PaperPosition] = [:]
        for record in try PaperPositionRecord.fetchAll(db) { positions[record.symbol] = record.position }
        return PaperExchange.Snapshot(balances: Dictionary(uniqueKeysWithValues: records.map { ($0.asset, $0.balance) }),
                                      feesPaid: Dictionary(uniqueKeysWithValues: records.map { ($0.asset, $0.feesPaid) }),
                                      positions: positions)
    }

    private static func save(_ snapshot: PaperExchange.Snapshot, _ db: Database) throws {
        for (asset, balance) in snapshot.balances {
            try PaperBalanceRecord(asset: asset, balance: balance, feesPaid: snapshot.feesPaid[asset] ?? .zero).upsert(db)
        }
        for (symbol, position) in snapshot.positions {
            try PaperPositionRecord(symbol: symbol, position).upsert(db)
        }
    }
}

/// The paper venue has an order under this client order id already.
struct PaperOrderIdTaken: Error {
    let clientOrderId: String
}

/// The paper venue's books cannot be read as the configuration describes them.
struct PaperBookError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
