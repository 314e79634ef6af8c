import Foundation
import BagbotTestSupport

/// Runs the built `bagbot` binary to its end, as an operator would, with stdout and stderr together.
enum BagbotCommand {
    /// `environment` is added to this process's, without any `BAGBOT_*` of its own (so the test decides them);
    /// the output goes through a file in `directory`, which is also the working directory.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String) throws -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: TestSystem.binaries + "/bagbot")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BAGBOT_") }.merging(environment) { $1 }
        let output = directory + "/output.txt"
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOfFile: output, encoding: .utf8))
    }
}
