import GRDB

/// `v4-paper-balances`: the paper venue keeps a balance per asset (`paper_balances`: USDT spent on BTC, BTC
/// received) instead of one cash figure in dollars (`paper_accounts`, dropped). Which assets a symbol moves is
/// configuration (`router.paper.symbols`), which a migration does not read, so the table starts empty and
/// the paper venue fills it at its first start: the configured starting balances with every recorded paper
/// fill applied in the order it happened (`PaperVenueStore.loadBook`).
enum PaperBalancesMigration {
    static func run(_ db: Database) throws {
        try db.create(table: "paper_balances") { t in
            t.column("asset", .text).primaryKey()
            t.column("balance", .text).notNull()
            t.column("fees_paid", .text).notNull()
        }
        try db.drop(table: "paper_accounts")
    }
}
