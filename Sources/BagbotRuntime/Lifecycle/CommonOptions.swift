import ArgumentParser
import Foundation

/// Flags every daemon takes. Flags override the file; `--set key.path=value` reaches any key.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(help: "Path of bagbot.yaml (defaults apply to every key it leaves out).")
    public var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, e.g. --set mindset.daily_loss_limit=500.", valueName: "key.path=value"))
    public var overrides: [String] = []

    @Option(help: "Directory of the Unix sockets (paths.run_dir).")
    public var runDir: String?

    @Option(help: "Directory of bagbot.db and state/ (paths.state_dir).")
    public var stateDir: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (log.level).")
    public var logLevel: String?

    @Flag(help: "Check the configuration (the file, flags and --set) for this daemon, print the verdict, and exit: 0 valid, 2 not.")
    public var checkConfig = false

    public init() {}

    /// Loads the file and applies the flags, in that order.
    public func loadConfiguration(sections: [any ConfigSection.Type]) throws -> BagbotConfig {
        var all = overrides
        if let runDir { all.append("paths.run_dir=\(Self.absolute(runDir))") }
        if let stateDir { all.append("paths.state_dir=\(Self.absolute(stateDir))") }
        if let logLevel { all.append("log.level=\(logLevel)") }
        return try ConfigLoader.load(path: config, overrides: all, sections: sections)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
