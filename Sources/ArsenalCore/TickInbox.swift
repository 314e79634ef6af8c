import BagbotDomain
import NIOConcurrencyHelpers
import NIOCore

/// Ticks from routerd's stream to the coordinator: bounded, keeping the newest (the oldest is dropped and counted
/// when it is full, as a live feed's stale ticks should be), read one at a time. Unlike an `AsyncStream`, taking a
/// tick that is already there is a plain call; the reader suspends only when the inbox is empty. At max replay
/// speed ticks arrive in bursts, and the stream's continuation for every tick was a sixth of arsenald's time.
final class TickInbox: Sendable {
    private struct State {
        var ticks = CircularBuffer<Tick>(initialCapacity: 256)
        var waiter: CheckedContinuation<Bool, Never>?
        var finished = false
    }

    private let state = NIOLockedValueBox(State())
    private let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a tick inbox holds at least one tick")
        self.capacity = capacity
    }

    /// Adds `tick`; false when the inbox was full and its oldest tick was dropped to make room. A finished inbox
    /// takes nothing (and drops nothing).
    @discardableResult
    func put(_ tick: Tick) -> Bool {
        let (waiter, dropped) = state.withLockedValue { state -> (CheckedContinuation<Bool, Never>?, Bool) in
            guard !state.finished else { return (nil, false) }
            var dropped = false
            if state.ticks.count >= capacity {
                state.ticks.removeFirst()
                dropped = true
            }
            state.ticks.append(tick)
            defer { state.waiter = nil }
            return (state.waiter, dropped)
        }
        waiter?.resume(returning: true)
        return !dropped
    }

    /// The oldest tick waiting, if any.
    func take() -> Tick? {
        state.withLockedValue { $0.ticks.popFirst() }
    }

    /// Returns true when a tick is there to take, false once the inbox is finished (after which `take` gives nothing).
    /// One reader at a time.
    func wait() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer = state.withLockedValue { state -> Bool? in
                if state.finished { return false }
                if !state.ticks.isEmpty { return true }
                precondition(state.waiter == nil, "a tick inbox has one reader")
                state.waiter = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// No more ticks: those waiting are dropped (not acted on) and the reader is told.
    func finish() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            state.finished = true
            state.ticks.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: false)
    }
}
