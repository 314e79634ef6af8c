import Foundation
import BagbotStorage

/// What the trader chose at run time for one strategy (`arsenal.enable`, `arsenal.disable`,
/// `arsenal.setParameters`), kept across restarts. It applies over `bagbot.yaml`.
public struct StrategyChoice: Codable, Sendable, Equatable {
    /// Nil: as `bagbot.yaml` says.
    public var enabled: Bool?
    /// Parameter values set at run time, by snake_case name.
    public var parameters: [String: Double]

    public init(enabled: Bool? = nil, parameters: [String: Double] = [:]) {
        self.enabled = enabled
        self.parameters = parameters
    }

    public var isEmpty: Bool { enabled == nil && parameters.isEmpty }
}

/// Every strategy's run-time choices, by strategy id.
public struct StrategyChoices: Codable, Sendable, Equatable {
    public var strategies: [String: StrategyChoice]
    public init(strategies: [String: StrategyChoice] = [:]) { self.strategies = strategies }
}

/// `arsenal_strategies.json` in the state directory, written atomically (a crash leaves the old or the new file).
public struct StrategyChoicesFile: Sendable {
    public static let fileName = "arsenal_strategies.json"
    public let path: String

    public init(stateDirectory: String) {
        path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
    }

    /// The saved choices; nil when there are none yet. A file that cannot be read is set aside and reported.
    public func load() throws -> StrategyChoices? {
        try AtomicFile.readJSON(StrategyChoices.self, from: path)
    }

    public func save(_ choices: StrategyChoices) throws {
        try AtomicFile.writeJSON(choices, to: path)
    }
}
