import Foundation
import Logging
import BagbotDomain

/// Keeps one connection to Binance's combined market streams open for as long as routerd runs
/// (binance-spot-api-docs, web-socket-streams.md; reconnects as `ReconnectingWebSocket` does, and at once on
/// `serverShutdown`). Ticks go to `deliver` in order, one at a time.
actor BinanceMarketStream {
    private let socket: ReconnectingWebSocket
    private let logger: Logger
    private var data: BinanceMarketData
    private let deliver: @Sendable (Tick) async -> Void
    private var isConnected = false

    init(baseURL: String, symbols: [String], logger: Logger, blockedFor: @escaping @Sendable () async -> Duration?,
         deliver: @escaping @Sendable (Tick) async -> Void) {
        let url = (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + BinanceMarketData.streamPath(symbols)
        socket = ReconnectingWebSocket(url: url, name: "Binance market stream", logger: logger, blockedFor: blockedFor)
        self.logger = logger
        data = BinanceMarketData(symbols: symbols)
        self.deliver = deliver
    }

    /// Connects and reconnects until cancelled.
    func run() async {
        await socket.run(opened: { _ in await self.opened() }, message: { await self.handle($0) }, closed: { await self.closed() })
    }

    private func opened() {
        isConnected = true
        logger.notice("Binance market stream connected", metadata: ["url": "\(socket.url)"])
    }

    private func closed() {
        if isConnected { logger.warning("Binance market stream disconnected; ticks after it are marked past a gap") }
        isConnected = false
        data.connectionLost()
    }

    /// Handles one message; false when the connection should be closed and opened again.
    private func handle(_ text: [UInt8]) async -> Bool {
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
