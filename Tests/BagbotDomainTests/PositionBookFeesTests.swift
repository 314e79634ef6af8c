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
}
