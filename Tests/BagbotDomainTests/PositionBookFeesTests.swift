import Foundation
import BagbotDomain
import Testing

@Suite("PositionBook keeps entry fees across a rebuild")
struct PositionBookFeesTests {
    @Test("a position rebuilt with its open fees charges them to the trade that closes it")
    func rebuiltPositionChargesEntryFees() throws {
        var rebuilt = PositionBook(quantity: 1, cost: 100, openFees: 0.2)
        let exit = Fill(fillId: "f2", clientOrderId: "o2", venue: .paper, symbol: "BTCUSDT", side: .sell, quantity: 1,
                        price: 110, fee: 0.1, time: .init(timeIntervalSince1970: 0), strategyId: "s", requestId: nil)
        let closed = try rebuilt.apply(exit)
        #expect(closed?.pnl == 9.7)
        #expect(rebuilt.isFlat)
        #expect(rebuilt.openFees == 0)
    }

    @Test("a partial close of a position whose cost × quantity passes 10^18 still closes")
    func largePartialClose() throws {
        var book = PositionBook()
        let time = Date(timeIntervalSince1970: 0)
        for id in ["a", "b"] {
            _ = try book.apply(Fill(fillId: id, clientOrderId: id, venue: .paper, symbol: "XYZUSDT", side: .buy, quantity: 1_000_000_000,
                                    price: 1.2, fee: 0, time: time, strategyId: "s", requestId: nil))
        }
        let closed = try #require(try book.apply(Fill(fillId: "c", clientOrderId: "c", venue: .paper, symbol: "XYZUSDT", side: .sell,
                                                      quantity: 900_000_000, price: 1.3, fee: 0, time: time, strategyId: "s", requestId: nil)))
        #expect(closed.pnl == 90_000_000)
        #expect(book.quantity == 1_100_000_000)
        #expect(book.cost == 1_320_000_000)
    }
}
