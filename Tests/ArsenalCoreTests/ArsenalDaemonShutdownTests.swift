import Foundation
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotTestSupport
import NIOConcurrencyHelpers
import ServiceLifecycleTestKit
import Testing
@testable import ArsenalCore

/// A routerd and a mindsetd on real Unix sockets, as far as arsenald's start and shutdown need them.
private struct FakePeers {
    let router: IPCServer
    let mindset: IPCServer
    /// routerd's fill log beyond the snapshot (sequence 1); `router.fills` answers from it.
    let fillLog = NIOLockedValueBox<[Fill]>([])
    let recordedTrades = NIOLockedValueBox<[ClosedTrade]>([])

    init(config: BagbotConfig) async throws {
        router = IPCServer(serviceName: "routerd", configuration: .from(config, service: "routerd"), logger: quietLogger)
        mindset = IPCServer(serviceName: "mindsetd", configuration: .from(config, service: "mindsetd"), logger: quietLogger)
        let hub = router.events
        router.registry.registerSync(Methods.routerSubscribe, SubscribeRequest.self) { request, context in
            hub.subscribe(context.connection, to: request.topics)
            return SubscribeResponse(topics: request.topics)
        }
        router.registry.registerSync(Methods.routerStrategyPositions, EmptyBody.self) { _, _ in
            StrategyPositionsResponse(
                positions: [StrategyPosition(strategyId: "micro_trend", symbol: "BTCUSDT", quantity: 1, averagePrice: 100, cost: 100)],
                throughSequence: 1, databaseId: "test-db")
        }
        router.registry.registerSync(Methods.routerSymbolRules, EmptyBody.self) { _, _ in SymbolRulesResponse(symbols: []) }
        let fillLog = fillLog
        router.registry.registerSync(Methods.routerFills, FillsQuery.self) { query, _ in
            let all = fillLog.withLockedValue { $0 }
            return FillsResponse(fills: all.filter { ($0.sequence ?? 0) > query.afterSequence }, databaseId: "test-db",
                                 lastSequence: all.compactMap(\.sequence).max() ?? 0)
        }
        let recordedTrades = recordedTrades
        mindset.registry.registerSync(Methods.mindsetRecordTrade, ClosedTrade.self) { trade, _ in
            recordedTrades.withLockedValue { $0.append(trade) }
            return EmptyBody()
        }
        try await router.start()
        try await mindset.start()
    }

    func stop() async {
        await router.stop()
        await mindset.stop()
    }
}

@Suite("arsenald's shutdown loses no fill")
struct ArsenalDaemonShutdownTests {
    @Test("a fill still in transit when the shutdown begins is fetched, and the trade it closed reaches mindsetd")
    func fillInTransitReachesMindset() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let config = BagbotConfig.forDaemon(sections: ArsenalDaemon.configSections, in: directory)
        let peers = try await FakePeers(config: config)
        let readiness = DaemonReadiness()
        let daemon = ArsenalDaemon(context: DaemonContext(service: "arsenald", config: config, logger: quietLogger, readiness: readiness))

        try await testGracefulShutdown { trigger in
            async let running: Void = daemon.run()
            #expect(await readiness.wait())
            let coordinator = daemon.coordinator
            let deadline = ContinuousClock.now + .seconds(30)
            while await coordinator.appliedSequence != 1 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            try #require(await coordinator.appliedSequence == 1, "arsenald took routerd's positions (through fill 1)")

            // routerd recorded the closing fill, but its event never arrived before the shutdown.
            peers.fillLog.withLockedValue {
                $0.append(Fill(fillId: "f2", clientOrderId: "bb-close", venue: .paper, symbol: "BTCUSDT", side: .sell,
                               quantity: 1, price: 110, fee: 0, time: Date(), strategyId: "micro_trend", requestId: "r2",
                               sequence: 2))
            }
            trigger.triggerGracefulShutdown()
            try await running
        }
        let trades = peers.recordedTrades.withLockedValue { $0 }
        #expect(trades.map(\.tradeId) == ["f2"], "the trade closed by the fill in transit reaches mindsetd before arsenald stops")
        #expect(trades.first?.pnl == 10)
        await peers.stop()
    }
}
