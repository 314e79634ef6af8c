import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// How a topic treats a subscriber that cannot keep up.
public enum DeliveryPolicy: Sendable {
    /// Market data: the oldest queued events are dropped (and counted); only fresh ticks matter.
    case dropOldest
    /// Orders and fills: nothing is dropped; a subscriber whose queue overflows is disconnected and must
    /// resubscribe and re-read state.
    case neverDrop
}

public struct EventTopic: Sendable, Hashable {
    public let name: String
    public let policy: DeliveryPolicy

    public init(_ name: String, policy: DeliveryPolicy) {
        self.name = name
        self.policy = policy
    }
}

public struct SubscriberLimits: Sendable {
    public var droppableCapacity: Int
    public var reliableCapacity: Int

    public init(droppableCapacity: Int = 1_024, reliableCapacity: Int = 16_384) {
        self.droppableCapacity = droppableCapacity
        self.reliableCapacity = reliableCapacity
    }
}

/// Where a service publishes its events: the hub, or a test's recorder. `requestId` names the trade the event
/// belongs to (the envelope's `rid`).
public protocol EventPublishing: Sendable {
    func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body, requestId: String?)
}

extension EventPublishing {
    public func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body) {
        publish(method, topic: topic, body: body, requestId: nil)
    }
}

/// Fans events out to subscribed connections. Publishing never blocks: each event is encoded once and
/// handed to every subscriber's own bounded queue on that subscriber's event loop.

public final class IPCEventHub: EventPublishing {
    /// Each connection's subscriber and topics, and each topic's subscribers: a publish (every tick, in a paced
    /// replay 100,000 a second) takes its topic's list as it is, in one look-up, instead of asking every subscriber.
    private struct Table {
        var connections: [ObjectIdentifier: (subscriber: IPCSubscriber, topics: Set<String>)] = [:]
        var byTopic: [String: [IPCSubscriber]] = [:]
    }

    private let table = NIOLockedValueBox(Table())
    private let droppedTotal = NIOLockedValueBox<Int>(0)
    private let limits: SubscriberLimits
    private let logger: Logger

    public init(limits: SubscriberLimits = SubscriberLimits(), logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Publishes `body` as an event frame with `method` to every subscriber of `topic`; `requestId`, the request id
    /// of the trade the event belongs to, goes in the envelope's `rid`.
    public func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body, requestId: String?) {
        guard let targets = table.withLockedValue({ $0.byTopic[topic.name] }), !targets.isEmpty else { return }
        let frame: ByteBuffer
        do {
            frame = try IPCCoding.encode(
                OutgoingEnvelope(id: nil, type: .event, method: method, rid: requestId, body: body),
                allocator: ByteBufferAllocator(), encoder: IPCCoding.makeEncoder(), lengthPrefixed: true)
        } catch {
            logger.error("event could not be encoded", metadata: ["method": "\(method)", "error": "\(error)"])
            return
        }
        for subscriber in targets {
            subscriber.enqueue(frame, policy: topic.policy)
        }
    }

    /// Adds `topics` to the connection's subscription.
    public func subscribe(_ connection: IPCConnection, to topics: [String]) {
        let key = ObjectIdentifier(connection)
        table.withLockedValue { table in
            var entry = table.connections[key]
                ?? (IPCSubscriber(connection: connection, limits: limits, hub: self, logger: logger), [])
            for topic in topics where entry.topics.insert(topic).inserted {
                table.byTopic[topic, default: []].append(entry.subscriber)
            }
            table.connections[key] = entry
        }
        // A subscribe read after the connection closed (frames left in its buffer are still handed on) must not
        // leave an entry that its `remove`, already run, will never take away.
        if !connection.channel.isActive { remove(connection) }
    }

    func remove(_ connection: IPCConnection) {
        table.withLockedValue { table in
            guard let entry = table.connections.removeValue(forKey: ObjectIdentifier(connection)) else { return }
            for topic in entry.topics {
                table.byTopic[topic]?.removeAll { $0 === entry.subscriber }
                if table.byTopic[topic]?.isEmpty == true { table.byTopic[topic] = nil }
            }
        }
    }

    func countDrop() {
        droppedTotal.withLockedValue { $0 += 1 }
    }

    /// Events dropped from slow subscribers' queues since start.
    public var droppedEvents: Int { droppedTotal.withLockedValue { $0 } }

    public var subscriberCount: Int { table.withLockedValue { $0.connections.count } }

