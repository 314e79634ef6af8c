import Foundation

/// A program the tests run to its end (a Python peer, promtool), its output captured.
public enum ToolRun {
    /// Runs `executable` to its end and returns its exit status and what it printed (stdout and stderr together);
    /// `input`, a file given as its standard input. Waits by polling, never blocking a thread of the cooperative
    /// pool; past `timeout` the program is killed and this throws. `directory`: where it runs (what it leaves
    /// behind, such as schemathesis's cache, stays out of the clone).
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil, directory: String? = nil,
                           timeout: Duration = .seconds(120)) async throws -> (status: Int32, output: String) {
        let scratch = try TempDir()
        let outputPath = scratch.file("output")
        guard FileManager.default.createFile(atPath: outputPath, contents: nil), let output = FileHandle(forWritingAtPath: outputPath) else {
            throw TestFailure("cannot create \(outputPath)")
        }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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
            try executable(variable: "BAGBOT_PROMTOOL", local: ".build-peers/promtool/usr/bin/promtool", setup: "scripts/setup-promtool",
                           what: "promtool")
        }
    }

    /// A tool the tests need: the path in the environment `variable` when set (it must be an executable), else
    /// `local` in this clone; else a failure naming the `setup` script that makes it.
    static func executable(variable: String, local: String, setup: String, what: String) throws -> String {
        if let configured = ProcessInfo.processInfo.environment[variable], !configured.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: configured) else {
                throw TestFailure("\(variable) is \(configured), which is not an executable: run \(setup)")
            }
            return configured
        }
        let path = SharedData.repository + "/" + local
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(what) is not set up: run \(setup) (scripts/test does)")
        }
        return path
    }
}
