import Foundation
import BagbotDomain

/// Orders in Binance's words (binance-spot-api-docs, rest-api.md "New order (TRADE)", enums.md "Order status").
public enum BinanceOrders {
    /// Binance's rule for `newClientOrderId` / `origClientOrderId`.
    public static func isValidClientOrderId(_ id: String) -> Bool {
        (1...36).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"): true
            default: false
            }
        }
    }

    /// The parameters of `POST /api/v3/order` for `request` (before `recvWindow`, `timestamp` and the signature):
    /// BAGBOT's client order id as `newClientOrderId` (so the order can always be looked up by it), quantities and
    /// prices as the exact decimals they are (already on the symbol's step and tick), and the `FULL` answer (with
    /// its fills). A market order sends its quantity of the base asset; a limit order is good till cancelled. Trailing
    /// zeros are dropped (`0.0010000000` → `0.001`): Binance refuses more than 8 decimals (-1111) even when they are 0.
    public static func newOrderParameters(_ request: VenueOrderRequest) throws(VenueError) -> [(name: String, value: String)] {
        guard isValidClientOrderId(request.clientOrderId) else {
            throw .rejected("client order id \(request.clientOrderId) does not fit Binance's pattern ^[a-zA-Z0-9-_]{1,36}$")
        }
        guard request.quantity.isPositive else { throw .rejected("quantity must be positive") }
        var parameters: [(name: String, value: String)] = [
            ("symbol", request.symbol), ("side", request.side == .buy ? "BUY" : "SELL"),
        ]
        if request.type == .market {
            parameters += [("type", "MARKET"), ("quantity", request.quantity.normalized.description)]
        } else {
            guard let price = request.limitPrice, price.isPositive else { throw .rejected("a limit order needs a positive price") }
            // rest-api.md "New order": LIMIT takes a timeInForce; LIMIT_MAKER takes none (it is refused, -2010, if it
            // would match at once).
            let type: [(name: String, value: String)] = switch request.timeInForce ?? .gtc {
            case .gtc: [("type", "LIMIT"), ("timeInForce", "GTC")]
            case .ioc: [("type", "LIMIT"), ("timeInForce", "IOC")]
            case .fok: [("type", "LIMIT"), ("timeInForce", "FOK")]
            case .postOnly: [("type", "LIMIT_MAKER")]
            }
            parameters += type + [("quantity", request.quantity.normalized.description), ("price", price.normalized.description)]
        }
        parameters += [("newClientOrderId", request.clientOrderId), ("newOrderRespType", "FULL")]
        return parameters
    }

    /// Binance's order status in BAGBOT's lifecycle; nil for a status Binance has not documented (the order is
    /// then looked up again rather than guessed at).
    public static func status(_ binance: String) -> OrderStatus? {
        switch binance {
        case "NEW", "PENDING_NEW", "PENDING_CANCEL": .acknowledged
        case "PARTIALLY_FILLED": .partiallyFilled
        case "FILLED": .filled
        case "CANCELED": .cancelled
        case "REJECTED": .rejected
        case "EXPIRED", "EXPIRED_IN_MATCH": .expired
        default: nil
        }
    }
}

/// This machine's estimate of Binance's clock, for `timestamp` (binance-spot-api-docs, rest-api.md "Timing
/// security": a request is refused when its timestamp is more than 1 s ahead of Binance's clock or older than
/// `recvWindow`). Each `GET /api/v3/time` gives the server's time somewhere between the request's send and its
/// answer; the midpoint is taken, and an answer that took longer than the best one seen recently is trusted less.
public struct BinanceClock: Sendable, Equatable {
    static let maximumOffsetMilliseconds = 30.0 * 86_400_000

    /// Binance's time minus this machine's, in milliseconds.
    public private(set) var offsetMilliseconds: Double = 0
    /// The round trip of the sample the offset came from (a shorter one is a tighter estimate).
    public private(set) var roundTripMilliseconds: Double?

    public init() {}

    /// One `GET /api/v3/time`: sent at `sent`, answered `{"serverTime": serverTime}` at `received` (local clock).
    /// A sample whose round trip is more than twice the last one's is kept only if the last is older than a minute
    /// (the network's delay changes; a slow sample is still better than a stale one).
    /// Returns whether the sample was taken. One that would put Binance's clock more than 30 days from this machine's
    /// is refused: it is a wrong answer, not a clock (requests then keep failing with -1021, which stops trading).
    @discardableResult
    public mutating func observe(serverTimeMilliseconds: Int64, sent: Date, received: Date, previousAt: Date? = nil) -> Bool {
        let roundTrip = max(0, received.timeIntervalSince(sent) * 1_000)
        if let best = roundTripMilliseconds, roundTrip > best * 2, let previousAt, received.timeIntervalSince(previousAt) < 60 { return false }
        let midpoint = (sent.timeIntervalSince1970 + received.timeIntervalSince1970) / 2 * 1_000
        let offset = Double(serverTimeMilliseconds) - midpoint
        guard offset.isFinite, abs(offset) <= Self.maximumOffsetMilliseconds else { return false }
        offsetMilliseconds = offset
        roundTripMilliseconds = roundTrip
        return true
    }

    /// The `timestamp` for a request sent at `now` (local clock): Binance's time as estimated, in whole
    /// milliseconds, rounded down (a timestamp ahead of the server's clock is refused, one behind is not).
    public func timestamp(at now: Date) -> Int64 {
        Int64(exactly: (now.timeIntervalSince1970 * 1_000 + offsetMilliseconds).rounded(.down))
            ?? Int64((now.timeIntervalSince1970 * 1_000).rounded(.down))
    }
}
