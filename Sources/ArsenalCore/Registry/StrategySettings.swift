import BagbotDomain
import BagbotRuntime

/// What every strategy has and the arsenal itself acts on: where it trades and how much, its stop, its order
/// pace, and the costs its thresholds must beat.
public struct StrategyBasics: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var symbols: [String]
    /// Order size per symbol, before the mindset's risk scaling.
    public var baseQuantity: [String: ExactDecimal]
    /// A position that moves this far against its average entry price is closed at once (reduce-only).
    public var stopLossPercent: Double
    public var orderCooldownMs: Double
    public var maxOrdersPerMinute: Int
    /// The venue's fee per side, as a fraction of the notional.
    public var feeRate: Double
    /// The slippage expected per side, as a fraction of the price.
    public var slippageRate: Double

    public init(enabled: Bool, symbols: [String] = ["BTCUSDT", "EURUSD"],
                baseQuantity: [String: ExactDecimal] = ["BTCUSDT": 0.01, "EURUSD": 10_000], stopLossPercent: Double,
                orderCooldownMs: Double = 100, maxOrdersPerMinute: Int = 20, feeRate: Double = 0.0001,
                slippageRate: Double = 0.0001) {
        self.enabled = enabled
        self.symbols = symbols
        self.baseQuantity = baseQuantity
        self.stopLossPercent = stopLossPercent
        self.orderCooldownMs = orderCooldownMs
        self.maxOrdersPerMinute = maxOrdersPerMinute
        self.feeRate = feeRate
        self.slippageRate = slippageRate
    }

    /// The tunable ones, shared by every strategy's schema.
    static let parameters: [ParameterSpec<StrategyBasics>] = [
        .number("stop_loss_percent", \.stopLossPercent, in: 0.01...50,
                "Close the position (reduce-only, never held back) once it is this many percent against its average entry price."),
        .number("order_cooldown_ms", \.orderCooldownMs, in: 0...3_600_000, "Least time between two orders on one symbol, in market time."),
        .integer("max_orders_per_minute", \.maxOrdersPerMinute, in: 1...600, "Most orders on one symbol in any 60 s of market time."),
        .number("fee_rate", \.feeRate, in: 0...0.01, "Fee per side as a fraction of the notional, counted in every entry threshold."),
        .number("slippage_rate", \.slippageRate, in: 0...0.01, "Expected slippage per side as a fraction of the price, counted in every entry threshold."),
    ]
}

/// A strategy's own parameters: plain numbers with defaults and a schema, decoded from the strategy's
/// section of `bagbot.yaml` beside the basics.
public protocol StrategyTuning: Codable, Sendable, Equatable {
    /// The defaults.
    init()
    /// The strategy's basics by default (whether it starts enabled, its stop).
    static var defaultBasics: StrategyBasics { get }
    static var parameters: [ParameterSpec<Self>] { get }
    /// A problem across parameters (a lower bound above an upper one), or nil.
    func inconsistency() -> ParameterProblem?
}

extension StrategyTuning {
    public func inconsistency() -> ParameterProblem? { nil }
}

/// One strategy's section of `bagbot.yaml`: the basics and its own parameters side by side in one map
/// (`arsenal.micro_trend.momentum_window`, `arsenal.micro_trend.stop_loss_percent`).
public struct StrategySettings<Tuning: StrategyTuning>: Codable, Sendable, Equatable {
    public var basics: StrategyBasics
    public var tuning: Tuning

    public init() {
        basics = Tuning.defaultBasics
        tuning = Tuning()
    }

    public init(basics: StrategyBasics, tuning: Tuning) {
        self.basics = basics
        self.tuning = tuning
    }

    public init(from decoder: Decoder) throws {
        basics = try StrategyBasics(from: decoder)
        tuning = try Tuning(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try basics.encode(to: encoder)
        try tuning.encode(to: encoder)
    }

    /// The whole schema: the basics' tunable parameters, then the strategy's own.
    public static var schema: [ParameterSpec<Self>] {
        StrategyBasics.parameters.map { $0.lifted(\Self.basics) } + Tuning.parameters.map { $0.lifted(\Self.tuning) }
    }

    /// The first problem of these settings as a whole (a parameter out of its bounds, a missing base quantity,
    /// parameters that contradict each other), or nil.
    public func problem() -> ParameterProblem? {
        for spec in Self.schema {
            if let reason = spec.problem(with: spec.value(in: self)) { return ParameterProblem(parameter: spec.name, reason: reason) }
        }
        for symbol in basics.symbols {
            guard let quantity = basics.baseQuantity[symbol] else {
                return ParameterProblem(parameter: "base_quantity", reason: "no base quantity for \(symbol)")
            }
            guard quantity.isPositive else {
                return ParameterProblem(parameter: "base_quantity.\(symbol)", reason: "must be a positive number, got \(quantity)")
            }
        }
        return tuning.inconsistency()
    }

    func validate(_ check: ConfigCheck, at path: String) throws {
        if let problem = problem() { throw check.fail("\(path).\(problem.parameter)", problem.reason) }
    }
}
