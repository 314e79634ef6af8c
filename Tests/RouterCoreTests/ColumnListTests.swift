import Foundation
import GRDB
import BagbotDomain
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import RouterCore

/// The order path writes rows from hand-written column lists (`ColumnRecord`): a column the table has and the
/// list forgets would be left NULL or at its default, silently. Each list must be exactly its table's columns,
/// and write what GRDB's `Codable` encoding wrote before.
@Suite("Column lists of the order path's rows")
struct ColumnListTests {
    static let time = Date(timeIntervalSince1970: 1_700_000_000.125)
    static let order = OrderRecord(
        clientOrderId: "o1", venue: .paper, symbol: "BTCUSDT", side: .sell, type: .limit, quantity: ExactDecimal("0.00100000")!,
        limitPrice: ExactDecimal("65000.10")!, status: .partiallyFilled, filledQuantity: ExactDecimal("0.0005")!,
        averageFillPrice: ExactDecimal("65000.1")!, exchangeOrderId: "x1", reduceOnly: true, strategyId: "s", requestId: "r",
        rejectReason: "why", createdAt: time, updatedAt: time.addingTimeInterval(1))
    static let fill = Fill(fillId: "f1", clientOrderId: "o1", venue: .paper, symbol: "BTCUSDT", side: .sell, quantity: ExactDecimal("0.0005")!,
                           price: ExactDecimal("65000.10")!, fee: ExactDecimal("0.0325")!, time: time, strategyId: "s", requestId: nil)
    static let position = PaperPositionRecord(symbol: "BTCUSDT", PaperExchange.PaperPosition(
        book: PositionBook(quantity: ExactDecimal("-0.5")!, cost: ExactDecimal("100.00")!, openFees: ExactDecimal("0.1")!),
        realizedPnl: ExactDecimal("-1.5")!, lastPrice: nil))

    static func names<Record: ColumnRecord>(_ record: Record) -> (String, [String]) {
        (Record.databaseTableName, record.columns.map(\.name).sorted())
    }

    @Test("each list names exactly its table's columns")
    func listsMatchTables() throws {
        let dir = try TempDir()
        let pool = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        let lists = [
            Self.names(Self.order), Self.names(OrderEventRecord(Self.order, reason: "a")), Self.names(FillRow(Self.fill, sequence: 1)),
            Self.names(PaperOrderRecord(Self.order)), Self.names(PaperFillRecord(Self.fill)),
            Self.names(PaperBalanceRecord(asset: "BTC", balance: 1, feesPaid: 0)), Self.names(Self.position),
        ]
        for (table, columns) in lists {
            let schema = try pool.read { db in try db.columns(in: table).map(\.name).sorted() }
            #expect(columns == schema, "\(table)")
        }
    }

    @Test("a row written from its list reads back equal, through the kept lookup too")
    func roundTrip() async throws {
        let dir = try TempDir()
        let pool = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        try await pool.write { db in
            try db.insertKeepingStatement(Self.order)
            try db.insertKeepingStatement(FillRow(Self.fill, sequence: 7))
            try db.insertKeepingStatement(PaperOrderRecord(Self.order), upsertKey: "client_order_id")
            try db.insertKeepingStatement(Self.position, upsertKey: "symbol")
        }
        let store = OrderStore(database: pool)
        #expect(try await store.order(clientOrderId: "o1") == Self.order)
        #expect(try await store.fills(ofOrder: "o1").first?.fee.description == "0.0325")
        let paper = try await pool.read { db in try PaperOrderRecord.fetchOne(db, key: "o1") }
        #expect(paper?.order.limitPrice?.description == "65000.10")
        let stored = try await pool.read { db in try PaperPositionRecord.fetchOne(db, key: "BTCUSDT") }
        #expect(stored?.position == Self.position.position)
    }
}
