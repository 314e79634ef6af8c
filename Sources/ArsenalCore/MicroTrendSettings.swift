import BagbotRuntime
import BagbotDomain

/// The Micro Trend Follower's parameters (`arsenal.micro_trend`).
public struct MicroTrendSettings: Codable, Sendable, Equatable {
    public var enabled = true
    public var symbols = ["BTCUSDT", "EURUSD"]
    /// Base order size per symbol, before risk scaling.
    public var baseQuantity: [String: ExactDecimal] = ["BTCUSDT": 0.01, "EURUSD": 10_000]
    public var momentumWindow = 50
    public var volatilityWindow = 100
    /// Momentum must beat this multiple of volatility (plus costs) to trade.
    public var thresholdMultiple = 1.5
    /// Skip markets whose per-tick volatility (relative) is below this: nothing moves.
    public var minVolatility = 0.000_001
    /// …or above this: chaos.
    public var maxVolatility = 0.01
    public var feeRate = 0.0001
    public var slippageRate = 0.0001
    public var stopLossPercent = 0.5
    public var orderCooldownMs = 100.0
    public var maxOrdersPerMinute = 20
    /// A reversal needs momentum this many times the entry threshold.
    public var reversalMultiple = 1.0

    public init() {}

    func validate(_ check: ConfigCheck, at path: String) throws {
        func key(_ name: String) -> String { "\(path).\(name)" }
        guard momentumWindow >= 2 else { throw check.fail(key("momentum_window"), "must be at least 2") }
        guard volatilityWindow >= 2 else { throw check.fail(key("volatility_window"), "must be at least 2") }
        try check.positive(thresholdMultiple, key("threshold_multiple"))
        try check.positive(stopLossPercent, key("stop_loss_percent"))
        try check.nonNegative(feeRate, key("fee_rate"))
        try check.nonNegative(slippageRate, key("slippage_rate"))
        try check.nonNegative(orderCooldownMs, key("order_cooldown_ms"))
        guard maxOrdersPerMinute > 0 else { throw check.fail(key("max_orders_per_minute"), "must be positive") }
        guard minVolatility < maxVolatility else { throw check.fail(key("min_volatility"), "must be below max_volatility") }
        for symbol in symbols {
            guard let quantity = baseQuantity[symbol] else {
                throw check.fail(key("base_quantity"), "no base quantity for \(symbol)")
            }
            try check.positive(quantity, key("base_quantity.\(symbol)"))
        }
    }
}
