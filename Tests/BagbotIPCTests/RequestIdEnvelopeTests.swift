import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import BagbotIPC

private struct RidAnswer: Codable, Sendable {
    var requestId: String?
    var loggedAs: String?
    /// `RequestId.current` while the handler ran.
    var task: String?
}

private struct TradeBody: Codable, Sendable {
    var requestId: String?
}

private struct SubscribeTopics: Codable, Sendable {
    var topics: [String]
}

/// A logger that keeps its metadata (the no-op handler forgets it) and prints nothing below critical.
private let keepingLogger: Logger = {
    var logger = Logger(label: "rid-test") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .critical
    return logger
}()

/// `test.rid` answers what the server made of the envelope's `rid`; `test.trade` also checks it against the body.
private func addRequestIdMethods(_ server: IPCServer) {
    server.registry.registerSync("test.rid", EmptyBody.self) { _, call in
        RidAnswer(requestId: call.requestId, loggedAs: call.logger[metadataKey: "request_id"].map { "\($0)" }, task: RequestId.current)
    }
    server.registry.register("test.ridAsync", EmptyBody.self) { _, call in
        await Task.yield()
        return RidAnswer(requestId: call.requestId, loggedAs: nil, task: RequestId.current)
    }
    server.registry.register("test.trade", TradeBody.self) { body, call in
        try call.checkRequestId(matches: body.requestId)
        return RidAnswer(requestId: call.requestId, loggedAs: nil, task: nil)
    }
    let hub = server.events
    server.registry.registerSync("test.subscribe", SubscribeTopics.self) { request, call in
        hub.subscribe(call.connection, to: request.topics)
        return EmptyBody()
    }
}

/// The envelope's `rid`: the request id of the trade a call or event belongs to, carried from arsenald's signal
/// through mindsetd's decision and routerd's order to the fill, so each receiver's lines about it carry it.
@Suite("IPC envelope: a trade's request id (rid)")
struct RequestIdEnvelopeTests {
    private func header(of frame: ByteBuffer) throws -> EnvelopeHeader {
        try IncomingFrame(frame: frame, decoder: IPCCoding.makeDecoder()).header
    }

