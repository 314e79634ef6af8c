import Foundation
import BagbotDomain
import GRDB

/// `v2-exact-money`: every money column becomes exact decimal TEXT (SQLite cannot change a column's type, so
/// each table is rebuilt and its rows copied), fills get an explicit `sequence` column, and the file gets its
/// own identity.
///
/// - A REAL is converted by its shortest decimal spelling, the digits that read back as the same double
///   (0.1 stays "0.1", not 0.1000000000000000055…); a value SQLite stored that no decimal below 10^18 can
///   hold stops the migration with the table, column and row, and nothing is changed.
/// - `fills.sequence` starts as the row's old place in the log (its rowid), so a consumer that has applied
///   fills up to some sequence still agrees with the file after the migration.
/// - `paper_positions` keeps what the open quantity cost instead of an average price, as `PositionBook` does.
/// - `database_identity` holds one random id, made once with the file: a restored backup or a new file has
///   another one, and a consumer that sees it change resyncs instead of trusting sequences it has seen.
enum ExactMoneyMigration {
    struct Unconvertible: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ db: Database) throws {
        try rebuild(db, table: "orders", money: ["quantity", "limit_price", "filled_quantity", "average_fill_price"]) { t in
            t.column("client_order_id", .text).primaryKey()
            t.column("venue", .text).notNull()
            t.column("symbol", .text).notNull()
            t.column("side", .text).notNull()
            t.column("type", .text).notNull()
            t.column("quantity", .text).notNull()
            t.column("limit_price", .text)
            t.column("status", .text).notNull()
            t.column("filled_quantity", .text).notNull()
            t.column("average_fill_price", .text)
            t.column("exchange_order_id", .text)
            t.column("strategy_id", .text)
            t.column("request_id", .text)
            t.column("reject_reason", .text)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }
        try db.create(index: "orders_by_status", on: "orders", columns: ["status"])
        try db.create(index: "orders_by_created", on: "orders", columns: ["created_at"])

        try rebuild(db, table: "fills", money: ["quantity", "price", "fee"], derived: { row in
            ["sequence": (row["rowid"] as Int64).databaseValue]
        }) { t in
            t.column("fill_id", .text).primaryKey()
            t.column("sequence", .integer).notNull().unique()
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
        }
        try db.create(index: "fills_by_order", on: "fills", columns: ["client_order_id"])

        try rebuild(db, table: "paper_accounts", money: ["cash", "fees_paid"]) { t in
            t.column("currency", .text).primaryKey()
            t.column("cash", .text).notNull()
            t.column("fees_paid", .text).notNull()
        }
        try rebuild(db, table: "paper_positions", money: ["quantity", "realized_pnl", "last_price"], derived: { row in
            let quantity = try exact(row["quantity"], table: "paper_positions", column: "quantity", row: row["rowid"])
            let average = try exact(row["average_price"], table: "paper_positions", column: "average_price", row: row["rowid"])
            let cost = try quantity.magnitude.times(average)
            return ["cost": cost.databaseValue]
        }) { t in
            t.column("symbol", .text).primaryKey()
            t.column("quantity", .text).notNull()
            t.column("cost", .text).notNull()
            t.column("realized_pnl", .text).notNull()
            t.column("last_price", .text)
        }

        try db.create(table: "database_identity") { t in
            t.column("id", .text).primaryKey()
            t.column("created_at", .datetime).notNull()
        }
        try db.execute(sql: "INSERT INTO database_identity (id, created_at) VALUES (?, ?)", arguments: [UUID().uuidString.lowercased(), Date()])
    }

    /// Creates the new table beside the old one, copies every row (money converted, `derived` columns
    /// computed, columns the old table lacks left to their defaults), then puts it in the old one's place.
    private static func rebuild(
        _ db: Database, table: String, money: Set<String>,
        derived: (Row) throws -> [String: DatabaseValue] = { _ in [:] },
        define: (TableDefinition) -> Void
    ) throws {
        let rebuilt = table + "_v2"
        try db.create(table: rebuilt, body: define)
        let oldColumns = Set(try db.columns(in: table).map(\.name))
        let newColumns = try db.columns(in: rebuilt).map(\.name)
        let placeholders = newColumns.map { _ in "?" }.joined(separator: ", ")
        let insert = try db.makeStatement(sql: "INSERT INTO \(rebuilt) (\(newColumns.joined(separator: ", "))) VALUES (\(placeholders))")
        let rows = try Row.fetchCursor(db, sql: "SELECT rowid, * FROM \(table) ORDER BY rowid")
        while let row = try rows.next() {
            let computed = try derived(row)
            var values: [DatabaseValue] = []
            for column in newColumns {
                if let value = computed[column] {
                    values.append(value)
                } else if !oldColumns.contains(column) {
                    values.append(.null)
                } else if money.contains(column) {
                    let old: DatabaseValue = row[column]
                    values.append(old.isNull ? .null : try exact(old, table: table, column: column, row: row["rowid"]).databaseValue)
                } else {
                    values.append(row[column])
                }
            }
            try insert.execute(arguments: StatementArguments(values))
        }
        try db.drop(table: table)
        try db.rename(table: rebuilt, to: table)
    }

    /// A stored REAL (or a number stored as INTEGER or TEXT) as the exact decimal it was meant to be.
    static func exact(_ value: DatabaseValue, table: String, column: String, row: Int64) throws -> ExactDecimal {
        switch value.storage {
        case .int64(let integer):
            if let exact = ExactDecimal(Int(integer)) { return exact }
        case .double(let double):
            if let exact = ExactDecimal(rounding: double, scale: ExactDecimal.maximumScale, rounding: .halfEven) { return exact.normalized }
        case .string(let text):
            if let exact = ExactDecimal(text) { return exact }
        case .null, .blob:
            break
        }
        throw Unconvertible(description: "\(table).\(column) row \(row) holds \(value), which is not a decimal below 10^18")
    }
}
