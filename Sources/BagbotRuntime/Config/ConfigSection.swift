import Foundation
import BagbotDomain

/// One top-level section of `bagbot.yaml` (`mindset:`, `router:`…), owned by the target whose daemon reads it.
/// The owner registers its sections with the loader (`BagbotDaemon.configSections`), so a change to a
/// section's defaults rebuilds only its daemon. Every field has a default (`init()`), a file names only what
/// it changes, and the loader refuses unknown keys with the file, the key and the reason.
public protocol ConfigSection: Codable, Sendable, Equatable {
    /// The section's key at the top of the file, snake_case.
    static var key: String { get }
    /// The defaults.
    init()
    /// Paths inside the section (snake_case, dot-separated) of maps whose keys are the user's (symbols):
    /// any key is allowed in them and none is renamed.
    static var openMaps: Set<String> { get }
    /// Paths of string settings that a user naturally writes as a number (`speed: 10`), and of exact decimals
    /// (`fee_bps: 1.5`, read by the number's shortest spelling). `path.*` covers every value of an open map.
    static var numbersAllowedAsStrings: Set<String> { get }
    /// Range and format checks that types alone cannot express; fail through `check`.
    func validate(_ check: ConfigCheck) throws
}

extension ConfigSection {
    public static var openMaps: Set<String> { [] }
    public static var numbersAllowedAsStrings: Set<String> { [] }
    public func validate(_ check: ConfigCheck) throws {}

    func isEqual(to other: any ConfigSection) -> Bool {
        (other as? Self) == self
    }
}

/// Builds the errors of one section's checks, naming the file and the full key path.
public struct ConfigCheck: Sendable {
    public let file: String
    public let section: String

    public init(file: String, section: String) {
        self.file = file
        self.section = section
    }

    /// An error for `key`, a path inside the section (`"replay.speed"`), or the section itself when empty.
    public func fail(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, key: key.isEmpty ? section : "\(section).\(key)", reason: reason)
    }

    public func positive(_ value: Double, _ key: String) throws {
        guard value.isFinite, value > 0 else { throw fail(key, "must be a positive number, got \(value)") }
    }

    public func nonNegative(_ value: Double, _ key: String) throws {
        guard value.isFinite, value >= 0 else { throw fail(key, "must be zero or more, got \(value)") }
    }

    public func positive(_ value: ExactDecimal, _ key: String) throws {
        guard value.isPositive else { throw fail(key, "must be a positive number, got \(value)") }
    }

    public func nonNegative(_ value: ExactDecimal, _ key: String) throws {
        guard !value.isNegative else { throw fail(key, "must be zero or more, got \(value)") }
    }
}
