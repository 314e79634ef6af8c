import Foundation
import BagbotStorage

/// What the trader chose at run time for one strategy (`arsenal.enable`, `arsenal.disable`,
/// `arsenal.setParameters`), kept across restarts. It applies over `bagbot.yaml`, unless `bagbot.yaml` was
/// edited since: each choice keeps what `bagbot.yaml` said when it was made, and the later decision wins.
public struct StrategyChoice: Codable, Sendable, Equatable {
    /// Nil: as `bagbot.yaml` says.
    public var enabled: Bool?
    /// Parameter values set at run time, by snake_case name.
    public var parameters: [String: Double]
    /// `enabled` in `bagbot.yaml` when `enabled` was chosen.
    public var configuredEnabled: Bool?
    /// Each parameter's value in `bagbot.yaml` when it was set.
    public var configuredParameters: [String: Double]

    public init(enabled: Bool? = nil, parameters: [String: Double] = [:], configuredEnabled: Bool? = nil,
                configuredParameters: [String: Double] = [:]) {
        self.enabled = enabled
        self.parameters = parameters
        self.configuredEnabled = configuredEnabled
        self.configuredParameters = configuredParameters
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
        parameters = try container.decodeIfPresent([String: Double].self, forKey: .parameters) ?? [:]
        configuredEnabled = try container.decodeIfPresent(Bool.self, forKey: .configuredEnabled)
        configuredParameters = try container.decodeIfPresent([String: Double].self, forKey: .configuredParameters) ?? [:]
    }

    public var isEmpty: Bool { enabled == nil && parameters.isEmpty }
}

/// Every strategy's run-time choices, by strategy id.
public struct StrategyChoices: Codable, Sendable, Equatable {
    public var strategies: [String: StrategyChoice]
    public init(strategies: [String: StrategyChoice] = [:]) { self.strategies = strategies }

    /// These choices, with `other`'s for strategies these do not name (choices for strategies this build does
    /// not run are carried through every save: a strategy switched off stays off when it comes back).
    public func keeping(_ other: StrategyChoices) -> StrategyChoices {
        StrategyChoices(strategies: strategies.merging(other.strategies) { mine, _ in mine })
    }
}

/// `arsenal_strategies.json` in the state directory, written atomically (a crash leaves the old or the new file).
public struct StrategyChoicesFile: Sendable {
    public static let fileName = "arsenal_strategies.json"
    public let path: String

    public init(stateDirectory: String) {
        path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
    }

    /// The saved choices; nil when there are none yet. A file that cannot be read is reported and left in place
    /// (replaced only once something safe is saved over it).
    public func load() throws -> StrategyChoices? {
        try AtomicFile.readJSON(StrategyChoices.self, from: path, setAside: false)
    }

    /// Keeps a copy of an unreadable file for the operator; returns where, or nil if it could not.
    public func copyAside() -> String? {
        let aside = "\(path).corrupt-\(Int(Date().timeIntervalSince1970))"
        return (try? FileManager.default.copyItem(atPath: path, toPath: aside)) != nil ? aside : nil
    }

    public func save(_ choices: StrategyChoices) throws {
        try AtomicFile.writeJSON(choices, to: path)
    }
}
