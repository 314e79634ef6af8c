import BagbotDomain
import Foundation
import BagbotStorage
import GRDB

/// One row of `fills`, as written. A fill's `sequence` is not a column: it is the row's place in the fill
/// log (its rowid), assigned by the insert and read back through `SequencedFill`.
struct FillRow: Codable, SnakeCaseRecord {
    static let databaseTableName = "fills"

    enum Columns {
        static let strategyId = Column("strategy_id")
    }

    var fillId: String
    var clientOrderId: String
    var venue: Venue
    var symbol: String
    var side: Side
    var quantity: Double
    var price: Double
    var fee: Double
    var time: Date
    var strategyId: String?
    var requestId: String?

    init(_ fill: Fill) {
        fillId = fill.fillId
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

    func fill(sequence: Int64?) -> Fill {
        Fill(fillId: fillId, clientOrderId: clientOrderId, venue: venue, symbol: symbol, side: side, quantity: quantity,
             price: price, fee: fee, time: time, strategyId: strategyId, requestId: requestId, sequence: sequence)
    }

    /// Fills with their sequence, in the log's order.
    static var sequenced: QueryInterfaceRequest<SequencedFill> {
        FillRow.select(.allColumns, Column.rowID.forKey("sequence")).order(Column.rowID).asRequest(of: SequencedFill.self)
    }
}

/// A fill read back with its place in the fill log.
struct SequencedFill: FetchableRecord {
    var row: FillRow
    var sequence: Int64

    init(row: Row) throws {
        self.row = try FillRow(row: row)
        sequence = row["sequence"]
    }

    var fill: Fill { row.fill(sequence: sequence) }
}
