import Foundation

public enum OrderType: String, Codable, Sendable, CaseIterable {
    case market, limit
}

/// How a limit order works (docs/ipc.md, `router.placeOrder`); a market order has none, and a limit order without
/// one is `gtc`. Kept beside the type, in a column of its own, so a routerd of before it reads every order.
public enum TimeInForce: String, Codable, Sendable, CaseIterable {
    /// Good till cancelled: it rests until it fills or is cancelled.
    case gtc
    /// Immediate or cancel: what the market reaches at once fills; the rest expires.
    case ioc
    /// Fill or kill: whole at once, or expired without a fill.
    case fok
    /// Post-only (Binance's `LIMIT_MAKER`): refused if it would trade at once; else it rests as `gtc`.
    case postOnly = "post_only"
}

/// Where an order is in its life. Every change is written to `order_events` (time and cause) before anyone
/// is told about it.
public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    /// Persisted, not yet handed to the venue: after a crash, such an order never left the machine.
    case pendingNew = "pending_new"
    /// Being handed to the venue (recorded before the call): after a crash it may have reached the venue,
    /// so it is looked up there, never sent again.
    case sent
    /// The venue took it and it is working (a resting limit order).
    case acknowledged
    case partiallyFilled = "partially_filled"
    case filled
    case cancelled
    case rejected
    case expired
    /// The outcome of the send is not known (a timeout, a lost connection, a venue 5xx): settled by looking
    /// it up at the venue, on a schedule, while trading goes on for other symbols.
    case unknown

    public var isFinal: Bool {
        switch self {
        case .filled, .cancelled, .rejected, .expired: return true
        case .pendingNew, .sent, .acknowledged, .partiallyFilled, .unknown: return false
        }
    }

    /// The venue may hold it (or may have executed it): not final, and past `pending_new`.
    public var mayBeAtVenue: Bool { !isFinal && self != .pendingNew }
}

public struct OrderRecord: Codable, Sendable, Equatable {
    /// The start of `rejectReason` for an order routerd gave up as not found at its venue: it may turn up there later.
    public static let notFoundAtVenue = "not_found_at_venue"

    /// Given up as not found at its venue (`rejected` or `expired`, `notFoundAtVenue`).
    public var wasGivenUpAsNotFound: Bool {
        (status == .rejected || status == .expired) && rejectReason?.hasPrefix(Self.notFoundAtVenue) == true
    }

    public var clientOrderId: String
    public var venue: Venue
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: ExactDecimal
    public var limitPrice: ExactDecimal?
    public var status: OrderStatus
    public var filledQuantity: ExactDecimal
    public var averageFillPrice: ExactDecimal?
    public var exchangeOrderId: String?
    /// Only ever reduces the position it is against (a stop, a close): refused if it would grow or flip it,
    /// and let through while trading is paused.
    public var reduceOnly: Bool
    public var strategyId: String?
    /// Follows a trade from tick to fill across the daemons' logs.
    public var requestId: String?
    public var rejectReason: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// A limit order's, when not `gtc` (nil: `gtc`, or a market order).
    public var timeInForce: TimeInForce?

    public init(
        clientOrderId: String, venue: Venue, symbol: String, side: Side, type: OrderType, quantity: ExactDecimal,
        limitPrice: ExactDecimal? = nil, status: OrderStatus = .pendingNew, filledQuantity: ExactDecimal = 0,
        averageFillPrice: ExactDecimal? = nil, exchangeOrderId: String? = nil, reduceOnly: Bool = false, strategyId: String? = nil,
        requestId: String? = nil, rejectReason: String? = nil, timeInForce: TimeInForce? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.timeInForce = timeInForce
        self.clientOrderId = clientOrderId
        self.venue = venue
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.status = status
        self.filledQuantity = filledQuantity
        self.averageFillPrice = averageFillPrice
        self.exchangeOrderId = exchangeOrderId
        self.reduceOnly = reduceOnly
        self.strategyId = strategyId
        self.requestId = requestId
        self.rejectReason = rejectReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct Fill: Codable, Sendable, Equatable {
    public var fillId: String
    public var clientOrderId: String
    public var venue: Venue
    public var symbol: String
    public var side: Side
    public var quantity: ExactDecimal
    public var price: ExactDecimal
    /// Fee in the quote currency, whatever asset the venue charged it in.
    public var fee: ExactDecimal
    /// The part of the fee the venue took in the symbol's base asset (Binance charges a buy's commission in what it
    /// bought), already valued in `fee`. The position moved by less than `quantity` on a buy (more on a sell):
    /// `positionQuantity`. Nil when no fee was taken in the base asset.
    public var baseCommission: ExactDecimal?
    public var time: Date
    public var strategyId: String?
    public var requestId: String?
    /// Position in routerd's fill log (assigned when stored); lets a consumer apply each fill exactly once.
    public var sequence: Int64?

    public init(
        fillId: String, clientOrderId: String, venue: Venue, symbol: String, side: Side, quantity: ExactDecimal,
        price: ExactDecimal, fee: ExactDecimal, baseCommission: ExactDecimal? = nil, time: Date, strategyId: String?,
        requestId: String?, sequence: Int64? = nil
    ) {
        self.sequence = sequence
        self.baseCommission = baseCommission
        self.fillId = fillId
        self.clientOrderId = clientOrderId
        self.venue = venue
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.time = time
        self.strategyId = strategyId
        self.requestId = requestId
    }

    /// How much of the base asset the fill moved: a buy received `quantity` less the base-asset commission, a sell
    /// gave `quantity` plus it. Positions follow this, so an exit sells what is really held.
    public var positionQuantity: ExactDecimal {
        get throws {
            guard let baseCommission, !baseCommission.isZero else { return quantity }
            return side == .buy ? try quantity - baseCommission : try quantity + baseCommission
        }
    }
}

public struct Position: Codable, Sendable, Equatable {
    public var venue: Venue
    public var symbol: String
    /// Signed: positive long, negative short.
    public var quantity: ExactDecimal
    public var averagePrice: ExactDecimal
    public var realizedPnl: ExactDecimal
    public var lastPrice: ExactDecimal?
    public var unrealizedPnl: ExactDecimal?

    public init(venue: Venue, symbol: String, quantity: ExactDecimal, averagePrice: ExactDecimal, realizedPnl: ExactDecimal,
                lastPrice: ExactDecimal? = nil, unrealizedPnl: ExactDecimal? = nil) {
        self.venue = venue
        self.symbol = symbol
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.realizedPnl = realizedPnl
        self.lastPrice = lastPrice
        self.unrealizedPnl = unrealizedPnl
    }
}
