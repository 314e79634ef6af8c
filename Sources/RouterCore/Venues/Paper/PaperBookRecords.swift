import BagbotDomain
import BagbotStorage
import GRDB

/// One asset the paper venue holds (`paper_balances`): free plus what open orders hold, and the fees paid in it.
struct PaperBalanceRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "paper_balances"

    var asset: String
    var balance: ExactDecimal
    var feesPaid: ExactDecimal

    /// Column by column, as `PaperOrderRecord` is (written with every fill).
    func encode(to container: inout PersistenceContainer) {
        container["asset"] = asset
        container["balance"] = balance
        container["fees_paid"] = feesPaid
    }
}

/// One symbol of the paper venue's book (`paper_positions`).
struct PaperPositionRecord: Codable, SnakeCaseRecord {
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

    /// Column by column, as `PaperOrderRecord` is (written with every fill).
    func encode(to container: inout PersistenceContainer) {
        container["symbol"] = symbol
        container["quantity"] = quantity
        container["cost"] = cost
        container["open_fees"] = openFees
        container["realized_pnl"] = realizedPnl
        container["last_price"] = lastPrice
    }

    var position: PaperExchange.PaperPosition {
        PaperExchange.PaperPosition(book: PositionBook(quantity: quantity, cost: cost, openFees: openFees),
                                    realizedPnl: realizedPnl, lastPrice: lastPrice)
    }
}
