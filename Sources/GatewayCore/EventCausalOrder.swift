import Foundation
import Synchronization
import BagbotDomain

/// Keeps a trade's events in the order they happened although they reach the gateway on two connections: arsenald
/// sends a signal's `decision` before it places the order, but routerd's `order` and `fill` events for it come on
/// routerd's own connection and can overtake it. An order or fill of arsenald's (client order id `bb-…`) whose
/// decision has not been streamed yet is held until it has, for at most `maximumHold` (a decision lost with
/// arsenald's connection must not hold routerd's events back for longer); the events of one order always keep their
/// order among themselves. Other events pass at once. docs/api.md, "Events".
final class EventCausalOrder: Sendable {
    private struct Held {
        var since: ContinuousClock.Instant
        var events: [(kind: StreamEventKind, json: Data)]
    }

    private struct State {
        /// Request ids whose decision was streamed: a set, and their order, so the oldest go first.
        var decided: Set<String> = []
        var decidedOrder: [String] = []
        var decidedNext = 0
        /// Events waiting for their decision, by request id.
        var held: [String: Held] = [:]
    }

    static let arsenalPrefix = "bb-"
    let maximumHold: Duration
    private let remembered: Int
    private let state = Mutex(State())

    init(maximumHold: Duration = .milliseconds(500), remembered: Int = 10_000) {
        self.maximumHold = maximumHold
        self.remembered = max(1, remembered)
    }

    /// A decision: streamed, then what was held for its request.
    func decision(requestId: String, json: Data, publish: (StreamEventKind, Data) -> Void) {
        state.withLock { state in
            publish(.decision, json)
            remember(requestId, in: &state)
            for event in state.held.removeValue(forKey: requestId)?.events ?? [] { publish(event.kind, event.json) }
        }
    }

    /// An order or fill event of the order `clientOrderId`: streamed now unless it must wait for its decision. arsenald
    /// names each order after the signal it places (`bb-` + the signal's request id), which is how the decision is
    /// found, for fills too.
    func tradeEvent(_ kind: StreamEventKind, clientOrderId: String, json: Data,
                    now: ContinuousClock.Instant = .now, publish: (StreamEventKind, Data) -> Void) {
        state.withLock { state in
            let requestId = String(clientOrderId.dropFirst(Self.arsenalPrefix.count))
            guard clientOrderId.hasPrefix(Self.arsenalPrefix), !requestId.isEmpty, !state.decided.contains(requestId) else {
                publish(kind, json)
                return
            }
            state.held[requestId, default: Held(since: now, events: [])].events.append((kind, json))
        }
    }

    /// Streams what has waited `maximumHold` or longer (the feed's watch loop calls it).
    func releaseOverdue(now: ContinuousClock.Instant = .now, publish: (StreamEventKind, Data) -> Void) {
        state.withLock { state in
            let overdue = state.held.filter { now - $0.value.since >= maximumHold }.sorted { $0.value.since < $1.value.since }
            for (requestId, held) in overdue {
                state.held[requestId] = nil
                for event in held.events { publish(event.kind, event.json) }
            }
        }
    }

    var heldCount: Int { state.withLock { $0.held.values.reduce(0) { $0 + $1.events.count } } }

    private func remember(_ requestId: String, in state: inout State) {
        guard state.decided.insert(requestId).inserted else { return }
        if state.decidedOrder.count < remembered {
            state.decidedOrder.append(requestId)
        } else {
            state.decided.remove(state.decidedOrder[state.decidedNext])
            state.decidedOrder[state.decidedNext] = requestId
            state.decidedNext = (state.decidedNext + 1) % remembered
        }
    }
}
