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

/// Fans events out to subscribed connections. Publishing never blocks: each event is encoded once and
/// handed to every subscriber's own bounded queue on that subscriber's event loop.
public final class IPCEventHub: Sendable {
    private let subscribers = NIOLockedValueBox<[ObjectIdentifier: IPCSubscriber]>([:])
    private let droppedTotal = NIOLockedValueBox<Int>(0)
    private let limits: SubscriberLimits
    private let logger: Logger

    public init(limits: SubscriberLimits = SubscriberLimits(), logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Publishes `body` as an event frame with `method` to every subscriber of `topic`.
    public func publish<Body: Encodable & Sendable>(_ method: String, topic: EventTopic, body: Body) {
        let targets = subscribers.withLockedValue { $0.values.filter { $0.isSubscribed(to: topic.name) } }
        guard !targets.isEmpty else { return }
        let frame: ByteBuffer
        do {
            frame = try IPCCoding.encode(
                OutgoingEnvelope(id: nil, type: .event, method: method, body: body),
                allocator: ByteBufferAllocator(), encoder: IPCCoding.makeEncoder())
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
        let subscriber = subscribers.withLockedValue { table -> IPCSubscriber in
            let key = ObjectIdentifier(connection)
            if let existing = table[key] { return existing }
            let created = IPCSubscriber(connection: connection, limits: limits, hub: self, logger: logger)
            table[key] = created
            return created
        }
        subscriber.add(topics: topics)
    }

    func remove(_ connection: IPCConnection) {
        _ = subscribers.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    func countDrop() {
        droppedTotal.withLockedValue { $0 += 1 }
    }

    /// Events dropped from slow subscribers' queues since start.
    public var droppedEvents: Int { droppedTotal.withLockedValue { $0 } }

    public var subscriberCount: Int { subscribers.withLockedValue { $0.count } }

    /// Called when a connection's socket becomes writable again.
    func connectionBecameWritable(_ connection: IPCConnection) {
        subscribers.withLockedValue { $0[ObjectIdentifier(connection)] }?.drain()
    }
}

/// One subscribed connection's queue. All queue state is touched only on the connection's event loop.
final class IPCSubscriber: @unchecked Sendable {
    private let connection: IPCConnection
    private let limits: SubscriberLimits
    private unowned let hub: IPCEventHub
    private let logger: Logger
    private let topics = NIOLockedValueBox<Set<String>>([])
    private var queue = CircularBuffer<(frame: ByteBuffer, policy: DeliveryPolicy)>(initialCapacity: 64)
    private var droppableQueued = 0
    private var reliableQueued = 0
    private var disconnecting = false

    init(connection: IPCConnection, limits: SubscriberLimits, hub: IPCEventHub, logger: Logger) {
        self.connection = connection
        self.limits = limits
        self.hub = hub
        self.logger = logger
    }

    func add(topics new: [String]) {
        topics.withLockedValue { $0.formUnion(new) }
    }

    func isSubscribed(to topic: String) -> Bool {
        topics.withLockedValue { $0.contains(topic) }
    }

    func enqueue(_ frame: ByteBuffer, policy: DeliveryPolicy) {
        let loop = connection.channel.eventLoop
        if loop.inEventLoop {
            enqueueOnLoop(frame, policy: policy)
        } else {
            loop.execute { self.enqueueOnLoop(frame, policy: policy) }
        }
    }

    private func enqueueOnLoop(_ frame: ByteBuffer, policy: DeliveryPolicy) {
        let channel = connection.channel
        guard !disconnecting, channel.isActive else { return }
        if queue.isEmpty && channel.isWritable {
            channel.writeAndFlush(frame, promise: nil)
            return
        }
        switch policy {
        case .dropOldest:
            if droppableQueued >= limits.droppableCapacity, let oldest = queue.firstIndex(where: { $0.policy == .dropOldest }) {
                queue.remove(at: oldest)
                droppableQueued -= 1
                hub.countDrop()
            }
            droppableQueued += 1
        case .neverDrop:
            guard reliableQueued < limits.reliableCapacity else {
                disconnecting = true
                logger.warning(
                    "subscriber cannot keep up with a stream that never drops; disconnecting it",
                    metadata: ["peer_pid": "\(connection.peer.pid)", "queued": "\(queue.count)"])
                channel.close(promise: nil)
                return
            }
            reliableQueued += 1
        }
        queue.append((frame, policy))
    }

    func drain() {
        let channel = connection.channel
        var wrote = false
        while channel.isWritable, let item = queue.popFirst() {
            switch item.policy {
            case .dropOldest: droppableQueued -= 1
            case .neverDrop: reliableQueued -= 1
            }
            channel.write(item.frame, promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
    }
}

extension DeliveryPolicy: Equatable {}
