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

    @Test("a bad port or an unknown key is refused with its full path", arguments: [
        ("gateway:\n  port: 70000\n", "gateway.port"),
        ("gateway:\n  port: eighty\n", "gateway.port"),
        ("gateway:\n  prot: 1\n", "gateway.prot"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sections))
        #expect(error.key == key, "\(error)")
    }
}
