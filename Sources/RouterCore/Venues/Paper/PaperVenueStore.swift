import Foundation
import BagbotDomain
import GRDB

/// The paper venue's books in `bagbot.db` (`paper_orders`, `paper_fills`, `paper_accounts`,
/// `paper_positions`), apart from routerd's own `orders` and `fills`: each execution is one transaction of
/// its own, as at an exchange, so after a crash the venue knows exactly what it did, whatever routerd had
/// recorded by then.
struct PaperVenueStore: Sendable {
    let database: DatabasePool

    private func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let database = database
        // Not abandoned when the asking task is cancelled: an execution is recorded whole or not at all.
        return try await Task { try await database.write(updates) }.value
    }

    /// Records an order as it now is, its new fills and the book, together.
    func record(_ order: OrderRecord, fills: [Fill], book: PaperExchange.Snapshot) async throws {
        try await write { db in
            try PaperOrderRecord(order).upsert(db)
            for fill in fills { try PaperFillRecord(fill).insert(db) }
            try Self.save(book, db)
        }
    }

    func exists(clientOrderId: String) async throws -> Bool {
        try await database.read { db in try PaperOrderRecord.exists(db, key: clientOrderId) }
    }

    func report(clientOrderId: String) async throws -> VenueOrderReport? {
        try await database.read { db in
            guard let order = try PaperOrderRecord.fetchOne(db, key: clientOrderId) else { return nil }
            let fills = try PaperFillRecord.filter(PaperFillRecord.Columns.clientOrderId == clientOrderId)
                .order(PaperFillRecord.Columns.time, Column("fill_id")).fetchAll(db)
            return order.report(fills: fills)
        }
    }

    /// Orders still working, oldest first.
    func workingOrders() async throws -> [OrderRecord] {
        let working = [OrderStatus.acknowledged, .partiallyFilled].map(\.rawValue)
        return try await database.read { db in
            try PaperOrderRecord.filter(working.contains(PaperOrderRecord.Columns.status)).order(Column("created_at"), Column.rowID)
                .fetchAll(db).map(\.order)
        }
    }

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

    func loadBook() async throws -> PaperExchange.Snapshot? {
        try await database.read { db in
            guard let account = try PaperAccountRecord.fetchOne(db, key: PaperExchange.currency) else { return nil }
            var positions: [String: PaperExchange.PaperPosition] = [:]
            for record in try PaperPositionRecord.fetchAll(db) { positions[record.symbol] = record.position }
            return PaperExchange.Snapshot(cash: account.cash, feesPaid: account.feesPaid, positions: positions)
        }
    }

    private static func save(_ snapshot: PaperExchange.Snapshot, _ db: Database) throws {
        try PaperAccountRecord(currency: PaperExchange.currency, cash: snapshot.cash, feesPaid: snapshot.feesPaid).upsert(db)
        for (symbol, position) in snapshot.positions {
            try PaperPositionRecord(symbol: symbol, position).upsert(db)
        }
    }
}
