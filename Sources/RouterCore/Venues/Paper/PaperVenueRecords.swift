import Foundation
import BagbotDomain
import BagbotStorage
import GRDB

/// The paper venue's record of one order (`paper_orders`): what an exchange answers when asked about an order
/// by its client order id.
struct PaperOrderRecord: Codable, SnakeCaseRecord, ColumnRecord {
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

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("client_order_id", clientOrderId),
            ("symbol", symbol),
            ("side", side.rawValue),
            ("type", type.rawValue),
            ("quantity", quantity),
            ("limit_price", limitPrice),
            ("status", status.rawValue),
            ("filled_quantity", filledQuantity),
            ("average_price", averagePrice),
            ("reject_reason", rejectReason),
            ("reduce_only", reduceOnly),
            ("strategy_id", strategyId),
            ("request_id", requestId),
            ("created_at", createdAt.databaseText),
            ("updated_at", updatedAt.databaseText),
        ]
    }

    func encode(to container: inout PersistenceContainer) { container.set(columns) }

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
struct PaperFillRecord: Codable, SnakeCaseRecord, ColumnRecord {
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

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("fill_id", fillId),
            ("client_order_id", clientOrderId),
            ("symbol", symbol),
            ("side", side.rawValue),
            ("quantity", quantity),
            ("price", price),
            ("fee", fee),
            ("time", time.databaseText),
        ]
    }

    func encode(to container: inout PersistenceContainer) { container.set(columns) }

    var fill: VenueFill {
        VenueFill(fillId: fillId, clientOrderId: clientOrderId, symbol: symbol, side: side, quantity: quantity, price: price, fee: fee, time: time)
    }
}
