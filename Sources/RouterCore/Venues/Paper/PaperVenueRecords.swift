import Foundation
import BagbotDomain
import BagbotStorage
import GRDB

/// The paper venue's record of one order (`paper_orders`): what an exchange answers when asked about an order
/// by its client order id.
struct PaperOrderRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "paper_orders"

    enum Columns {
        static let status = Column("status")
        static let clientOrderId = Column("client_order_id")
    }

    var clientOrderId: String
    var symbol: String
    var side: Side
    var type: OrderType
    var quantity: ExactDecimal
    var limitPrice: ExactDecimal?
    var status: OrderStatus
    var filledQuantity: ExactDecimal
    var averagePrice: ExactDecimal?
    var rejectReason: String?
    var reduceOnly: Bool
    var strategyId: String?
    var requestId: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ order: OrderRecord) {
        reduceOnly = order.reduceOnly
        clientOrderId = order.clientOrderId
        symbol = order.symbol
        side = order.side
        type = order.type
        quantity = order.quantity
        limitPrice = order.limitPrice
        status = order.status
        filledQuantity = order.filledQuantity
        averagePrice = order.averageFillPrice
        rejectReason = order.rejectReason
        strategyId = order.strategyId
        requestId = order.requestId
        createdAt = order.createdAt
        updatedAt = order.updatedAt
    }

    /// Written column by column rather than through `Encodable`: the order path writes this row with every
    /// order, and GRDB's `Codable` encoding (a container per row, the snake_case key worked out per column) was
    /// the largest part of its CPU time (docs/performance.md). The columns are the properties, snake_case.
    func encode(to container: inout PersistenceContainer) {
        container["client_order_id"] = clientOrderId
        container["symbol"] = symbol
        container["side"] = side.rawValue
        container["type"] = type.rawValue
        container["quantity"] = quantity
        container["limit_price"] = limitPrice
        container["status"] = status.rawValue
        container["filled_quantity"] = filledQuantity
        container["average_price"] = averagePrice
        container["reject_reason"] = rejectReason
        container["reduce_only"] = reduceOnly
        container["strategy_id"] = strategyId
        container["request_id"] = requestId
        container["created_at"] = createdAt
        container["updated_at"] = updatedAt
    }

    /// The order as `PaperExchange` works it.
    var order: OrderRecord {
        OrderRecord(clientOrderId: clientOrderId, venue: .paper, symbol: symbol, side: side, type: type, quantity: quantity,
                    limitPrice: limitPrice, status: status, filledQuantity: filledQuantity, averageFillPrice: averagePrice,
                    exchangeOrderId: PaperVenue.exchangeOrderId(clientOrderId), reduceOnly: reduceOnly, strategyId: strategyId, requestId: requestId,
                    rejectReason: rejectReason, createdAt: createdAt, updatedAt: updatedAt)
    }

    func report(fills: [PaperFillRecord]) -> VenueOrderReport {
        VenueOrderReport(clientOrderId: clientOrderId, exchangeOrderId: PaperVenue.exchangeOrderId(clientOrderId), status: status,
                         filledQuantity: filledQuantity, averagePrice: averagePrice, fills: fills.map(\.fill),
                         rejectReason: rejectReason, time: updatedAt)
    }
}

/// One execution of the paper venue (`paper_fills`).
struct PaperFillRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "paper_fills"

    enum Columns {
        static let clientOrderId = Column("client_order_id")
        static let time = Column("time")
    }

    var fillId: String
    var clientOrderId: String
    var symbol: String
    var side: Side
    var quantity: ExactDecimal
    var price: ExactDecimal
    var fee: ExactDecimal
    var time: Date

    init(_ fill: Fill) {
        fillId = fill.fillId
        clientOrderId = fill.clientOrderId
        symbol = fill.symbol
        side = fill.side
        quantity = fill.quantity
        price = fill.price
        fee = fill.fee
        time = fill.time
    }

    /// Written column by column rather than through `Encodable`: the order path writes this row with every
    /// order, and GRDB's `Codable` encoding (a container per row, the snake_case key worked out per column) was
    /// the largest part of its CPU time (docs/performance.md). The columns are the properties, snake_case.
    func encode(to container: inout PersistenceContainer) {
        container["fill_id"] = fillId
        container["client_order_id"] = clientOrderId
        container["symbol"] = symbol
        container["side"] = side.rawValue
        container["quantity"] = quantity
        container["price"] = price
        container["fee"] = fee
        container["time"] = time
    }

    var fill: VenueFill {
        VenueFill(fillId: fillId, clientOrderId: clientOrderId, symbol: symbol, side: side, quantity: quantity, price: price, fee: fee, time: time)
    }
}
