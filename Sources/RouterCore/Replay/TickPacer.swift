import Foundation
import NIOConcurrencyHelpers
import BagbotDomain

/// Paces a max-speed replay by its subscribers instead of dropping ticks (docs/ipc.md, "Paced replay"): the
/// feed waits until one subscriber has asked to pace it (`router.ticksProcessed`), and never runs more than
/// `window` ticks ahead of the slowest one's acknowledgements. With `window` below every queue on the way (the
/// hub's and arsenald's), no tick is dropped; with orders filled at the quote they were decided on
/// (`PaperExchange.Settings.pinnedQuotes`), the replay gives the same orders every run.
///
/// A subscriber whose connection closes stops pacing at once; one silent for `patience` while the feed waits for
/// it is let go (logged), so a stuck consumer cannot hold the feed forever.
public final class TickPacer: Sendable {
    /// Ticks the feed may run ahead of the slowest subscriber's acknowledgement.
    public static let window = 256

    private struct Subscriber {
        var acked: Int
        var lastHeard: ContinuousClock.Instant
    }

    private struct State {
        /// Ticks published so far; the identity of the recent ones (symbol and sequence → index), for acks.
        var published = 0
        var recent: [(symbol: String, sequence: UInt64)] = []
        var recentStart = 0
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())
    private let window: Int
    private let patience: Duration

    public init(window: Int = TickPacer.window, patience: Duration = .seconds(30)) {
        self.window = window
        self.patience = patience
    }

    /// A subscriber starts pacing the feed from here on (its connection's closing ends it); false when it
    /// already does.
    @discardableResult
    public func register(_ subscriber: ObjectIdentifier) -> Bool {
        state.withLockedValue { state in
            guard state.subscribers[subscriber] == nil else { return false }
            state.subscribers[subscriber] = Subscriber(acked: state.published, lastHeard: .now)
            Self.resumeIfRoom(&state, window: window)
            return true
        }
    }

    public func remove(_ subscriber: ObjectIdentifier) {
        state.withLockedValue { state in
            state.subscribers[subscriber] = nil
            Self.resumeIfRoom(&state, window: window)
        }
    }

    public var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    /// The subscriber has processed every tick up to the one of `symbol` numbered `sequence`. An unknown tick
    /// (older than the recent ones kept) still counts as being heard from.
    public func acknowledge(_ subscriber: ObjectIdentifier, symbol: String, sequence: UInt64) {
        state.withLockedValue { state in
            guard var entry = state.subscribers[subscriber] else { return }
            entry.lastHeard = .now
            // The first such tick after what it acknowledged last: two files of one symbol repeat sequences, and
            // a later match would count ticks it has not processed.
            let from = max(0, entry.acked - state.recentStart)
            if from < state.recent.count,
               let offset = state.recent[from...].firstIndex(where: { $0.sequence == sequence && $0.symbol == symbol }) {
                entry.acked = max(entry.acked, state.recentStart + offset + 1)
            }
            state.subscribers[subscriber] = entry
            Self.resumeIfRoom(&state, window: window)
        }
    }

    /// Notes a tick as published (before it is handed to the hub, so its acknowledgement finds it).
    public func published(_ tick: Tick) {
        state.withLockedValue { state in
            state.published += 1
            state.recent.append((tick.symbol, tick.sequence))
            // Kept: the last 4 windows (an acknowledgement is never older than the window).
            if state.recent.count > window * 8 {
                let dropped = state.recent.count - window * 4
                state.recent.removeFirst(dropped)
                state.recentStart += dropped
            }
        }
    }

    /// Whether a tick may be published now (without waiting, and without letting go of a silent subscriber).
    public var hasRoomNow: Bool { state.withLockedValue { Self.hasRoom($0, window: window) } }

    /// Returns when a subscriber paces the feed and every one is within `window` ticks of the feed, or when the
    /// task is cancelled (the feed stopping).
    public func waitForRoom() async {
        while !Task.isCancelled, !state.withLockedValue({ Self.hasRoom($0, window: window) }) {
            // Woken by an acknowledgement, a new or gone subscriber, or each second to let go of a silent one.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitForWakeUp() }
                group.addTask { try? await Task.sleep(for: .seconds(1)) }
                await group.next()
                group.cancelAll()
            }
            _ = letGoOfSilent()
        }
    }

    private func waitForWakeUp() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                state.withLockedValue { state in
                    if Task.isCancelled || Self.hasRoom(state, window: window) {
                        continuation.resume()
                    } else {
                        state.waiter?.resume()
                        state.waiter = continuation
                    }
                }
            }
        } onCancel: {
            state.withLockedValue { state in
                state.waiter?.resume()
                state.waiter = nil
            }
        }
    }

    /// After a wake-up: true when there is room; otherwise lets go of subscribers silent for `patience`.
    private func letGoOfSilent() -> Bool {
        state.withLockedValue { state in
            if Self.hasRoom(state, window: window) { return true }
            let cutoff = ContinuousClock.now - patience
            // Kept: those heard from lately, and those the feed is not waiting for.
            state.subscribers = state.subscribers.filter { $0.value.lastHeard > cutoff || state.published - $0.value.acked < window }
            return Self.hasRoom(state, window: window)
        }
    }

    private static func hasRoom(_ state: State, window: Int) -> Bool {
        !state.subscribers.isEmpty && state.subscribers.values.allSatisfy { state.published - $0.acked < window }
    }

    private static func resumeIfRoom(_ state: inout State, window: Int) {
        guard hasRoom(state, window: window), let waiter = state.waiter else { return }
        state.waiter = nil
        waiter.resume()
    }
}
