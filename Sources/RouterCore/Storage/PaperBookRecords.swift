import BagbotDomain
import BagbotStorage
import GRDB

/// The paper venue's cash (`paper_accounts`, one row per currency).
struct PaperAccountRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "paper_accounts"

    var currency: String
    var cash: Double
    var feesPaid: Double
}

/// One symbol of the paper venue's book (`paper_positions`).
struct PaperPositionRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "paper_positions"

    var symbol: String
    var quantity: Double
    var averagePrice: Double
    var realizedPnl: Double
    var lastPrice: Double?

    init(symbol: String, _ position: PaperExchange.PaperPosition) {
        self.symbol = symbol
        quantity = position.book.quantity
        averagePrice = position.book.averagePrice
        realizedPnl = position.realizedPnl
        lastPrice = position.lastPrice
    }

    var position: PaperExchange.PaperPosition {
        PaperExchange.PaperPosition(book: PositionBook(quantity: quantity, averagePrice: averagePrice),
                                    realizedPnl: realizedPnl, lastPrice: lastPrice)
    }
}
