import Foundation
import BagbotTestSupport
import Logging
import Synchronization
import Testing
@testable import RouterCore

@Suite("A Binance WebSocket and the REST gate's bans")
struct ReconnectingWebSocketTests {
    /// How often the socket asked whether Binance refuses this machine, and what happened on each connection.
    final class Witness: Sendable {
        let asked = Atomic<Int>(0)
        let opened = Atomic<Int>(0)
        let closed = Atomic<Int>(0)
        let refused = Atomic<Bool>(false)

        /// Runs `socket` until cancelled, counting its connections.
        func run(_ socket: ReconnectingWebSocket) -> Task<Void, Never> {
            Task {
                await socket.run(opened: { _ in self.opened.add(1, ordering: .relaxed) },
                                 message: { _ in true },
                                 closed: { self.closed.add(1, ordering: .relaxed) })
            }
        }
    }

    @Test("a ban recorded while a connection is being made: nothing is sent on it, it is closed, and no new one is made during the ban")
    func banDuringConnect() async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        let witness = Witness()
        // Free when the loop starts; banned from the moment the connection is made (a 418 over REST meanwhile).
        let socket = ReconnectingWebSocket(url: fake.marketStreamURL + BinanceMarketData.streamPath(["BTCUSDT"]), name: "test stream",
                                           logger: Logger(label: "ws-test"),
                                           blockedFor: { witness.asked.add(1, ordering: .relaxed).newValue == 1 ? nil : .seconds(3_600) })
        let run = witness.run(socket)
        defer { run.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while witness.closed.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(witness.closed.load(ordering: .relaxed) == 1, "the connection was made and closed")
        #expect(witness.opened.load(ordering: .relaxed) == 0, "a subscription went out on a connection made during a ban")
        // The loop now waits out the ban (an hour) instead of connecting again.
        try await Task.sleep(for: .seconds(2))
        #expect(witness.closed.load(ordering: .relaxed) == 1)
        #expect(witness.asked.load(ordering: .relaxed) >= 3, "asked again before reconnecting")
    }

    @Test("a connection reaching its maximum age is closed and opened again, even with no message coming")
    func maximumAgeOnAQuietConnection() async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        let witness = Witness()
        var socket = ReconnectingWebSocket(url: fake.marketStreamURL + BinanceMarketData.streamPath(["BTCUSDT"]), name: "test stream",
                                           logger: Logger(label: "ws-test"))
        socket.maximumAge = .seconds(1)
        let run = witness.run(socket)
        defer { run.cancel() }
        // The fake sends the book once on connecting, then nothing (no price moves): each connection is quiet.
        let deadline = ContinuousClock.now + .seconds(30)
        while witness.opened.load(ordering: .relaxed) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(witness.opened.load(ordering: .relaxed) >= 3, "connections: \(witness.opened.load(ordering: .relaxed))")
    }

    @Test("while routerd works on a user-stream event (a reconcile), the connection's pings are answered: Binance does not drop it")
    func pingsAnsweredDuringSlowDelivery() async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        // A pong deadline short next to the delivery below, yet long enough for a loaded machine (the whole suite at once).
        _ = try await fake.control("ping", ["intervalSeconds": 0.5, "timeoutSeconds": 3])
        let witness = Witness()
        let stream = BinanceUserStream(
            url: fake.webSocketAPIURL, credential: .hmac(apiKey: FakeBinance.apiKey, secret: Array(FakeBinance.hmacSecret.utf8)),
            recvWindowMilliseconds: 5_000, logger: Logger(label: "uds-test"),
            timestamp: { Int64(Date().timeIntervalSince1970 * 1_000) }, blockedFor: { nil },
            deliver: { event in
                guard event == .subscribed else { return }
                witness.opened.add(1, ordering: .relaxed)
                // A reconcile that takes 7 s (Binance slow to answer its REST look-ups).
                try? await Task.sleep(for: .seconds(7))
            })
        let run = Task { await stream.run() }
        defer { run.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while witness.opened.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        // Dropped, it would be subscribed again within about 9 s (the 7 s delivery, then a back-off of 1–1.5 s).
        try await Task.sleep(for: .seconds(12))
        let subscriptions = try await fake.requests().filter { ($0["method"] as? String) == "userDataStream.subscribe.signature" }
        #expect(subscriptions.count == 1, "subscribed \(subscriptions.count) times: the connection was dropped during the slow delivery")
    }

    @Test("a 429 on the user stream's subscription is in force before the next connection, even while routerd is busy with an earlier event")
    func refusalBeforeReconnecting() async throws {
        let fake = try await FakeBinance.start()
        defer { fake.stop() }
        let witness = Witness()
        let stream = BinanceUserStream(
            url: fake.webSocketAPIURL, credential: .hmac(apiKey: FakeBinance.apiKey, secret: Array(FakeBinance.hmacSecret.utf8)),
            recvWindowMilliseconds: 5_000, logger: Logger(label: "uds-test"),
            timestamp: { Int64(Date().timeIntervalSince1970 * 1_000) },
            blockedFor: { witness.refused.load(ordering: .relaxed) ? .seconds(60) : nil },
            deliver: { event in
                if case .refused = event { witness.refused.store(true, ordering: .relaxed) }
                guard event == .subscribed, witness.opened.add(1, ordering: .relaxed).newValue == 1 else { return }
                // The reconcile after the first subscription takes long (Binance slow, the gate waiting for a window).
                try? await Task.sleep(for: .seconds(15))
            })
        let run = Task { await stream.run() }
        defer { run.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while witness.opened.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        // The connection drops; the next subscription is answered 429 with a Retry-After of 30 s.
        _ = try await fake.control("behaviour", ["name": "reject_429", "count": 1, "retryAfter": 30])
        _ = try await fake.control("behaviour", ["name": "drop_streams"])
        try await Task.sleep(for: .seconds(8))
        let requests = try await fake.requests()
        let subscriptions = requests.filter { ($0["method"] as? String) == "userDataStream.subscribe.signature" }
        #expect(subscriptions.count == 2, "subscribed \(subscriptions.count) times: again during the 429's Retry-After")
        #expect(!requests.contains { ($0["status"] as? Int) == 418 }, "banned for a request inside the Retry-After")
        let wasRefused = witness.refused.load(ordering: .relaxed)
        #expect(wasRefused, "the 429 was handed on")
    }
}

