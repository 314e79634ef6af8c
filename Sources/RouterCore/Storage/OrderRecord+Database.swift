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
}
