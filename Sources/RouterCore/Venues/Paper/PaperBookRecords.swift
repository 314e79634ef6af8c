import BagbotDomain
import BagbotStorage
import GRDB

/// One asset the paper venue holds (`paper_balances`): free plus what open orders hold, and the fees paid in it.
struct PaperBalanceRecord: Codable, SnakeCaseRecord, ColumnRecord {
    static let databaseTableName = "paper_balances"

    var asset: String
    var balance: ExactDecimal
    var feesPaid: ExactDecimal

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("asset", asset),
            ("balance", balance),
            ("fees_paid", feesPaid),
        ]
    }

    func encode(to container: inout PersistenceContainer) { container.set(columns) }
}

/// One symbol of the paper venue's book (`paper_positions`).
struct PaperPositionRecord: Codable, SnakeCaseRecord, ColumnRecord {
    static let databaseTableName = "paper_positions"

    var symbol: String
    var quantity: ExactDecimal
    var cost: ExactDecimal
    /// Fees paid on the open quantity, charged to the trade that closes it.
    var openFees: ExactDecimal
    var realizedPnl: ExactDecimal
    var lastPrice: ExactDecimal?

    init(symbol: String, _ position: PaperExchange.PaperPosition) {
        self.symbol = symbol
        quantity = position.book.quantity
        cost = position.book.cost
        openFees = position.book.openFees
        realizedPnl = position.realizedPnl
        lastPrice = position.lastPrice
    }

    /// Its columns, snake_case, listed for the order path (`ColumnRecord`).
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] {
        [
            ("symbol", symbol),
            ("quantity", quantity),
            ("cost", cost),
            ("open_fees", openFees),
            ("realized_pnl", realizedPnl),
            ("last_price", lastPrice),
        ]
    }

    func encode(to container: inout PersistenceContainer) { container.set(columns) }

    var position: PaperExchange.PaperPosition {
        PaperExchange.PaperPosition(book: PositionBook(quantity: quantity, cost: cost, openFees: openFees),
                                    realizedPnl: realizedPnl, lastPrice: lastPrice)
    }
}
