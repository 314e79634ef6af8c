import Foundation
import BagbotDomain
import Testing
@testable import BagbotIPC

/// `ExchangeJSON` reads an exchange's JSON as `JSONDecoder()` with its default settings does: the fast path must give
/// the same value wherever it accepts, and everything else must come from JSONDecoder itself.
@Suite("ExchangeJSON reads exchange JSON as JSONDecoder's defaults do")
struct ExchangeJSONTests {
    /// An `executionReport` of the WebSocket API's user data stream (binance-spot-api-docs, user-data-stream.md):
    /// keys that differ only in case ("c" and "C", "x" and "X"), numbers and decimal strings, a null, booleans.
    struct ExecutionReport: Decodable, Equatable {
        var e: String
        var E: Int64
        var s: String
        var c: String
        var C: String?
        var x: String
        var X: String
        var q: ExactDecimal
        var z: ExactDecimal
        var N: String?
        var t: Int64
        var w: Bool
    }

    struct Wrapped: Decodable, Equatable {
        var subscriptionId: Int?
        var event: ExecutionReport?
    }

    struct FullFill: Decodable, Equatable {
        var price: ExactDecimal
        var qty: ExactDecimal
        var commission: ExactDecimal
        var commissionAsset: String
        var tradeId: Int64
    }

    /// `POST /api/v3/order` with `newOrderRespType=FULL` (rest-api.md).
    struct Order: Decodable, Equatable {
        var symbol: String
        var orderId: Int64
        var clientOrderId: String
        var status: String
        var executedQty: ExactDecimal
        var transactTime: Int64?
        var fills: [FullFill]?
    }

    struct Dated: Decodable, Equatable {
        var at: Date
    }

    static let executionReport = """
        {"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW",\
        "S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,\
        "C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0",\
        "N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,\
        "Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}}
        """

    static let fullAnswer = """
        {"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595,\
        "price":"0.00000000","origQty":"10.00000000","executedQty":"10.00000000","origQuoteOrderQty":"0.000000",\
        "cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL",\
        "workingTime":1507725176595,"selfTradePreventionMode":"NONE","fills":[{"price":"4000.00000000","qty":"1.00000000",\
        "commission":"4.00000000","commissionAsset":"USDT","tradeId":56},{"price":"3999.00000000","qty":"5.00000000",\
        "commission":"19.99500000","commissionAsset":"USDT","tradeId":57}]}
        """

    static func foundation<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> Result<T, Error> {
        Result { try JSONDecoder().decode(type, from: Data(bytes)) }
    }

    @Test("Binance's documented messages are read by the fast path, to the values JSONDecoder gives")
    func binanceSamples() throws {
        try Self.readFast(Wrapped.self, Self.executionReport)
        try Self.readFast(Order.self, Self.fullAnswer)
        let report = try ExchangeJSON.decode(Wrapped.self, from: Array(Self.executionReport.utf8)).event
        #expect(report?.c == "mUvoqJxFIILMdfAW5iGSOW" && report?.C == "" && report?.x == "NEW" && report?.N == nil && report?.t == -1)
        let order = try ExchangeJSON.decode(Order.self, from: Array(Self.fullAnswer.utf8))
        #expect(order.fills?.map(\.commission.description) == ["4.00000000", "19.99500000"])
    }

    static func readFast<T: Decodable & Equatable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = Array(text.utf8)
        let fast = bytes.withUnsafeBytes { FastJSON.decode(type, from: $0, datesSince1970: false) }
        #expect(fast != nil, "the fast path declined \(type)", sourceLocation: sourceLocation)
        #expect(fast == (try JSONDecoder().decode(type, from: Data(bytes))), sourceLocation: sourceLocation)
        #expect(try ExchangeJSON.decode(type, from: bytes) == JSONDecoder().decode(type, from: Data(bytes)), sourceLocation: sourceLocation)
    }

    @Test("a Date is read as JSONDecoder's default reads it (seconds since 2001), never as IPC's seconds since 1970")
    func dates() throws {
        let bytes = Array(#"{"at":1000}"#.utf8)
        #expect(bytes.withUnsafeBytes { FastJSON.decode(Dated.self, from: $0, datesSince1970: false) } == nil)
        #expect(try ExchangeJSON.decode(Dated.self, from: bytes) == Dated(at: Date(timeIntervalSinceReferenceDate: 1_000)))
    }

    @Test("what JSONDecoder refuses, ExchangeJSON refuses with JSONDecoder's error")
    func refusals() {
        for text in [#"{"symbol":"BTCUSDT"}"#, "", "{", #"{"symbol":1}"#, "[]"] {
            let bytes = Array(text.utf8)
            let ours = Result { try ExchangeJSON.decode(Order.self, from: bytes) }
            guard case .failure(let error) = ours, case .failure(let expected) = Self.foundation(Order.self, bytes) else {
                Issue.record("\(text) was read")
                continue
            }
            #expect(String(describing: error) == String(describing: expected))
        }
    }

    @Test("seeded random mutations of Binance's messages: ExchangeJSON and JSONDecoder agree on every one")
    func mutations() {
        var generator = SplitMix64(seed: 0xB1_4A_4CE)
        let bases = [Self.executionReport, Self.fullAnswer].map { Array($0.utf8) }
        var read = 0
        for _ in 0..<3_000 {
            let bytes = FastJSONTests.mutate(bases[Int(generator.next() % 2)], &generator)
            read += Self.agree(Wrapped.self, bytes) + Self.agree(Order.self, bytes) + Self.agree(ExecutionReport.self, bytes)
        }
        #expect(read > 100, "only \(read) mutants were read at all")
    }

    /// 1 when both read `bytes` to equal values, 0 when both refuse; anything else is recorded as an issue.
    static func agree<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> Int {
        switch (Result { try ExchangeJSON.decode(type, from: bytes) }, foundation(type, bytes)) {
        case (.success(let ours), .success(let theirs)):
            #expect(ours == theirs, "\(String(decoding: bytes, as: UTF8.self))")
            return 1
        case (.failure, .failure):
            return 0
        case (let ours, let theirs):
            Issue.record("ExchangeJSON \(ours), JSONDecoder \(theirs): \(String(decoding: bytes, as: UTF8.self))")
            return 0
        }
    }
}
