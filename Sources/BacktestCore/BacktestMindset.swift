import Foundation
import NIOConcurrencyHelpers
import BagbotDomain
import ArsenalCore
import MindsetCore

/// mindsetd's part of a backtest, in memory: the same `MindsetEngine`, told what mindsetd is told before it
/// judges an entry — every closed trade of the fill log (counted from the venue's log, as mindsetd counts
/// routerd's) and the account's equity — on market time. What mindsetd does beside the engine (saving its
/// state, archiving days, flattening while LOCKED) is not part of a backtest.
public final class BacktestMindset: MindsetPort, Sendable {
    private struct State {
        var engine: MindsetEngine
        var decisions = 0
        var approvals = 0
        /// Blocked entries by their first code (`daily_loss_limit`, `revenge_cooldown`, …).
        var blocks: [String: Int] = [:]
        var transitions: [StateTransition] = []
    }

    private let state: NIOLockedValueBox<State>
    private let venue: BacktestVenue

    public init(rules: MindsetRules, venue: BacktestVenue) {
        var engine = MindsetEngine(rules: rules)
        // mindsetd takes them from routerd's marks; the revenge cap compares sizes in one quote asset.
        engine.quoteAssets = venue.quoteAssets
        state = NIOLockedValueBox(State(engine: engine))
        self.venue = venue
    }

    /// What mindsetd does every `fill_poll_seconds`: counts the closed trades of the fill log and takes the
    /// account's equity (`equity`, valued by the session) at market time `time`. The session calls it on that
    /// schedule while a position is open (equity moves), and each minute.
    public func follow(equity: (value: ExactDecimal, currency: String)?, at time: Date) {
        let page = venue.fills(after: state.withLockedValue { $0.engine.nextFillPageAfter })
        state.withLockedValue { Self.catchUp(&$0, page: page, equity: equity, at: time) }
    }

    public func evaluate(_ proposal: TradeProposal) async throws -> MindsetDecision {
        let page = venue.fills(after: state.withLockedValue { $0.engine.nextFillPageAfter })
        let equity = venue.equity()
        return state.withLockedValue { state in
            // Counted before the entry is judged, as mindsetd does: a loss always counts before the next entry.
            Self.catchUp(&state, page: page, equity: equity, at: proposal.time)
            let decision = state.engine.evaluate(proposal)
            state.decisions += 1
            if decision.approved {
                state.approvals += 1
            } else {
                state.blocks[decision.codes.first ?? "unknown", default: 0] += 1
            }
            return decision
        }
    }

    private static func catchUp(_ state: inout State, page: FillsResponse, equity: (value: ExactDecimal, currency: String)?, at time: Date) {
        var counted = state.engine.count(page, ceiling: nil, wallClock: time)
        if case .relinked = counted.outcome {
            // The first call links to the log (from its start: no fill of the session is history).
            counted = state.engine.count(page, ceiling: nil, wallClock: time)
        }
        state.transitions += counted.transitions
        if let equity, let marked = state.engine.markToMarket(equity: equity.value, currency: equity.currency, wallClock: time),
           let transition = marked.transition {
            state.transitions.append(transition)
        }
    }

    /// Entries judged, approved, and blocked by code.
    public var tally: (decisions: Int, approvals: Int, blocks: [String: Int]) {
        state.withLockedValue { ($0.decisions, $0.approvals, $0.blocks) }
    }

    /// The emotional-state changes the session caused, in order.
    public var transitions: [StateTransition] { state.withLockedValue { $0.transitions } }
}