    @Test("written only when given, read alike by the scanner and by JSONDecoder; null and absent are no id")
    func coding() throws {
        let with = try IPCCoding.frame(id: 3, type: .request, method: "mindset.evaluate", requestId: "a1b2-17", body: EmptyBody())
        #expect(String(buffer: with) == #"{"v":1,"id":3,"type":"request","method":"mindset.evaluate","rid":"a1b2-17","body":{}}"#)
        #expect(try header(of: with).rid == "a1b2-17")
        #expect(try IPCCoding.makeDecoder().decode(EnvelopeHeader.self, from: with).rid == "a1b2-17")
        let without = try IPCCoding.frame(id: 3, type: .request, method: "m", body: EmptyBody())
        #expect(!String(buffer: without).contains("rid"))
        #expect(try header(of: without).rid == nil)

        // The scanner reads the plain form in any position; an escaped one goes through JSONDecoder, same answer.
        let first = ByteBuffer(string: #"{"rid":"m-key_1","v":1,"id":9,"type":"event","method":"fill","body":{}}"#)
        #expect(first.withUnsafeReadableBytes { EnvelopeScanner.scan($0) }?.rid == "m-key_1")
        let escaped = ByteBuffer(string: #"{"v":1,"id":9,"type":"event","method":"fill","rid":"m-\u006by","body":{}}"#)
        #expect(escaped.withUnsafeReadableBytes { EnvelopeScanner.scan($0) } == nil)
        #expect(try header(of: escaped).rid == "m-ky")
        let null = ByteBuffer(string: #"{"v":1,"id":9,"type":"event","method":"fill","rid":null,"body":{}}"#)
        #expect(try header(of: null).rid == nil)
        // Twice is refused, as every envelope key is.
        let twice = ByteBuffer(string: #"{"v":1,"id":9,"type":"request","method":"m","rid":"a","rid":"b","body":{}}"#)
        #expect(throws: IPCError.self) { try header(of: twice) }
    }

    @Test("a handler sees the rid and its logger carries it as request_id; a malformed rid is refused, the connection goes on")
    func server() async throws {
        try await withServer(logger: keepingLogger, setup: addRequestIdMethods) { _, directory in
            let tooLong = String(repeating: "r", count: RequestId.maximumLength + 1)
            let frames = [
                Wire.frame(#"{"v":1,"id":2,"type":"request","method":"test.rid","rid":"k3x9-41","body":{}}"#),
                Wire.frame(#"{"v":1,"id":3,"type":"request","method":"test.rid","body":{}}"#),
                Wire.frame(#"{"v":1,"id":4,"type":"request","method":"test.rid","rid":"two words","body":{}}"#),
                Wire.frame(#"{"v":1,"id":5,"type":"request","method":"test.rid","rid":"","body":{}}"#),
                Wire.frame(#"{"v":1,"id":6,"type":"request","method":"test.rid","rid":"\#(tooLong)","body":{}}"#),
                Wire.frame(#"{"v":1,"id":7,"type":"request","method":"test.rid","rid":"bell\u0007","body":{}}"#),
                Wire.frame(#"{"v":1,"id":8,"type":"request","method":"test.rid","rid":"\u00e9t\u00e9","body":{}}"#),
                Wire.frame(#"{"v":1,"id":9,"type":"request","method":"test.rid","rid":7,"body":{}}"#),
                Wire.echo(id: 10, value: 5),
            ]
            let frameReplies: [[UInt8]?] = try await onThread {
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.send(Wire.hello(id: 1))
                _ = try socket.readReply()
                return try frames.map { frame in
                    try socket.send(frame)
                    return try socket.readFrame()
                }
            }
            let replies = try frameReplies.map { bytes in
                try bytes.map { try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] } ?? nil
            }
            let first = replies[0]?["body"] as? [String: Any]
            #expect(first?["requestId"] as? String == "k3x9-41")
            #expect(first?["loggedAs"] as? String == "k3x9-41")
            let second = replies[1]?["body"] as? [String: Any]
            #expect(second?["requestId"] == nil && second?["loggedAs"] == nil)
            for (index, reply) in replies[2...7].enumerated() {
                #expect(reply?["type"] as? String == "error", "frame \(index + 4)")
                #expect((reply?["body"] as? [String: Any])?["code"] as? String == "bad_request", "frame \(index + 4)")
            }
            // A rid of the wrong type leaves the envelope unreadable, so only the others' ids are answered.
            #expect(replies[2...6].map { $0?["id"] as? Int } == [4, 5, 6, 7, 8])
            #expect(((replies[2]?["body"] as? [String: Any])?["message"] as? String)?.contains("rid must be a request id") == true)
            #expect((replies[8]?["body"] as? [String: Any])?["value"] as? Int == 5)
        }
    }

    @Test("IPCClient.call sends the rid; a body naming another trade than its rid is refused")
    func client() async throws {
        try await withServer(logger: keepingLogger, setup: addRequestIdMethods) { _, directory in
            let client = try await connectedClient(socketPath: directory.socketPath)
            defer { Task { await client.shutdown() } }
            let seen: RidAnswer = try await client.call("test.rid", EmptyBody(), requestId: "c0ffee-3")
            #expect(seen.requestId == "c0ffee-3" && seen.loggedAs == "c0ffee-3" && seen.task == "c0ffee-3")
            let seenAsync: RidAnswer = try await client.call("test.ridAsync", EmptyBody(), requestId: "c0ffee-3a")
            #expect(seenAsync.requestId == "c0ffee-3a" && seenAsync.task == "c0ffee-3a")
            let plain: RidAnswer = try await client.call("test.rid", EmptyBody())
            #expect(plain.requestId == nil && plain.task == nil)
            // A call made while the task works on a trade names it without being told; an explicit id wins.
            let inherited: RidAnswer = try await RequestId.$current.withValue("c0ffee-9") {
                try await client.call("test.ridAsync", EmptyBody())
            }
            #expect(inherited.requestId == "c0ffee-9" && inherited.task == "c0ffee-9")
            let explicit: RidAnswer = try await RequestId.$current.withValue("c0ffee-9") {
                try await client.call("test.rid", EmptyBody(), requestId: "c0ffee-10")
            }
            #expect(explicit.requestId == "c0ffee-10")

            let agreed: RidAnswer = try await client.call("test.trade", TradeBody(requestId: "c0ffee-4"), requestId: "c0ffee-4")
            #expect(agreed.requestId == "c0ffee-4")
            // Either side alone is fine: old callers name none, and not every body has one.
            let _: RidAnswer = try await client.call("test.trade", TradeBody(requestId: "c0ffee-5"))
            let _: RidAnswer = try await client.call("test.trade", TradeBody(requestId: nil), requestId: "c0ffee-6")
            let refused = await #expect(throws: IPCError.self) {
                let _: RidAnswer = try await client.call("test.trade", TradeBody(requestId: "c0ffee-7"), requestId: "c0ffee-8")
            }
            #expect(refused?.code == .badRequest)
            #expect(refused?.message.contains("names another trade") == true)
        }
    }

    @Test("an event published with a request id carries it in its envelope")
    func events() async throws {
        try await withServer(setup: addRequestIdMethods) { server, directory in
            let seen = NIOLockedValueBox<[String?]>([])
            let client = try await connectedClient(socketPath: directory.socketPath) { client in
                client.onEvent { event in
                    seen.withLockedValue { $0.append(event.requestId) }
                }
            }
            defer { Task { await client.shutdown() } }
            let _: EmptyBody = try await client.call("test.subscribe", SubscribeTopics(topics: ["fills"]))
            let fills = EventTopic("fills", policy: .neverDrop)
            server.events.publish("fill", topic: fills, body: TradeBody(requestId: "e-1"), requestId: "e-1")
            server.events.publish("fill", topic: fills, body: TradeBody(requestId: nil))
            try await waitUntil("both events") { seen.withLockedValue { $0.count } == 2 }
            #expect(seen.withLockedValue { $0 } == ["e-1", nil])
        }
    }
}
