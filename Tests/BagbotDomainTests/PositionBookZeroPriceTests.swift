import Foundation
import BagbotDomain
import Testing

/// A fill at price 0: a long sold for nothing is a total loss and counts; anything else at 0 would be a position that
/// cost nothing (its close a gain from nothing), and changes nothing.
struct PositionBookZeroPriceTests {
    func fill(_ side: Side, _ quantity: ExactDecimal, at price: ExactDecimal) -> Fill {
        Fill(fillId: "f", clientOrderId: "o", venue: .paper, symbol: "BTCUSDT", side: side, quantity: quantity, price: price, fee: 0,
             time: Date(timeIntervalSince1970: 0), strategyId: "s", requestId: nil)
    }

    @Test("a long sold at 0, in part or in full, closes at a total loss of what that part cost")
    func longSoldForNothing() throws {
        var book = PositionBook(quantity: 2, cost: 200, openFees: 1)
        let part = try #require(try book.apply(fill(.sell, 1, at: 0)))
        #expect(part.pnl == ExactDecimal("-100.5")! && book.quantity == 1)
        let rest = try #require(try book.apply(fill(.sell, 1, at: 0)))
        #expect(rest.pnl == ExactDecimal("-100.5")! && book.isFlat)
    }

    @Test("an entry at 0, a short bought back at 0, or a sell past the long at 0 change nothing")
    func otherFillsAtZero() throws {
        var flat = PositionBook()
        #expect(try flat.apply(fill(.buy, 1, at: 0)) == nil && flat.isFlat)
        var short = PositionBook(quantity: -1, cost: 100)
        #expect(try short.apply(fill(.buy, 1, at: 0)) == nil && short.quantity == -1)
        var long = PositionBook(quantity: 1, cost: 100)
        #expect(try long.apply(fill(.sell, 2, at: 0)) == nil && long.quantity == 1)
        #expect(try long.apply(fill(.sell, 1, at: -1)) == nil && long.quantity == 1)
    }
}
