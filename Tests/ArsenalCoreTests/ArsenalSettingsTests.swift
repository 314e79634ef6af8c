import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import ArsenalCore

@Suite("arsenal: section of bagbot.yaml")
struct ArsenalSettingsTests {
    private let sections: [any ConfigSection.Type] = [ArsenalSettings.self]

    @Test("symbols are the user's keys: base quantities keep them as written")
    func symbolsKeptAsWritten() throws {
        let config = try loadConfig(yaml: """
            arsenal:
              micro_trend:
                symbols: [BTCUSDT]
                base_quantity:
                  BTCUSDT: 0.5
            """, sections: sections)
        var expected = MicroTrendSettings()
        expected.basics.symbols = ["BTCUSDT"]
        expected.basics.baseQuantity = ["BTCUSDT": 0.5]
        #expect(config[ArsenalSettings.self].microTrend == expected)

        let overridden = try loadConfig(yaml: nil, overrides: ["arsenal.micro_trend.symbols=[BTCUSDT]"], sections: sections)
        #expect(overridden[ArsenalSettings.self].microTrend.basics.symbols == ["BTCUSDT"])
    }

    @Test("base quantities are exact: 0.001 and 1e-05 as written, a string keeps its digits")
    func baseQuantitiesAreExact() throws {
        let config = try loadConfig(yaml: """
            arsenal:
              micro_trend:
                symbols: [BTCUSDT, ETHUSDT, EURUSD]
                base_quantity:
                  BTCUSDT: 0.001
                  ETHUSDT: 1e-05
                  EURUSD: "10000.00"
            """, sections: sections)
        let quantities = config[ArsenalSettings.self].microTrend.basics.baseQuantity
        #expect(quantities["BTCUSDT"]?.description == "0.001")
        #expect(quantities["ETHUSDT"] == ExactDecimal("0.00001"))
        #expect(quantities["EURUSD"]?.description == "10000.00")
    }

    @Test("the pace of asking routerd about an order of unknown outcome: 2 s unless set")
    func confirmInterval() throws {
        #expect(try loadConfig(yaml: nil, sections: sections)[ArsenalSettings.self].confirmIntervalMs == 2_000)
        let config = try loadConfig(yaml: "arsenal:\n  confirm_interval_ms: 5000\n", sections: sections)
        #expect(config[ArsenalSettings.self].confirmIntervalMs == 5_000)
    }

    @Test("values that parse but make no sense are refused", arguments: [
        ("arsenal:\n  micro_trend:\n    symbols: [BTCUSDT, SOLUSDT]\n", "arsenal.micro_trend.base_quantity"),
        ("arsenal:\n  micro_trend:\n    momentum_window: 1\n", "arsenal.micro_trend.momentum_window"),
        ("arsenal:\n  micro_trend:\n    min_volatility: 0.5\n", "arsenal.micro_trend.min_volatility"),
        ("arsenal:\n  micro_trend:\n    base_quantity:\n      BTCUSDT: 0\n", "arsenal.micro_trend.base_quantity.BTCUSDT"),
        ("arsenal:\n  micro_trend:\n    base_quantity:\n      BTCUSDT: some\n", "arsenal.micro_trend.base_quantity.BTCUSDT"),
        ("arsenal:\n  micro_trend:\n    momentum_windw: 5\n", "arsenal.micro_trend.momentum_windw"),
        ("arsenal:\n  confirm_interval_ms: 999\n", "arsenal.confirm_interval_ms"),
        ("arsenal:\n  confirm_interval_ms: 10001\n", "arsenal.confirm_interval_ms"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sections))
        #expect(error.key == key, "\(error)")
        #expect(!error.reason.isEmpty)
    }
}
