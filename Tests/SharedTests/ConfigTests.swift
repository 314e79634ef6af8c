import Foundation
import BagbotTestSupport
import Testing
@testable import Shared

/// Writes `yaml` to a file in a fresh directory, loads it with `overrides`, and removes the directory.
private func load(yaml: String?, overrides: [String] = []) throws -> BagbotConfig {
    let directory = try TempDir()
    defer { directory.remove() }
    var path: String?
    if let yaml {
        path = directory.file("bagbot.yaml")
        try yaml.write(toFile: path!, atomically: true, encoding: .utf8)
    }
    return try ConfigLoader.load(path: path, overrides: overrides)
}

/// The ConfigError a load fails with, or nil if it succeeds (or fails otherwise).
private func configError(yaml: String?, overrides: [String] = []) -> ConfigError? {
    do {
        _ = try load(yaml: yaml, overrides: overrides)
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        return nil
    }
}

@Suite("Config: bagbot.yaml loading, overrides and validation")
struct ConfigTests {
    @Test("no file: the defaults")
    func defaults() throws {
        let config = try ConfigLoader.load(path: nil)
        #expect(config == BagbotConfig())
        #expect(config.paths.runDir == "/run/bagbot")
        #expect(config.ipc.maxFrameBytes == 1 << 20)
        #expect(config.mindset.dailyResetUtc == "00:00")
        #expect(config.router.replay.speed == "1")
    }

    @Test("the server's hello and frame timeouts come from ipc.hello_timeout_ms and ipc.frame_timeout_ms")
    func serverTimeouts() throws {
        let defaults = IPCServerConfiguration.from(BagbotConfig(), service: "routerd")
        #expect(defaults.helloTimeout == .seconds(5))
        #expect(defaults.frameTimeout == .seconds(10))
        let config = try load(yaml: "ipc:\n  hello_timeout_ms: 1500\n  frame_timeout_ms: 2500\n")
        let server = IPCServerConfiguration.from(config, service: "routerd")
        #expect(server.helloTimeout == .milliseconds(1_500))
        #expect(server.frameTimeout == .milliseconds(2_500))
    }

    @Test("an empty file is the defaults")
    func emptyFile() throws {
        #expect(try load(yaml: "") == BagbotConfig())
        #expect(try load(yaml: "# only a comment\n") == BagbotConfig())
    }

    @Test("a file overrides only the keys it names")
    func fileOverridesSomeKeys() throws {
        let config = try load(yaml: """
            gateway:
              port: 9090
            mindset:
              daily_reset_utc: "13:30"
              max_consecutive_losses: 4
              state_factors:
                tilted: 0.1
            arsenal:
              micro_trend:
                symbols: [BTCUSDT]
                base_quantity:
                  BTCUSDT: 0.5
            router:
              replay:
                speed: 10
              symbols:
                ETHUSDT: crypto
            """)
        var expected = BagbotConfig()
        expected.gateway.port = 9_090
        expected.mindset.dailyResetUtc = "13:30"
        expected.mindset.maxConsecutiveLosses = 4
        expected.mindset.stateFactors.tilted = 0.1
        expected.arsenal.microTrend.symbols = ["BTCUSDT"]
        expected.arsenal.microTrend.baseQuantity = ["BTCUSDT": 0.5]
        expected.router.replay.speed = "10"
        expected.router.symbols = ["ETHUSDT": "crypto"]
        #expect(config == expected)
        #expect(config.gateway.host == "127.0.0.1")
        #expect(config.mindset.dailyLossLimit == 1_000)
    }

