import BagbotDomain
import NIOConcurrencyHelpers
import NIOCore

/// Ticks from routerd's stream to the coordinator: bounded, keeping the newest (the oldest is dropped and counted
/// when it is full, as a live feed's stale ticks should be), read one at a time. Unlike an `AsyncStream`, taking a
/// tick that is already there is a plain call; the reader suspends only when the inbox is empty. At max replay
/// speed ticks arrive in bursts, and the stream's continuation for every tick was a sixth of arsenald's time.
///
/// Orders and fills from the same stream are applied by another task (a tick's settling waits for them), but in
/// the stream's order with the ticks: each tick carries the number of updates received before it, and is not
/// handed to the strategies until that many have been applied (`waitForUpdates(through:)`). A fill is never
/// applied after ticks that routerd sent after it: a stop would not see the position it protects.
final class TickInbox: Sendable {
    private struct State {
        var ticks = CircularBuffer<(tick: Tick, updatesBefore: Int)>(initialCapacity: 256)
        var waiter: CheckedContinuation<Bool, Never>?
        var finished = false
        var updatesReceived = 0
        var updatesApplied = 0
        var updatesWaiter: (target: Int, continuation: CheckedContinuation<Bool, Never>)?
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
            state.ticks.append((tick, state.updatesReceived))
            defer { state.waiter = nil }
            return (state.waiter, dropped)
        }
        waiter?.resume(returning: true)
        return !dropped
    }

    /// The oldest tick waiting, if any, and the number of updates received before it.
    func take() -> (tick: Tick, updatesBefore: Int)? {
        state.withLockedValue { $0.ticks.popFirst() }
    }

    /// An order or fill update was received from the stream (before it is handed to the task that applies it).
    func noteUpdateReceived() {
        state.withLockedValue { $0.updatesReceived += 1 }
    }

    /// The task applying updates has applied the next one.
    func noteUpdateApplied() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            state.updatesApplied += 1
            guard let waiting = state.updatesWaiter, state.updatesApplied >= waiting.target else { return nil }
            state.updatesWaiter = nil
            return waiting.continuation
        }
        waiter?.resume(returning: true)
    }

    /// Whether the first `count` updates have been applied.
    func updatesApplied(through count: Int) -> Bool {
        state.withLockedValue { $0.updatesApplied >= count }
    }

    /// Returns true once the first `count` updates have been applied, false if the inbox finishes first. One
    /// reader at a time.
    func waitForUpdates(through count: Int) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer = state.withLockedValue { state -> Bool? in
                if state.finished { return false }
                if state.updatesApplied >= count { return true }
                precondition(state.updatesWaiter == nil, "a tick inbox has one reader")
                state.updatesWaiter = (count, continuation)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
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
        let (waiter, updatesWaiter) = state.withLockedValue { state in
            state.finished = true
            state.ticks.removeAll()
            defer {
                state.waiter = nil
                state.updatesWaiter = nil
            }
            return (state.waiter, state.updatesWaiter?.continuation)
        }
        waiter?.resume(returning: false)
        updatesWaiter?.resume(returning: false)
    }
}
