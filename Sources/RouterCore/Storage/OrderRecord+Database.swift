import BagbotDomain
import BagbotStorage
import GRDB

/// An order is a row of `orders` as it is: every field a column, snake_case in the table. Written by
/// routerd only.
extension OrderRecord: SnakeCaseRecord, ColumnRecord {
    public static let databaseTableName = "orders"

    public enum Columns {
        public static let clientOrderId = Column("client_order_id")
        public static let symbol = Column("symbol")
        public static let status = Column("status")
        public static let strategyId = Column("strategy_id")
        public static let createdAt = Column("created_at")
        public static let updatedAt = Column("updated_at")
        public static let rejectReason = Column("reject_reason")
    }

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    public var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("client_order_id", clientOrderId),
            ("venue", venue.rawValue),
            ("symbol", symbol),
            ("side", side.rawValue),
            ("type", type.rawValue),
            ("quantity", quantity),
            ("limit_price", limitPrice),
            ("status", status.rawValue),
            ("filled_quantity", filledQuantity),
            ("average_fill_price", averageFillPrice),
            ("exchange_order_id", exchangeOrderId),
            ("reduce_only", reduceOnly),
            ("strategy_id", strategyId),
            ("request_id", requestId),
            ("reject_reason", rejectReason),
            ("time_in_force", timeInForce?.rawValue),
            ("created_at", createdAt.databaseText),
            ("updated_at", updatedAt.databaseText),
        ]
    }

    public func encode(to container: inout PersistenceContainer) { container.set(columns) }
}
