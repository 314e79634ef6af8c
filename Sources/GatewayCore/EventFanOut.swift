import Foundation
import Logging
import NIOConcurrencyHelpers

/// The event stream's heart: numbers every event (strictly increasing), keeps the last `bufferCapacity` for clients
/// that resume with `Last-Event-ID`, and hands each event to every client's own bounded queue. Publishing never
/// waits: a client whose queue is full is cut off (its queue ends and its connection is closed), and trading, the
/// daemons' events and the other clients go on as before.
final class EventFanOut: Sendable {
    let settings: GatewaySettings.Events
    private let logger: Logger
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: NIOLockedValueBox<State>

    private struct Client {
        var continuation: AsyncStream<EventSubscription.Delivery>.Continuation
        var ended: NIOLockedValueBox<EventSubscription.End?>
        /// Closes the client's connection (a write blocked on a full socket then fails at once).
        var cutOff: @Sendable () -> Void
    }

    private struct State {
        var running = false
        var nextId: UInt64
        var nextClient = 1
        /// The newest events, oldest first: a ring once full (`start` is the oldest).
        var buffer: [StreamEvent] = []
        var start = 0
        var clients: [Int: Client] = [:]
        var sampler: TickSampler
        var daemons: [String: Bool] = [:]
        var cutOffTotal = 0

        var oldestId: UInt64 { buffer.isEmpty ? nextId : buffer[start].id }

        /// The buffered events after `id`, oldest first.
        func events(after id: UInt64) -> [StreamEvent] {
            let count = buffer.count
            return (0..<count).map { buffer[(start + $0) % count] }.filter { $0.id > id }
        }
    }

