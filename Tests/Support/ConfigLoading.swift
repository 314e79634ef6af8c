import Foundation
import BagbotRuntime

/// Loads `yaml` (nil for no file) as `bagbot.yaml` from a fresh directory, with `overrides` and the given
/// sections registered, as a daemon would.
public func loadConfig(
    yaml: String?, overrides: [String] = [], sections: [any ConfigSection.Type] = []
) throws -> BagbotConfig {
    let directory = try TempDir()
    defer { directory.remove() }
    var path: String?
    if let yaml {
        path = directory.file("bagbot.yaml")
        try yaml.write(toFile: path!, atomically: true, encoding: .utf8)
    }
    return try ConfigLoader.load(path: path, overrides: overrides, sections: sections)
}

/// The ConfigError that loading fails with, or nil when it succeeds (or fails otherwise).
public func configError(
    yaml: String?, overrides: [String] = [], sections: [any ConfigSection.Type] = []
) -> ConfigError? {
    do {
        _ = try loadConfig(yaml: yaml, overrides: overrides, sections: sections)
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        return nil
    }
}

extension BagbotConfig {
    /// The defaults of `sections`, with sockets and state in `directory`: a daemon run inside a test.
    public static func forDaemon(sections: [any ConfigSection.Type], in directory: TempDir) -> BagbotConfig {
        var config = BagbotConfig(sections: sections)
        config.paths.runDir = directory.path
        config.paths.stateDir = directory.path
        return config
    }
}
