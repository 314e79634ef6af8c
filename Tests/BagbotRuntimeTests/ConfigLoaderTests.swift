import Foundation
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import BagbotRuntime

/// A section shaped like the daemons' own: nested settings, an open map of the user's keys, and a string
/// that may be written as a number.
private struct SampleSection: ConfigSection {
    static let key = "router"
    static let openMaps: Set<String> = ["symbols"]
    static let numbersAllowedAsStrings: Set<String> = ["replay.speed"]
    var mode = "paper"
    var replay = Replay()
    var symbols: [String: String] = [:]

    struct Replay: Codable, Sendable, Equatable {
        var speed = "1"
        var loop = true
        var tradeSpreadBps = 1.0
    }

    func validate(_ check: ConfigCheck) throws {
        guard mode == "paper" else { throw check.fail("mode", "only paper") }
        try check.nonNegative(replay.tradeSpreadBps, "replay.trade_spread_bps")
    }
}

private let sample: [any ConfigSection.Type] = [SampleSection.self]

@Suite("Config: bagbot.yaml loading, overrides and validation")
struct ConfigLoaderTests {
    @Test("no file: the defaults")
    func defaults() throws {
        let config = try ConfigLoader.load(path: nil, sections: sample)
        #expect(config == BagbotConfig(sections: sample))
        #expect(config.paths.runDir == "/run/bagbot")
        #expect(config.ipc.maxFrameBytes == 1 << 20)
        #expect(config[SampleSection.self].replay.speed == "1")
    }

    @Test("an empty file is the defaults")
    func emptyFile() throws {
        #expect(try loadConfig(yaml: "", sections: sample) == BagbotConfig(sections: sample))
        #expect(try loadConfig(yaml: "# only a comment\n", sections: sample) == BagbotConfig(sections: sample))
    }

    @Test("a file overrides only the keys it names; user keys in open maps are kept as written")
    func fileOverridesSomeKeys() throws {
        let config = try loadConfig(yaml: """
            ipc:
              request_timeout_ms: 500
            log:
              level: debug
            router:
              replay:
                speed: 10
              symbols:
                ETHUSDT: crypto
            """, sections: sample)
        var expected = BagbotConfig(sections: sample)
        expected.ipc.requestTimeoutMs = 500
        expected.log.level = "debug"
        expected[SampleSection.self].replay.speed = "10"
        expected[SampleSection.self].symbols = ["ETHUSDT": "crypto"]
        #expect(config == expected)
        #expect(config.ipc.socketMode == "0660")
    }

    @Test("an unknown key is refused, naming its full path")
    func unknownKey() throws {
        let error = try #require(configError(yaml: "ipc:\n  request_timeot_ms: 5\n", sections: sample))
        #expect(error.key == "ipc.request_timeot_ms")
        #expect(error.reason.contains("unknown key"))
        #expect(error.description.contains("ipc.request_timeot_ms"))
        #expect(error.file.hasSuffix("bagbot.yaml"))

        let nested = try #require(configError(yaml: "router:\n  replay:\n    sped: 2\n", sections: sample))
        #expect(nested.key == "router.replay.sped")

        let section = try #require(configError(yaml: "mindsett:\n  max_trades_per_day: 3\n", sections: sample))
        #expect(section.key == "mindsett")
    }

    @Test("another daemon's section is left to that daemon, but must be a mapping")
    func otherDaemonsSections() throws {
        let config = try loadConfig(yaml: "mindset:\n  anything_mindsetd_checks: 1\n", sections: sample)
        #expect(config == BagbotConfig(sections: sample))
        let error = try #require(configError(yaml: "gateway: 8080\n", sections: sample))
        #expect(error.key == "gateway")
        #expect(error.reason.contains("mapping"))
    }

    @Test("a value of the wrong type is refused, naming the key and what was expected")
    func wrongType() throws {
        let number = try #require(configError(yaml: "ipc:\n  request_timeout_ms: soon\n", sections: sample))
        #expect(number.key == "ipc.request_timeout_ms")
        #expect(number.reason.contains("whole number"))

        let flag = try #require(configError(yaml: "router:\n  replay:\n    loop: [1, 2]\n", sections: sample))
        #expect(flag.key == "router.replay.loop")
        #expect(flag.reason.contains("true or false"))

        let map = try #require(configError(yaml: "router:\n  symbols: [BTCUSDT]\n", sections: sample))
        #expect(map.key == "router.symbols")
        #expect(map.reason.contains("mapping"))
    }

    @Test("--set overrides apply over the file, are read as YAML scalars, and are checked like the file")
    func overrides() throws {
        let config = try loadConfig(
            yaml: "ipc:\n  request_timeout_ms: 500\n",
            overrides: ["ipc.request_timeout_ms=700", "log.level=debug", "router.replay.speed=max"],
            sections: sample)
        #expect(config.ipc.requestTimeoutMs == 700)
        #expect(config.log.level == "debug")
        #expect(config[SampleSection.self].replay.speed == "max")

        let defaultsWithOverride = try ConfigLoader.load(path: nil, overrides: ["paths.run_dir=/tmp/bagbot-run"])
        #expect(defaultsWithOverride.paths.runDir == "/tmp/bagbot-run")

        #expect(configError(yaml: nil, overrides: ["ipc.prot=1"])?.key == "ipc.prot")
        #expect(configError(yaml: nil, overrides: ["ipc.request_timeout_ms"])?.reason.contains("key.path=value") == true)
        #expect(configError(yaml: nil, overrides: ["ipc.request_timeout_ms=abc"])?.key == "ipc.request_timeout_ms")
    }

    @Test("values that parse but make no sense are refused", arguments: [
        ("ipc:\n  socket_mode: \"rw-rw----\"\n", "ipc.socket_mode"),
        ("ipc:\n  max_frame_bytes: 10\n", "ipc.max_frame_bytes"),
        ("ipc:\n  reply_busy_poll_us: -1\n", "ipc.reply_busy_poll_us"),
        ("ipc:\n  reply_busy_poll_us: 20000\n", "ipc.reply_busy_poll_us"),
        ("ipc:\n  hello_timeout_ms: 0\n", "ipc.hello_timeout_ms"),
        ("ipc:\n  frame_timeout_ms: 50\n", "ipc.frame_timeout_ms"),
        ("ipc:\n  frame_timeout_ms: 600001\n", "ipc.frame_timeout_ms"),
        ("log:\n  level: loud\n", "log.level"),
        ("log:\n  format: xml\n", "log.format"),
        ("paths:\n  state_dir: relative/dir\n", "paths.state_dir"),
        ("router:\n  mode: live\n", "router.mode"),
        ("router:\n  replay:\n    trade_spread_bps: -1\n", "router.replay.trade_spread_bps"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sample))
        #expect(error.key == key, "\(error)")
        #expect(!error.reason.isEmpty)
    }

    @Test("the server's hello and frame timeouts come from ipc.hello_timeout_ms and ipc.frame_timeout_ms")
    func serverTimeouts() throws {
        let defaults = IPCServerConfiguration.from(BagbotConfig(), service: "routerd")
        #expect(defaults.helloTimeout == .seconds(5))
        #expect(defaults.frameTimeout == .seconds(10))
        let config = try loadConfig(yaml: "ipc:\n  hello_timeout_ms: 1500\n  frame_timeout_ms: 2500\n")
        let server = IPCServerConfiguration.from(config, service: "routerd")
        #expect(server.helloTimeout == .milliseconds(1_500))
        #expect(server.frameTimeout == .milliseconds(2_500))
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
}
