import Foundation
import BagbotDomain
import GRDB

/// One place orders are executed: the paper exchange now; Binance, Alpaca and MetaTrader 5 later, each in a
/// folder of its own beside `Paper/`, registered in `VenueRegistry`. `RouterService` knows venues only
/// through this protocol.
///
/// Errors say what is known about an order's fate, because recovery depends on it: `VenueError.rejected`
/// means the venue refused it (it never worked there); `VenueError.unknownOutcome` means it may have reached
/// the venue and even executed (a timeout, a lost connection, a 5xx), so it is looked up, never resent.
public protocol TradingVenue: Sendable {
    var id: Venue { get }
    /// What the venue accepts for each symbol it trades.
    func symbolRules() async throws -> [SymbolRules]
    /// Sends a new order; its client order id is unique per venue: a venue refuses a second one.
    func place(_ order: VenueOrderRequest) async throws -> VenueOrderReport
    /// `place`, begun while routerd's record of the order is still being written: whatever cannot place the order
    /// may be done before `permission` is decided, and nothing that could place it leaves before it is granted.
    /// Refused, the order must not reach the venue, and this throws `VenueError.unavailable`. The default waits for
    /// the permission, then places.
    func place(_ order: VenueOrderRequest, sendingOnce permission: SendPermission) async throws -> VenueOrderReport
    /// Cancels a working order; the report says how it ended (it may have filled meanwhile).
    func cancel(clientOrderId: String, symbol: String) async throws -> VenueOrderReport
    /// The order as the venue has it, with every fill; nil when the venue does not know it.
    func order(clientOrderId: String, symbol: String) async throws -> VenueOrderReport?
    /// Orders still working at the venue.
    func openOrders() async throws -> [VenueOrderReport]
    /// Fills at or after `since`, oldest first.
    func fills(since: Date) async throws -> [VenueFill]
    /// Balances per asset, with what open orders hold.
    func balances() async throws -> [AssetBalance]
    /// Net positions per symbol, marked at the last price.
    func positions() async throws -> [Position]
    /// Both, as of one moment where the venue can say so (Binance: one account read for both).
    func holdings() async throws -> (balances: [AssetBalance], positions: [Position])
    /// Prices the venue read for assets it holds that none of its symbols trades (Binance: BNB kept to pay
    /// commissions), so the account can value them; none by default.
    func valuationPairs() async -> [CurrencyConverter.Pair]
    /// Why nothing may be sent to the venue now (Binance: a ban or a back-off, until when); nil while requests go.
    func blockedReason() async -> String?
    /// Why new orders (not cancels) are refused unsent now (Binance: its -1015 hold, until when); nil otherwise.
    func ordersHeldReason() async -> String?
    /// Where the venue delivers market data, order updates that do not answer a call (a resting order
    /// filled by the market) and its connection's state, in order, one at a time: it waits for each to be
    /// handled (backpressure), and never while it holds a lock that handling could wait for.
    func setEventHandler(_ handler: @escaping @Sendable (VenueEvent) async -> Void) async
    /// Closes its connections; called once, when routerd stops.
    func shutdown() async
}

/// A venue whose books are in a SQLite database, written synced as an exchange's own record is (the paper venue's,
/// in `bagbot.db`). When that database is routerd's own (`RouterService` compares them at start), routerd places
/// its orders there with `place(_:recording:)`: routerd's `sent`, the venue's execution and routerd's record of the
/// venue's answer are one transaction, so they reach the disk together or not at all, and no state lies between them
/// for recovery to settle (docs/reliability.md). Orders the market fills later, cancels and expiries are recorded by
/// the venue and by routerd apart, as with a live venue.
public protocol RecordingVenue: TradingVenue {
    var recordDatabase: DatabasePool { get }
    /// `place`, with routerd's writes in the venue's transaction: `recording` runs after the venue has written its record
    /// of the order, with the answer the venue is about to give, and what it returns comes back with that answer. If it
    /// throws, the transaction is rolled back (the venue's books stay as they were) and `place` throws that error.
    /// `VenueError.rejected`, `.unavailable` and `.duplicate` say that nothing was written (`wroteNothing`); after any
    /// other error, what is stored says how far the order got: nothing of it anywhere, or everything, when the commit
    /// landed although it reported an error. A `COMMIT` that failed is thrown as `CommitFailed`: nothing of it can be
    /// read, but it may come back when the database is next opened.
    func place<Recorded: Sendable>(_ order: VenueOrderRequest,
                                   recording: @Sendable (Database, VenueOrderReport) throws -> Recorded) async throws
        -> (report: VenueOrderReport, recorded: Recorded)
}

extension TradingVenue {
    public func place(_ order: VenueOrderRequest, sendingOnce permission: SendPermission) async throws -> VenueOrderReport {
        guard await permission.decision() else { throw VenueError.unavailable(SendPermission.refusedReason) }
        return try await place(order)
    }
    public func holdings() async throws -> (balances: [AssetBalance], positions: [Position]) {
        (try await balances(), try await positions())
    }
    public func shutdown() async {}
    public func valuationPairs() async -> [CurrencyConverter.Pair] { [] }
    public func blockedReason() async -> String? { nil }
    public func ordersHeldReason() async -> String? { nil }
}

