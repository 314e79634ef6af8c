import Foundation

public enum OrderType: String, Codable, Sendable {
    case market, limit
}

public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    /// Persisted, not yet acknowledged by the venue. After a crash these are reconciled before trading.
    case pendingNew = "pending_new"
    case new
    case partiallyFilled = "partially_filled"
    case filled
    case canceled
    case rejected

    public var isFinal: Bool {
        switch self {
        case .filled, .canceled, .rejected: return true
        case .pendingNew, .new, .partiallyFilled: return false
        }
    }
}

public struct OrderRecord: Codable, Sendable, Equatable {
    public var clientOrderId: String
    public var venue: Venue
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: Double
    public var limitPrice: Double?
    public var status: OrderStatus
    public var filledQuantity: Double
    public var averageFillPrice: Double?
    public var exchangeOrderId: String?
    public var strategyId: String?
    /// Follows a trade from tick to fill across the daemons' logs.
    public var requestId: String?
    public var rejectReason: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        clientOrderId: String, venue: Venue, symbol: String, side: Side, type: OrderType, quantity: Double,
        limitPrice: Double? = nil, status: OrderStatus = .pendingNew, filledQuantity: Double = 0,
        averageFillPrice: Double? = nil, exchangeOrderId: String? = nil, strategyId: String? = nil,
        requestId: String? = nil, rejectReason: String? = nil, createdAt: Date, updatedAt: Date
    ) {
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
    public var quantity: Double
    public var price: Double
    /// Fee in the quote currency.
    public var fee: Double
    public var time: Date
    public var strategyId: String?
    public var requestId: String?
    /// Position in routerd's fill log (assigned when stored); lets a consumer apply each fill exactly once.
    public var sequence: Int64?

    public init(
        fillId: String, clientOrderId: String, venue: Venue, symbol: String, side: Side, quantity: Double,
        price: Double, fee: Double, time: Date, strategyId: String?, requestId: String?, sequence: Int64? = nil
    ) {
        self.sequence = sequence
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
}

public struct Position: Codable, Sendable, Equatable {
    public var venue: Venue
    public var symbol: String
    /// Signed: positive long, negative short.
    public var quantity: Double
    public var averagePrice: Double
    public var realizedPnl: Double
    public var lastPrice: Double?
    public var unrealizedPnl: Double?

    public init(venue: Venue, symbol: String, quantity: Double, averagePrice: Double, realizedPnl: Double,
                lastPrice: Double? = nil, unrealizedPnl: Double? = nil) {
        self.venue = venue
        self.symbol = symbol
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.realizedPnl = realizedPnl
        self.lastPrice = lastPrice
        self.unrealizedPnl = unrealizedPnl
    }
}

public struct VenueAccount: Codable, Sendable, Equatable {
    public var venue: Venue
    public var currency: String
    public var cash: Double
    public var equity: Double
    public var feesPaid: Double

    public init(venue: Venue, currency: String, cash: Double, equity: Double, feesPaid: Double) {
        self.venue = venue
        self.currency = currency
        self.cash = cash
        self.equity = equity
        self.feesPaid = feesPaid
    }
}

public struct AccountSummary: Codable, Sendable, Equatable {
    public var venues: [VenueAccount]
    public var totalEquity: Double
    public var totalCash: Double
    public var tradingEnabled: Bool
    public var pausedReason: String?

    public init(venues: [VenueAccount], tradingEnabled: Bool, pausedReason: String?) {
        self.venues = venues
        self.totalEquity = venues.reduce(0) { $0 + $1.equity }
        self.totalCash = venues.reduce(0) { $0 + $1.cash }
        self.tradingEnabled = tradingEnabled
        self.pausedReason = pausedReason
    }
}
