import BagbotDomain
import Foundation
import BagbotStorage
import GRDB

/// One row of `fills`. `sequence` is the fill's place in the log: an explicit column, strictly increasing
/// (the next is one more than the largest, in the inserting transaction), so it survives a VACUUM or a copy
/// of the table, which SQLite's implicit rowid does not promise.
struct FillRow: Codable, SnakeCaseRecord, ColumnRecord {
    static let databaseTableName = "fills"

    enum Columns {
        static let strategyId = Column("strategy_id")
        static let sequence = Column("sequence")
        static let clientOrderId = Column("client_order_id")
        static let symbol = Column("symbol")
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
    var baseCommission: ExactDecimal?
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
        baseCommission = fill.baseCommission
        time = fill.time
        strategyId = fill.strategyId
        requestId = fill.requestId
    }

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("fill_id", fillId),
            ("sequence", sequence),
            ("client_order_id", clientOrderId),
            ("venue", venue.rawValue),
            ("symbol", symbol),
            ("side", side.rawValue),
            ("quantity", quantity),
            ("price", price),
            ("fee", fee),
            ("base_commission", baseCommission),
            ("time", time.databaseText),
            ("strategy_id", strategyId),
            ("request_id", requestId),
        ]
    }

    func encode(to container: inout PersistenceContainer) { container.set(columns) }

    var fill: Fill {
        Fill(fillId: fillId, clientOrderId: clientOrderId, venue: venue, symbol: symbol, side: side, quantity: quantity,
             price: price, fee: fee, baseCommission: baseCommission, time: time, strategyId: strategyId, requestId: requestId, sequence: sequence)
    }

    /// Fills in the log's order.
    static var inSequence: QueryInterfaceRequest<FillRow> {
        FillRow.order(Columns.sequence)
    }
}

extension FillRow {
    /// Whether `fill` is the other side of this row's trade: the same venue, symbol, quantity and price, the other
    /// side (a self-trade's buy and sell, which the venue reports under one trade id).
    func isOtherSide(of fill: Fill) -> Bool {
        venue == fill.venue && symbol == fill.symbol && side == fill.side.opposite && quantity == fill.quantity && price == fill.price
    }
}
