import GRDB

/// `v11-router-order-path-pages`: fewer pages written per order. Each page a transaction changes is one more
/// 4 KiB frame in the WAL, written and synced; an order's four transactions wrote 29 of them, where a
/// single-row commit writes one or two (docs/performance.md, "Durable orders"). Same rows, same meaning:
///
/// - `order_events.id` stays an `INTEGER PRIMARY KEY` but without `AUTOINCREMENT`, whose `sqlite_sequence` row
///   was one more page in every transaction that records an event (three an order). Ids still only grow: a
///   new row takes the largest id plus one, and events are never deleted (an order is never deleted either).
/// - `fills.sequence` becomes the table's `INTEGER PRIMARY KEY`, an explicit column that VACUUM keeps, instead
///   of a separate unique index beside the implicit rowid (one page a fill less, and the log read in its own
///   order). `fill_id` stays unique.
/// - `paper_orders_by_status` holds only the working orders (`acknowledged`, `partially_filled`), the only
///   ones looked up by status: an order that fills or is rejected at once no longer touches it.
enum OrderPathPagesMigration {
    static func run(_ db: Database) throws {
        try rebuild(db, table: "order_events") { t in
            t.primaryKey("id", .integer)
            t.column("client_order_id", .text).notNull().references("orders", onDelete: .cascade)
            t.column("status", .text).notNull()
            t.column("reason", .text)
            t.column("time", .datetime).notNull()
        }
        try db.create(index: "order_events_by_order", on: "order_events", columns: ["client_order_id"])

        try rebuild(db, table: "fills") { t in
            t.primaryKey("sequence", .integer)
            t.column("fill_id", .text).notNull().unique()
            t.column("client_order_id", .text).notNull().references("orders")
            t.column("venue", .text).notNull()
            t.column("symbol", .text).notNull()
            t.column("side", .text).notNull()
            t.column("quantity", .text).notNull()
            t.column("price", .text).notNull()
            t.column("fee", .text).notNull()
            t.column("time", .datetime).notNull()
            t.column("strategy_id", .text)
            t.column("request_id", .text)
            t.column("base_commission", .text)
        }
        try db.create(index: "fills_by_order", on: "fills", columns: ["client_order_id"])

        try db.drop(index: "paper_orders_by_status")
        try db.execute(sql: "CREATE INDEX paper_orders_working ON paper_orders(status) WHERE status IN ('acknowledged', 'partially_filled')")
    }

    /// The new table beside the old one, every row copied with the same values (the old table's columns must all
    /// be in the new one: a column left behind stops the migration), then put in the old one's place.
    private static func rebuild(_ db: Database, table: String, define: (TableDefinition) -> Void) throws {
        let rebuilt = table + "_v11"
        try db.create(table: rebuilt, body: define)
        let old = try db.columns(in: table).map(\.name)
        let new = Set(try db.columns(in: rebuilt).map(\.name))
        guard old.allSatisfy(new.contains) else {
            throw DatabaseError(message: "\(table) has columns \(old.filter { !new.contains($0) }) that its rebuilt table lacks")
        }
        let columns = old.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        try db.execute(sql: "INSERT INTO \(rebuilt) (\(columns)) SELECT \(columns) FROM \(table.quotedDatabaseIdentifier)")
        try db.drop(table: table)
        try db.rename(table: rebuilt, to: table)
    }
}
