import BagbotDomain
import Foundation
import BagbotStorage
import GRDB

/// One row of `fills`. `sequence` is the fill's place in the log: an explicit column, strictly increasing
/// (the next is one more than the largest, in the inserting transaction), so it survives a VACUUM or a copy
/// of the table, which SQLite's implicit rowid does not promise.
struct FillRow: Codable, SnakeCaseRecord {
    static let databaseTableName = "fills"

    enum Columns {
        static let strategyId = Column("strategy_id")
        static let sequence = Column("sequence")
        static let clientOrderId = Column("client_order_id")
    }

    var fillId: String
    var sequence: Int64
    var clientOrderId: String
    var venue: Venue
    var symbol: String
    var side: Side
    var quantity: ExactDecimal
    var price: ExactDecimal
    var fee: ExactDecimal
    var time: Date
    var strategyId: String?
    var requestId: String?

    init(_ fill: Fill, sequence: Int64) {
        fillId = fill.fillId
        self.sequence = sequence
        clientOrderId = fill.clientOrderId
        venue = fill.venue
        symbol = fill.symbol
        side = fill.side
        quantity = fill.quantity
        price = fill.price
        fee = fill.fee
        time = fill.time
        strategyId = fill.strategyId
        requestId = fill.requestId
    }

    /// Written column by column rather than through `Encodable`: the order path writes this row with every
    /// order, and GRDB's `Codable` encoding (a container per row, the snake_case key worked out per column) was
    /// the largest part of its CPU time (docs/performance.md). The columns are the properties, snake_case.
    func encode(to container: inout PersistenceContainer) {
        container["fill_id"] = fillId
        container["sequence"] = sequence
        container["client_order_id"] = clientOrderId
        container["venue"] = venue.rawValue
        container["symbol"] = symbol
        container["side"] = side.rawValue
        container["quantity"] = quantity
        container["price"] = price
        container["fee"] = fee
        container["time"] = time
        container["strategy_id"] = strategyId
        container["request_id"] = requestId
    }

    var fill: Fill {
        Fill(fillId: fillId, clientOrderId: clientOrderId, venue: venue, symbol: symbol, side: side, quantity: quantity,
             price: price, fee: fee, time: time, strategyId: strategyId, requestId: requestId, sequence: sequence)
    }

    /// Fills in the log's order.
    static var inSequence: QueryInterfaceRequest<FillRow> {
        FillRow.order(Columns.sequence)
    }
}
