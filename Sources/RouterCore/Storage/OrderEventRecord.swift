import BagbotDomain
import Foundation
import BagbotStorage
import GRDB

/// One row of `order_events`: a status an order took, when, and why. Appended with every change of the
/// order, in the same transaction.
struct OrderEventRecord: Codable, SnakeCaseRecord, ColumnRecord {
    static let databaseTableName = "order_events"

    var id: Int64?
    var clientOrderId: String
    var status: OrderStatus
    var reason: String?
    var time: Date

    init(_ order: OrderRecord, reason: String?) {
        clientOrderId = order.clientOrderId
        status = order.status
        self.reason = reason
        time = order.updatedAt
    }

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("id", id),
            ("client_order_id", clientOrderId),
            ("status", status.rawValue),
            ("reason", reason),
            ("time", time.databaseText),
        ]
    }

    func encode(to container: inout PersistenceContainer) { container.set(columns) }
}