    /// Called when a connection's socket becomes writable again.
    func connectionBecameWritable(_ connection: IPCConnection) {
        table.withLockedValue { $0.connections[ObjectIdentifier(connection)]?.subscriber }?.drain()
    }
}

/// One subscribed connection's queue, bounded at the moment of publishing: a publisher never waits, and
/// memory never grows with a slow reader. The queue is shared under a lock; one drain at a time runs on
/// the connection's event loop and writes as much as the socket takes, flushing once per batch.
final class IPCSubscriber: Sendable {
    private struct Queue {
        var items = CircularBuffer<(frame: ByteBuffer, policy: DeliveryPolicy)>(initialCapacity: 64)
        var droppable = 0
        var reliable = 0
        var drainScheduled = false
        var disconnecting = false
    }

    private enum Admission {
        case queued(scheduleDrain: Bool, droppedOldest: Bool)
        case overflow
        case ignored
    }

    private let connection: IPCConnection
    private let limits: SubscriberLimits
    private let hub: IPCEventHub
    private let logger: Logger
    private let queue = NIOLockedValueBox(Queue())

    init(connection: IPCConnection, limits: SubscriberLimits, hub: IPCEventHub, logger: Logger) {
        self.connection = connection
        self.limits = limits
        self.hub = hub
        self.logger = logger
    }

    func enqueue(_ frame: ByteBuffer, policy: DeliveryPolicy) {
        let limits = limits
        // A tick published in a batch is written at the batch's flush (`EventBatch`).
        let batch = policy == .dropOldest ? EventBatch.current : nil
        let admission = queue.withLockedValue { queue -> Admission in
            guard !queue.disconnecting else { return .ignored }
            var dropped = false
            switch policy {
            case .dropOldest:
                if queue.droppable >= limits.droppableCapacity {
                    if queue.items.first?.policy == .dropOldest {
                        queue.items.removeFirst()
                    } else if let oldest = queue.items.firstIndex(where: { $0.policy == .dropOldest }) {
                        queue.items.remove(at: oldest)
                    }
                    queue.droppable -= 1
                    dropped = true
                }
                queue.droppable += 1
            case .neverDrop:
                guard queue.reliable < limits.reliableCapacity else {
                    queue.disconnecting = true
                    return .overflow
                }
                queue.reliable += 1
            }
            queue.items.append((frame, policy))
            if batch != nil { return .queued(scheduleDrain: false, droppedOldest: dropped) }
            let schedule = !queue.drainScheduled
            queue.drainScheduled = true
            return .queued(scheduleDrain: schedule, droppedOldest: dropped)
        }
        switch admission {
        case .queued(let scheduleDrain, let droppedOldest):
            if droppedOldest { hub.countDrop() }
            if let batch {
                if !batch.holdWrite(for: self) { self.scheduleDrain() }
            } else if scheduleDrain {
                connection.channel.eventLoop.execute { self.drain() }
            }
        case .overflow:
            logger.warning(
                "subscriber cannot keep up with a stream that never drops; disconnecting it",
                metadata: ["peer_pid": "\(connection.peer.pid)", "queued": "\(limits.reliableCapacity)"])
            connection.channel.close(promise: nil)
        case .ignored:
            break
        }
    }

    /// Has the queue written unless a write is already due (a batch's flush).
    func scheduleDrain() {
        let schedule = queue.withLockedValue { queue -> Bool in
            guard !queue.drainScheduled, !queue.disconnecting, !queue.items.isEmpty else { return false }
            queue.drainScheduled = true
            return true
        }
        if schedule { connection.channel.eventLoop.execute { self.drain() } }
    }

    /// Writes queued events while the socket accepts them. Runs on the connection's event loop; when the
    /// socket is full it stops, and the writability change calls it again.
    func drain() {
        let channel = connection.channel
        guard channel.isActive else { return }
        var wrote = false
        while channel.isWritable {
            let batch = queue.withLockedValue { queue -> [ByteBuffer] in
                var batch: [ByteBuffer] = []
                while batch.count < 64, let item = queue.items.popFirst() {
                    switch item.policy {
                    case .dropOldest: queue.droppable -= 1
                    case .neverDrop: queue.reliable -= 1
                    }
                    batch.append(item.frame)
                }
                if batch.isEmpty { queue.drainScheduled = false }
                return batch
            }
            if batch.isEmpty { break }
            for frame in batch { channel.write(frame, promise: nil) }
            wrote = true
        }
        if wrote { channel.flush() }
    }
}

extension DeliveryPolicy: Equatable {}
