import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import RouterCore

@Suite("router: section of bagbot.yaml")
struct RouterSettingsTests {
    private let sections: [any ConfigSection.Type] = [RouterSettings.self]

    @Test("a replay speed written as a number is read as one; symbol routes keep their keys")
    func fileOverridesSomeKeys() throws {
        let config = try loadConfig(yaml: """
            router:
              replay:
                speed: 10
              symbols:
                ETHUSDT: crypto
            """, sections: sections)
        var expected = RouterSettings()
        expected.replay.speed = "10"
        expected.symbols = ["ETHUSDT": "crypto"]
        #expect(config[RouterSettings.self] == expected)
        #expect(try loadConfig(yaml: nil, overrides: ["router.replay.speed=max"], sections: sections)[RouterSettings.self].replay.speed == "max")
    }

    @Test("values that parse but make no sense are refused", arguments: [
        ("router:\n  replay:\n    speed: fast\n", "router.replay.speed"),
        ("router:\n  replay:\n    speed: -2\n", "router.replay.speed"),
        ("router:\n  mode: live\n", "router.mode"),
        ("router:\n  symbols:\n    ETHUSDT: bonds\n", "router.symbols.ETHUSDT"),
        ("router:\n  symbols:\n    \"EURUSD#\": forex\n", "router.symbols.EURUSD#"),
        ("router:\n  paper:\n    starting_cash: 0\n", "router.paper.starting_cash"),
        ("router:\n  replay:\n    loop: [1, 2]\n", "router.replay.loop"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sections))
        #expect(error.key == key, "\(error)")
        #expect(!error.reason.isEmpty)
    }
}
