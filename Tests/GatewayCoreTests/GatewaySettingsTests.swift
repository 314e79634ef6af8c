import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

@Suite("gateway: section of bagbot.yaml")
struct GatewaySettingsTests {
    private let sections: [any ConfigSection.Type] = [GatewaySettings.self]

    @Test("the port from the file, then from --set")
    func port() throws {
        #expect(try loadConfig(yaml: "gateway:\n  port: 9090\n", sections: sections)[GatewaySettings.self].port == 9_090)
        let overridden = try loadConfig(yaml: "gateway:\n  port: 9090\n", overrides: ["gateway.port=9191"], sections: sections)
        #expect(overridden[GatewaySettings.self].port == 9_191)
        #expect(overridden[GatewaySettings.self].host == "127.0.0.1")
    }

    @Test("the tiers' defaults are DESIGN §6's; the file changes one limit and keeps the rest")
    func tiers() throws {
        let defaults = GatewaySettings().tiers
        #expect(defaults.free == TierLimits(perMinute: 60, perDay: 1_000, readOnly: true))
        #expect(defaults.pro == TierLimits(perMinute: 600, perDay: 100_000, readOnly: false))
        #expect(defaults.enterprise == TierLimits(perMinute: 6_000, perDay: 0, readOnly: false))
        let settings = try loadConfig(yaml: "gateway:\n  tiers:\n    pro:\n      per_minute: 900\n  accept_legacy_tokens: false\n",
                                      sections: sections)[GatewaySettings.self]
        #expect(settings.tiers.pro == TierLimits(perMinute: 900, perDay: 100_000, readOnly: false))
        #expect(settings.tiers.free == defaults.free)
        #expect(settings.acceptLegacyTokens == false)
        let usage = try loadConfig(yaml: "", overrides: ["gateway.usage.flush_interval_ms=250"], sections: sections)[GatewaySettings.self].usage
        #expect(usage.flushIntervalMs == 250)
        #expect(usage.bufferCapacity == 20_000)
    }

    @Test("a bad port, limit or buffer setting, or an unknown key, is refused with its full path", arguments: [
        ("gateway:\n  port: 70000\n", "gateway.port"),
        ("gateway:\n  port: eighty\n", "gateway.port"),
        ("gateway:\n  prot: 1\n", "gateway.prot"),
        ("gateway:\n  tiers:\n    free:\n      per_minute: 0\n", "gateway.tiers.free.per_minute"),
        ("gateway:\n  tiers:\n    pro:\n      per_day: -1\n", "gateway.tiers.pro.per_day"),
        ("gateway:\n  tiers:\n    gold:\n      per_day: 1\n", "gateway.tiers.gold"),
        ("gateway:\n  tiers:\n    free:\n      read_only: maybe\n", "gateway.tiers.free.read_only"),
        ("gateway:\n  usage:\n    buffer_capacity: 10\n", "gateway.usage.buffer_capacity"),
        ("gateway:\n  usage:\n    batch_size: 30000\n", "gateway.usage.batch_size"),
        ("gateway:\n  usage:\n    flush_interval_ms: 0\n", "gateway.usage.flush_interval_ms"),
        ("gateway:\n  control_timeout_ms: 60000\n", "gateway.control_timeout_ms"),
        ("gateway:\n  control_timeout_ms: 10\n", "gateway.control_timeout_ms"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sections))
        #expect(error.key == key, "\(error)")
    }
}
