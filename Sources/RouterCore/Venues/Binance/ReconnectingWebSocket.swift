import Foundation
import Logging
import WSClient

/// One WebSocket connection kept open for as long as it runs (swift-websocket's client): after any drop it connects
/// again after 1 s, 2 s, 4 s … 60 s, each up to 50 % longer at random (many clients dropped together do not all
/// come back in the same second; Binance allows 300 connection attempts per 5 minutes per IP); a connection is
/// closed when it reaches `maximumAge` and opened again (Binance cuts them at 24 hours). Pings are answered with
/// their payload by swift-websocket, as Binance asks, while the messages are read: `message` must not hold the
/// reader for long (hand slow work to a task of its own).
struct ReconnectingWebSocket: Sendable {
    let url: String
    let name: String
    let logger: Logger
    var maximumAge: Duration = .seconds(23 * 3_600 + 50 * 60)
    var maximumMessageBytes = 1 << 16
    /// How long nothing may be sent to Binance from this machine (a ban or back-off the REST gate holds: Binance's
    /// limits are per IP, connection attempts included); nil when a connection may be made now.
    var blockedFor: @Sendable () async -> Duration? = { nil }

    /// Runs until cancelled. For each connection: `opened` with its writer (to subscribe), then `message` for each
    /// text message until it answers false (close and reconnect now), then `closed`.
    func run(opened: @escaping @Sendable (WebSocketOutboundWriter) async throws -> Void,
             message: @escaping @Sendable ([UInt8]) async -> Bool,
             closed: @escaping @Sendable () async -> Void) async {
        var failures = 0
        while !Task.isCancelled {
            if let wait = await blockedFor() {
                logger.notice("\(name): Binance is refusing this machine's requests; connecting when it allows", metadata: ["after": "\(wait)"])
                try? await Task.sleep(for: wait)
                continue
            }
            let started = ContinuousClock.now
            let maximumAge = maximumAge
            let name = name
            let logger = logger
            let blockedFor = blockedFor
            do {
                // Pings of its own every 20 s, answered or the connection is closed: a connection dropped without a
                // word (a failover, a changed network path) would otherwise wait for a frame for ever.
                let configuration = WebSocketClientConfiguration(maxFrameSize: maximumMessageBytes, autoPing: .enabled(timePeriod: .seconds(20)))
                try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                    // A ban or back-off the REST gate recorded while this connection was being made: nothing is
                    // sent on it (a subscription is a request like any other); it is closed, and the loop waits.
                    if await blockedFor() != nil { return }
                    try await opened(outbound)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        // Closed from our side before Binance's cut, quiet or not; what arrives until the close is
                        // complete is still read and handed on.
                        group.addTask {
                            try await Task.sleep(until: started + maximumAge)
                            logger.notice("\(name): reconnecting before Binance's 24-hour cut")
                            try await outbound.close(.normalClosure, reason: "reconnecting before the 24-hour cut")
                        }
                        defer { group.cancelAll() }
                        for try await frame in inbound.messages(maxSize: maximumMessageBytes) {
                            if Task.isCancelled { return }
                            guard case .text(let text) = frame else { continue }
                            guard await message(Array(text.utf8)) else { return }
                        }
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("\(name) failed", metadata: ["error": "\(error)"]) }
            }
            await closed()
            if Task.isCancelled { return }
            // A connection that lasted a minute was healthy: the back-off starts again from its shortest pause.
            failures = ContinuousClock.now - started > .seconds(60) ? 0 : failures + 1
            let pause = Self.backoff(failures: failures)
            logger.notice("\(name): connecting again", metadata: ["after": "\(pause)"])
            try? await Task.sleep(for: pause)
        }
    }

    /// 0 failures: almost at once (a chosen reconnect); then 1 s, 2 s, 4 s … 60 s, each with up to 50 % more at random.
    static func backoff(failures: Int) -> Duration {
        guard failures > 0 else { return .milliseconds(100) }
        let base = min(60.0, pow(2.0, Double(min(failures - 1, 6))))
        return .milliseconds(Int(base * 1_000 * Double.random(in: 1.0...1.5)))
    }
}
