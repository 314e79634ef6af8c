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
}
