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
    /// How long arsenald waits before it asks routerd about an order whose outcome it did not hear (its call timed out,
    /// the connection dropped), and between two such questions while the record is not final. The order's role in its
    /// symbol stays busy meanwhile (an unsettled exit holds back even the stop), so at most 10 s; an entry absent from
    /// routerd's record at its first answer is asked about once more, so at least 1 s between the two.
    public var confirmIntervalMs = 2_000
    public static let confirmIntervalRange = 1_000...10_000

    public init() {}

    public func validate(_ check: ConfigCheck) throws {
        try microTrend.validate(check, at: MicroTrendFollower.id)
        try meanReversion.validate(check, at: MeanReversion.id)
        for (symbol, quantity) in manualMaxQuantity { try check.positive(quantity, "manual_max_quantity.\(symbol)") }
        guard Self.confirmIntervalRange.contains(confirmIntervalMs) else {
            throw check.fail("confirm_interval_ms", "must be \(Self.confirmIntervalRange.lowerBound)–\(Self.confirmIntervalRange.upperBound), got \(confirmIntervalMs)")
        }
    }
}
