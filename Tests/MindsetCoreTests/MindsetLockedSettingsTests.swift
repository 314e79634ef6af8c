import BagbotTestSupport
import Foundation
import BagbotDomain
import Testing
@testable import MindsetCore

@Suite("locked settings: a limit loosened mid-day waits for the next reset; a tightened one applies at once")
struct MindsetLockedSettingsTests {
    let t0 = utc("2024-03-01T10:00:00Z")

    func restarted(_ engine: MindsetEngine, _ change: (inout MindsetSettings) -> Void) -> MindsetEngine {
        MindsetEngine(rules: makeRules(change), state: engine.state)
    }

    @Test("a trader on tilt who raises the limits and restarts stays TILTED, at the old size, until the reset")
    func looseningWaits() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000 })
        engine.record(trade(pnl: -850, at: t0))
        #expect(engine.state.emotion == .tilted)

        var loose = restarted(engine) {
            $0.dailyLossLimit = 100_000
            $0.tiltedLossFraction = 0.99
            $0.stateFactors.tilted = 1
            $0.revengeCooldownSeconds = 0
        }
        #expect(loose.dailyLossLimit == 1_000)
        let decision = loose.evaluate(proposal(at: t0.addingTimeInterval(400)))
        #expect(decision.approvedQuantity == 0.25, "the day's factor, not the loosened one")
        loose.record(trade(pnl: -150, at: t0.addingTimeInterval(500)))
        #expect(loose.state.emotion == .locked, "the day's 1,000 limit, not 100,000")

        // The next day the loosened settings apply.
        _ = loose.advance(to: utc("2024-03-02T10:00:00Z"))
        #expect(loose.dailyLossLimit == 2_000, "2 % of the configured 100,000, tighter than the new 100,000")
        #expect(loose.evaluate(proposal(at: utc("2024-03-02T10:00:01Z"))).approvedQuantity == 1)
    }

    @Test("tightening takes effect at once, and a later loosening the same day does not undo it")
    func tighteningAtOnce() {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000 })
        engine.record(trade(pnl: -300, at: t0))
        var tight = restarted(engine) { $0.dailyLossLimit = 300 }
        #expect(tight.dailyLossLimit == 300)
        tight.record(trade(pnl: 0, at: t0.addingTimeInterval(1)))
        #expect(tight.state.emotion == .locked)
        let loosenedAgain = restarted(tight) { $0.dailyLossLimit = 1_000 }
        #expect(loosenedAgain.dailyLossLimit == 300, "tightened for the rest of the day")
    }
}

@Suite("decision sentences")
struct MindsetSentenceTests {
    @Test("size factors are written to two decimals without String(format:)", arguments: [
        (1.0, "1.00"), (0.25, "0.25"), (0.5, "0.50"), (2.0, "2.00"), (0.004, "0.00"), (0.005, "0.01"), (1.999, "2.00"),
    ])
    func twoDecimals(value: Double, text: String) {
        #expect(MindsetEngine.twoDecimals(value) == text)
        #expect(MindsetEngine.twoDecimals(value) == String(format: "%.2f", value) || value == 0.005)
    }
}
