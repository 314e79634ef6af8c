import BagbotRuntime

/// The `arsenal:` section of `bagbot.yaml`: one subsection per strategy. Read by arsenald only, so a
/// strategy's defaults rebuild arsenald alone.
public struct ArsenalSettings: ConfigSection {
    public static let key = "arsenal"
    public static let openMaps: Set<String> = ["micro_trend.base_quantity"]
    public static let numbersAllowedAsStrings: Set<String> = ["micro_trend.base_quantity.*"]
    public var microTrend = MicroTrendSettings()

    public init() {}

    public func validate(_ check: ConfigCheck) throws {
        try microTrend.validate(check, at: "micro_trend")
    }
}
