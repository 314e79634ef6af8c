import BagbotDomain
import BagbotRuntime

/// The `arsenal:` section of `bagbot.yaml`: one subsection per registered strategy, keyed by its id. Read by
/// arsenald only, so a strategy's defaults rebuild arsenald alone.
public struct ArsenalSettings: ConfigSection {
    public static let key = "arsenal"
    public static let openMaps: Set<String> = ["micro_trend.base_quantity", "mean_reversion.base_quantity", "manual_max_quantity"]
    public static let numbersAllowedAsStrings: Set<String> = ["micro_trend.base_quantity.*", "mean_reversion.base_quantity.*", "manual_max_quantity.*"]
    public var microTrend = StrategySettings<MicroTrendFollower.Tuning>()
    public var meanReversion = StrategySettings<MeanReversion.Tuning>()
    /// The largest manual order (`arsenal.placeManualOrder`) per symbol: a typo (10 for 0.010) is refused
    /// before anything is asked. A symbol without one takes no manual order.
    public var manualMaxQuantity: [String: ExactDecimal] = ["BTCUSDT": 0.1, "EURUSD": 100_000]

    public init() {}

    public func validate(_ check: ConfigCheck) throws {
        try microTrend.validate(check, at: MicroTrendFollower.id)
        try meanReversion.validate(check, at: MeanReversion.id)
        for (symbol, quantity) in manualMaxQuantity { try check.positive(quantity, "manual_max_quantity.\(symbol)") }
    }
}
