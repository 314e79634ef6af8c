import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import MindsetCore

@Suite("mindset: section of bagbot.yaml")
struct MindsetSettingsTests {
    private let sections: [any ConfigSection.Type] = [MindsetSettings.self]

    @Test("a file overrides only the keys it names, nested ones too")
    func fileOverridesSomeKeys() throws {
        let config = try loadConfig(yaml: """
            mindset:
              daily_reset_utc: "13:30"
              max_consecutive_losses: 4
              state_factors:
                tilted: 0.1
            """, overrides: ["mindset.max_trades_per_day=42"], sections: sections)
        var expected = MindsetSettings()
        expected.dailyResetUtc = "13:30"
        expected.maxConsecutiveLosses = 4
        expected.stateFactors.tilted = 0.1
        expected.maxTradesPerDay = 42
        #expect(config[MindsetSettings.self] == expected)
        #expect(config[MindsetSettings.self].dailyLossLimit == 1_000)
    }

    @Test("an unknown key is refused, naming its full path")
    func unknownKey() throws {
        let error = try #require(configError(yaml: "mindset:\n  daily_loss_limt: 500\n", sections: sections))
        #expect(error.key == "mindset.daily_loss_limt")
        #expect(error.reason.contains("unknown key"))
    }

    @Test("values that parse but make no sense are refused", arguments: [
        ("mindset:\n  daily_reset_utc: \"25:00\"\n", "mindset.daily_reset_utc"),
        ("mindset:\n  daily_reset_utc: \"noon\"\n", "mindset.daily_reset_utc"),
        ("mindset:\n  daily_loss_limit_percent: 0\n", "mindset.daily_loss_limit_percent"),
        ("mindset:\n  daily_loss_limit: -5\n", "mindset.daily_loss_limit"),
        ("mindset:\n  tilted_after_losses: 1\n", "mindset.tilted_after_losses"),
        ("mindset:\n  state_factors:\n    confident: 0.5\n", "mindset.state_factors"),
        ("mindset:\n  state_factors:\n    tilted: 0.75\n", "mindset.state_factors"),
        ("mindset:\n  max_clock_skew_seconds: 400000000\n", "mindset.max_clock_skew_seconds"),
        ("mindset:\n  fill_poll_seconds: 60\n", "mindset.fill_poll_seconds"),
        ("mindset:\n  state_factors:\n    cautious: 3\n", "mindset.state_factors.cautious"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sections))
        #expect(error.key == key, "\(error)")
        #expect(!error.reason.isEmpty)
    }
}
