import Foundation

/// A program the tests run to its end (a Python peer, promtool), its output captured.
public enum ToolRun {
    /// Runs `executable` to its end and returns its exit status and what it printed (stdout and stderr together);
    /// `input`, a file given as its standard input. Waits by polling, never blocking a thread of the cooperative
    /// pool; past `timeout` the program is killed and this throws.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                           timeout: Duration = .seconds(120)) async throws -> (status: Int32, output: String) {
        let directory = try TempDir()
        let outputPath = directory.file("output")
        guard FileManager.default.createFile(atPath: outputPath, contents: nil), let output = FileHandle(forWritingAtPath: outputPath) else {
            throw TestFailure("cannot create \(outputPath)")
        }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        if let input {
            guard let handle = FileHandle(forReadingAtPath: input) else { throw TestFailure("cannot read \(input)") }
            process.standardInput = handle
        }
        try process.run()
        try? output.close()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TestFailure("\(executable) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }

    /// Prometheus's promtool: `BAGBOT_PROMTOOL` (which `scripts/test` exports after `scripts/setup-promtool`), else
    /// the one that script puts in this clone's `.build-peers`. Absent, the test that needs it fails and says how.
    public static var promtool: String {
        get throws {
            if let configured = ProcessInfo.processInfo.environment["BAGBOT_PROMTOOL"], !configured.isEmpty {
                guard FileManager.default.isExecutableFile(atPath: configured) else {
                    throw TestFailure("BAGBOT_PROMTOOL is \(configured), which is not an executable: run scripts/setup-promtool")
                }
                return configured
            }
            let local = SharedData.repository + "/.build-peers/promtool/usr/bin/promtool"
            guard FileManager.default.isExecutableFile(atPath: local) else {
                throw TestFailure("promtool is not set up: run scripts/setup-promtool (scripts/test does)")
            }
            return local
        }
    }
}
