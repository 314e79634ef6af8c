import BagbotDomain
import BagbotStorage
import GRDB

/// The paper venue's cash (`paper_accounts`, one row per currency).
struct PaperAccountRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "paper_accounts"

    var currency: String
    var cash: ExactDecimal
    var feesPaid: ExactDecimal
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

    var position: PaperExchange.PaperPosition {
        PaperExchange.PaperPosition(book: PositionBook(quantity: quantity, cost: cost, openFees: openFees),
                                    realizedPnl: realizedPnl, lastPrice: lastPrice)
    }
}
