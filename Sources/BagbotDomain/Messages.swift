import Foundation

/// The answer to `health` from every daemon, and what `/healthz` aggregates.
public struct HealthReport: Codable, Sendable, Equatable {
    public var service: String
    /// "ok" when serving normally; "degraded" when it cannot do all its work (a peer it needs is unreachable,
    /// or its state cannot be persisted).
    public var status: String
    public var summary: String
    public var uptimeSeconds: Double
    /// Each peer this daemon connects to, and its connection state.
    public var peers: [String: String]
    public var details: [String: String]

    public init(service: String, status: String, summary: String, uptimeSeconds: Double,
                peers: [String: String] = [:], details: [String: String] = [:]) {
        self.service = service
        self.status = status
        self.summary = summary
        self.uptimeSeconds = uptimeSeconds
        self.peers = peers
        self.details = details
    }
}

public struct SubscribeRequest: Codable, Sendable {
    public var topics: [String]
    public init(topics: [String]) { self.topics = topics }
}

public struct SubscribeResponse: Codable, Sendable {
    public var topics: [String]
    public init(topics: [String]) { self.topics = topics }
}

/// `router.ticksProcessed`: the subscriber on this connection has processed every tick up to this one (symbol and
/// sequence); without a tick, it asks to pace a max-speed replay from now on (docs/ipc.md, "Paced replay").
public struct TicksProcessed: Codable, Sendable, Equatable {
    public var symbol: String?
    public var sequence: UInt64?
    public init(symbol: String? = nil, sequence: UInt64? = nil) {
        self.symbol = symbol
        self.sequence = sequence
    }
}

public struct TickPacing: Codable, Sendable, Equatable {
    /// Whether the feed waits for this connection (a replay at max speed); false: it never waits, no need to ack.
    public var paced: Bool
    /// How many ticks the feed may run ahead of this connection's acknowledgements.
    public var window: Int
    public init(paced: Bool, window: Int) {
        self.paced = paced
        self.window = window
    }
}

public struct PlaceOrderRequest: Codable, Sendable, Equatable {
    /// Optional: a caller that retries must send the same id; the router generates one when absent.
    public var clientOrderId: String?
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: ExactDecimal
    public var limitPrice: ExactDecimal?
    /// Refused if it would grow or flip the position (the strategy's, or the venue's net position without a
    /// strategy); passes while trading is paused. Absent means false.
    public var reduceOnly: Bool?
    public var strategyId: String?
    public var requestId: String?
    /// The sequence of the tick of `symbol` the order was decided on. Only a paced replay uses it: the paper venue
    /// fills a market order at that tick's quote, not at a later one the feed has moved on to, so a replay gives
    /// the same fills every run. Live, every venue fills at its own current price.
    public var quoteSequence: UInt64?
    /// A limit order's (absent: `gtc`); a market order takes none.
    public var timeInForce: TimeInForce?

    public init(clientOrderId: String? = nil, symbol: String, side: Side, type: OrderType = .market, quantity: ExactDecimal,
                limitPrice: ExactDecimal? = nil, reduceOnly: Bool? = nil, strategyId: String? = nil, requestId: String? = nil,
                quoteSequence: UInt64? = nil, timeInForce: TimeInForce? = nil) {
        self.timeInForce = timeInForce
        self.quoteSequence = quoteSequence
        self.reduceOnly = reduceOnly
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.strategyId = strategyId
        self.requestId = requestId
    }
}

public struct CancelOrderRequest: Codable, Sendable {
    public var clientOrderId: String
    public init(clientOrderId: String) { self.clientOrderId = clientOrderId }
}

public struct OrdersQuery: Codable, Sendable {
    /// One order by its client order id (the other filters still apply).
    public var clientOrderId: String?
    public var symbol: String?
    public var status: OrderStatus?
    public var strategyId: String?
    public var limit: Int?
    /// Orders created at or after this time.
    public var createdFrom: Date?
    /// Orders created before this time.
    public var createdBefore: Date?
    /// The `nextCursor` of the previous page: the orders after it in the answer's order (newest first).
    public var after: String?

