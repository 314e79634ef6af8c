import BagbotDomain
import Foundation
import BagbotStorage
import GRDB

/// One row of `order_events`: a status an order took, when, and why. Appended with every change of the
/// order, in the same transaction.
struct OrderEventRecord: Codable, SnakeCaseRecord {
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

    /// Written column by column rather than through `Encodable`: the order path writes a row with every
    /// transition, and GRDB's `Codable` encoding (a container per row, the snake_case key worked out per column) was
    /// the largest part of its CPU time (docs/performance.md). The columns are the properties, snake_case.
    func encode(to container: inout PersistenceContainer) {
        container["id"] = id
        container["client_order_id"] = clientOrderId
        container["status"] = status.rawValue
        container["reason"] = reason
        container["time"] = time
    }
}
