import NIOConcurrencyHelpers

/// Callers waiting for the coordinator's orders to settle (`TradeCoordinator.settle(within:)`), each resumed
/// once: when nothing is in flight any more, or when its time is up.
final class SettlementWaiters: Sendable {
    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        let timer: Task<Void, Never>
    }

    private let waiters = NIOLockedValueBox<(next: Int, waiting: [Int: Waiter])>((0, [:]))

    /// Resumes `continuation` at `resumeAll`, or after `limit`. Registered synchronously (from the actor, before
    /// it suspends), so a `resumeAll` that follows cannot miss it.
    func add(_ continuation: CheckedContinuation<Void, Never>, within limit: Duration) {
        waiters.withLockedValue { state in
            state.next += 1
            let id = state.next
            let timer = Task { [weak self] in
                try? await Task.sleep(for: limit)
                if !Task.isCancelled { self?.resume(id) }
            }
            state.waiting[id] = Waiter(continuation: continuation, timer: timer)
        }
    }

    func resumeAll() {
        let all = waiters.withLockedValue { state -> [Waiter] in
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in all {
            waiter.timer.cancel()
            waiter.continuation.resume()
        }
    }

    private func resume(_ id: Int) {
        waiters.withLockedValue { $0.waiting.removeValue(forKey: id) }?.continuation.resume()
    }
}
