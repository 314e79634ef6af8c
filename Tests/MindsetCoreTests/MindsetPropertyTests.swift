import Foundation
import BagbotDomain
import PropertyBased
import Testing
@testable import MindsetCore

/// Random days of trading, locks, unlocks and acknowledgments, state found unknown, equity moves and restarts
/// (with a configuration loosened on the way): whatever happens, an entry is never approved while LOCKED, a
/// limit's lock lasts until the reset, a lock for unknown state until it is acknowledged, and no approved size
/// exceeds its request.
@Suite("mindset properties")
struct MindsetPropertyTests {
    let start = utc("2024-03-01T09:00:00Z")

    static func rules(loosened: Bool) -> MindsetRules {
        makeRules {
            $0.dailyLossLimit = loosened ? 100_000 : 1_000
            $0.giveBackLimit = loosened ? 100_000 : 500
            $0.maxConsecutiveLosses = loosened ? 1_000 : 4
            $0.revengeCooldownSeconds = loosened ? 0 : 120
            $0.stateFactors.tilted = loosened ? 1 : 0.25
            $0.stateFactors.cautious = loosened ? 1 : 0.5
        }
    }

    /// A restart: the state through its JSON file, and a configuration that may be loosened.
    static func restarted(_ engine: MindsetEngine, loosened: Bool) throws -> MindsetEngine {
        let encoder = JSONEncoder(), decoder = JSONDecoder()
        let state = try decoder.decode(MindsetState.self, from: encoder.encode(engine.state))
        return MindsetEngine(rules: rules(loosened: loosened), state: state)
    }

    @Test("no sequence of trades, locks, equity moves and restarts approves an entry while LOCKED or above its size")
    func neverApprovedWhileLocked() async throws {
        await propertyCheck(count: 300, input: Gen.int(in: 0...99).array(of: 1...80), Gen.int(in: 1...1_000)) { steps, size in
            var engine = MindsetEngine(rules: Self.rules(loosened: false))
            var time = start
            _ = engine.advance(to: time)
            _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: time)
            var equity: ExactDecimal = 100_000
            var limitLockedDay: Date?
            for (index, step) in steps.enumerated() {
                time = time.addingTimeInterval(Double(step % 7) * 60)
                switch step {
                case 0..<40:
                    let pnl = ExactDecimal(integerLiteral: (step - 25) * 20)
                    engine.record(trade(pnl: pnl, at: time, id: "t\(index)"))
                case 40..<46:
                    engine = (try? Self.restarted(engine, loosened: step % 2 == 0)) ?? engine
                case 46..<52:
                    _ = engine.lock(reason: "admin: break", at: time)
                case 52..<58:
                    _ = try? engine.unlock(reason: "back")
                case 58..<70:
                    equity = (try? equity + ExactDecimal(integerLiteral: (step - 64) * 150)) ?? equity
                    _ = engine.markToMarket(equity: equity, currency: "USD", wallClock: time)
                case 70..<73:
                    time = time.addingTimeInterval(6 * 3_600)  // a long pause; sometimes a new day
                case 73..<76:
                    _ = engine.lock(reason: "state file was corrupt (test)", at: time, cause: .unknownState)
                default:
                    break
                }
                let quantity = ExactDecimal(integerLiteral: size)
                let decision = engine.evaluate(proposal(at: time, quantity: quantity))
                #expect(decision.approvedQuantity <= quantity, "approved more than asked")
                if engine.state.emotion == .locked {
                    #expect(!decision.approved, "approved while LOCKED (\(engine.state.lockReason ?? "-"))")
                    if engine.state.lockCause == .limit { limitLockedDay = engine.state.dayStart }
                }
                if let day = limitLockedDay, engine.state.dayStart == day {
                    #expect(engine.state.emotion == .locked, "a limit's lock lifted before the reset, by step \(step)")
                }
                if engine.state.acknowledgmentPendingSince != nil {
                    #expect(engine.state.emotion == .locked, "a lock for unknown state lifted before it was acknowledged, by step \(step)")
                }
                let exit = engine.evaluate(proposal(at: time, quantity: quantity, isEntry: false))
                #expect(exit.approved && exit.approvedQuantity == quantity, "an exit held back")
            }
        }
    }
}
