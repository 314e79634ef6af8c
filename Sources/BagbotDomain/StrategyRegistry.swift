import Foundation

/// One tunable parameter of a registered strategy, as `arsenal.strategies` lists it. Names are snake_case, as
/// in `bagbot.yaml` and `arsenal.setParameters`. Parameters are tuning numbers (windows, multiples, rates),
/// never amounts of money: those (base quantities) are exact decimals set in `bagbot.yaml`.
public struct StrategyParameterInfo: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A whole number (a window length, a count).
        case integer
        /// A real number (a multiple, a rate, a percentage).
        case number
    }

    /// Where the value in force comes from.
    public enum Source: String, Codable, Sendable {
        /// The strategy's default.
        case `default`
        /// `bagbot.yaml` (or a `--set` override at start).
        case config
        /// `arsenal.setParameters`, kept across restarts in `arsenal_strategies.json`.
        case runtime
    }

    public var name: String
    public var type: Kind
    public var value: Double
    public var defaultValue: Double
    public var minimum: Double
    public var maximum: Double
    public var description: String
    public var source: Source

    public init(name: String, type: Kind, value: Double, defaultValue: Double, minimum: Double, maximum: Double,
                description: String, source: Source) {
        self.name = name
        self.type = type
        self.value = value
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.maximum = maximum
        self.description = description
        self.source = source
    }
}

/// Names one registered strategy (`arsenal.strategy`, `arsenal.enable`, `arsenal.disable`).
public struct StrategyIdRequest: Codable, Sendable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// `arsenal.setParameters`: new values for some of a strategy's parameters, all applied or none.
public struct SetStrategyParametersRequest: Codable, Sendable, Equatable {
    public var id: String
    public var parameters: [String: JSONValue]
    public init(id: String, parameters: [String: JSONValue]) {
        self.id = id
        self.parameters = parameters
    }
}

/// The strategy id of the trader's own orders: those sent through `arsenal.placeManualOrder`, and (in
/// mindsetd's count) routerd orders without a strategy. Never flattened by mindsetd: they are the trader's.
public enum ManualTrading {
    public static let strategyId = "manual"
}

/// `arsenal.placeManualOrder`: the trader's own market order, through the same path as a strategy's signal.
public struct ManualOrderRequest: Codable, Sendable, Equatable {
    public var symbol: String
    public var side: Side
    public var quantity: ExactDecimal
    /// True: only reduces the trader's own (`manual`) position, straight to routerd like a strategy's exit.
    /// Otherwise an entry: judged by mindsetd first.
    public var reduceOnly: Bool?
    /// The caller's key for this order (1–31 of `A-Z a-z 0-9 _ -`): a retry with the same key never places a
    /// second order; it answers with the first one's record. Without it, every call is a new order.
    public var idempotencyKey: String?

    /// The request id arsenald gives a keyed order (`m-<key>`), known before it answers; unkeyed orders get theirs
    /// from arsenald.
    public var keyedRequestId: String? { idempotencyKey.map { "m-\($0)" } }

    public init(symbol: String, side: Side, quantity: ExactDecimal, reduceOnly: Bool? = nil, idempotencyKey: String? = nil) {
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.reduceOnly = reduceOnly
        self.idempotencyKey = idempotencyKey
    }
}

/// What became of a manual order.
public struct ManualOrderResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// routerd recorded the order (`order` says its status: filled, rejected …).
        case placed
        /// mindsetd said no (`decision` says why).
        case blocked
        /// Not sent (`reason` says why).
        case notSent = "not_sent"
        /// Sent, its outcome not known yet (routerd did not answer in time); it is never sent again.
        case unknown
    }

    public var outcome: Outcome
    public var signal: Signal
    public var decision: MindsetDecision?
    public var order: OrderRecord?
    public var reason: String?
    /// `placed` by an earlier request with the same idempotency key: this one sent nothing.
    public var alreadyPlaced: Bool?

    public init(outcome: Outcome, signal: Signal, decision: MindsetDecision? = nil, order: OrderRecord? = nil, reason: String? = nil,
                alreadyPlaced: Bool? = nil) {
        self.outcome = outcome
        self.signal = signal
        self.decision = decision
        self.order = order
        self.reason = reason
        self.alreadyPlaced = alreadyPlaced
    }
}