    public init(clientOrderId: String? = nil, symbol: String? = nil, status: OrderStatus? = nil, strategyId: String? = nil,
                limit: Int? = nil, createdFrom: Date? = nil, createdBefore: Date? = nil, after: String? = nil) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.status = status
        self.strategyId = strategyId
        self.limit = limit
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.after = after
    }
}

public struct OrdersResponse: Codable, Sendable {
    public var orders: [OrderRecord]
    /// Set when more orders match after the last one: pass it as `after` for the next page.
    public var nextCursor: String?
    public init(orders: [OrderRecord], nextCursor: String? = nil) {
        self.orders = orders
        self.nextCursor = nextCursor
    }
}

public struct PositionsResponse: Codable, Sendable {
    public var positions: [Position]
    public init(positions: [Position]) { self.positions = positions }
}

public struct PauseRequest: Codable, Sendable {
    public var reason: String?
    public init(reason: String?) { self.reason = reason }
}

public struct TradingSwitchState: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var reason: String?
    public var changedAt: Date
    public init(enabled: Bool, reason: String?, changedAt: Date) {
        self.enabled = enabled
        self.reason = reason
        self.changedAt = changedAt
    }
}

public struct StrategyInfo: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    /// What the strategy does, in a sentence.
    public var description: String
    public var enabled: Bool
    public var symbols: [String]
    /// Order size per symbol before the mindset's risk scaling (`bagbot.yaml`).
    public var baseQuantity: [String: ExactDecimal]
    /// The parameter schema with the values in force.
    public var parameters: [StrategyParameterInfo]
    public var positions: [String: ExactDecimal]
    public var signals: Int
    public var fills: Int
    public var realizedPnl: ExactDecimal
    public var trades: Int
    public var wins: Int

    public init(id: String, kind: String, description: String = "", enabled: Bool, symbols: [String],
                baseQuantity: [String: ExactDecimal] = [:], parameters: [StrategyParameterInfo] = [],
                positions: [String: ExactDecimal], signals: Int, fills: Int, realizedPnl: ExactDecimal, trades: Int, wins: Int) {
        self.id = id
        self.kind = kind
        self.description = description
        self.enabled = enabled
        self.symbols = symbols
        self.baseQuantity = baseQuantity
        self.parameters = parameters
        self.positions = positions
        self.signals = signals
        self.fills = fills
        self.realizedPnl = realizedPnl
        self.trades = trades
        self.wins = wins
    }
}

public struct StrategiesResponse: Codable, Sendable {
    public var strategies: [StrategyInfo]
    public init(strategies: [StrategyInfo]) { self.strategies = strategies }
}

/// A strategy's net position in one symbol, rebuilt by routerd from the fills it recorded.
public struct StrategyPosition: Codable, Sendable, Equatable {
    public var strategyId: String
    public var symbol: String
    public var quantity: ExactDecimal
    public var averagePrice: ExactDecimal
    /// What the open quantity cost (price × quantity of the fills that opened it): with it a restored
    /// position closes to the same last digit as the one it replaces.
    public var cost: ExactDecimal
    /// Fees already paid on the open quantity; the trade that closes it is charged them.
    public var openFees: ExactDecimal

    public init(strategyId: String, symbol: String, book: PositionBook) {
        self.init(strategyId: strategyId, symbol: symbol, quantity: book.quantity, averagePrice: book.averagePrice,
                  cost: book.cost, openFees: book.openFees)
    }

    public init(strategyId: String, symbol: String, quantity: ExactDecimal, averagePrice: ExactDecimal, cost: ExactDecimal,
                openFees: ExactDecimal = 0) {
        self.cost = cost
        self.openFees = openFees
        self.strategyId = strategyId
        self.symbol = symbol
        self.quantity = quantity
        self.averagePrice = averagePrice
    }

    /// The position as a book that later fills apply to.
    public var book: PositionBook { PositionBook(quantity: quantity, cost: cost, openFees: openFees) }
}

