import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `GET /api/events` over real HTTP on loopback, through the whole middleware, with the fan-out started by hand and
/// events published by the test (EventFanOutTests has the fan-out alone; IntegrationTests the real daemons).
@Suite("GET /api/events")
struct EventStreamTests {
    static func harness(queue: Int = 1_000) throws -> APIHarness {
        var settings = GatewaySettings()
        settings.events.clientQueueCapacity = queue
        return try APIHarness(settings: settings)
    }

    /// The live application on a free loopback port; `body` gets the port.
    static func live<T: Sendable>(_ h: APIHarness, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
        h.events.start()
        let app = Application(router: GatewayRoutes.build(environment: h.environment),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [h.usage], logger: quietLogger)
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            let result = try await body(port)
            // The server waits for open streams when it stops: end them, as the gateway's event feed does.
            h.events.close()
            return result
        }
    }

    /// A stream open, its first notice received.
    static func opened(port: Int, token: String) async throws -> EventStreamClient {
        let stream = try await EventStreamClient.connect(port: port, token: token)
        #expect(stream.status == 200, "\(stream.errorBody ?? "")")
        try await stream.wait(for: "the daemons notice") { !$0.events.isEmpty }
        return stream
    }

    static func publishOrders(_ h: APIHarness, _ range: ClosedRange<Int>, padding: Int = 0) {
        let pad = String(repeating: "x", count: padding)
        for n in range { h.events.publish(.order, json: Data(#"{"n":\#(n),"pad":"\#(pad)"}"#.utf8)) }
    }

    @Test("Free and Pro are refused with 403 tier_forbidden; a bad Last-Event-ID is 400")
    func tiers() async throws {
        let h = try Self.harness()
        h.events.start()
        let free = try await h.token(owner: "fay", tier: .free)
        let pro = try await h.token(owner: "pat", tier: .pro)
        let enterprise = try await h.token(owner: "ezra", tier: .enterprise)
        try await h.app.test(.router) { client in
            for token in [free, pro] {
                let response = try await client.call(.get, "/api/events", token: token)
                #expect(response.status == .forbidden)
                #expect(response.errorCode == "tier_forbidden", "\(String(buffer: response.body))")
                #expect(response["X-RateLimit-Limit"] != nil)
            }
            for bad in ["abc", "-1", "12345678901234567890123"] {
                let response = try await client.call(.get, "/api/events", token: enterprise, headers: [EventRoutes.lastEventIdHeader: bad])
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response.errorCode == "bad_request")
            }
        }
        #expect(h.events.clientCount == 0)
    }

    @Test("Enterprise and admin stream: the daemons notice, then every event with its id, kind and JSON; a heartbeat comment")
    func enterpriseAndAdminStream() async throws {
        let h = try Self.harness()
        let enterprise = try await h.token(owner: "ezra", tier: .enterprise)
        let admin = try await h.token(owner: "root", tier: .pro, role: .admin)
        try await Self.live(h) { port in
            for token in [enterprise, admin] {
                let stream = try await Self.opened(port: port, token: token)
                #expect(stream.contentType?.hasPrefix("text/event-stream") == true)
                #expect(stream.events.first?.event == "daemons")
                #expect(stream.events.first?.id == nil)
                let first = h.events.nextId
                Self.publishOrders(h, 1...3)
                h.events.heartbeat()
                try await stream.wait(for: "three orders and a heartbeat") { $0.numbered.count == 3 && $0.comments.contains("keep-alive") }
                #expect(stream.numbered.map(\.id) == (first..<first + 3).map { String($0) })
                #expect(stream.numbered.map(\.event) == ["order", "order", "order"])
                #expect(stream.numbered.map { $0.json["n"] as? Int } == [1, 2, 3])
                await stream.close()
            }
        }
    }

    @Test("disconnect, then resume with Last-Event-ID: the events after it, without gap or duplicate; too old: the missed notice")
    func resume() async throws {
        let h = try Self.harness()
        let token = try await h.token(owner: "ezra", tier: .enterprise)
        try await Self.live(h) { port in
            let first = try await Self.opened(port: port, token: token)
            Self.publishOrders(h, 1...10)
            try await first.wait(for: "ten orders") { $0.numbered.count == 10 }
            await first.close()
            let last = try #require(first.numbered.last?.id)
            Self.publishOrders(h, 11...15)
            let second = try await EventStreamClient.connect(port: port, token: token, lastEventId: last)
            Self.publishOrders(h, 16...20)
            try await second.wait(for: "the ten events after \(last)") { $0.numbered.count == 10 }
            let all = first.numbered + second.numbered
            #expect(all.map { $0.json["n"] as? Int } == Array(1...20).map { $0 })
            #expect(Set(all.compactMap(\.id)).count == 20)
            #expect(zip(all, all.dropFirst()).allSatisfy { UInt64($0.id!)! + 1 == UInt64($1.id!)! })
            #expect(!second.events.contains { $0.event == "missed" })
            await second.close()

            let stale = try await EventStreamClient.connect(port: port, token: token, lastEventId: "7")
            try await stale.wait(for: "the missed notice and the buffer") { $0.numbered.count == 20 }
            let missed = try #require(stale.events.first { $0.event == "missed" })
            #expect(missed.id == nil)
            #expect(missed.json["lastEventId"] as? Int == 7)
            await stale.close()
        }
    }

    @Test("a client that stops reading is cut off, its connection closed; a fast client keeps receiving every event")
    func slowClientOverHTTP() async throws {
        let h = try Self.harness(queue: 10)
        let token = try await h.token(owner: "ezra", tier: .enterprise)
        try await Self.live(h) { port in
            let fast = try await Self.opened(port: port, token: token)
            let slow = try await EventStreamClient.connect(port: port, token: token, readBody: false)
            try await waitUntil("both streams open") { h.events.clientCount == 2 }
            // 64 KiB events, one at a time as the fast client takes them: the slow client's socket fills, then its queue.
            var n = 0
            while h.events.cutOffTotal == 0 && n < 2_000 {
                n += 1
                Self.publishOrders(h, n...n, padding: 65_536)
                try await fast.wait(for: "event \(n) at the fast client") { $0.numbered.count == n }
            }
            #expect(h.events.cutOffTotal == 1, "the slow client was cut off after \(n) events")
            #expect(h.events.clientCount == 1)
            Self.publishOrders(h, (n + 1)...(n + 5))
            try await fast.wait(for: "the events after the cut") { $0.numbered.count == n + 5 }
            #expect(fast.ended == nil)
            await slow.close()
            await fast.close()
        }
    }

    @Test("the gateway stopping ends every stream cleanly, with a comment saying so")
    func shutdownEndsCleanly() async throws {
        let h = try Self.harness()
        let token = try await h.token(owner: "ezra", tier: .enterprise)
        try await Self.live(h) { port in
            let stream = try await Self.opened(port: port, token: token)
            h.events.close()
            try await stream.wait(for: "the stream to end") { $0.ended != nil }
            #expect(stream.ended == "finished")
            #expect(stream.comments.contains { $0.contains("stopping") })
            await stream.close()
        }
    }
}
