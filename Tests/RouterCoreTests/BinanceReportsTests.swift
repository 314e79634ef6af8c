import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Binance answers in BAGBOT's terms")
struct BinanceReportsTests {
    /// rest-api.md "New order", FULL answer (its example, with BAGBOT's client order id).
    static let fullAnswer = """
    {"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"bb-1","transactTime":1507725176595,"price":"0.00000000",
     "origQty":"10.00000000","executedQty":"10.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"39983.00000000",
     "status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","workingTime":1507725176595,"selfTradePreventionMode":"NONE",
     "fills":[{"price":"4000.00000000","qty":"1.00000000","commission":"4.00000000","commissionAsset":"USDT","tradeId":56},
              {"price":"3999.00000000","qty":"5.00000000","commission":"19.99500000","commissionAsset":"USDT","tradeId":57},
              {"price":"3998.00000000","qty":"2.00000000","commission":"7.99600000","commissionAsset":"USDT","tradeId":58},
              {"price":"3997.00000000","qty":"1.00000000","commission":"3.99700000","commissionAsset":"USDT","tradeId":59},
              {"price":"3995.00000000","qty":"1.00000000","commission":"3.99500000","commissionAsset":"USDT","tradeId":60}]}
    """

    static let btcusdt = FeeConversion(baseAsset: "BTC", quoteAsset: "USDT")

    @Test("a FULL answer: every fill with its trade id (symbol-qualified), exact price, quantity and fee, and the average price")
    func fullAnswer() throws {
        let order = try BinanceReports.decode(BinanceReports.Order.self, from: Array(Self.fullAnswer.utf8), what: "test")
        let fills = try BinanceReports.fills(of: order, clientOrderId: "bb-1", side: .sell, fee: Self.btcusdt, now: Date())
        #expect(fills.map(\.fillId) == ["BTCUSDT-56", "BTCUSDT-57", "BTCUSDT-58", "BTCUSDT-59", "BTCUSDT-60"])
        #expect(fills[1].quantity == ExactDecimal("5")! && fills[1].price == ExactDecimal("3999")! && fills[1].fee == ExactDecimal("19.995")!)
        #expect(fills.allSatisfy { $0.time == Date(timeIntervalSince1970: 1_507_725_176.595) && $0.side == .sell })
        let report = try BinanceReports.report(order, clientOrderId: "bb-1", fills: fills, now: Date())
        #expect(report.status == .filled)
        #expect(report.exchangeOrderId == "28")
        #expect(report.filledQuantity == ExactDecimal("10")!)
        #expect(report.averagePrice == ExactDecimal("3998.3")!)
    }

    @Test("a status Binance does not document is an error (the order is looked up again), never a guess")
    func undocumentedStatus() throws {
        let text = Self.fullAnswer.replacingOccurrences(of: "\"FILLED\"", with: "\"SOMETHING_NEW\"")
        let order = try BinanceReports.decode(BinanceReports.Order.self, from: Array(text.utf8), what: "test")
        #expect(throws: BinanceReports.Malformed.self) { try BinanceReports.report(order, clientOrderId: "bb-1", fills: [], now: Date()) }
    }

