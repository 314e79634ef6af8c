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

    @Test("a buy whose commission was taken in the base asset holds what it received; selling all of it closes to the cash's P&L")
    func baseAssetCommissionOnBuy() throws {
        var book = PositionBook()
        let time = Date(timeIntervalSince1970: 0)
        // 1 BTC bought at 100: 100 paid, 0.001 BTC (worth 0.1) kept by the venue, 0.999 BTC received.
        let buy = Fill(fillId: "b", clientOrderId: "b", venue: .binance, symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100,
                       fee: 0.1, baseCommission: 0.001, time: time, strategyId: "s", requestId: nil)
        #expect(try buy.positionQuantity == 0.999)
        #expect(try book.apply(buy) == nil)
        #expect(book.quantity == 0.999)
        #expect(book.cost == 99.9 && book.openFees == 0.1, "the commission counts once, as a fee")
        // 0.999 sold at 110 for 109.89, 0.10989 fee in USDT: 109.78011 received for 100 paid.
        let sell = Fill(fillId: "s", clientOrderId: "s", venue: .binance, symbol: "BTCUSDT", side: .sell, quantity: 0.999, price: 110,
                        fee: 0.10989, time: time, strategyId: "s", requestId: nil)
        let closed = try #require(try book.apply(sell))
        #expect(closed.pnl == 9.78011)
        #expect(closed.quantity == 0.999)
        #expect(book.isFlat)
    }

    @Test("a sell whose commission was taken in the base asset gave that much more: the position shrinks by both")
    func baseAssetCommissionOnSell() throws {
        var book = PositionBook(quantity: 2, cost: 200)
        let sell = Fill(fillId: "s", clientOrderId: "s", venue: .binance, symbol: "BTCUSDT", side: .sell, quantity: 1, price: 120,
                        fee: 0.12, baseCommission: 0.001, time: Date(timeIntervalSince1970: 0), strategyId: "s", requestId: nil)
        let closed = try #require(try book.apply(sell))
        #expect(book.quantity == 0.999)
        #expect(closed.quantity == 1.001)
        // 120 USDT received for 1.001 BTC that cost 100.1.
        #expect(closed.pnl == 19.9)
    }

    @Test("a commission never carries a close past flat: selling all that is held, with the commission taken from other holdings, leaves no short")
    func baseCommissionNeverFlips() throws {
        // BNBUSDT with fees in BNB: 2.997 sold of 2.99775 held, 0.00224775 BNB taken as commission.
        var book = PositionBook(quantity: ExactDecimal("2.99775")!, cost: ExactDecimal("1798.65")!)
        let sell = Fill(fillId: "s", clientOrderId: "s", venue: .binance, symbol: "BNBUSDT", side: .sell, quantity: ExactDecimal("2.997")!,
                        price: 600, fee: ExactDecimal("1.34865")!, baseCommission: ExactDecimal("0.00224775")!,
                        time: Date(timeIntervalSince1970: 0), strategyId: "s", requestId: nil)
        let closed = try #require(try book.apply(sell))
        #expect(book.isFlat, "flat, not short: \(book.quantity)")
        #expect(closed.quantity == ExactDecimal("2.99775")!)
        // 2.99775 at 600 less the 1.34865 fee, against a cost of 1798.65: 1798.65 − 1798.65 − 1.34865.
        #expect(closed.pnl == ExactDecimal("-1.34865")!)
        // A sell larger than the position still flips by what it sold beyond it.
        var long = PositionBook(quantity: 1, cost: 600)
        let flip = Fill(fillId: "f", clientOrderId: "f", venue: .binance, symbol: "BNBUSDT", side: .sell, quantity: 2, price: 600,
                        fee: ExactDecimal("0.6")!, baseCommission: ExactDecimal("0.001")!, time: Date(timeIntervalSince1970: 0), strategyId: "s", requestId: nil)
        _ = try long.apply(flip)
        #expect(long.quantity == ExactDecimal("-1.001")!)
    }

    @Test("a fill's base-asset commission crosses the IPC wire and is absent when there is none")
    func baseCommissionCoding() throws {
        let fill = Fill(fillId: "b", clientOrderId: "b", venue: .binance, symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100,
                        fee: 0.1, baseCommission: ExactDecimal("0.00100000")!, time: Date(timeIntervalSince1970: 0), strategyId: "s", requestId: nil)
        let decoded = try JSONDecoder().decode(Fill.self, from: try JSONEncoder().encode(fill))
        #expect(decoded == fill && decoded.baseCommission?.description == "0.00100000")
        var plain = fill
        plain.baseCommission = nil
        #expect(!String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("baseCommission"))
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
