import Foundation
import Logging
import BagbotDomain

/// Keeps one connection to Binance's combined market streams open for as long as routerd runs
/// (binance-spot-api-docs, web-socket-streams.md; reconnects as `ReconnectingWebSocket` does, and at once on
/// `serverShutdown`). Ticks go to `deliver` one at a time, from a task of their own: the reader hands each tick
/// over without waiting (`LatestTicks`), so while routerd is busy each symbol's newest tick waits, not a backlog in
/// the socket; the ones replaced are counted and logged, and their numbering skips.
actor BinanceMarketStream {
    private let socket: ReconnectingWebSocket
    private let logger: Logger
    private var data: BinanceMarketData
    private let deliver: @Sendable (Tick) async -> Void
    private var isConnected = false
    private let handOver = LatestTicks()

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
        await withDiscardingTaskGroup { group in
            group.addTask { [handOver, deliver, logger] in
                await Self.deliverAll(from: handOver, to: deliver, logger: logger)
            }
            await socket.run(opened: { _ in await self.opened() }, message: { await self.handle($0) }, closed: { await self.closed() })
            handOver.finish()
        }
    }

    /// Ticks replaced by a newer one of their symbol before routerd took them, since the start.
    nonisolated var replacedTicks: Int { handOver.replacedCount }

    private static func deliverAll(from handOver: LatestTicks, to deliver: @Sendable (Tick) async -> Void, logger: Logger) async {
        var reported = 0
        var lastReport = ContinuousClock.now - .seconds(60)
        while let tick = await handOver.next() {
            await deliver(tick)
            let replaced = handOver.replacedCount
            if replaced > reported, ContinuousClock.now - lastReport >= .seconds(60) {
                logger.info("Binance ticks replaced by newer ones of their symbol before routerd took them", metadata: [
                    "replaced": "\(replaced - reported)", "replaced_since_start": "\(replaced)",
                ])
                reported = replaced
                lastReport = .now
            }
        }
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
            handOver.put(tick)
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
