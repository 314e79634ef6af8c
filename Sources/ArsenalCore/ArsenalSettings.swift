import BagbotRuntime

/// The `arsenal:` section of `bagbot.yaml`: one subsection per registered strategy, keyed by its id. Read by
/// arsenald only, so a strategy's defaults rebuild arsenald alone.
public struct ArsenalSettings: ConfigSection {
    public static let key = "arsenal"
    public static let openMaps: Set<String> = ["micro_trend.base_quantity", "mean_reversion.base_quantity"]
    public static let numbersAllowedAsStrings: Set<String> = ["micro_trend.base_quantity.*", "mean_reversion.base_quantity.*"]
    public var microTrend = StrategySettings<MicroTrendFollower.Tuning>()
    public var meanReversion = StrategySettings<MeanReversion.Tuning>()

    public init() {}

    public func validate(_ check: ConfigCheck) throws {
        try microTrend.validate(check, at: MicroTrendFollower.id)
        try meanReversion.validate(check, at: MeanReversion.id)
    }
}
