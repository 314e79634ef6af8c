import NIOConcurrencyHelpers

/// Lets a task that publishes ticks in a burst (a max-speed replay) have them written in batches: while a batch
/// is the task's `current`, a tick it publishes is queued for each subscriber as usual but no write is scheduled
/// for it; `flush()` schedules one write per subscriber for everything queued. One wake-up of the connection's
/// event loop and one `write` then carry many ticks instead of one each: at max speed those were about a third of
/// routerd's time, and each tick arriving alone cost the subscribers a wake-up too.
///
/// Only ticks wait (the droppable topic): orders and fills are written as soon as they are published, and take
/// any ticks queued before them along, in order. The publisher must flush before it waits for anything that its
/// subscribers' processing of those ticks would bring (a paced replay's acknowledgements), and when it is done;
/// a batch that is closed (`finish()`) no longer holds anything back, so a task that inherited it and publishes
/// later is not stalled.
public final class EventBatch: Sendable {
    @TaskLocal public static var current: EventBatch?

    private struct State {
        var waiting: [ObjectIdentifier: IPCSubscriber] = [:]
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Holds back `subscriber`'s write until the next flush; false when the batch is finished (the caller
    /// schedules the write itself).
    func holdWrite(for subscriber: IPCSubscriber) -> Bool {
        state.withLockedValue { state in
            guard !state.finished else { return false }
            state.waiting[ObjectIdentifier(subscriber)] = subscriber
            return true
        }
    }

    /// Schedules the writes held back so far.
    public func flush() {
        let waiting = state.withLockedValue { state -> [IPCSubscriber] in
            guard !state.waiting.isEmpty else { return [] }
            defer { state.waiting.removeAll(keepingCapacity: true) }
            return Array(state.waiting.values)
        }
        for subscriber in waiting { subscriber.scheduleDrain() }
    }

    /// Flushes, and holds nothing back from then on.
    public func finish() {
        state.withLockedValue { $0.finished = true }
        flush()
    }
}
