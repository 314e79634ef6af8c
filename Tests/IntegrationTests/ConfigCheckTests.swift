import Foundation
import BagbotTestSupport
import Testing

/// One bagbot.yaml for four daemons: each binary checks the sections it owns (`--check-config`), and
/// `bagbot check-config` asks all four at once.
@Suite("Checking bagbot.yaml with the daemons' own binaries")
struct ConfigCheckTests {
    private func run(_ binary: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: TestSystem.binaries + "/" + binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    private func writeConfig(_ yaml: String, in directory: TempDir) throws -> String {
        let path = directory.file("bagbot.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("each daemon refuses a typo in its own section, and leaves other daemons' sections to them")
    func eachDaemonChecksItsOwnSection() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let path = try writeConfig("arsenal:\n  micro_trend:\n    momentum_windw: 5\n", in: directory)
        let arsenald = try run("arsenald", ["--config", path, "--check-config"])
        #expect(arsenald.status == 2)
        #expect(arsenald.output.contains("arsenal.micro_trend.momentum_windw"), "\(arsenald.output)")
        #expect(arsenald.output.contains("unknown key"))
        let mindsetd = try run("mindsetd", ["--config", path, "--check-config"])
        #expect(mindsetd.status == 0, "\(mindsetd.output)")

        let topLevel = try run("mindsetd", ["--config", try writeConfig("mindsett: {}\n", in: directory), "--check-config"])
        #expect(topLevel.status == 2)
        #expect(topLevel.output.contains("'mindsett'"), "\(topLevel.output)")
    }

    @Test("bagbot check-config names every daemon that refuses, with the key; a good file passes all four")
    func wholeFile() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let bad = try writeConfig("""
            mindset:
              daily_reset_utc: "25:00"
            router:
              replay:
                speed: fast
            """, in: directory)
        let refused = try run("bagbot", ["check-config", "--config", bad])
        #expect(refused.status == 2)
        #expect(refused.output.contains("mindsetd: ") && refused.output.contains("mindset.daily_reset_utc"), "\(refused.output)")
        #expect(refused.output.contains("routerd: ") && refused.output.contains("router.replay.speed"), "\(refused.output)")
        #expect(!refused.output.contains("arsenald:"))

        let good = try writeConfig("gateway:\n  port: 9090\nrouter:\n  replay:\n    speed: 10\n", in: directory)
        let accepted = try run("bagbot", ["check-config", "--config", good, "--set", "mindset.max_trades_per_day=40"])
        #expect(accepted.status == 0, "\(accepted.output)")
        let overridden = try run("bagbot", ["check-config", "--config", good, "--set", "gateway.port=0"])
        #expect(overridden.status == 2)
        #expect(overridden.output.contains("gateway.port"), "\(overridden.output)")
    }
}
