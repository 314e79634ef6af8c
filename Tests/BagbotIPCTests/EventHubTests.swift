import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import BagbotTestSupport
import Testing
@testable import BagbotIPC

struct TickEvent: Codable, Sendable {
    var seq: Int
    var pad: String
}

struct SubscribeRequest: Codable, Sendable {
    var topics: [String]
}

private let ticks = EventTopic("ticks", policy: .dropOldest)
private let fills = EventTopic("fills", policy: .neverDrop)
private let padding = String(repeating: "x", count: 200)

/// Adds `test.subscribe`, which subscribes the calling connection to the topics it names.
private func addSubscribe(_ server: IPCServer) {
    let hub = server.events
    server.registry.registerSync("test.subscribe", SubscribeRequest.self) { request, context in
        hub.subscribe(context.connection, to: request.topics)
        return EmptyBody()
    }
}

/// A raw connection that has said hello and subscribed, and will now read only when the test says so.
private func rawSubscriber(_ path: String, topics: [String]) async throws -> RawSocket {
    try await onThread {
        let socket = try RawSocket.connect(path)
        try socket.send(Wire.hello(id: 1))
        guard try socket.readReply()?.type == "response" else { throw TestFailure("hello failed") }
        let list = topics.map { "\"\($0)\"" }.joined(separator: ",")
        try socket.send(Wire.request(id: 2, method: "test.subscribe", body: #"{"topics":[\#(list)]}"#))
        guard try socket.readReply()?.type == "response" else { throw TestFailure("subscribe failed") }
        return socket
    }
}

/// What a client subscriber saw: sequence numbers in arrival order, per event method.
private final class EventLog: Sendable {
    private let box = NIOLockedValueBox<[String: [Int]]>([:])

    func record(_ method: String, _ seq: Int) {
        box.withLockedValue { $0[method, default: []].append(seq) }
    }

    func seqs(_ method: String) -> [Int] { box.withLockedValue { $0[method] ?? [] } }
    func last(_ method: String) -> Int? { box.withLockedValue { $0[method]?.last } }
    var methods: Set<String> { box.withLockedValue { Set($0.keys) } }
}

private func subscribedClient(_ path: String, topics: [String], log: EventLog) async throws -> IPCClient {
    try await connectedClient(socketPath: path) { client in
        client.onEvent { event in
            if let body = try? event.decode(TickEvent.self) {
                log.record(event.method, body.seq)
            }
        }
        client.onConnect { client in
            _ = try await client.call("test.subscribe", SubscribeRequest(topics: topics), as: EmptyBody.self)
        }
    }
}

private func isStrictlyIncreasing(_ values: [Int]) -> Bool {
    zip(values, values.dropFirst()).allSatisfy { $0 < $1 }
}

@Suite("IPC events: fan-out, slow subscribers, drop and disconnect policies")
struct EventHubTests {
    @Test("events reach only the subscribers of their topic, all of them, in order")
    func topicRouting() async throws {
        try await withServer(setup: addSubscribe) { server, directory in
            let tickLog = EventLog()
            let fillLog = EventLog()
            let tickClient = try await subscribedClient(directory.socketPath, topics: ["ticks"], log: tickLog)
            let fillClient = try await subscribedClient(directory.socketPath, topics: ["fills"], log: fillLog)
            try await waitUntil("both subscriptions") { server.events.subscriberCount == 2 }

            // nobody subscribes to this one: publishing must simply do nothing
            server.events.publish("status", topic: EventTopic("status", policy: .neverDrop), body: TickEvent(seq: 0, pad: ""))
            for seq in 0..<500 {
                server.events.publish("tick", topic: ticks, body: TickEvent(seq: seq, pad: ""))
                server.events.publish("fill", topic: fills, body: TickEvent(seq: seq, pad: ""))
            }
            try await waitUntil("all ticks") { tickLog.last("tick") == 499 }
            try await waitUntil("all fills") { fillLog.last("fill") == 499 }
            #expect(tickLog.methods == ["tick"])
            #expect(fillLog.methods == ["fill"])
            #expect(tickLog.seqs("tick") == Array(0..<500))
            #expect(fillLog.seqs("fill") == Array(0..<500))
            #expect(server.events.droppedEvents == 0)

            await tickClient.shutdown()
            try await waitUntil("the closed subscriber to be removed") { server.events.subscriberCount == 1 }
            await fillClient.shutdown()
            try await waitUntil("both removed") { server.events.subscriberCount == 0 }
        }
    }

    @Test("a connection that subscribes again, to a topic it has and to a new one, gets each event once; another leaving changes nothing")
    func subscribingAgain() async throws {
        try await withServer(setup: addSubscribe) { server, directory in
            let log = EventLog()
            let client = try await subscribedClient(directory.socketPath, topics: ["ticks"], log: log)
            try await waitUntil("the first subscription") { server.events.subscriberCount == 1 }
            // Again, awaited: a topic it has with a new one, then the new one alone.
            _ = try await client.call("test.subscribe", SubscribeRequest(topics: ["ticks", "fills"]), as: EmptyBody.self)
            _ = try await client.call("test.subscribe", SubscribeRequest(topics: ["fills"]), as: EmptyBody.self)
            let other = try await subscribedClient(directory.socketPath, topics: ["ticks", "fills"], log: EventLog())
            try await waitUntil("both subscriptions") { server.events.subscriberCount == 2 }
            await other.shutdown()
            try await waitUntil("the other removed") { server.events.subscriberCount == 1 }
            for seq in 0..<100 {
                server.events.publish("tick", topic: ticks, body: TickEvent(seq: seq, pad: ""))
                server.events.publish("fill", topic: fills, body: TickEvent(seq: seq, pad: ""))
            }
            try await waitUntil("all ticks and fills") { log.last("tick") == 99 && log.last("fill") == 99 }
            #expect(log.seqs("tick") == Array(0..<100))
            #expect(log.seqs("fill") == Array(0..<100))
            await client.shutdown()
            try await waitUntil("removed") { server.events.subscriberCount == 0 }
        }
    }

    @Test("a subscribe that arrives after its connection closed leaves nothing subscribed")
    func subscribeAfterClose() async throws {
        let hub = IPCEventHub(logger: Logger(label: "test"))
        let channel = EmbeddedChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        let connection = IPCConnection(channel: channel, peer: PeerCredentials(pid: 1, uid: 0, gid: 0))
        hub.subscribe(connection, to: ["ticks"])
        #expect(hub.subscriberCount == 1)
        hub.remove(connection)
        _ = try? await channel.close()
        hub.subscribe(connection, to: ["ticks", "fills"])
        #expect(hub.subscriberCount == 0)
        hub.publish("fill", topic: fills, body: TickEvent(seq: 0, pad: ""))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("ticks published in a batch wait for its flush; an order or fill takes them along in order; a finished batch holds nothing")
    func batchedTicks() async throws {
        try await withServer(setup: addSubscribe) { server, directory in
            let log = EventLog()
            let client = try await subscribedClient(directory.socketPath, topics: ["ticks", "fills"], log: log)
            try await waitUntil("the subscription") { server.events.subscriberCount == 1 }
            let batch = EventBatch()
            EventBatch.$current.withValue(batch) {
                for seq in 0..<10 { server.events.publish("tick", topic: ticks, body: TickEvent(seq: seq, pad: "")) }
            }
            // Held: nothing is written before the flush (given time to arrive if it had been).
            try await Task.sleep(for: .milliseconds(300))
            #expect(log.seqs("tick").isEmpty)
            batch.flush()
            try await waitUntil("the flushed ticks") { log.last("tick") == 9 }
            #expect(log.seqs("tick") == Array(0..<10))

            // A fill published in the batch's task is not held, and writes the ticks queued before it.
            EventBatch.$current.withValue(batch) {
                for seq in 10..<20 { server.events.publish("tick", topic: ticks, body: TickEvent(seq: seq, pad: "")) }
                server.events.publish("fill", topic: fills, body: TickEvent(seq: 1, pad: ""))
            }
            try await waitUntil("the fill") { log.last("fill") == 1 }
            try await waitUntil("the ticks before it") { log.last("tick") == 19 }

            // A task that still has the batch after it finished writes at once.
            batch.finish()
            EventBatch.$current.withValue(batch) {
                server.events.publish("tick", topic: ticks, body: TickEvent(seq: 20, pad: ""))
            }
            try await waitUntil("the tick after the batch finished") { log.last("tick") == 20 }
            #expect(log.seqs("tick") == Array(0...20))
            #expect(server.events.droppedEvents == 0)
            await client.shutdown()
        }
    }

    @Test("a subscriber that never reads does not stall ticks to a fast one; its dropped ticks are counted")
    func slowTickSubscriber() async throws {
        let limits = SubscriberLimits(droppableCapacity: 64, reliableCapacity: 1_024)
        try await withServer(limits: limits, setup: addSubscribe) { server, directory in
            let slow = try await rawSubscriber(directory.socketPath, topics: ["ticks"])
            defer { slow.close() }
            let fastLog = EventLog()
            let fast = try await subscribedClient(directory.socketPath, topics: ["ticks"], log: fastLog)
            try await waitUntil("both subscriptions") { server.events.subscriberCount == 2 }

            let total = 50_000
            for seq in 0..<total {
                server.events.publish("tick", topic: ticks, body: TickEvent(seq: seq, pad: padding))
            }
            // Publishing has returned although one subscriber has read nothing (≈12 MB were published).
            try await waitUntil("the fast subscriber to see the last tick", timeout: .seconds(120)) {
                fastLog.last("tick") == total - 1
            }
            #expect(isStrictlyIncreasing(fastLog.seqs("tick")), "ticks arrived out of order")
            #expect(server.events.droppedEvents > 0)
            #expect(server.events.subscriberCount == 2, "a droppable stream must not disconnect a slow reader")

            // When the slow one finally reads, it gets what was not dropped, oldest first, ending with the
            // newest tick: stale ticks went, fresh ones stayed.
            let slowSeqs = try await onThread { () -> [Int] in
                var seqs: [Int] = []
                while let reply = try slow.readReply(timeout: 60) {
                    if let seq = reply.body?.seq { seqs.append(seq) }
                    if seqs.last == total - 1 { break }
                }
                return seqs
            }
            #expect(slowSeqs.last == total - 1)
            #expect(slowSeqs.count < total)
            #expect(isStrictlyIncreasing(slowSeqs), "ticks to the slow subscriber arrived out of order")
            // every tick either subscriber missed is accounted for in the drop counter
            let missed = (total - slowSeqs.count) + (total - fastLog.seqs("tick").count)
            #expect(server.events.droppedEvents == missed)
            await fast.shutdown()
        }
    }

    @Test("a subscriber that cannot keep up with a never-drop stream is disconnected, not silently skipped")
    func slowReliableSubscriberIsDisconnected() async throws {
        // The queue bound may apply as events are published (a burst larger than it overflows even a reader
        // that keeps up), so bursts below stay well under it.
        let limits = SubscriberLimits(droppableCapacity: 64, reliableCapacity: 1_024)
        try await withServer(limits: limits, setup: addSubscribe) { server, directory in
            let slow = try await rawSubscriber(directory.socketPath, topics: ["fills"])
            defer { slow.close() }
            let fastLog = EventLog()
            let fast = try await subscribedClient(directory.socketPath, topics: ["fills"], log: fastLog)
            try await waitUntil("both subscriptions") { server.events.subscriberCount == 2 }

            // Published in batches small enough (≈46 KB) for a reader that keeps up never to fall behind;
            // the one that never reads falls behind anyway, and far beyond its 1,024-event queue.
            let total = 20_000
            let batch = 200
            for start in stride(from: 0, to: total, by: batch) {
                for seq in start..<(start + batch) {
                    server.events.publish("fill", topic: fills, body: TickEvent(seq: seq, pad: padding))
                }
                try await waitUntil("the fast subscriber to catch up") { fastLog.last("fill") == start + batch - 1 }
            }
            // the slow one is cut off while it still has read nothing
            try await waitUntil("the slow subscriber to be disconnected", timeout: .seconds(120)) {
                server.events.subscriberCount == 1
            }
            let received = try await onThread { () -> (seqs: [Int], closed: Bool) in
                let bytes = try slow.readAllUntilEOF(timeout: 60)
                let seqs = try Wire.frames(in: bytes).frames.map { try Reply.decode($0).body?.seq ?? -1 }
                return (seqs, slow.sawEOF)
            }
            #expect(received.closed)
            #expect(received.seqs.count < total)
            // what it got is a gap-free prefix: nothing was dropped from the middle
            #expect(received.seqs == Array(0..<received.seqs.count))
            #expect(server.events.droppedEvents == 0)

            // the subscriber that keeps up got every fill
            #expect(fastLog.seqs("fill") == Array(0..<total))
            await fast.shutdown()
        }
    }
}
