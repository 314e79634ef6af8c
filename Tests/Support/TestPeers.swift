import Foundation

/// The test peers of `Tests/Peers` (the fake Binance, the OpenAPI checker): Python programs in a venv of their own.
public enum TestPeers {
    public static let directory = SharedData.repository + "/Tests/Peers"

    /// The Python of the peers' virtual environment: `BAGBOT_PEERS_PYTHON` (which `scripts/test` exports after
    /// `scripts/setup-peers`), else this clone's `.build-peers/venv`. Absent, the test that needs it fails and says
    /// how to make it.
    public static var python: String {
        get throws {
            try ToolRun.executable(variable: "BAGBOT_PEERS_PYTHON", local: ".build-peers/venv/bin/python", setup: "scripts/setup-peers",
                                   what: "the test peers' Python")
        }
    }

    /// Runs `Tests/Peers/<script>` to its end with the peers' Python (`ToolRun.run`).
    public static func run(_ script: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws -> (status: Int32, output: String) {
        try await ToolRun.run(try python, [Self.directory + "/" + script] + arguments, timeout: timeout)
    }
}