    /// The first id of a run: the start time in microseconds, so ids keep increasing across restarts and an id of an
    /// earlier run reads as older than anything buffered (a gap, said so), never as a later event of this run.
    static func initialId() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1_000_000) }

    init(settings: GatewaySettings.Events, logger: Logger, firstId: UInt64 = EventFanOut.initialId(),
         now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.settings = settings
        self.logger = logger
        self.now = now
        state = NIOLockedValueBox(State(nextId: firstId, sampler: TickSampler(perSecond: settings.ticksPerSecond)))
        state.withLockedValue { $0.buffer.reserveCapacity(min(settings.bufferCapacity, 1_024)) }
    }

    // MARK: the daemons' side

    /// From now on clients may subscribe (`EventFeed.run`).
    func start() {
        state.withLockedValue { $0.running = true }
    }

    /// Ends every client's stream (`shutdown`: they end cleanly) and refuses new ones: the gateway is stopping.
    func close() {
        let clients = state.withLockedValue { state -> [Client] in
            state.running = false
            defer { state.clients.removeAll() }
            return Array(state.clients.values)
        }
        for client in clients {
            client.ended.withLockedValue { $0 = $0 ?? .shutdown }
            client.continuation.finish()
        }
    }

    /// Numbers `json` as the next event of `kind` and delivers it.
    func publish(_ kind: StreamEventKind, json: Data) {
        let capacity = settings.bufferCapacity
        cut(state.withLockedValue { Self.append(kind, json: json, capacity: capacity, in: &$0) })
    }

    /// Numbers, buffers and delivers one event under the lock (so every client sees the ids in order); returns the
    /// clients to cut off.
    private static func append(_ kind: StreamEventKind, json: Data, capacity: Int, in state: inout State) -> [Client] {
        let event = StreamEvent(id: state.nextId, kind: kind, json: json)
        state.nextId += 1
        if state.buffer.count < capacity {
            state.buffer.append(event)
        } else {
            state.buffer[state.start] = event
            state.start = (state.start + 1) % state.buffer.count
        }
        return deliver(.event(event), in: &state)
    }

    /// Whether a tick of `symbol` goes out now (`ticksPerSecond`); asked before the tick is encoded.
    func admitsTick(of symbol: String) -> Bool {
        let instant = now()
        return state.withLockedValue { $0.sampler.admits(symbol, at: instant) }
    }

    /// A daemon's events started or stopped reaching the gateway: `daemon_up` or `daemon_down` when that changes
    /// what clients were told. `up` while already up means the connection was lost and restored unseen: both go out.
    func daemon(_ name: String, up: Bool, json: (_ up: Bool) -> Data) {
        let capacity = settings.bufferCapacity
        cut(state.withLockedValue { state -> [Client] in
            let was = state.daemons[name] ?? false
            state.daemons[name] = up
            switch (was, up) {
            case (false, true): return Self.append(.daemonUp, json: json(true), capacity: capacity, in: &state)
            case (true, false): return Self.append(.daemonDown, json: json(false), capacity: capacity, in: &state)
            case (true, true):
                return Self.append(.daemonDown, json: json(false), capacity: capacity, in: &state)
                    + Self.append(.daemonUp, json: json(true), capacity: capacity, in: &state)
            case (false, false): return []
            }
        })
    }

    /// A `: keep-alive` comment to every client.
    func heartbeat() {
        let slow = state.withLockedValue { Self.deliver(.heartbeat, in: &$0) }
        cut(slow)
    }

    /// Hands `delivery` to every client; those whose queue is full are removed and returned, to be cut off.
    private static func deliver(_ delivery: EventSubscription.Delivery, in state: inout State) -> [Client] {
        var slow: [Client] = []
        for (id, client) in state.clients {
            if case .dropped = client.continuation.yield(delivery) {
                state.clients.removeValue(forKey: id)
                state.cutOffTotal += 1
                slow.append(client)
            }
        }
        return slow
    }

    private func cut(_ slow: [Client]) {
        for client in slow {
            client.ended.withLockedValue { $0 = $0 ?? .tooSlow }
            client.continuation.finish()
            client.cutOff()
        }
        if !slow.isEmpty {
            logger.notice("event stream client cut off: it read slower than events came",
                          metadata: ["clients": "\(slow.count)", "queue_capacity": "\(settings.clientQueueCapacity)"])
        }
    }

    // MARK: the clients' side

    /// A new client, resuming after `lastEventId` when it sent one. Throws 503 while the stream is not running or
    /// when `maxClients` streams are open.
    func subscribe(lastEventId: UInt64?, cutOff: @escaping @Sendable () -> Void) throws -> EventSubscription {
        let (deliveries, continuation) = AsyncStream.makeStream(of: EventSubscription.Delivery.self,
                                                                bufferingPolicy: .bufferingOldest(settings.clientQueueCapacity))
        let ended = NIOLockedValueBox<EventSubscription.End?>(nil)
        let (id, replay, missed, daemons) = try state.withLockedValue { state in
            guard state.running else {
                throw APIError(.serviceUnavailable, "events_unavailable", "the event stream is not running (the gateway is starting or stopping); try again")
            }
            guard state.clients.count < settings.maxClients else {
                throw APIError(.serviceUnavailable, "too_many_streams",
                               "\(settings.maxClients) event streams are open, the most this gateway serves (gateway.events.max_clients)")
            }
            let id = state.nextClient
            state.nextClient += 1
            state.clients[id] = Client(continuation: continuation, ended: ended, cutOff: cutOff)
            var replay: [StreamEvent] = []
            var missed: EventSubscription.Missed?
            if let lastEventId {
                // Known: inside the buffer, or the newest id given out (nothing missed). Else older than the buffer or
                // not this gateway's: everything still buffered follows a notice that events were missed.
                if lastEventId + 1 >= state.oldestId && lastEventId < state.nextId {
                    replay = state.events(after: lastEventId)
                } else {
                    missed = .init(lastEventId: lastEventId, firstAvailableId: state.oldestId)
                    replay = state.events(after: 0)
                }
            }
            let daemons = state.daemons.mapValues { $0 ? "up" : "down" }
            return (id, replay, missed, daemons)
        }
        return EventSubscription(id: id, replay: replay, missed: missed, daemons: daemons, deliveries: deliveries, ended: ended, fanOut: self)
    }

    func remove(_ id: Int) {
        let client = state.withLockedValue { $0.clients.removeValue(forKey: id) }
        client?.continuation.finish()
    }

    var clientCount: Int { state.withLockedValue { $0.clients.count } }
    /// Clients cut off for being too slow since the gateway started.
    var cutOffTotal: Int { state.withLockedValue { $0.cutOffTotal } }
    /// The id the next event will get.
    var nextId: UInt64 { state.withLockedValue { $0.nextId } }
}
