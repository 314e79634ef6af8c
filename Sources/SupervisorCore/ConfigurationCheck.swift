import Foundation
import Subprocess
import SystemPackage

/// Checks one `bagbot.yaml` (with flag overrides) against every daemon at once by running each daemon's
/// binary with `--check-config`: each daemon owns its section, and only its own binary knows that section's
/// keys and rules, so this is how one command checks the whole file without linking every daemon.
public enum ConfigurationCheck {
    public static let daemons = ["mindsetd", "routerd", "arsenald", "gateway"]

    public struct Failure: Error, CustomStringConvertible {
        /// Each daemon that refused the configuration, with what it said.
        public var refusals: [(daemon: String, message: String)]

        public var description: String {
            refusals.map { "\($0.daemon): \($0.message)" }.joined(separator: "\n")
        }
    }

    /// Runs `binaries/<daemon> <arguments> --check-config` for every daemon; throws `Failure` naming each
    /// daemon that refused, with its message (file, key and reason).
    public static func run(binaries: String, arguments: [String]) async throws {
        var refusals: [(daemon: String, message: String)] = []
        for daemon in daemons {
            // swift-subprocess, not Foundation's `Process` (docs/reliability.md, "A known crash in Foundation's `Process`").
            let result = try await Subprocess.run(
                .path(FilePath(binaries + "/" + daemon)), arguments: Arguments(arguments + ["--check-config"]),
                input: .none, output: .discarded, error: .string(limit: 1 << 20))
            guard !result.terminationStatus.isSuccess else { continue }
            var message = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            if message.hasPrefix("\(daemon): ") { message.removeFirst(daemon.count + 2) }
            refusals.append((daemon, message.isEmpty ? "ended with \(result.terminationStatus)" : message))
        }
        if !refusals.isEmpty { throw Failure(refusals: refusals) }
    }
}