    @Test("amounts as JSON numbers, or missing, are refused: they would have passed through a Double")
    func numbersRefused() {
        let numeric = Self.fullAnswer.replacingOccurrences(of: "\"executedQty\":\"10.00000000\"", with: "\"executedQty\":10.0")
        #expect(throws: BinanceReports.Malformed.self) {
            try BinanceReports.decode(BinanceReports.Order.self, from: Array(numeric.utf8), what: "test")
        }
        #expect(throws: BinanceReports.Malformed.self) {
            try BinanceReports.decode(BinanceReports.Order.self, from: Array("{\"symbol\":\"BTCUSDT\"}".utf8), what: "test")
        }
    }

    @Test("commissions become quote-asset fees: quote as is, base at the fill's price (rounded up), another asset at its price or an error")
    func feeConversion() throws {
        #expect(try Self.btcusdt.inQuote(ExactDecimal("0.5")!, asset: "USDT", price: ExactDecimal("60000")!) == ExactDecimal("0.5")!)
        #expect(try Self.btcusdt.inQuote(ExactDecimal("0.00000123")!, asset: "BTC", price: ExactDecimal("60000.01")!)
                == ExactDecimal("0.07380002")!)  // 0.0738000123 → up to 8 decimals
        #expect(throws: FeeConversion.Unvalued.self) { try Self.btcusdt.inQuote(ExactDecimal("0.01")!, asset: "BNB", price: 1) }
        var withBNB = Self.btcusdt
        withBNB.prices["BNB"] = ExactDecimal("600.5")!
        #expect(try withBNB.inQuote(ExactDecimal("0.01")!, asset: "BNB", price: 1) == ExactDecimal("6.005")!)
        #expect(try Self.btcusdt.inQuote(.zero, asset: "BNB", price: 1) == .zero)
        #expect(Self.btcusdt.foreignAssets(in: [(ExactDecimal("1")!, "BNB"), (.zero, "XYZ"), (ExactDecimal("1")!, "BTC")]) == ["BNB"])
    }

    @Test("a trade list's entries become fills of BAGBOT's orders; trades of orders it does not know are left out")
    func trades() throws {
        let body = """
        [{"symbol":"BTCUSDT","id":28457,"orderId":100234,"orderListId":-1,"price":"60000.10","qty":"0.00100000","quoteQty":"60.0001",
          "commission":"0.00000100","commissionAsset":"BTC","time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true},
         {"symbol":"BTCUSDT","id":28458,"orderId":999,"orderListId":-1,"price":"60000.10","qty":"0.00100000","quoteQty":"60.0001",
          "commission":"0.06","commissionAsset":"USDT","time":1499865549591,"isBuyer":false,"isMaker":true,"isBestMatch":true}]
        """
        let trades = try BinanceReports.decode([BinanceReports.Trade].self, from: Array(body.utf8), what: "test")
        let fills = try BinanceReports.fills(of: trades, clientOrderIds: { $0 == 100_234 ? "bb-7" : nil }, fee: Self.btcusdt)
        #expect(fills.count == 1)
        #expect(fills[0].fillId == "BTCUSDT-28457" && fills[0].clientOrderId == "bb-7" && fills[0].side == .buy)
        #expect(fills[0].fee == ExactDecimal("0.06000010")!)
        #expect(fills[0].baseCommission == ExactDecimal("0.000001")!, "the buy received 0.000999 BTC, not 0.001")
    }

    @Test("a commission taken in the base asset is kept beside its quote value; in the quote asset or BNB there is none; one as large as a buy is refused")
    func baseCommission() throws {
        let buy = Self.fullAnswer.replacingOccurrences(of: "\"side\":\"SELL\"", with: "\"side\":\"BUY\"")
            .replacingOccurrences(of: "\"commission\":\"4.00000000\",\"commissionAsset\":\"USDT\"",
                                  with: "\"commission\":\"0.00100000\",\"commissionAsset\":\"BTC\"")
        let order = try BinanceReports.decode(BinanceReports.Order.self, from: Array(buy.utf8), what: "test")
        let fills = try BinanceReports.fills(of: order, clientOrderId: "bb-1", side: .buy, fee: Self.btcusdt, now: Date())
        #expect(fills[0].baseCommission == ExactDecimal("0.001")! && fills[0].fee == ExactDecimal("4")!)
        #expect(fills[1...].allSatisfy { $0.baseCommission == nil }, "USDT commissions move no BTC")
        #expect(try Self.btcusdt.baseCommission(ExactDecimal("0.01")!, asset: "BNB", quantity: 1, side: .buy) == nil)
        #expect(try Self.btcusdt.baseCommission(.zero, asset: "BTC", quantity: 1, side: .buy) == nil)
        #expect(try Self.btcusdt.baseCommission(ExactDecimal("0.001")!, asset: "BTC", quantity: 1, side: .sell) == ExactDecimal("0.001")!)
        #expect(throws: BinanceReports.Malformed.self) {
            try Self.btcusdt.baseCommission(ExactDecimal("1")!, asset: "BTC", quantity: 1, side: .buy)
        }
        #expect(throws: BinanceReports.Malformed.self) {
            try Self.btcusdt.baseCommission(ExactDecimal("-0.001")!, asset: "BTC", quantity: 1, side: .buy)
        }
    }

    @Test("the account's commission rates are read leniently: a part missing leaves them partial, a malformed block leaves them unknown, never the account unreadable")
    func commissionRatesLenient() throws {
        func account(_ rates: String) throws -> BinanceReports.Account {
            try BinanceReports.decode(BinanceReports.Account.self, from: Array(#"{"balances":[],"canTrade":true,"commissionRates":\#(rates)}"#.utf8), what: "test")
        }
        #expect(try account(#"{"maker":"0.001","taker":"0.001","buyer":"0.0002","seller":"0"}"#).commissionRates?.takerPerSide == ExactDecimal("0.0012")!)
        #expect(try account(#"{"taker":"0.001"}"#).commissionRates?.takerPerSide == ExactDecimal("0.001")!)
        #expect(try account(#"{"maker":"0.001"}"#).commissionRates?.takerPerSide == nil)
        #expect(try account(#""garbage""#).commissionRates == nil)
        #expect(try account(#"null"#).commissionRates == nil)
    }
}
