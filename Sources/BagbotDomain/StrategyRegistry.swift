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
