import NIOConcurrencyHelpers

/// Requests for the same read of a daemon's state share one call to it, and no answer misses a change the gateway
/// knew of when its request came: a request that arrives while a call is on its way takes that call's answer only if
/// nothing changed since the call started (`SharedReadChanges`: no other request ended, no daemon event came);
/// otherwise it waits for the next call, which starts when the current one ends and serves everyone who came
/// meanwhile. So at most one call is on its way and one gathering waiters at any time, however many subscribers poll
/// the route (docs/api.md, "Reads shared between requests").
///
/// A request that comes after a call ended may take that call's answer too, for `reuseFor` from the call's start, if
/// nothing changed since then: so a flood of polls makes a call every couple of milliseconds instead of back to back,
/// and the answer is no older than that. Past `reuseFor` and within `refreshWithin`, still with nothing changed, the
/// request takes that answer at once and a call starts beside it (one at a time): so steady polls never wait for the
/// daemon, and an answer is as old as the time since its call started, never more than `refreshWithin`.
///
/// Only for reads whose answer is the same for every caller (no identity, no query): routerd's positions and
/// account, mindsetd's state. Errors are shared like answers: every request of a failed call gets its error.
final class CoalescedRead<Value: Sendable & Equatable>: Sendable {
    private enum Turn {
        /// Make the call and hand its outcome to the followers gathered meanwhile.
        case lead
        case outcome(Result<Value, any Error>)
    }

    private struct State {
        var calling = false
        /// `changes.current` when the call on its way started, and when by the clock.
        var callStartedAt: UInt64 = 0
        var callStart = ContinuousClock.now
        /// `lastAnswer`'s call: `changes.current` and the clock when it started (an answer that was itself a change has
        /// none: it is not used again).
        var lastAnswerCall: (changes: UInt64, start: ContinuousClock.Instant)?
        /// The last answer: one that differs is itself a change a client may have seen (a fill in the positions, which
        /// the account's call already on its way may not show), noted before anyone has it.
        var lastAnswer: Value?
        /// Served by the call on its way.
        var followers: [CheckedContinuation<Turn, Never>] = []
        /// Came while that call was on its way: served by the next one.
        var waiting: [CheckedContinuation<Turn, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    private let changes: SharedReadChanges
    private let reuseFor: Duration
    private let refreshWithin: Duration
    private let fetch: @Sendable () async throws -> Value

    init(changes: SharedReadChanges, reuseFor: Duration = .zero, refreshWithin: Duration = .zero,
         _ fetch: @escaping @Sendable () async throws -> Value) {
        self.changes = changes
        self.reuseFor = reuseFor
        self.refreshWithin = refreshWithin
        self.fetch = fetch
    }

    func value() async throws -> Value {
        var refresh = false
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let changes = self.changes
            let (reuseFor, refreshWithin) = (self.reuseFor, self.refreshWithin)
            let lead = state.withLockedValue { state -> Turn? in
                let now = changes.current
                if let answer = state.lastAnswer, let call = state.lastAnswerCall, call.changes == now {
                    let age = ContinuousClock.now - call.start
                    if age < reuseFor { return .outcome(.success(answer)) }
                    if age < refreshWithin {
                        // Any call on its way started after this answer's, with nothing changed: it is not waited for.
                        if !state.calling {
                            state.calling = true
                            (state.callStartedAt, state.callStart) = (now, .now)
                            refresh = true
                        }
                        return .outcome(.success(answer))
                    }
                }
                if state.calling {
                    if state.callStartedAt == now {
                        state.followers.append(continuation)
                    } else {
                        state.waiting.append(continuation)
                    }
                    return nil
                }
                state.calling = true
                (state.callStartedAt, state.callStart) = (now, .now)
                return .lead
            }
            if let lead { continuation.resume(returning: lead) }
        }
        if refresh {
            // A task of its own: this request has its answer and does not wait for the call.
            Task { _ = await self.lead() }
        }
        switch turn {
        case .outcome(let result):
            return try result.get()
        case .lead:
            return try await lead().get()
        }
    }

    /// Requests waiting for a call's answer (tests wait for it to reach a count).
    var waitingRequests: Int {
        state.withLockedValue { $0.followers.count + $0.waiting.count }
    }

    /// The call runs in the leader's task (a task of its own for every call cost a hand-off per call). A call that
    /// failed by the leader's cancellation (its client went away; the error a `CancellationError`) is made again in a
    /// task of its own, so that the followers' answers never carry another request's cancellation. Any other failure,
    /// a timeout included, is the followers' answer as it is: made again it would only double their wait.
    private func lead() async -> Result<Value, any Error> {
        let fetch = self.fetch
        @Sendable func call() async -> Result<Value, any Error> {
            do { return .success(try await fetch()) } catch { return .failure(error) }
        }
        var result = await call()
        if case .failure(let error) = result, error is CancellationError, Task.isCancelled {
            result = await Task { await call() }.value
        }
        let changes = self.changes
        switch result {
        case .success(let answer):
            let changed = state.withLockedValue { state -> Bool in
                let changed = state.lastAnswer != answer
                state.lastAnswer = answer
                state.lastAnswerCall = changed ? nil : (state.callStartedAt, state.callStart)
                return changed
            }
            if changed { changes.noteChange() }
        case .failure:
            // The daemon could not say what is current: the last answer serves nobody after this.
            state.withLockedValue { $0.lastAnswerCall = nil }
        }
        let (followers, next) = state.withLockedValue { state -> ([CheckedContinuation<Turn, Never>], CheckedContinuation<Turn, Never>?) in
            let followers = state.followers
            guard !state.waiting.isEmpty else {
                state.followers = []
                state.calling = false
                return (followers, nil)
            }
            let next = state.waiting.removeFirst()
            state.followers = state.waiting
            state.waiting = []
            // Counted now, before the next call goes out: a change noted after this makes later requests wait.
            (state.callStartedAt, state.callStart) = (changes.current, .now)
            return (followers, next)
        }
        for follower in followers { follower.resume(returning: .outcome(result)) }
        next?.resume(returning: .lead)
        return result
    }
}
