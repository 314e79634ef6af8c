import BagbotDomain
import Synchronization

/// Ticks on their way from a venue's stream reader to routerd, the newest per symbol: the reader never waits for
/// routerd (which may be busy placing an order or reconciling), so the socket never backs up with ticks that would
/// be read, and stamped, late; a consumer that falls behind gets each symbol's newest tick, and its numbering
/// (`Tick.sequence`) shows what was skipped. One consumer at a time.
final class LatestTicks: Sendable {
    private struct State {
        /// Waiting ticks in the order their symbols first arrived, one per symbol.
        var waiting: [Tick] = []
        var waiter: CheckedContinuation<Tick?, Never>?
        var finished = false
        var replaced = 0
    }

    private let state = Mutex(State())

    /// Hands `tick` on: to the consumer waiting, else in place of its symbol's waiting tick, if any.
    func put(_ tick: Tick) {
        let waiter = state.withLock { state -> CheckedContinuation<Tick?, Never>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            if let index = state.waiting.firstIndex(where: { $0.symbol == tick.symbol }) {
                state.waiting[index] = tick
                state.replaced += 1
            } else {
                state.waiting.append(tick)
            }
            return nil
        }
        waiter?.resume(returning: tick)
    }

    /// The tick waiting longest, or the next to arrive; nil once finished. One at a time, so the others can still
    /// be replaced while the consumer delivers it.
    func next() async -> Tick? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Tick?? in
                if !state.waiting.isEmpty { return .some(state.waiting.removeFirst()) }
                if state.finished { return .some(nil) }
                assert(state.waiter == nil, "LatestTicks has one consumer")
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Ends the hand-over: the consumer gets what is waiting, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Tick?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Ticks replaced by a newer one of their symbol before the consumer took them, since the start.
    var replacedCount: Int { state.withLock { $0.replaced } }
}
