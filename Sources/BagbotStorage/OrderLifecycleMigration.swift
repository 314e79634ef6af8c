import Foundation
import BagbotDomain
import GRDB

/// `v3-order-lifecycle`: the order states a live venue needs, reduce-only orders, and the paper venue's own
/// record of the orders and fills it executed (so it can be asked about an order by its client order id after
/// a restart, as a real exchange can).
///
/// - `new` becomes `acknowledged` and `canceled` becomes `cancelled`, in `orders` and in `order_events`.
/// - `orders.reduce_only` (0 for every existing order).
/// - `paper_orders` and `paper_fills`: written by the paper venue in its own transactions, apart from
///   routerd's `orders` and `fills`, exactly as an exchange keeps its books apart from ours. Existing paper
///   orders are copied in, so a resting order of the earlier release is still known to the venue.
enum OrderLifecycleMigration {
    static func run(_ db: Database) throws {
        for table in ["orders", "order_events"] {
            try db.execute(sql: "UPDATE \(table) SET status = 'acknowledged' WHERE status = 'new'")
            try db.execute(sql: "UPDATE \(table) SET status = 'cancelled' WHERE status = 'canceled'")
        }
        try db.alter(table: "orders") { t in
            t.add(column: "reduce_only", .boolean).notNull().defaults(to: false)
        }
        try db.create(table: "paper_orders") { t in
            t.column("client_order_id", .text).primaryKey()
            t.column("symbol", .text).notNull()
            t.column("side", .text).notNull()
            t.column("type", .text).notNull()
            t.column("quantity", .text).notNull()
            t.column("limit_price", .text)
            t.column("status", .text).notNull()
            t.column("filled_quantity", .text).notNull()
            t.column("average_price", .text)
            t.column("reject_reason", .text)
            t.column("reduce_only", .boolean).notNull().defaults(to: false)
            t.column("strategy_id", .text)
            t.column("request_id", .text)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }
        try db.create(index: "paper_orders_by_status", on: "paper_orders", columns: ["status"])
        try db.create(table: "paper_fills") { t in
            t.column("fill_id", .text).primaryKey()
            t.column("client_order_id", .text).notNull().references("paper_orders")
            t.column("symbol", .text).notNull()
            t.column("side", .text).notNull()
            t.column("quantity", .text).notNull()
            t.column("price", .text).notNull()
            t.column("fee", .text).notNull()
            t.column("time", .datetime).notNull()
        }
        try db.create(index: "paper_fills_by_order", on: "paper_fills", columns: ["client_order_id"])
        // What the paper venue did before it kept its own books: routerd's record of its paper orders.
        try db.execute(sql: """
            INSERT INTO paper_orders (client_order_id, symbol, side, type, quantity, limit_price, status, filled_quantity,
                                      average_price, reject_reason, strategy_id, request_id, created_at, updated_at)
            SELECT client_order_id, symbol, side, type, quantity, limit_price,
                   status,
                   filled_quantity, average_fill_price, reject_reason, strategy_id, request_id, created_at, updated_at
            FROM orders WHERE venue = 'paper' AND status != 'pending_new'
            """)
        try db.execute(sql: """
            INSERT INTO paper_fills (fill_id, client_order_id, symbol, side, quantity, price, fee, time)
            SELECT fill_id, client_order_id, symbol, side, quantity, price, fee, time FROM fills
            WHERE venue = 'paper' AND client_order_id IN (SELECT client_order_id FROM paper_orders)
            """)
        try netPaperPositions(db)
    }

    /// `paper_positions` gets `open_fees`, and each symbol's book is rebuilt from the paper venue's fills with
    /// their fees, in the order the book took them (routerd's fill sequence: market times tie), so its
    /// realised P&L is net of fees (it was gross, fees being only in the account). The rebuilt quantity must
    /// be the one the book had (up to dust below 10^-8 that doubles left): otherwise the migration stops,
    /// naming the symbol, and nothing is changed. The last price stays.
    private static func netPaperPositions(_ db: Database) throws {
        try db.alter(table: "paper_positions") { t in
            t.add(column: "open_fees", .text).notNull().defaults(to: "0")
        }
        var books: [String: (book: PositionBook, realized: ExactDecimal)] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT p.fill_id, p.client_order_id, p.symbol, p.side, p.quantity, p.price, p.fee, p.time
            FROM paper_fills p JOIN fills f ON f.fill_id = p.fill_id ORDER BY f.sequence
            """)
        while let row = try rows.next() {
            let fillId: String? = row["fill_id"]
            guard let fillId, let clientOrderId: String = row["client_order_id"], let symbol: String = row["symbol"],
                  let side = (row["side"] as String?).flatMap(Side.init(rawValue:)),
                  let quantity = (row["quantity"] as String?).flatMap({ ExactDecimal($0) }),
                  let price = (row["price"] as String?).flatMap({ ExactDecimal($0) }),
                  let fee = (row["fee"] as String?).flatMap({ ExactDecimal($0) }), let time: Date = row["time"] else {
                throw Unreadable(description: "paper fill \(fillId ?? "?") cannot be read back as a fill")
            }
            let fill = Fill(fillId: fillId, clientOrderId: clientOrderId, venue: .paper, symbol: symbol, side: side,
                            quantity: quantity, price: price, fee: fee, time: time, strategyId: nil, requestId: nil)
            var entry = books[symbol] ?? (PositionBook(), .zero)
            if let closed = try entry.book.apply(fill) { entry.realized = try entry.realized + closed.pnl }
            books[symbol] = entry
        }
        for (symbol, entry) in books {
            if let recorded = try String.fetchOne(db, sql: "SELECT quantity FROM paper_positions WHERE symbol = ?", arguments: [symbol]),
               let held = ExactDecimal(recorded), try (held - entry.book.quantity).magnitude >= ExactDecimal(mantissa: 1, scale: 8) {
                throw Unreadable(description: "the paper book holds \(held) \(symbol) but its fills add up to \(entry.book.quantity)")
            }
            try db.execute(sql: """
                INSERT INTO paper_positions (symbol, quantity, cost, open_fees, realized_pnl) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(symbol) DO UPDATE SET quantity = excluded.quantity, cost = excluded.cost,
                    open_fees = excluded.open_fees, realized_pnl = excluded.realized_pnl
                """, arguments: [symbol, entry.book.quantity, entry.book.cost, entry.book.openFees, entry.realized])
        }
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }
}
