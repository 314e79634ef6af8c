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
    }
}