/// Fills recorded after a sequence, oldest first: how a reconnecting consumer catches up without missing one.
public struct FillsQuery: Codable, Sendable {
    public var afterSequence: Int64
    public var limit: Int?
    public init(afterSequence: Int64, limit: Int? = nil) {
        self.afterSequence = afterSequence
        self.limit = limit
    }
}

public struct FillsResponse: Codable, Sendable {
    public var fills: [Fill]
    /// The identity of routerd's database (see `StrategyPositionsResponse.databaseId`).
    public var databaseId: String
    /// The sequence of the last fill recorded when the query ran. Below what a consumer has applied, the log
    /// went back (a backup was restored, with the same identity): the consumer starts again from positions.
    public var lastSequence: Int64
    /// The venues whose fills are the trader's account (routerd's `countsInAccount`): in live mode not the paper
    /// venue, whose fills from an earlier paper run share the log. A consumer steps over the others' fills — they
    /// move no position and count no trade. Absent (an older routerd): every venue's.
    public var accountVenues: [Venue]?
    public init(fills: [Fill], databaseId: String, lastSequence: Int64, accountVenues: [Venue]? = nil) {
        self.fills = fills
        self.databaseId = databaseId
        self.lastSequence = lastSequence
        self.accountVenues = accountVenues
    }

    /// Whether `fill` moves the trader's positions (see `accountVenues`).
    public func counts(_ fill: Fill) -> Bool {
        accountVenues.map { $0.contains(fill.venue) } ?? true
    }
}

/// `router.fillHistory`: recorded fills for a person to read, newest first, a page at a time. (A consumer that must
/// see every fill once reads `router.fills`, oldest first.)
public struct FillHistoryQuery: Codable, Sendable, Equatable {
    public var symbol: String?
    public var strategyId: String?
    public var clientOrderId: String?
    /// Only fills with a lower sequence: the `nextBefore` of the previous page.
    public var beforeSequence: Int64?
    /// 1–1,000 (default 100).
    public var limit: Int?
    public init(symbol: String? = nil, strategyId: String? = nil, clientOrderId: String? = nil, beforeSequence: Int64? = nil, limit: Int? = nil) {
        self.symbol = symbol
        self.strategyId = strategyId
        self.clientOrderId = clientOrderId
        self.beforeSequence = beforeSequence
        self.limit = limit
    }
}

public struct FillHistoryPage: Codable, Sendable {
    public var fills: [Fill]
    /// Present when more fills match: pass it back as `beforeSequence`.
    public var nextBefore: Int64?
    public init(fills: [Fill], nextBefore: Int64?) {
        self.fills = fills
        self.nextBefore = nextBefore
    }
}

/// The identity of routerd's fill log as `router.fills` and `router.strategyPositions` give it out: the database's
/// own id, marked in live mode, so consumers start over from the live account's fills alone when routerd switches.
public enum FillLogIdentity {
    static let liveMark = "+live"

    public static func scoped(_ databaseId: String, live: Bool) -> String {
        live ? databaseId + liveMark : databaseId
    }

    /// Whether an identity is the live account's fill log.
    public static func isLive(_ identity: String) -> Bool { identity.hasSuffix(liveMark) }

    /// The database behind an identity: the same file (and so the same fill ids) in paper and in live mode.
    public static func database(of identity: String) -> Substring {
        identity.hasSuffix(liveMark) ? identity.dropLast(liveMark.count) : Substring(identity)
    }
}

public struct StrategyPositionsResponse: Codable, Sendable {
    public var positions: [StrategyPosition]
    /// The last fill sequence the positions include; later fills are applied on top of them.
    public var throughSequence: Int64
    /// The identity of routerd's database, made once with the file. Sequences count within one database: a
    /// consumer that sees another id (a restored backup, a new file) starts again from these positions instead
    /// of skipping fills whose sequences it thinks it has seen.
    public var databaseId: String
    public init(positions: [StrategyPosition], throughSequence: Int64, databaseId: String) {
        self.positions = positions
        self.throughSequence = throughSequence
        self.databaseId = databaseId
    }
}