    @Test("an unknown key is refused, naming its full path")
    func unknownKey() throws {
        let error = try #require(configError(yaml: """
            mindset:
              daily_loss_limt: 500
            """))
        #expect(error.key == "mindset.daily_loss_limt")
        #expect(error.reason.contains("unknown key"))
        #expect(error.description.contains("mindset.daily_loss_limt"))
        #expect(error.file.hasSuffix("bagbot.yaml"))

        let section = try #require(configError(yaml: "mindsett:\n  max_trades_per_day: 3\n"))
        #expect(section.key == "mindsett")
    }

    @Test("a value of the wrong type is refused, naming the key and what was expected")
    func wrongType() throws {
        let port = try #require(configError(yaml: "gateway:\n  port: eighty\n"))
        #expect(port.key == "gateway.port")
        #expect(port.reason.contains("whole number"))

        let flag = try #require(configError(yaml: "router:\n  replay:\n    loop: [1, 2]\n"))
        #expect(flag.key == "router.replay.loop")
        #expect(flag.reason.contains("true or false"))

        let section = try #require(configError(yaml: "gateway: 8080\n"))
        #expect(section.key == "gateway")
        #expect(section.reason.contains("mapping"))
    }

    @Test("--set overrides apply over the file, are read as YAML scalars, and are checked like the file")
    func overrides() throws {
        let config = try load(
            yaml: "gateway:\n  port: 9090\n",
            overrides: ["gateway.port=9191", "mindset.max_trades_per_day=42", "log.level=debug",
                        "arsenal.micro_trend.symbols=[BTCUSDT]", "router.replay.speed=max"])
        #expect(config.gateway.port == 9_191)
        #expect(config.mindset.maxTradesPerDay == 42)
        #expect(config.log.level == "debug")
        #expect(config.arsenal.microTrend.symbols == ["BTCUSDT"])
        #expect(config.router.replay.speed == "max")

        let defaultsWithOverride = try ConfigLoader.load(path: nil, overrides: ["paths.run_dir=/tmp/bagbot-run"])
        #expect(defaultsWithOverride.paths.runDir == "/tmp/bagbot-run")

        #expect(configError(yaml: nil, overrides: ["gateway.prot=1"])?.key == "gateway.prot")
        #expect(configError(yaml: nil, overrides: ["gateway.port"])?.reason.contains("key.path=value") == true)
        #expect(configError(yaml: nil, overrides: ["gateway.port=abc"])?.key == "gateway.port")
    }

    @Test("values that parse but make no sense are refused", arguments: [
        ("mindset:\n  daily_reset_utc: \"25:00\"\n", "mindset.daily_reset_utc"),
        ("mindset:\n  daily_reset_utc: \"noon\"\n", "mindset.daily_reset_utc"),
        ("router:\n  replay:\n    speed: fast\n", "router.replay.speed"),
        ("router:\n  replay:\n    speed: -2\n", "router.replay.speed"),
        ("gateway:\n  port: 70000\n", "gateway.port"),
        ("ipc:\n  socket_mode: \"rw-rw----\"\n", "ipc.socket_mode"),
        ("ipc:\n  max_frame_bytes: 10\n", "ipc.max_frame_bytes"),
        ("ipc:\n  reply_busy_poll_us: -1\n", "ipc.reply_busy_poll_us"),
        ("ipc:\n  reply_busy_poll_us: 20000\n", "ipc.reply_busy_poll_us"),
        ("ipc:\n  hello_timeout_ms: 0\n", "ipc.hello_timeout_ms"),
        ("ipc:\n  frame_timeout_ms: 50\n", "ipc.frame_timeout_ms"),
        ("ipc:\n  frame_timeout_ms: 600001\n", "ipc.frame_timeout_ms"),
        ("log:\n  level: loud\n", "log.level"),
        ("mindset:\n  daily_loss_limit_percent: 0\n", "mindset.daily_loss_limit_percent"),
        ("router:\n  mode: live\n", "router.mode"),
        ("router:\n  symbols:\n    ETHUSDT: bonds\n", "router.symbols.ETHUSDT"),
        ("paths:\n  state_dir: relative/dir\n", "paths.state_dir"),
        ("arsenal:\n  micro_trend:\n    symbols: [BTCUSDT, SOLUSDT]\n", "arsenal.micro_trend.base_quantity"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml))
        #expect(error.key == key, "\(error)")
        #expect(!error.reason.isEmpty)
    }

    @Test("a file that is not YAML, or not a mapping at the top, is refused")
    func notAMapping() throws {
        #expect(configError(yaml: "gateway: [unclosed\n")?.reason.contains("YAML") == true)
        #expect(configError(yaml: "- a\n- b\n")?.reason.contains("mapping") == true)
    }

    @Test("a missing file is reported with its path")
    func missingFile() {
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/bagbot.yaml") }
    }

    @Test("the reset time and replay speed parsers")
    func parsers() {
        #expect(DailyResetTime("00:00") == DailyResetTime("0:0"))
        #expect(DailyResetTime("23:59")?.hour == 23)
        #expect(DailyResetTime("24:00") == nil)
        #expect(DailyResetTime("12:60") == nil)
        #expect(DailyResetTime("1200") == nil)
        #expect(ReplaySpeed("max") == .max)
        #expect(ReplaySpeed("MAX") == .max)
        #expect(ReplaySpeed("10") == .multiple(10))
        #expect(ReplaySpeed("2.5x") == .multiple(2.5))
        #expect(ReplaySpeed("0") == nil)
        #expect(ReplaySpeed("fast") == nil)
        #expect(ReplaySpeed("inf") == nil)
    }
}
