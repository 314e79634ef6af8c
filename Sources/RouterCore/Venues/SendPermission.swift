import Synchronization

/// routerd's word that an order may leave the machine: granted once its `sent` is on disk, refused if that write
/// failed. A venue given one (`TradingVenue.place(_:sendingOnce:)`) does everything that cannot place the order
/// (checks, signing, the request's head on the wire) while the write syncs, and waits here only for the bytes that
/// would place it; refused, they never leave, and the order is not sent (docs/venues/binance.md, "An order prepared while
/// its record syncs"). Granted or refused once; the first word stands.
public final class SendPermission: Sendable {
    private enum State {
        case waiting([UInt64: CheckedContinuation<Bool, Never>])
        case decided(Bool)
    }

    private let state: Mutex<(state: State, nextWaiter: UInt64)>

    public init() {
        state = Mutex((.waiting([:]), 0))
    }

    private init(decided: Bool) {
        state = Mutex((.decided(decided), 0))
    }

    /// Already granted: for a caller whose order's record is on disk before it asks the venue.
    public static var granted: SendPermission { SendPermission(decided: true) }

    public func grant() { decide(true) }

    public func refuse() { decide(false) }

    private func decide(_ granted: Bool) {
        let waiters = state.withLock { value -> [CheckedContinuation<Bool, Never>] in
            guard case .waiting(let waiters) = value.state else { return [] }
            value.state = .decided(granted)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: granted) }
    }

    /// Whether the order may be sent, once routerd has said so. A cancelled waiter gets false: it must not send.
    public func decision() async -> Bool {
        let id = state.withLock { value -> UInt64 in
            value.nextWaiter &+= 1
            return value.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let decided = state.withLock { value -> Bool? in
                    switch value.state {
                    case .decided(let granted):
                        return granted
                    case .waiting(var waiters):
                        // Cancelled before it got here: it does not wait.
                        if Task.isCancelled { return false }
                        waiters[id] = continuation
                        value.state = .waiting(waiters)
                        return nil
                    }
                }
                if let decided { continuation.resume(returning: decided) }
            }
        } onCancel: {
            let waiter = state.withLock { value -> CheckedContinuation<Bool, Never>? in
                guard case .waiting(var waiters) = value.state, let waiter = waiters.removeValue(forKey: id) else { return nil }
                value.state = .waiting(waiters)
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }

    /// Whether it was granted, without waiting (nil: not decided yet).
    public var isGranted: Bool? {
        state.withLock { value in
            if case .decided(let granted) = value.state { return granted }
            return nil
        }
    }
}

extension SendPermission {
    /// Why an order whose permission was refused was not sent.
    public static let refusedReason = "routerd's record of the order could not be written, so it was not sent"
}
