import Foundation
import NIOCore
import BagbotDomain
import Testing
@testable import BagbotIPC

/// FastJSON sits in front of Foundation's coders, so it must agree with them (IPCCoding's strategies) on
/// everything it accepts: a value it decodes is the value JSONDecoder gives for the same bytes, and what it
/// writes is valid JSON that JSONDecoder reads back to the value written. Declining is always allowed, but
/// the common shapes must not decline.
@Suite("FastJSON agrees with Foundation's coders")
struct FastJSONTests {
    // MARK: - helpers

    /// FastJSON.encode into a fresh buffer; nil when it declined.
    static func fastEncode<T: Encodable>(_ value: T) -> [UInt8]? {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        guard FastJSON.encode(value, appendingTo: &buffer) else { return nil }
        return Array(buffer.readableBytesView)
    }

    static func fastEncodeText<T: Encodable>(_ value: T) -> String? {
        fastEncode(value).map { String(decoding: $0, as: UTF8.self) }
    }

    /// FastJSON.decode of `bytes` taken as a slice in the middle of a larger buffer, as IncomingFrame does.
    static func fastDecode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        let padded = Array("{[".utf8) + bytes + Array("]}".utf8)
        return padded.withUnsafeBytes { raw in
            FastJSON.decode(type, from: UnsafeRawBufferPointer(rebasing: raw[2..<(2 + bytes.count)]))
        }
    }

    static func fastDecode<T: Decodable>(_ type: T.Type, _ text: String) -> T? { fastDecode(type, Array(text.utf8)) }

    static func foundationDecode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> Result<T, Error> {
        Result { try IPCCoding.makeDecoder().decode(type, from: Data(bytes)) }
    }

    static func foundationEncode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try IPCCoding.makeEncoder().encode(value))
    }

    static func describe(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(1200), as: UTF8.self).debugDescription
        return bytes.count > 1200 ? text + "… (\(bytes.count) bytes)" : text
    }

    static func isValidJSON(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }

    /// The decode invariant: if FastJSON gives a value, JSONDecoder succeeds on the same bytes with an equal
    /// value. Returns whether FastJSON accepted the bytes.
    @discardableResult
    static func checkDecode<T: Decodable & Equatable>(
        _ type: T.Type, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        guard let fast = fastDecode(type, bytes) else { return false }
        switch foundationDecode(type, bytes) {
        case .success(let slow):
            #expect(fast == slow, "\(T.self) from \(describe(bytes)): FastJSON \(fast), JSONDecoder \(slow)",
                    sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record("FastJSON read \(describe(bytes)) as \(T.self) \(fast), JSONDecoder refused it: \(error)",
                         sourceLocation: sourceLocation)
        }
        return true
    }

    /// Both round trips, neither of which may decline: FastJSON.encode → JSONDecoder, and JSONEncoder →
    /// FastJSON.decode. Values are compared with what Foundation's own round trip gives (the same as the
    /// value itself except for dates whose 1970-based seconds do not convert back exactly).
    static func checkRoundTrip<T: Codable>(
        _ value: T, equal: (T, T) -> Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let foundationBytes = try foundationEncode(value)
        let expected = try IPCCoding.makeDecoder().decode(T.self, from: Data(foundationBytes))

        let written = try #require(fastEncode(value), "FastJSON.encode declined \(value)", sourceLocation: sourceLocation)
        #expect(isValidJSON(written), "not valid JSON: \(describe(written))", sourceLocation: sourceLocation)
        let readBack = try IPCCoding.makeDecoder().decode(T.self, from: Data(written))
        #expect(equal(readBack, expected), "JSONDecoder read FastJSON's \(describe(written)) as \(readBack)",
                sourceLocation: sourceLocation)

        let fast = try #require(fastDecode(T.self, foundationBytes),
                                "FastJSON.decode declined JSONEncoder's \(describe(foundationBytes))",
                                sourceLocation: sourceLocation)
        #expect(equal(fast, expected), "FastJSON read JSONEncoder's \(describe(foundationBytes)) as \(fast)",
                sourceLocation: sourceLocation)
        let own = fastDecode(T.self, written)
        #expect(own.map { equal($0, expected) } == true, "FastJSON read its own \(describe(written)) as \(String(describing: own))",
                sourceLocation: sourceLocation)
    }

    static func checkRoundTrip<T: Codable & Equatable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try checkRoundTrip(value, equal: ==, sourceLocation: sourceLocation)
    }

    // MARK: - domain types

    static let when = Date(timeIntervalSince1970: 1_718_000_000.123456)
    static let later = Date(timeIntervalSince1970: 1_718_000_042.5)

    static let orders = [
        OrderRecord(clientOrderId: "c-0001", venue: .paper, symbol: "BTC/USDT", side: .buy, type: .market, quantity: 0.015,
                    createdAt: when, updatedAt: when),
        OrderRecord(clientOrderId: "c-0002-ü", venue: .binance, symbol: "ETH/USDT", side: .sell, type: .limit, quantity: 1.25,
                    limitPrice: 3512.75, status: .partiallyFilled, filledQuantity: 0.5, averageFillPrice: 3512.8,
                    exchangeOrderId: "987654321", strategyId: "momentum-1", requestId: "req/42",
                    rejectReason: #"venue said "no" \ retry"#, createdAt: when, updatedAt: later),
    ]
    static let fills = [
        Fill(fillId: "f-1", clientOrderId: "c-0001", venue: .paper, symbol: "BTC/USDT", side: .buy, quantity: 0.015,
             price: 67_123.45, fee: 0.001007, time: when, strategyId: nil, requestId: nil),
        Fill(fillId: "f-2", clientOrderId: "c-0002", venue: .alpaca, symbol: "AAPL", side: .sell, quantity: 10,
             price: 189.5, fee: 0, time: later, strategyId: "mean-rev", requestId: "r-9", sequence: Int64.max),
    ]
    static let positions = [
        Position(venue: .paper, symbol: "BTC/USDT", quantity: 0.015, averagePrice: 67_123.45, realizedPnl: 0),
        Position(venue: .mt5, symbol: "EURUSD", quantity: -100_000, averagePrice: 1.08421, realizedPnl: -12.5,
                 lastPrice: 1.0839, unrealizedPnl: 3.1),
    ]

    @Test("money is a decimal string on the wire and keeps its digits: 0.00100000 stays 0.00100000")
    func moneyKeepsItsDigits() throws {
        let request = PlaceOrderRequest(symbol: "BTCUSDT", side: .buy, type: .limit, quantity: ExactDecimal("0.00100000")!,
                                        limitPrice: ExactDecimal("9549.76")!)
        let fast = try #require(Self.fastEncodeText(request))
        let foundation = String(decoding: try IPCCoding.makeEncoder().encode(request), as: UTF8.self)
        for text in [fast, foundation] {
            #expect(text.contains(#""quantity":"0.00100000""#), "\(text)")
            #expect(text.contains(#""limitPrice":"9549.76""#), "\(text)")
        }
        let back = try #require(Self.fastDecode(PlaceOrderRequest.self, fast))
        #expect(back.quantity.description == "0.00100000")
        // 0.1 + 0.2 is 0.3 on the wire, not 0.30000000000000004.
        let sum = try ExactDecimal("0.1")! + ExactDecimal("0.2")!
        #expect(Self.fastEncodeText(PlaceOrderRequest(symbol: "X", side: .buy, quantity: sum))?.contains(#""quantity":"0.3""#) == true)
    }

    @Test("the hot IPC message types round-trip both ways without declining")
    func domainRoundTrips() throws {
        try Self.checkRoundTrip(Tick(symbol: "BTC/USDT", time: Self.when, bid: 67_123.45, ask: 67_123.55, last: 67_123.5,
                                     volume: 0.0125, sequence: 987_654_321, source: "replay:/var/lib/bagbot/btc-2024-06.csv"))
        try Self.checkRoundTrip(Tick(symbol: "EURUSD", time: Date(timeIntervalSince1970: 0), bid: 1.0842, ask: 1.0843,
                                     last: 1.08425, volume: 0, sequence: UInt64.max, source: "synthetic"))
        for order in Self.orders { try Self.checkRoundTrip(order) }
        for fill in Self.fills { try Self.checkRoundTrip(fill) }
        for position in Self.positions { try Self.checkRoundTrip(position) }
        try Self.checkRoundTrip(PlaceOrderRequest(symbol: "BTC/USDT", side: .buy, quantity: 0.01))
        try Self.checkRoundTrip(PlaceOrderRequest(clientOrderId: "retry-7", symbol: "ETH/USDT", side: .sell, type: .limit,
                                                  quantity: 2, limitPrice: 3500, strategyId: "s1", requestId: "r1"))
        let proposal = TradeProposal(strategyId: "momentum-1", symbol: "BTC/USDT", side: .buy, quantity: 0.02, price: 67_000.5,
                                     time: Self.when, strength: 1.35, confidence: 0.62, isEntry: true, requestId: "req-1")
        try Self.checkRoundTrip(proposal)
        try Self.checkRoundTrip(MindsetDecision(approved: true, sizeMultiplier: 0.5, approvedQuantity: 0.01, emotionState: "calm",
                                                reasons: ["loss streak 2: size ×0.5", "stop loss at −0.5%"], codes: ["state_size", "grade_size"]))
        try Self.checkRoundTrip(MindsetDecision(approved: false, sizeMultiplier: 0, approvedQuantity: 0, emotionState: "tilted",
                                                reasons: [], codes: []))
        try Self.checkRoundTrip(ClosedTrade(strategyId: "s1", symbol: "BTC/USDT", side: .buy, quantity: 0.02, entryPrice: 67_000,
                                            exitPrice: 66_500.25, pnl: -10.005, closedAt: Self.later, requestId: nil))
        try Self.checkRoundTrip(ClosedTrade(strategyId: "s1", symbol: "BTC/USDT", side: .sell, quantity: 0.02, entryPrice: 66_000,
                                            exitPrice: 66_500.25, pnl: 10.005, closedAt: Self.later, requestId: "r", tradeId: "f-2"))
        try Self.checkRoundTrip(Signal(strategyId: "s1", symbol: "BTC/USDT", side: .sell, quantity: 0.02, price: 66_999.99,
                                       time: Self.when, strength: 1, confidence: 0.5, isEntry: false,
                                       reason: "momentum +0.12% beats threshold 0.05%", requestId: "req-2"))
        try Self.checkRoundTrip(StrategyInfo(id: "s1", kind: "momentum", enabled: true, symbols: ["BTC/USDT", "ETH/USDT"],
                                             positions: ["BTC/USDT": 0.02, "ETH/USDT": -1.5], signals: 12, fills: 8,
                                             realizedPnl: 42.42, trades: 4, wins: 3))
        try Self.checkRoundTrip(StrategyPosition(strategyId: "s1", symbol: "BTC/USDT", quantity: -0.5, averagePrice: 67_000,
                                                 cost: 33_500, openFees: 0.3))
        try Self.checkRoundTrip(HealthReport(service: "routerd", status: "degraded", summary: "mindsetd unreachable",
                                             uptimeSeconds: 3600.25, peers: ["mindsetd": "connecting", "arsenald": "connected"]))
        try Self.checkRoundTrip(TradingSwitchState(enabled: false, reason: "daily loss limit", changedAt: Self.later))
        try Self.checkRoundTrip(AccountSummary(
            currency: "USD", equity: 10_012.5, cash: 9_000, realizedPnlToday: -1.25, feesToday: 1.25, unrealizedPnl: 12.5, exposure: 1_012.5,
            venues: [.init(venue: .paper, equity: 10_012.5, cash: 9_000, exposure: 1_012.5,
                           balances: [AssetBalance(asset: "BTC", free: 0.015, locked: 0), AssetBalance(asset: "USDT", free: 8_000, locked: 1_000)])],
            symbols: [.init(venue: .paper, symbol: "BTCUSDT", quantity: 0.015, exposure: 1_012.5, unrealizedPnl: 12.5, realizedPnlToday: nil)],
            rates: [CurrencyConverter.Rate(asset: "JPY", rate: 0.006666666666667, via: "1/USDJPY")], unvalued: ["DOGE"],
            dayStart: Self.when, tradingEnabled: true, pausedReason: nil))
        try Self.checkRoundTrip(IPCError(.badRequest, "invalid body: at body.qty: expected Double"))
        try Self.checkRoundTrip(EmptyBody())
        try Self.checkRoundTrip(OrdersResponse(orders: Self.orders)) { $0.orders == $1.orders }
        try Self.checkRoundTrip(FillsResponse(fills: Self.fills, databaseId: "2f0c", lastSequence: 7)) { $0.fills == $1.fills && $0.databaseId == $1.databaseId }
        try Self.checkRoundTrip(PositionsResponse(positions: Self.positions)) { $0.positions == $1.positions }
        try Self.checkRoundTrip(StrategyPositionsResponse(positions: [], throughSequence: -1, databaseId: "2f0c")) {
            (a: StrategyPositionsResponse, b: StrategyPositionsResponse) -> Bool in
            a.positions == b.positions && a.throughSequence == b.throughSequence && a.databaseId == b.databaseId
        }
        try Self.checkRoundTrip(FillsQuery(afterSequence: 41, limit: nil)) { $0.afterSequence == $1.afterSequence && $0.limit == $1.limit }
        try Self.checkRoundTrip(OrdersQuery(status: .pendingNew, limit: 50)) { (a: OrdersQuery, b: OrdersQuery) -> Bool in
            let sameFilters: Bool = a.status == b.status && a.limit == b.limit
            return sameFilters && a.symbol == b.symbol && a.clientOrderId == b.clientOrderId && a.strategyId == b.strategyId
        }
        try Self.checkRoundTrip(HelloBody(service: "arsenald")) { $0.service == $1.service && $0.`protocol` == $1.`protocol` }
    }

    @Test("IPC frames carry FastJSON bodies that decode through IncomingFrame and JSONDecoder alike")
    func framesThroughTheFastPath() throws {
        for order in Self.orders {
            let frame = try IPCCoding.encode(OutgoingEnvelope(id: 7, type: .event, method: Events.order, body: order),
                                             allocator: ByteBufferAllocator(), encoder: IPCCoding.makeEncoder())
            let incoming = try IncomingFrame(frame: frame, decoder: IPCCoding.makeDecoder())
            #expect(try incoming.decodeBody(OrderRecord.self, decoder: IPCCoding.makeDecoder()) == order)
            let slow = try IPCCoding.makeDecoder().decode(EnvelopeBody<OrderRecord>.self, from: frame)
            #expect(slow.body == order)
        }
    }

    // MARK: - generic shapes

    struct Inner: Codable, Equatable, Sendable {
        var name: String
        var values: [Double]
    }

    enum Shape: Codable, Equatable, Sendable {
        case circle(radius: Double)
        case rect(Double, Double)
        case point
        case labelled(name: String, tags: [String]?)
    }

    enum Level: Int, Codable, Sendable {
        case low = 1, high = 2
    }

    struct Nothing: Codable, Equatable, Sendable {}

    struct Outer: Codable, Equatable, Sendable {
        var inners: [Inner]
        var matrix: [[Int]]
        var empty: [Inner]
        var emptyMap: [String: Int]
        var map: [String: Inner]
        var optionalInner: Inner?
        var optionals: [Int?]
        var shapes: [Shape]
        var levels: [Level]
        var nothing: Nothing
        var nothings: [Nothing]
        var byNumber: [Int: String]
    }

    struct Widths: Codable, Equatable, Sendable {
        var int: Int, int8: Int8, int16: Int16, int32: Int32, int64: Int64
        var uint: UInt, uint8: UInt8, uint16: UInt16, uint32: UInt32, uint64: UInt64
        var float: Float, double: Double, flag: Bool
    }

    @Test("nested structs, arrays, empty containers, optionals and enums round-trip without declining")
    func genericShapes() throws {
        let outer = Outer(
            inners: [Inner(name: "a", values: [1, 2.5]), Inner(name: "", values: [])],
            matrix: [[1, 2], [], [3]], empty: [], emptyMap: [:],
            map: ["x": Inner(name: "x", values: [-1]), "": Inner(name: "empty key", values: [0])],
            optionalInner: nil, optionals: [1, nil, 3, nil],
            shapes: [.circle(radius: 2), .rect(1, 2), .point, .labelled(name: "n", tags: nil), .labelled(name: "m", tags: ["t"])],
            levels: [.low, .high], nothing: Nothing(), nothings: [Nothing(), Nothing()], byNumber: [1: "one", -2: "minus two"])
        try Self.checkRoundTrip(outer)
        var withInner = outer
        withInner.optionalInner = Inner(name: "some", values: [0.1])
        try Self.checkRoundTrip(withInner)
        try Self.checkRoundTrip([Shape.point])
        try Self.checkRoundTrip([[Inner]]())
        try Self.checkRoundTrip([String: [Inner]]())
        try Self.checkRoundTrip(["k": [Inner(name: "v", values: [1e-7, 1e21])]])
        try Self.checkRoundTrip(Level.high)
        try Self.checkRoundTrip(Optional<Inner>.none)
        try Self.checkRoundTrip([Optional<Date>.none, Self.when])
        try Self.checkRoundTrip(Widths(int: .min, int8: .min, int16: .min, int32: .min, int64: .min,
                                       uint: .max, uint8: .max, uint16: .max, uint32: .max, uint64: .max,
                                       float: .greatestFiniteMagnitude, double: -.greatestFiniteMagnitude, flag: false))
        try Self.checkRoundTrip(Widths(int: .max, int8: .max, int16: .max, int32: .max, int64: .max,
                                       uint: 0, uint8: 0, uint16: 0, uint32: 0, uint64: 0,
                                       float: .leastNonzeroMagnitude, double: .leastNonzeroMagnitude, flag: true))

        // the exact text of the simple shapes
        #expect(Self.fastEncodeText(Nothing()) == "{}")
        #expect(Self.fastEncodeText(EmptyBody()) == "{}")
        #expect(Self.fastEncodeText([Nothing(), Nothing()]) == "[{},{}]")
        #expect(Self.fastEncodeText([Int]()) == "[]")
        #expect(Self.fastEncodeText([String: Int]()) == "{}")
        #expect(Self.fastEncodeText(Shape.point) == #"{"point":{}}"#)
        #expect(Self.fastEncodeText(Shape.rect(1, 2.5)) == #"{"rect":{"_0":1,"_1":2.5}}"#)
        #expect(Self.fastEncodeText(Optional<Int>.none) == "null")
        #expect(Self.fastEncodeText([1, nil, 3] as [Int?]) == "[1,null,3]")
        #expect(try Self.fastEncode(Self.when) == Self.foundationEncode(Self.when))
    }

    @Test("top-level fragments and extreme numbers are written and read as Foundation does")
    func fragmentsAndNumbers() throws {
        try Self.checkRoundTrip("just a string")
        try Self.checkRoundTrip(-42)
        try Self.checkRoundTrip(1.5)
        try Self.checkRoundTrip(true)
        try Self.checkRoundTrip(false)
        try Self.checkRoundTrip(Int64.min)
        try Self.checkRoundTrip(UInt64.max)
        try Self.checkRoundTrip(Self.when)
        #expect(Self.fastEncodeText(Int64.min) == "-9223372036854775808")
        #expect(Self.fastEncodeText(UInt64.max) == "18446744073709551615")
        #expect(Self.fastEncodeText(Int8.min) == "-128")
        #expect(Self.fastEncodeText(0) == "0")
        #expect(Self.fastEncodeText(2.0) == "2")
        #expect(Self.fastEncodeText(true) == "true")
        #expect(Self.fastEncodeText("hi") == #""hi""#)

        let doubles: [Double] = [
            0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308,
            0.1, 0.2 + 0.1, 1e-7, 1e21, 1e16, 123_456_789.123, -1.5, .ulpOfOne, 9_007_199_254_740_992, 1_718_000_000.123456,
        ]
        for value in doubles {
            let written = try #require(Self.fastEncode(value), "declined \(value)")
            let foundation = try Self.foundationEncode(value)
            let viaFoundation = try IPCCoding.makeDecoder().decode(Double.self, from: Data(written))
            #expect(viaFoundation.bitPattern == value.bitPattern, "\(value) written as \(Self.describe(written))")
            let viaFast = try #require(Self.fastDecode(Double.self, foundation), "declined \(Self.describe(foundation))")
            #expect(viaFast.bitPattern == value.bitPattern, "\(value) read from \(Self.describe(foundation)) as \(viaFast)")
            #expect(written == foundation, "\(value): FastJSON wrote \(Self.describe(written)), JSONEncoder \(Self.describe(foundation))")
        }
        let floats: [Float] = [0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 16_777_216, -3.25, 1e-20]
        for value in floats {
            let written = try #require(Self.fastEncode(value), "declined \(value)")
            let viaFoundation = try IPCCoding.makeDecoder().decode(Float.self, from: Data(written))
            #expect(viaFoundation.bitPattern == value.bitPattern, "\(value) written as \(Self.describe(written))")
            let viaFast = try #require(Self.fastDecode(Float.self, try Self.foundationEncode(value)))
            #expect(viaFast.bitPattern == value.bitPattern)
        }
        // negative zero keeps its sign both ways
        #expect(Self.fastEncodeText(-0.0) == "-0")
        #expect(Self.fastDecode(Double.self, "-0")?.sign == .minus)
        #expect(Self.fastDecode(Double.self, "-0.0")?.sign == .minus)
        #expect(Self.fastDecode(Int.self, "-0") == 0)
    }

    static let awkwardStrings = [
        "", " ", #"quote" and \ backslash"#, "slash / and \\/ and //", "ctl \u{0}\u{1}\u{7}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1B}\u{1F}\u{7F}",
        "emoji 😀 👨‍👩‍👧 🇨🇭", "é precomposed, e\u{301} decomposed", "中文 日本語 한국어 العربية", "\u{2028}\u{2029}\u{FEFF}\u{FFFF}\u{10FFFF}",
        "−0.5% ×2 ≥ € £ ¥", #"\u0041 is not an escape here"#, "\"", "\\", "\u{0}",
    ]

    @Test("strings with quotes, backslashes, control characters, slashes and non-ASCII round-trip scalar for scalar")
    func strings() throws {
        for text in Self.awkwardStrings {
            try Self.checkRoundTrip(text) { $0.unicodeScalars.elementsEqual($1.unicodeScalars) }
            try Self.checkRoundTrip(Inner(name: text, values: []))
            // (keys that need escaping or hold non-ASCII are known declines)
            if !text.utf8.contains(where: { $0 < 0x20 || $0 >= 0x80 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                try Self.checkRoundTrip([text: text]) { a, b in
                    a.count == b.count && a.allSatisfy { key, value in b[key].map { $0.unicodeScalars.elementsEqual(value.unicodeScalars) } == true }
                }
            }
            let written = try #require(Self.fastEncode(text))
            #expect(!written.contains(where: { $0 < 0x20 }), "raw control character in \(Self.describe(written))")
            #expect(written == (try Self.foundationEncode(text)), "escaped differently from JSONEncoder: \(Self.describe(written))")
        }
        // escapes, including surrogate pairs, read as JSONDecoder reads them
        let escaped: [(String, String)] = [
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
            (#""\u0000\u001f\u007F\u00e9\u4E2D""#, "\u{0}\u{1F}\u{7F}é中"),
            (#""\uD83D\uDE00 \ud83d\ude00""#, "😀 😀"),
            (#""a\u0301 é""#, "a\u{301} é"),
            (#""mixed é\n😀\u00e9""#, "mixed é\n😀é"),
        ]
        for (json, expected) in escaped {
            let fast = try #require(Self.fastDecode(String.self, json), "declined \(json)")
            #expect(fast.unicodeScalars.elementsEqual(expected.unicodeScalars), "\(json) read as \(fast.debugDescription)")
            Self.checkDecode(String.self, Array(json.utf8))
        }
    }

    // MARK: - differential decoding

    struct Probe: Codable, Equatable, Sendable {
        var a: Int
        var b: String?
        var c: [Double]
        var d: Bool?
    }

    /// A Double compared bit for bit, so -0 and 0 differ.
    struct Bits: Codable, Equatable, Sendable {
        var value: Double
        init(from decoder: Decoder) throws { value = try decoder.singleValueContainer().decode(Double.self) }
        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
        static func == (a: Bits, b: Bits) -> Bool { a.value.bitPattern == b.value.bitPattern }
    }

    struct FloatBits: Decodable, Equatable, Sendable {
        var value: Float
        init(from decoder: Decoder) throws { value = try decoder.singleValueContainer().decode(Float.self) }
        static func == (a: FloatBits, b: FloatBits) -> Bool { a.value.bitPattern == b.value.bitPattern }
    }

    /// Nested arrays, any depth: `[]` is 1, `[[]]` is 2.
    struct Depth: Codable, Equatable, Sendable {
        var depth: Int
        init(depth: Int) { self.depth = depth }
        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            depth = try container.isAtEnd ? 1 : container.decode(Depth.self).depth + 1
        }
        func encode(to encoder: Encoder) throws {
            var container = encoder.unkeyedContainer()
            if depth > 1 { try container.encode(Depth(depth: depth - 1)) }
        }
    }

    /// Checks the decode invariant for `bytes` as every type below; returns how many accepted.
    @discardableResult
    static func checkAllTypes(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        var accepted = 0
        func check<T: Decodable & Equatable>(_ type: T.Type) {
            if checkDecode(type, bytes, sourceLocation: sourceLocation) { accepted += 1 }
        }
        check(Probe.self); check(Int.self); check(Int8.self); check(UInt8.self); check(Int64.self); check(UInt64.self)
        check(Bits.self); check(FloatBits.self); check(String.self); check(Bool.self); check([Int].self); check([Bits].self)
        check([String: Int].self); check([Int?].self); check(Int?.self); check(Date.self); check(EmptyBody.self)
        check(Shape.self); check(Level.self); check(Inner.self); check([Inner].self); check(Tick.self); check(Depth.self)
        check(PlaceOrderRequest.self); check([Int: String].self)
        return accepted
    }

    static let validDocuments: [String] = [
        #"{"a":1,"b":"x","c":[1.5,-2,3e2],"d":true}"#,
        " \t\n\r{ \"a\" : 1 ,\n\t\"b\"\r: null , \"c\" :\t[ ] \r\n, \"d\" : false } \n\t",
        #"{"c":[],"a":-0}"#,
        #"{"c":[-0.0,0e0,1E+2,1e-2,0.5E-1,123456789012345678901234567890],"a":9223372036854775807}"#,
        #"{"a":-9223372036854775808,"c":[]}"#,
        #"{"a":1,"c":[],"extra":{"deep":[1,2,{"x":null,"y":"\u0041\n"}]},"more":"\"}"}"#,
        #"{"name":"n","values":[1,2,3]}"#,
        #"[{"name":"n","values":[]},{"values":[0.25],"name":"é"}]"#,
        #"{"point":{}}"#, #"{"circle":{"radius":2.5}}"#, #"{"rect":{"_0":1,"_1":-1}}"#, #"{"labelled":{"name":"x","tags":null}}"#,
        #"{"symbol":"BTC/USDT","time":1718000000.123456,"bid":"1","ask":"2.5","last":"2","volume":"0","sequence":18446744073709551615,"source":"s"}"#,
        #"{"symbol":"ETH/USDT","side":"sell","type":"limit","quantity":"2","limitPrice":"3500.50","requestId":null}"#,
        #"{"1":"one","-2":"minus two"}"#,
        #"{"":1,"a":2,"b":-3}"#,
        "[]", "[[]]", "[[[[[]]]]]", "{}", "[1,2,3]", "[1,null,3]", "[null]", "[0.5,-1e-3]", "[1.5,2]",
        "0", "1", "-1", "2", "127", "-128", "255", "1718000000.5", "18446744073709551615", "9223372036854775807",
        #""plain""#, #""é😀""#, #""\u00e9\uD83D\uDE00""#, "true", "false", "null", " 7 ", "\n\"x\"\n",
    ]

    static let invalidOrOddDocuments: [String] = [
        // numbers
        "01", "-01", "00", "-", "--1", "1.", "1.e1", ".5", "+1", "1e", "1e+", "1E-0", "0x10", "1_000", "NaN", "Infinity", "-Infinity",
        "1.0", "1e2", "-1.5e-3", "2.0", "1e400", "-1e400", "1e-400", "-1e-400", "2.4703282292062327e-324", "5e-324", "1e-330",
        "1.7976931348623157e308", "1.7976931348623159e308", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "-0", "-0.0", "256", "-129", "128", "1e-46", "1.0000000596046447753906250001", "3.4028235677973366e38",
        "[1e-400]", "[01]", "[-]", "[1.]", "[.5]", "[+1]", "\u{FF11}",
        // literals
        "tru", "fals", "nul", "True", "NULL", "truex", "true false", "nulll", "[tru]", "{\"d\":tru}",
        // strings
        "\"unterminated", "\"raw\ncontrol\"", "\"raw\ttab\"", "\"raw\u{0}nul\"", #""\x""#, #""\'""#, #""\u12""#, #""\u12G4""#, #""\""#,
        #""\uD83D""#, #""\uDE00""#, #""\uD83Dx""#, #""\uD83D\u0041""#, #""\uD83D\uD83D""#, #""\uDE00\uD83D""#, #""\u""#, "\"\\",
        // structure
        "", " ", "[", "]", "{", "}", "[1,]", "[,1]", "[1 2]", "[1,,2]", "{,}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{'a':1}",
        "[1]x", "[1] [2]", "{}{}", "{} x", "[1,2", "{\"a\":1", "{\"a\"", "[\"a\":1]", "{\"a\",1}", "\u{FEFF}1", "/*c*/1", "1 // c",
        "\u{0B}1", "\u{0C}1", "\u{A0}1", "1\u{0}",
        // objects against the Probe type: wrong types, missing and extra keys, duplicates, escaped keys
        #"{"a":1.0,"c":[]}"#, #"{"a":1e2,"c":[]}"#, #"{"a":"1","c":[]}"#, #"{"a":null,"c":[]}"#, #"{"c":[]}"#, #"{"a":1}"#,
        #"{"a":true,"c":[]}"#, #"{"a":1,"b":1,"c":[]}"#, #"{"a":1,"c":[null]}"#, #"{"a":1,"c":{}}"#, #"{"a":1,"c":[],"d":"true"}"#,
        #"{"a":1,"c":[],"a":2}"#, #"{"a":1,"c":[],"b":"x","b":null}"#, #"{"a":1,"c":[],"x":1,"x":2}"#,
        #"{"a":1,"c":[],"\u0062":"x"}"#, #"{"\u0061":1,"c":[]}"#, #"{"a":1,"c":[],"\n":0}"#,
        #"{"a":256,"c":[]}"#, #"{"a":-9223372036854775809,"c":[]}"#, #"{"a":1,"c":[1e400]}"#,
        #"{"point":{},"rect":{"_0":1,"_1":2}}"#, #"{"circle":{}}"#, #"{"square":{}}"#, #"{"point":[]}"#,
        #"{"1":"one","01":"uno"}"#, #"{"x":"one"}"#, #"{"a":1,"a":1}"#, #"{"b":1,"b":2}"#,
        #"{"symbol":"BTC","side":"long","quantity":1}"#, #"{"symbol":"BTC","side":"buy","quantity":"1"}"#,
        #"{"symbol":"BTC","side":"buy","quantity":1,"type":"stop"}"#,
    ]

    @Test("hand-written documents, valid and invalid: FastJSON never accepts what JSONDecoder refuses or reads differently")
    func differentialDecode() {
        var acceptedTotal = 0
        for text in Self.validDocuments + Self.invalidOrOddDocuments {
            acceptedTotal += Self.checkAllTypes(Array(text.utf8))
        }
        // raw bytes that are not valid UTF-8, inside strings and keys, with and without escapes nearby
        let rawBytes: [[UInt8]] = [
            [0x22, 0xC3, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0x22, 0xF0, 0x9F, 0x98, 0x22], [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22],
            [0x22, 0xC3, 0x5C, 0x6E, 0xA9, 0x22], [0x22, 0xC3, 0x5C, 0x75, 0x30, 0x30, 0x41, 0x39, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
            Array(#"{"a":1,"c":[],""#.utf8) + [0xFF] + Array(#"":1}"#.utf8),
            Array(#"{"a":1,"c":[],"b":""#.utf8) + [0xE2, 0x82] + Array(#""}"#.utf8),
            [0x5B, 0x31, 0x5D, 0xFF], [0xEF, 0xBB, 0xBF, 0x31], [0x31, 0x00],
        ]
        for bytes in rawBytes { acceptedTotal += Self.checkAllTypes(bytes) }
        // the list must exercise the fast path, not only its declines
        #expect(acceptedTotal > 80)
    }

    @Test("the common shapes in hand-written, oddly spaced JSON are read by the fast path")
    func commonShapesAreNotDeclined() {
        #expect(Self.fastDecode(Probe.self, Self.validDocuments[0]) == Probe(a: 1, b: "x", c: [1.5, -2, 300], d: true))
        #expect(Self.fastDecode(Probe.self, Self.validDocuments[1]) == Probe(a: 1, b: nil, c: [], d: false))
        #expect(Self.fastDecode(Probe.self, Self.validDocuments[5]) == Probe(a: 1, b: nil, c: [], d: nil))
        #expect(Self.fastDecode([Inner].self, Self.validDocuments[7]) == [Inner(name: "n", values: []), Inner(name: "é", values: [0.25])])
        #expect(Self.fastDecode(Shape.self, #"{"labelled":{"name":"x","tags":null}}"#) == .labelled(name: "x", tags: nil))
        #expect(Self.fastDecode(Tick.self, Self.validDocuments[12])?.sequence == UInt64.max)
        #expect(Self.fastDecode([Int: String].self, #"{"1":"one","-2":"minus two"}"#) == [1: "one", -2: "minus two"])
        #expect(Self.fastDecode([String: Int].self, #"{"":1,"a":2,"b":-3}"#) == ["": 1, "a": 2, "b": -3])
        #expect(Self.fastDecode(Date.self, "1718000000.5") == Date(timeIntervalSince1970: 1_718_000_000.5))
        #expect(Self.fastDecode(Level.self, "2") == .high)
        #expect(Self.fastDecode(Int?.self, "null") == .some(nil))
        #expect(Self.fastDecode(String.self, "\n\"x\"\n") == "x")
        #expect(Self.fastDecode(EmptyBody.self, "{}") == EmptyBody())
        #expect(Self.fastDecode(Depth.self, "[[[[[]]]]]") == Depth(depth: 5))
        #expect(Self.fastDecode(Double.self, "-0")?.sign == .minus)
    }

    @Test("nesting up to the limit is read; deeper documents go to JSONDecoder")
    func depth() throws {
        for depth in [1, 2, 100, 255, 256, 257, 300, 600] {
            let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let accepted = Self.checkDecode(Depth.self, Array(text.utf8))
            #expect(accepted == (depth <= JSONTape.maximumDepth), "depth \(depth)")
            // a deep value under an unknown key
            let probe = #"{"a":1,"c":[],"deep":"# + text + "}"
            Self.checkDecode(Probe.self, Array(probe.utf8))
        }
        try Self.checkRoundTrip(Depth(depth: 200))
    }

    // MARK: - disagreements found while writing these tests (each is now declined)

    @Test("a number that underflows to zero is refused by JSONDecoder, so FastJSON must not read it as 0")
    func underflowToZero() {
        // JSONDecoder: "The given data was not valid JSON" for every one of these.
        for text in ["1e-400", "-1e-400", "2.4e-324", "1e-330", "0." + String(repeating: "0", count: 400) + "1"] {
            Self.checkDecode(Double.self, Array(text.utf8))
            Self.checkDecode(Date.self, Array(text.utf8))
            Self.checkDecode(Probe.self, Array(#"{"a":1,"c":[\#(text)]}"#.utf8))
        }
        for text in ["1e-46", "7e-46", "0.7e-45"] {
            Self.checkDecode(FloatBits.self, Array(text.utf8))
        }
    }

    @Test("a Float is rounded once, from the decimal text, as JSONDecoder does")
    func floatRoundsOnce() {
        // Just above the midpoint between 1 and the next Float: JSONDecoder gives 1.0000001; going through
        // Double first lands exactly on the midpoint and rounds to even (1.0).
        Self.checkDecode(FloatBits.self, Array("1.0000000596046447753906250001".utf8))
        Self.checkDecode([Float].self, Array("[1.0000000596046447753906250001]".utf8))
    }

    struct OptionalKeys: Codable, Equatable, Sendable {
        var isOK: Int?
        var café: Int?
    }

    @Test("keys are matched as JSONDecoder matches them (String equality, which is canonical equivalence)")
    func canonicallyEquivalentKeys() {
        // "isO\u{212A}" (KELVIN SIGN) == "isOK" as Swift Strings; JSONDecoder finds the member, so must FastJSON
        // (or decline).
        Self.checkDecode(OptionalKeys.self, Array("{\"isO\u{212A}\":1}".utf8))
        // decomposed é in the document, precomposed in the CodingKey
        Self.checkDecode(OptionalKeys.self, Array("{\"cafe\u{301}\":2}".utf8))
        // both spellings: JSONDecoder keeps the first, FastJSON must not pick the second
        Self.checkDecode(OptionalKeys.self, Array("{\"cafe\u{301}\":1,\"caf\u{E9}\":2}".utf8))
    }

    @Test("an unknown key that is not valid UTF-8 is refused by JSONDecoder, so FastJSON must not skip over it")
    func invalidUTF8InUnmatchedKeys() {
        // JSONDecoder turns every key of an object it opens a keyed container on into a String, and refuses the
        // document if one is not UTF-8; FastJSON only compares the bytes of the keys it looks for.
        let probe = Array(#"{"a":1,"c":[],""#.utf8) + [0xFF] + Array(#"":1}"#.utf8)
        Self.checkDecode(Probe.self, probe)
        let nested = Array(#"{"labelled":{"name":"x","t"#.utf8) + [0xC3] + Array(#"g":null}}"#.utf8)
        Self.checkDecode(Shape.self, nested)
        // a corrupted optional field's key: FastJSON reads the field as absent
        let request = Array(#"{"symbol":"BTC/USDT","side":"buy","type":"limit","quantity":1,"limitPr"#.utf8)
            + [0xFF] + Array(#"ice":3500}"#.utf8)
        Self.checkDecode(PlaceOrderRequest.self, request)
        // invalid bytes in values (or keys of objects) that are never opened are skipped by both: fine either way
        Self.checkDecode(Probe.self, Array(#"{"a":1,"c":[],"x":{""#.utf8) + [0xFF] + Array(#"":"\uD800"}}"#.utf8))
    }

    @Test("Int-keyed dictionaries with two spellings of one number are left to JSONDecoder")
    func numericallyDuplicateKeys() {
        // "5" and "05" are one Int key; which value JSONDecoder keeps depends on its dictionary's order, so a
        // fast answer can only be right by chance. Twenty such documents: FastJSON should decline them all.
        for number in 1...20 {
            Self.checkDecode([Int: String].self, Array(#"{"\#(number)":"a","0\#(number)":"b"}"#.utf8))
        }
    }

    // MARK: - seeded random values and mutations

    struct Sample: Codable, Equatable, Sendable {
        var int: Int, int8: Int8, int16: Int16, int32: Int32, int64: Int64
        var uint: UInt, uint8: UInt8, uint16: UInt16, uint32: UInt32, uint64: UInt64
        var double: Double, float: Float, flag: Bool, text: String, when: Date
        var maybe: Int?, maybeText: String?, list: [Double], map: [String: Int], shape: Shape, level: Level?, children: [Inner]
    }

    static let scalarPool: [Unicode.Scalar] = Array("aZ09 -_/\\\"'{}[]:,.ée\u{301}😀中\u{7F}\u{80}\u{FFFF}\u{10FFFF}\u{2028}".unicodeScalars)
        + (0..<0x20).map { Unicode.Scalar(UInt8($0)) }

    static func randomString(_ generator: inout SplitMix64, asKey: Bool = false) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int(generator.next() % 12) {
            let scalar = scalarPool[Int(generator.next() % UInt64(scalarPool.count))]
            // keys that JSONEncoder must escape, and keys outside ASCII (compared by canonical equivalence),
            // are known declines
            if asKey, scalar.value < 0x20 || scalar.value >= 0x80 || scalar == "\"" || scalar == "\\" { continue }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    static func randomInteger<T: FixedWidthInteger>(_ type: T.Type, _ generator: inout SplitMix64) -> T {
        switch generator.next() % 5 {
        case 0: return T.min
        case 1: return T.max
        case 2: return T(truncatingIfNeeded: Int64(generator.next() % 2001) - 1000)
        default: return T(truncatingIfNeeded: generator.next())
        }
    }

    static func randomDouble(_ generator: inout SplitMix64) -> Double {
        switch generator.next() % 4 {
        case 0:
            var value: Double
            repeat { value = Double(bitPattern: generator.next()) } while !value.isFinite
            return value
        case 1: return Double(Int64(generator.next() % 2_000_001) - 1_000_000) / 100
        case 2: return [0, -0.0, .leastNonzeroMagnitude, 1.7976931348623157e308, 0.1, 1e21, 1e-7][Int(generator.next() % 7)]
        default: return generator.uniform(-1e6, 1e6)
        }
    }

    static func randomSample(_ generator: inout SplitMix64) -> Sample {
        var float: Float
        repeat { float = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())) } while !float.isFinite
        let shapes: [Shape] = [.point, .circle(radius: randomDouble(&generator)), .rect(randomDouble(&generator), 2),
                               .labelled(name: randomString(&generator), tags: generator.next() % 2 == 0 ? nil : [randomString(&generator)])]
        var map: [String: Int] = [:]
        for _ in 0..<Int(generator.next() % 4) {
            let key = randomString(&generator, asKey: true)
            // two keys with one Int value ("9", "09") are a known decline: [Int: T] would collide
            if let number = Int(key), map.keys.contains(where: { Int($0) == number }) { continue }
            map[key] = randomInteger(Int.self, &generator)
        }
        return Sample(
            int: randomInteger(Int.self, &generator), int8: randomInteger(Int8.self, &generator),
            int16: randomInteger(Int16.self, &generator), int32: randomInteger(Int32.self, &generator),
            int64: randomInteger(Int64.self, &generator), uint: randomInteger(UInt.self, &generator),
            uint8: randomInteger(UInt8.self, &generator), uint16: randomInteger(UInt16.self, &generator),
            uint32: randomInteger(UInt32.self, &generator), uint64: randomInteger(UInt64.self, &generator),
            double: randomDouble(&generator), float: generator.next() % 2 == 0 ? float : Float(generator.next() % 1000) / 8,
            flag: generator.next() % 2 == 0, text: randomString(&generator),
            when: Date(timeIntervalSince1970: Double(generator.next() % 4_000_000_000) + Double(generator.next() % 1_000_000) / 1e6),
            maybe: generator.next() % 2 == 0 ? nil : randomInteger(Int.self, &generator),
            maybeText: generator.next() % 2 == 0 ? nil : randomString(&generator),
            list: (0..<Int(generator.next() % 4)).map { _ in randomDouble(&generator) }, map: map,
            shape: shapes[Int(generator.next() % 4)], level: [nil, .low, .high][Int(generator.next() % 3)],
            children: (0..<Int(generator.next() % 3)).map { _ in Inner(name: randomString(&generator), values: [randomDouble(&generator)]) })
    }

    @Test("seeded random values round-trip both ways without declining")
    func randomRoundTrips() throws {
        var generator = SplitMix64(seed: 0xFA57_1503)
        for _ in 0..<400 {
            try Self.checkRoundTrip(Self.randomSample(&generator))
        }
    }

    static let interestingBytes: [UInt8] = Array(#"{}[]":,\ -+.0123456789eEtrufalsn/"#.utf8)
        + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xA9, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
    static let snippets: [[UInt8]] = [",", #""a":1,"#, "\\u", "\\uD83D", "-0", "1e999", "1e-999", ".5", "null", "[", "]}", #""b":"#, "0"]
        .map { Array($0.utf8) }

    static func mutate(_ bytes: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0...Int(generator.next() % 3) {
            let position = bytes.isEmpty ? 0 : Int(generator.next() % UInt64(bytes.count))
            switch generator.next() % 5 {
            case 0 where !bytes.isEmpty: bytes[position] = interestingBytes[Int(generator.next() % UInt64(interestingBytes.count))]
            case 1: bytes.insert(interestingBytes[Int(generator.next() % UInt64(interestingBytes.count))], at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << UInt8(generator.next() % 8)
            default: bytes.insert(contentsOf: snippets[Int(generator.next() % UInt64(snippets.count))], at: position)
            }
        }
        return bytes
    }

    @Test("seeded random mutations of valid documents never break the invariant or crash")
    func randomMutations() throws {
        var generator = SplitMix64(seed: 0xB0D1_E5)
        var bases: [[UInt8]] = Self.validDocuments.map { Array($0.utf8) }
        // sorted keys: JSONEncoder's member order otherwise changes from run to run (hash order)
        let sorted = IPCCoding.makeEncoder()
        sorted.outputFormatting.insert(.sortedKeys)
        for _ in 0..<40 { bases.append(Array(try sorted.encode(Self.randomSample(&generator)))) }
        bases.append(Array(try sorted.encode(Self.orders[1])))
        bases.append(Array(try sorted.encode(Self.fills[1])))
        var accepted = 0
        for iteration in 0..<4_000 {
            let bytes = Self.mutate(bases[Int(generator.next() % UInt64(bases.count))], &generator)
            var hits = 0
            if Self.checkDecode(Sample.self, bytes) { hits += 1 }
            if Self.checkDecode(Probe.self, bytes) { hits += 1 }
            if Self.checkDecode([Bits].self, bytes) { hits += 1 }
            if Self.checkDecode(String.self, bytes) { hits += 1 }
            if Self.checkDecode(Bits.self, bytes) { hits += 1 }
            if Self.checkDecode(OrderRecord.self, bytes) { hits += 1 }
            if Self.checkDecode(Shape.self, bytes) { hits += 1 }
            if iteration % 4 == 0 { hits += Self.checkAllTypes(bytes) }
            if hits > 0 { accepted += 1 }
        }
        // enough mutants are valid for the fast path to be exercised, not only its declines
        #expect(accepted > 200, "only \(accepted) mutants accepted")
    }

    // MARK: - declining leaves the buffer alone

    struct HoldsDouble: Encodable { var prefix: String; var values: [Double] }
    struct HoldsData: Encodable { var id: Int; var data: Data }
    struct HoldsDecimal: Encodable { var id: Int; var amount: Decimal }
    struct HoldsURL: Encodable { var id: Int; var url: URL }

    struct UsesSuperEncoder: Encodable {
        enum CodingKeys: String, CodingKey { case x }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(1, forKey: .x)
            try 2.encode(to: container.superEncoder())
        }
    }

    /// Writes into a nested container after writing to its parent (legal in Codable).
    struct OutOfOrder: Encodable {
        enum CodingKeys: String, CodingKey { case a, b, x }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            var inner = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .a)
            try container.encode(1, forKey: .b)
            try inner.encode(2, forKey: .x)
        }
    }

    /// Asks for its keyed container twice; JSONEncoder merges both into one object.
    struct TwoContainers: Encodable {
        enum CodingKeys: String, CodingKey { case a, b }
        func encode(to encoder: Encoder) throws {
            var first = encoder.container(keyedBy: CodingKeys.self)
            try first.encode(1, forKey: .a)
            var second = encoder.container(keyedBy: CodingKeys.self)
            try second.encode(2, forKey: .b)
        }
    }

    @Test("a declined encode leaves the buffer's indices and bytes as they were, and IPCCoding falls back to JSONEncoder")
    func declineLeavesBufferUnchanged() throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 8)
        buffer.writeString("prefix:")
        buffer.moveReaderIndex(forwardBy: 2)
        let before = Array(buffer.readableBytesView)
        let readerIndex = buffer.readerIndex
        let writerIndex = buffer.writerIndex

        func expectDeclined<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!FastJSON.encode(value, appendingTo: &buffer), "FastJSON accepted \(value)", sourceLocation: sourceLocation)
            #expect(buffer.readerIndex == readerIndex && buffer.writerIndex == writerIndex, sourceLocation: sourceLocation)
            #expect(Array(buffer.readableBytesView) == before, sourceLocation: sourceLocation)
        }
        let long = String(repeating: "long text that needs the buffer to grow ", count: 20)
        expectDeclined(HoldsDouble(prefix: long, values: [1, 2, .nan]))
        expectDeclined(HoldsDouble(prefix: "", values: [.infinity]))
        expectDeclined(-Double.infinity)
        expectDeclined([Float(1), .nan])
        expectDeclined(Date(timeIntervalSince1970: .infinity))
        expectDeclined(HoldsData(id: 1, data: Data([1, 2, 3])))
        expectDeclined(Data())
        expectDeclined(HoldsDecimal(id: 1, amount: Decimal(string: "1.25")!))
        expectDeclined(HoldsURL(id: 1, url: URL(string: "https://example.com/a")!))
        expectDeclined(UsesSuperEncoder())
        expectDeclined(OutOfOrder())
        expectDeclined(TwoContainers())
        expectDeclined(["x": [HoldsDouble(prefix: long, values: [0, .nan])]])

        // the buffer still works: the next value is appended after the old bytes
        #expect(FastJSON.encode(Inner(name: "n", values: [1]), appendingTo: &buffer))
        #expect(Array(buffer.readableBytesView) == before + Array(#"{"name":"n","values":[1]}"#.utf8))

        // IPCCoding.encode falls back to JSONEncoder for what FastJSON declines: same JSON as JSONEncoder
        func viaIPC<T: Encodable>(_ value: T) throws -> JSONValue? {
            let frame = try IPCCoding.encode(OutgoingEnvelope(id: 1, type: .response, method: "m", body: value),
                                             allocator: ByteBufferAllocator(), encoder: IPCCoding.makeEncoder())
            return try IPCCoding.makeDecoder().decode(EnvelopeBody<JSONValue>.self, from: frame).body
        }
        func viaJSONEncoder<T: Encodable>(_ value: T) throws -> JSONValue {
            try IPCCoding.makeDecoder().decode(JSONValue.self, from: try IPCCoding.makeEncoder().encode(value))
        }
        #expect(try viaIPC(OutOfOrder()) == viaJSONEncoder(OutOfOrder()))
        #expect(try viaIPC(TwoContainers()) == viaJSONEncoder(TwoContainers()))
        #expect(try viaIPC(UsesSuperEncoder()) == viaJSONEncoder(UsesSuperEncoder()))
        #expect(try viaIPC(HoldsData(id: 1, data: Data([1, 2, 3]))) == viaJSONEncoder(HoldsData(id: 1, data: Data([1, 2, 3]))))
        #expect(throws: EncodingError.self) { _ = try viaIPC(HoldsDouble(prefix: "", values: [.nan])) }
    }

    /// Encodes key `x` twice; JSONEncoder keeps the last value.
    struct SameKeyTwice: Codable, Equatable {
        enum CodingKeys: String, CodingKey { case x }
        var x: Int
        init(x: Int) { self.x = x }
        init(from decoder: Decoder) throws { x = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .x) }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(0, forKey: .x)
            try container.encode(x, forKey: .x)
        }
    }

    @Test("a key encoded twice reads back as JSONEncoder's output does (or FastJSON declines)")
    func keyEncodedTwice() throws {
        let value = SameKeyTwice(x: 5)
        #expect(try IPCCoding.makeDecoder().decode(SameKeyTwice.self, from: IPCCoding.makeEncoder().encode(value)) == value)
        if let written = Self.fastEncode(value) {
            let readBack = try IPCCoding.makeDecoder().decode(SameKeyTwice.self, from: Data(written))
            #expect(readBack == value, "FastJSON wrote \(Self.describe(written)), read back as \(readBack)")
        }
    }

    // MARK: - IPC errors stay Foundation's

    @Test("bodies the fast path declines get JSONDecoder's value or its readable error, with the body path")
    func ipcFallback() throws {
        func frame(_ body: String) -> ByteBuffer {
            ByteBuffer(string: #"{"v":1,"id":1,"type":"request","method":"router.placeOrder","body":\#(body)}"#)
        }
        func foundationMessage<T: Decodable>(_ type: T.Type, _ body: String) -> String? {
            // what IncomingFrame gave before FastJSON: JSONDecoder on the body's bytes, path under `body`
            do {
                _ = try IPCCoding.makeDecoder().decode(T.self, from: Data(body.utf8))
                return nil
            } catch let error as DecodingError {
                return "invalid body: \(error.readableDescription(under: "body"))"
            } catch {
                return nil
            }
        }
        let bad = [
            #"{"symbol":"BTC","side":"buy","type":"market","quantity":"ten"}"#,
            #"{"symbol":"BTC","side":"long","type":"market","quantity":"1"}"#,
            #"{"side":"buy","type":"market","quantity":"1"}"#,
            #"{"symbol":"BTC","side":"buy","type":"market","quantity":1e999}"#,
            #"{"symbol":"BTC","side":"buy","type":"limit","quantity":"1","limitPrice":[]}"#,
            #"{"symbol":7,"side":"buy","type":"market","quantity":"1"}"#,
            // Money as a JSON number is refused: most parsers would already have rounded it through a double.
            #"{"symbol":"BTC","side":"buy","type":"market","quantity":0.1}"#,
            #"{"symbol":"BTC","side":"buy","type":"market","quantity":"0.1e-99999"}"#,
        ]
        for body in bad {
            let expected = try #require(foundationMessage(PlaceOrderRequest.self, body), "JSONDecoder accepted \(body)")
            #expect(expected.hasPrefix("invalid body: "), "\(expected)")
            #expect(throws: IPCError(.badRequest, expected)) {
                _ = try IPCCoding.decodeBody(PlaceOrderRequest.self, from: frame(body), decoder: IPCCoding.makeDecoder())
            }
        }
        // declined but valid for JSONDecoder: its value comes through
        let integralDouble = try IPCCoding.decodeBody(OrdersQuery.self, from: frame(#"{"limit":2.0}"#), decoder: IPCCoding.makeDecoder())
        #expect(integralDouble.limit == 2)
        // …except a key given twice, which JSONDecoder would serve with its first value: refused
        #expect(throws: IPCError(.badRequest, "invalid body: duplicate key 'symbol' in body")) {
            _ = try IPCCoding.decodeBody(
                PlaceOrderRequest.self, from: frame(#"{"symbol":"A","symbol":"B","side":"buy","type":"market","quantity":"1"}"#),
                decoder: IPCCoding.makeDecoder())
        }
        let escapedKey = try IPCCoding.decodeBody(
            PlaceOrderRequest.self, from: frame(#"{"\u0073ymbol":"A","side":"buy","type":"market","quantity":"1"}"#), decoder: IPCCoding.makeDecoder())
        #expect(escapedKey == PlaceOrderRequest(symbol: "A", side: .buy, quantity: 1))
    }
}
