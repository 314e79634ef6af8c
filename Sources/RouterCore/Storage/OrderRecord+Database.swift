import BagbotDomain
import BagbotStorage
import GRDB

/// An order is a row of `orders` as it is: every field a column, snake_case in the table. Written by
/// routerd only.
extension OrderRecord: SnakeCaseRecord {
    public static let databaseTableName = "orders"

    public enum Columns {
        public static let clientOrderId = Column("client_order_id")
        public static let symbol = Column("symbol")
        public static let status = Column("status")
        public static let strategyId = Column("strategy_id")
        public static let createdAt = Column("created_at")
    }

    /// Written column by column rather than through `Encodable`: the order path writes this row with every
    /// order, and GRDB's `Codable` encoding (a container per row, the snake_case key worked out per column) was
    /// the largest part of its CPU time (docs/performance.md). The columns are the properties, snake_case.
    public func encode(to container: inout PersistenceContainer) {
        container["client_order_id"] = clientOrderId
        container["venue"] = venue.rawValue
        container["symbol"] = symbol
        container["side"] = side.rawValue
        container["type"] = type.rawValue
        container["quantity"] = quantity
        container["limit_price"] = limitPrice
        container["status"] = status.rawValue
        container["filled_quantity"] = filledQuantity
        container["average_fill_price"] = averageFillPrice
        container["exchange_order_id"] = exchangeOrderId
        container["reduce_only"] = reduceOnly
        container["strategy_id"] = strategyId
        container["request_id"] = requestId
        container["reject_reason"] = rejectReason
        container["created_at"] = createdAt
        container["updated_at"] = updatedAt
    }
}
