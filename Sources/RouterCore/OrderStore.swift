import Foundation
import GRDB
import BagbotDomain
import BagbotIPC

/// routerd's tables in `bagbot.db`: orders (with their status history), fills, and the paper book.
/// Every state change is one transaction, so a crash leaves each order either before or after it.
public final class OrderStore: Sendable {
    private let database: DatabasePool

    public init(database: DatabasePool) {
        self.database = database
    }

    /// Persists a new order before anything is sent. A duplicate client order id is refused by the
    /// primary key, so the same order can never be stored (or sent) twice.
    public func insert(_ order: OrderRecord) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO orders (client_order_id, venue, symbol, side, type, quantity, limit_price, status, filled_quantity,
                  average_fill_price, exchange_order_id, strategy_id, request_id, reject_reason, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: Self.arguments(order))
            try Self.recordEvent(db, order, reason: nil)
        }
    }

    /// Writes an order's new state, its fills and the paper book's snapshot together; returns the fills
    /// with their sequence in the fill log. `onlyIfStatus`: update the order only while it still has this
    /// status (else `conflict`, nothing written).
    @discardableResult
    public func commit(_ order: OrderRecord, fills: [Fill], paper: PaperExchange.Snapshot?,
                       onlyIfStatus: OrderStatus? = nil) throws -> [Fill] {
        try database.write { db in
            var stored: [Fill] = []
            try db.execute(sql: """
                UPDATE orders SET status = ?, filled_quantity = ?, average_fill_price = ?, exchange_order_id = ?,
                  reject_reason = ?, updated_at = ? WHERE client_order_id = ? AND status = coalesce(?, status)
                """, arguments: [order.status.rawValue, order.filledQuantity, order.averageFillPrice, order.exchangeOrderId,
                                 order.rejectReason, order.updatedAt, order.clientOrderId, onlyIfStatus?.rawValue])
            guard db.changesCount == 1 else {
                if let onlyIfStatus {
                    throw IPCError(.conflict, "order \(order.clientOrderId) is not stored as \(onlyIfStatus.rawValue)")
                }
                throw IPCError(.notFound, "order \(order.clientOrderId) is not stored")
            }
            try Self.recordEvent(db, order, reason: order.rejectReason)
            for fill in fills {
                try db.execute(sql: """
                    INSERT INTO fills (fill_id, client_order_id, venue, symbol, side, quantity, price, fee, time, strategy_id, request_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [fill.fillId, fill.clientOrderId, fill.venue.rawValue, fill.symbol, fill.side.rawValue,
                                     fill.quantity, fill.price, fill.fee, fill.time, fill.strategyId, fill.requestId])
                var withSequence = fill
                withSequence.sequence = db.lastInsertedRowID
                stored.append(withSequence)
            }
            if let paper { try Self.save(paper, db) }
            return stored
        }
    }

    public func order(clientOrderId: String) throws -> OrderRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE client_order_id = ?", arguments: [clientOrderId]).map(Self.order(from:))
        }
    }

    public func orders(_ query: OrdersQuery) throws -> [OrderRecord] {
        var conditions: [String] = []
        var arguments: [DatabaseValueConvertible?] = []
        if let id = query.clientOrderId { conditions.append("client_order_id = ?"); arguments.append(id) }
        if let symbol = query.symbol { conditions.append("symbol = ?"); arguments.append(symbol.uppercased()) }
        if let status = query.status { conditions.append("status = ?"); arguments.append(status.rawValue) }
        if let strategy = query.strategyId { conditions.append("strategy_id = ?"); arguments.append(strategy) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = min(max(query.limit ?? 100, 1), 1_000)
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders \(filter) ORDER BY created_at DESC, rowid DESC LIMIT \(limit)",
                             arguments: StatementArguments(arguments)).map(Self.order(from:))
        }
    }

    public func nonFinalOrders() throws -> [OrderRecord] {
        let open = OrderStatus.allCases.filter { !$0.isFinal }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE status IN (\(open)) ORDER BY created_at, rowid").map(Self.order(from:))
        }
    }

    public func countOrders(since: Date) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE created_at >= ?", arguments: [since]) ?? 0
        }
    }

    /// Each strategy's net position per symbol, rebuilt from its fills in the order they happened.
    public func strategyPositions() throws -> StrategyPositionsResponse {
        try database.read { db in
            let through = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM fills") ?? 0
            var books: [String: [String: PositionBook]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT strategy_id, symbol, side, quantity, price, fee, time, fill_id, client_order_id, venue
                FROM fills WHERE strategy_id IS NOT NULL AND rowid <= ? ORDER BY rowid
                """, arguments: [through])
            while let row = try rows.next() {
                let strategy: String = row["strategy_id"]
                let symbol: String = row["symbol"]
                let fill = Fill(fillId: row["fill_id"], clientOrderId: row["client_order_id"], venue: Venue(rawValue: row["venue"]) ?? .paper,
                                symbol: symbol, side: Side(rawValue: row["side"]) ?? .buy, quantity: row["quantity"], price: row["price"],
                                fee: row["fee"], time: row["time"], strategyId: strategy, requestId: nil)
                _ = books[strategy, default: [:]][symbol, default: PositionBook()].apply(fill)
            }
            let positions = books.flatMap { strategy, symbols in
                symbols.map { StrategyPosition(strategyId: strategy, symbol: $0.key, quantity: $0.value.quantity, averagePrice: $0.value.averagePrice,
                                          openFees: $0.value.openFees) }
            }.sorted { ($0.strategyId, $0.symbol) < ($1.strategyId, $1.symbol) }
            return StrategyPositionsResponse(positions: positions, throughSequence: through)
        }
    }

    /// Fills with a sequence above `after`, oldest first, with their sequence.
    public func fills(after: Int64, limit: Int) throws -> [Fill] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT rowid, * FROM fills WHERE rowid > ? ORDER BY rowid LIMIT ?
                """, arguments: [after, min(max(limit, 1), 10_000)]).map { row in
                Fill(fillId: row["fill_id"], clientOrderId: row["client_order_id"], venue: Venue(rawValue: row["venue"]) ?? .paper,
                     symbol: row["symbol"], side: Side(rawValue: row["side"]) ?? .buy, quantity: row["quantity"], price: row["price"],
                     fee: row["fee"], time: row["time"], strategyId: row["strategy_id"], requestId: row["request_id"],
                     sequence: row["rowid"])
            }
        }
    }

    public func loadPaper() throws -> PaperExchange.Snapshot? {
        try database.read { db in
            guard let account = try Row.fetchOne(db, sql: "SELECT cash, fees_paid FROM paper_accounts WHERE currency = 'USD'") else { return nil }
            var positions: [String: PaperExchange.PaperPosition] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM paper_positions") {
                positions[row["symbol"]] = PaperExchange.PaperPosition(
                    book: PositionBook(quantity: row["quantity"], averagePrice: row["average_price"]),
                    realizedPnl: row["realized_pnl"], lastPrice: row["last_price"])
            }
            return PaperExchange.Snapshot(cash: account["cash"], feesPaid: account["fees_paid"], positions: positions)
        }
    }

    public func savePaper(_ snapshot: PaperExchange.Snapshot) throws {
        try database.write { try Self.save(snapshot, $0) }
    }

    private static func save(_ snapshot: PaperExchange.Snapshot, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO paper_accounts (currency, cash, fees_paid) VALUES ('USD', ?, ?)
            ON CONFLICT(currency) DO UPDATE SET cash = excluded.cash, fees_paid = excluded.fees_paid
            """, arguments: [snapshot.cash, snapshot.feesPaid])
        for (symbol, position) in snapshot.positions {
            try db.execute(sql: """
                INSERT INTO paper_positions (symbol, quantity, average_price, realized_pnl, last_price) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(symbol) DO UPDATE SET quantity = excluded.quantity, average_price = excluded.average_price,
                  realized_pnl = excluded.realized_pnl, last_price = excluded.last_price
                """, arguments: [symbol, position.book.quantity, position.book.averagePrice, position.realizedPnl, position.lastPrice])
        }
    }

    private static func recordEvent(_ db: Database, _ order: OrderRecord, reason: String?) throws {
        try db.execute(sql: "INSERT INTO order_events (client_order_id, status, reason, time) VALUES (?, ?, ?, ?)",
                       arguments: [order.clientOrderId, order.status.rawValue, reason, order.updatedAt])
    }

    private static func arguments(_ order: OrderRecord) -> StatementArguments {
        [order.clientOrderId, order.venue.rawValue, order.symbol, order.side.rawValue, order.type.rawValue, order.quantity,
         order.limitPrice, order.status.rawValue, order.filledQuantity, order.averageFillPrice, order.exchangeOrderId,
         order.strategyId, order.requestId, order.rejectReason, order.createdAt, order.updatedAt]
    }

    private static func order(from row: Row) -> OrderRecord {
        OrderRecord(
            clientOrderId: row["client_order_id"], venue: Venue(rawValue: row["venue"]) ?? .paper, symbol: row["symbol"],
            side: Side(rawValue: row["side"]) ?? .buy, type: OrderType(rawValue: row["type"]) ?? .market, quantity: row["quantity"],
            limitPrice: row["limit_price"], status: OrderStatus(rawValue: row["status"]) ?? .rejected,
            filledQuantity: row["filled_quantity"], averageFillPrice: row["average_fill_price"],
            exchangeOrderId: row["exchange_order_id"], strategyId: row["strategy_id"], requestId: row["request_id"],
            rejectReason: row["reject_reason"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}