/// What is sent to a venue: the stored order's terms.
public struct VenueOrderRequest: Sendable, Equatable {
    public var clientOrderId: String
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: ExactDecimal
    public var limitPrice: ExactDecimal?
    /// A limit order's, when not `gtc`.
    public var timeInForce: TimeInForce?
    public var reduceOnly: Bool
    public var strategyId: String?
    public var requestId: String?
    /// The tick the order was decided on (`PlaceOrderRequest.quoteSequence`): only the paper venue in a paced
    /// replay uses it.
    public var quoteSequence: UInt64?

    public init(_ order: OrderRecord, quoteSequence: UInt64? = nil) {
        self.quoteSequence = quoteSequence
        clientOrderId = order.clientOrderId
        symbol = order.symbol
        side = order.side
        type = order.type
        quantity = order.quantity
        limitPrice = order.limitPrice
        timeInForce = order.timeInForce
        reduceOnly = order.reduceOnly
        strategyId = order.strategyId
        requestId = order.requestId
    }
}

/// An order as the venue reports it, with all its fills so far (the router keeps the ones it has not seen,
/// by fill id).
public struct VenueOrderReport: Sendable, Equatable {
    public var clientOrderId: String
    public var exchangeOrderId: String?
    public var status: OrderStatus
    public var filledQuantity: ExactDecimal
    public var averagePrice: ExactDecimal?
    public var fills: [VenueFill]
    public var rejectReason: String?
    public var time: Date

    public init(clientOrderId: String, exchangeOrderId: String?, status: OrderStatus, filledQuantity: ExactDecimal,
                averagePrice: ExactDecimal?, fills: [VenueFill], rejectReason: String? = nil, time: Date) {
        self.clientOrderId = clientOrderId
        self.exchangeOrderId = exchangeOrderId
        self.status = status
        self.filledQuantity = filledQuantity
        self.averagePrice = averagePrice
        self.fills = fills
        self.rejectReason = rejectReason
        self.time = time
    }
}

/// One execution, identified by the venue's own trade id.
public struct VenueFill: Sendable, Equatable {
    /// Unique across the venue (routerd stores a fill once per id): an adapter whose exchange numbers trades
    /// per symbol (Binance) puts the symbol in it.
    public var fillId: String
    public var clientOrderId: String
    public var symbol: String
    public var side: Side
    public var quantity: ExactDecimal
    public var price: ExactDecimal
    /// In the symbol's quote asset.
    public var fee: ExactDecimal
    /// The part of the fee taken in the base asset, already valued in `fee` (`Fill.baseCommission`).
    public var baseCommission: ExactDecimal?
    public var time: Date

    public init(fillId: String, clientOrderId: String, symbol: String, side: Side, quantity: ExactDecimal, price: ExactDecimal,
                fee: ExactDecimal, baseCommission: ExactDecimal? = nil, time: Date) {
        self.baseCommission = baseCommission
        self.fillId = fillId
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.time = time
    }
}

public enum VenueEvent: Sendable {
    case tick(Tick)
    /// An order changed without being asked (filled by the market, expired).
    case order(VenueOrderReport)
    /// The venue heard that an order it has no record of changed (Binance's `executionReport` of an order this
    /// venue did not place or has forgotten): routerd asks the venue about it only if it is one of routerd's own that
    /// may still change (`RouterService.lookUpIfStillOpen`). The trader's own orders at the venue cost no look-up.
    case orderMayHaveChanged(clientOrderId: String, symbol: String)
    case connection(VenueConnectionState)
    /// The venue read its symbols' rules again and they changed (Binance changes a tick or step size now and
    /// then): routerd's own checks take them, so an order is checked against what the venue enforces.
    case rules([SymbolRules])
}

public enum VenueConnectionState: String, Sendable, Equatable {
    case connected, disconnected
}

public enum VenueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The venue refused the order; it never worked there.
    case rejected(String)
    /// The order may have reached the venue (timeout, lost connection, 5xx): look it up, never resend.
    case unknownOutcome(String)
    /// The venue could not be asked at all (not connected): nothing was sent.
    case unavailable(String)
    /// The venue already has an order with this client order id (Binance -2010 "Duplicate order sent."):
    /// it exists there, so it is looked up, never taken for a refusal.
    case duplicate(String)

    /// Said by a `RecordingVenue` only when it wrote nothing of the order: refused, not connected, or an id it has.
    public var wroteNothing: Bool {
        switch self {
        case .rejected, .unavailable, .duplicate: return true
        case .unknownOutcome: return false
        }
    }

    public var description: String {
        switch self {
        case .rejected(let reason): return "rejected: \(reason)"
        case .unknownOutcome(let reason): return "outcome unknown: \(reason)"
        case .unavailable(let reason): return "venue unavailable: \(reason)"
        case .duplicate(let reason): return "duplicate: \(reason)"
        }
    }
}
