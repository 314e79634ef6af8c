import Foundation
import Logging
import WSClient
import BagbotDomain

/// Keeps one connection to Binance's combined market streams open for as long as routerd runs
/// (binance-spot-api-docs, web-socket-streams.md): reconnects after any drop with a growing, jittered pause (1 s,
/// 2 s, 4 s … 60 s; Binance allows 300 connection attempts per 5 minutes per IP), reconnects by itself before
/// Binance's 24-hour cut and at once on `serverShutdown`, and answers the server's pings (swift-websocket does,
/// with the ping's payload, as Binance asks). Ticks go to `deliver` in order, one at a time.
actor BinanceMarketStream {
    let url: String
    private let logger: Logger
    private var data: BinanceMarketData
    private let deliver: @Sendable (Tick) async -> Void
    /// Reconnect before Binance's 24-hour cut, so the drop happens when BAGBOT chooses.
    let maximumConnectionAge: Duration
    private(set) var connections = 0
    private(set) var isConnected = false
    private var connectedAt = ContinuousClock.now

    init(baseURL: String, symbols: [String], logger: Logger, maximumConnectionAge: Duration = .seconds(23 * 3_600 + 50 * 60),
         deliver: @escaping @Sendable (Tick) async -> Void) {
        url = (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + BinanceMarketData.streamPath(symbols)
        self.logger = logger
        data = BinanceMarketData(symbols: symbols)
        self.maximumConnectionAge = maximumConnectionAge
        self.deliver = deliver
    }

    /// Connects and reconnects until cancelled.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 16), logger: logger) { inbound, _, _ in
                    await self.opened()
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        guard case .text(let text) = message else { continue }
                        guard await self.handle(Array(text.utf8)) else { return }
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("Binance market stream failed", metadata: ["error": "\(error)"]) }
            }
            closed()
            if Task.isCancelled { return }
            // A connection that lasted a minute was healthy: start the back-off again from its shortest pause.
            failures = ContinuousClock.now - started > .seconds(60) ? 0 : failures + 1
            let pause = Self.backoff(failures: failures)
            logger.notice("reconnecting to Binance's market stream", metadata: ["after": "\(pause)"])
            try? await Task.sleep(for: pause)
        }
    }

    /// 0 failures: at once (a chosen reconnect); then 1 s, 2 s, 4 s … up to 60 s, each with up to 50 % more at random
    /// (many clients dropped together do not all come back in the same second).
    static func backoff(failures: Int) -> Duration {
        guard failures > 0 else { return .milliseconds(100) }
        let base = min(60.0, pow(2.0, Double(min(failures - 1, 6))))
        return .milliseconds(Int(base * 1_000 * Double.random(in: 1.0...1.5)))
    }

    private func opened() {
        connections += 1
        isConnected = true
        connectedAt = .now
        logger.notice("Binance market stream connected", metadata: ["url": "\(url)", "connection": "\(connections)"])
    }

    private func closed() {
        if isConnected { logger.warning("Binance market stream disconnected; ticks after it are marked past a gap") }
        isConnected = false
        data.connectionLost()
    }

    /// Handles one message; false when the connection should be closed and opened again.
    private func handle(_ text: [UInt8]) async -> Bool {
        if Task.isCancelled { return false }
        if ContinuousClock.now - connectedAt > maximumConnectionAge {
            logger.notice("Binance market stream: reconnecting before Binance's 24-hour cut")
            return false
        }
        switch data.read(text, receivedAt: Date()) {
        case .tick(let tick):
            await deliver(tick)
        case .serverShutdown:
            logger.notice("Binance announced a server shutdown; reconnecting")
            return false
        case .ignored:
            break
        case .unreadable(let reason):
            logger.warning("unreadable message on Binance's market stream ignored", metadata: ["reason": "\(reason)"])
        }
        return true
    }
}
