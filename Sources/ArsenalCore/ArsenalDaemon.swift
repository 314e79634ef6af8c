import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// arsenald's wiring: its own socket, clients to mindsetd and routerd, and the streams that feed the
/// coordinator. Ticks go through a bounded buffer that keeps the newest; orders and fills are never dropped.
///
/// routerd is reached over two connections: one carries the event stream, the other commands. On one
/// shared connection a backlog of ticks would sit in front of every order response.
public final class ArsenalDaemon: BagbotDaemon, Service {
    public static let serviceName = "arsenald"
    public static let configSections: [any ConfigSection.Type] = [ArsenalSettings.self]

    public let coordinator: TradeCoordinator
    private let server: IPCServer
    private let mindsetClient: IPCClient
    private let routerClient: IPCClient
    private let routerStream: IPCClient
    private let logger: Logger
    private let readiness: DaemonReadiness
    private let started = Date()
    private let ticks: TickInbox
    private let updates: AsyncStream<RouterUpdate>
    private let updatesIn: AsyncStream<RouterUpdate>.Continuation
    /// Ticks dropped from arsenald's own buffer because the strategies fell behind (the newest are kept).
    private let droppedTicks = NIOLockedValueBox<Int>(0)
    private let metrics: ArsenalMetrics
    /// Whether routerd paces its feed by this daemon's acknowledgements (a max-speed replay), and the ticks
    /// processed (docs/ipc.md, "Paced replay").
    private let pacing = NIOLockedValueBox(TickPacingState())
    /// Set when the shutdown begins: ticks still buffered are not acted on (no order after SIGTERM).
    private let stopping = NIOLockedValueBox(false)
    private let confidenceFile: StrategyConfidenceFile

    public init(context: DaemonContext) {
        let config = context.config
        let metrics = ArsenalMetrics()
        self.metrics = metrics
        readiness = context.readiness
        logger = context.logger("coordinator")
        server = IPCServer(serviceName: "arsenald", configuration: .from(config, service: "arsenald"), logger: context.logger("ipc"))
        // One event loop for every connection and for the coordinator: the trade path never changes thread.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        mindsetClient = IPCClient(ownService: "arsenald", peerService: "mindsetd", configuration: .from(config, peer: "mindsetd"),
                                  logger: context.logger("mindset-client"), group: loop)
        routerClient = IPCClient(ownService: "arsenald", peerService: "routerd", configuration: .from(config, peer: "routerd"),
                                 logger: context.logger("router-client"), group: loop)
        routerStream = IPCClient(ownService: "arsenald", peerService: "routerd", configuration: .from(config, peer: "routerd"),
                                 logger: context.logger("router-stream"), group: loop)
        ticks = TickInbox(capacity: config.ipc.tickQueueCapacity)
        (updates, updatesIn) = AsyncStream.makeStream(of: RouterUpdate.self, bufferingPolicy: .unbounded)
        confidenceFile = StrategyConfidenceFile(stateDirectory: config.paths.stateFilesDir)
        let hub = server.events
        let strategies = StrategyCatalog.strategies(from: config[ArsenalSettings.self])
        let choicesFile = StrategyChoicesFile(stateDirectory: config.paths.stateFilesDir)
        let otherChoices = StrategyCatalog.restoreChoices(strategies, from: choicesFile, logger: context.logger("registry"))
        coordinator = TradeCoordinator(
            strategies: strategies,
            mindset: IPCMindsetPort(client: mindsetClient), router: IPCRouterPort(client: routerClient),
            logger: logger, executor: routerClient.executor, saveChoices: { try choicesFile.save($0.keeping(otherChoices)) },
            manualMaxQuantity: config[ArsenalSettings.self].manualMaxQuantity,
            confirmPause: .milliseconds(config[ArsenalSettings.self].confirmIntervalMs), tradesBeforeSnapshot: false,
            publish: { method, signal, decision in
                if method == Events.signal {
                    hub.publish(method, topic: Topics.signals, body: signal, requestId: signal.requestId)
                } else {
                    hub.publish(method, topic: Topics.signals, body: DecisionEvent(signal: signal, decision: decision), requestId: signal.requestId)
                }
            },
            settled: { [metrics] strategyId, outcome in metrics.signal(from: strategyId, outcome) })
        wire()
        ProcessMetrics.followReconnects(of: [mindsetClient, routerClient, routerStream])
    }

    private func wire() {
        let coordinator = coordinator
        let ticks = ticks
        let updatesIn = updatesIn
        let logger = logger
        let droppedTicks = droppedTicks
        let metrics = metrics
        let pacing = pacing
        routerStream.onEvent { event in
            do {
                switch event.method {
                case Events.tick:
                    let tick = try event.decode(Tick.self)
                    metrics.received(tick)
                    if !ticks.put(tick) {
                        droppedTicks.withLockedValue { $0 += 1 }
                        metrics.droppedTick()
                    }
                case Events.order:
                    let order = try event.decode(OrderRecord.self)
                    ticks.noteUpdateReceived()
                    updatesIn.yield(.order(order))
                case Events.fill:
                    let fill = try event.decode(Fill.self)
                    ticks.noteUpdateReceived()
                    updatesIn.yield(.fill(fill))
                default: break
                }
            } catch {
                logger.error("unreadable event from routerd", metadata: ["method": "\(event.method)", "error": "\(error)"])
            }
        }
        let commands = routerClient
        routerStream.onConnect { stream in
            // A new connection paces nothing until routerd says so (it may run at another speed now); an older
            // connection's request to pace stops asking.
            let connection = pacing.withLockedValue { state -> Int in
                state.connection += 1
                state.paced = false
                return state.connection
            }
            let _: SubscribeResponse = try await stream.call(Methods.routerSubscribe, SubscribeRequest(topics: ["ticks", "orders", "fills"]))
            // Fills may have happened while we were away: routerd's record is the truth.
            if commands.isConnected { try await Self.resync(coordinator, via: commands) }
            // Asked last, with the rules known, the positions resynchronised and the trade path up: a max-speed
            // replay starts only then, so every run's first tick meets the same state. Beside the connection's
            // set-up, which must not wait for mindsetd.
            await coordinator.setSymbolRules(try await IPCRouterPort(client: stream).symbolRules())
            Task {
                await self.waitForTradePath()
                // Tried until routerd answers, or this connection is gone: a max-speed feed waits for it. Counted as
                // pacing from the first ask (routerd may have registered it, and publish, before its answer arrives).
                while stream.isConnected, pacing.withLockedValue({ $0.connection == connection }) {
                    do {
                        pacing.withLockedValue { $0.paced = true }
                        let answer: TickPacing = try await stream.call(Methods.routerTicksProcessed, TicksProcessed())
                        pacing.withLockedValue { if $0.connection == connection { $0.paced = answer.paced } }
                        return
                    } catch {
                        logger.warning("could not ask routerd to pace its replay; asking again", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
            }
        }
        routerClient.onConnect { client in
            await coordinator.setSymbolRules(try await IPCRouterPort(client: client).symbolRules())
            if self.routerStream.isConnected { try await Self.resync(coordinator, via: client) }
        }
        server.registry.registerProcessReports()
        server.registry.register(Methods.health, EmptyBody.self) { [self] _, _ in
            await self.health()
        }
        server.registry.register(Methods.arsenalStrategies, EmptyBody.self) { _, _ in
            StrategiesResponse(strategies: await coordinator.strategyInfo())
        }
        server.registry.register(Methods.arsenalStrategy, StrategyIdRequest.self) { request, _ in
            try await coordinator.strategyInfo(id: request.id)
        }
        server.registry.register(Methods.arsenalEnable, StrategyIdRequest.self) { request, _ in
            try await coordinator.setEnabled(true, strategyId: request.id)
        }
        server.registry.register(Methods.arsenalDisable, StrategyIdRequest.self) { request, _ in
            try await coordinator.setEnabled(false, strategyId: request.id)
        }
        server.registry.register(Methods.arsenalSetParameters, SetStrategyParametersRequest.self) { request, _ in
            try await coordinator.setParameters(request.parameters, strategyId: request.id)
        }
        server.registry.register(Methods.arsenalPlaceManualOrder, ManualOrderRequest.self) { request, call in
            try call.checkRequestId(matches: request.keyedRequestId)
            return try await coordinator.placeManualOrder(request)
        }
        server.registry.register(Methods.arsenalPerformance, PerformanceQuery.self) { query, _ in
            try await Self.performance(query, via: commands, minimumQuantities: await coordinator.minimumQuantities)
        }
        // Read under the buffer's own lock, off the event loops (a page of 1,000 is not built on the trade path's loop)
        // and without a hop onto the coordinator's actor.
        let recentSignals = coordinator.recentSignals
        server.registry.register(Methods.arsenalSignals, SignalsQuery.self) { query, _ in
            try recentSignals.page(query)
        }
        let hub = server.events
        server.registry.registerSync(Methods.arsenalSubscribe, SubscribeRequest.self) { request, context in
            let known = Set(["signals"])
            let unknown = request.topics.filter { !known.contains($0) }
            guard unknown.isEmpty else { throw IPCError(.badRequest, "unknown topics: \(unknown.joined(separator: ", ")); known: signals") }
            hub.subscribe(context.connection, to: request.topics)
            return SubscribeResponse(topics: request.topics)
        }
    }

    /// Brings the strategies up to date with routerd's fill log. After a reconnect the missed fills are
    /// applied one by one, so every strategy's record of its trades is whole; on a first start (nothing applied
    /// yet) the positions snapshot is taken instead.
    static func resync(_ coordinator: TradeCoordinator, via client: IPCClient, reconnected: Bool = true) async throws {
        let applied = await coordinator.appliedSequence
        if applied > 0, try await catchUp(coordinator, after: applied, via: client) {
            // Orders that ended while we were away sent events we never saw: each order in flight is looked up.
            // After a gap alone, their events are still to come.
            if reconnected { await coordinator.confirmOrdersInFlight() }
            return
        }
        for _ in 0..<5 {
            let generation = await coordinator.rebuildGeneration
            // Asked before the snapshot and taken with it: an order that ends in between is held for one look-up.
            let adopting = adoptsOrders(reconnected: reconnected, hasSnapshot: await coordinator.hasPositionsSnapshot)
                ? try await ordersToAdopt(via: client) : nil
            let snapshot: StrategyPositionsResponse = try await client.call(Methods.routerStrategyPositions, EmptyBody())
            if await coordinator.resync(snapshot, keepingOrdersInFlight: !reconnected, askedIn: generation, adopting: adopting) { return }
        }
        throw IPCError(.conflict, "positions kept changing during resynchronisation")
    }

    /// Whether a snapshot of the positions takes routerd's unsettled orders with it (`ordersToAdopt`): after a
    /// reconnect, and for the first snapshot of this run (or after a start-over) however it is asked for — one taken
    /// to fill a gap in the fill log before the command connection's own resync would otherwise leave the previous
    /// run's working orders holding no role, and the next signal would double them.
    static func adoptsOrders(reconnected: Bool, hasSnapshot: Bool) -> Bool {
        reconnected || !hasSnapshot
    }

    /// The orders routerd is still settling, and those it gave up as not found in the last day, for a snapshot of the
    /// positions (`TradeCoordinator.adopt`).
    static func ordersToAdopt(via client: IPCClient) async throws -> OrdersToAdopt {
        var working: [OrderRecord] = []
        for status in OrderStatus.allCases where !status.isFinal {
            working += try await orders(OrdersQuery(status: status), via: client)
        }
        var givenUp: [OrderRecord] = []
        let since = Date().addingTimeInterval(-86_400)
        for status in [OrderStatus.rejected, .expired] {
            givenUp += try await orders(OrdersQuery(status: status, createdFrom: since), via: client).filter(\.wasGivenUpAsNotFound)
        }
        return OrdersToAdopt(working: working, givenUp: givenUp)
    }

    /// Every order `query` matches, page by page (routerd's pages of 1,000, 100 pages at most).
    private static func orders(_ query: OrdersQuery, via client: IPCClient) async throws -> [OrderRecord] {
        var query = query
        query.limit = 1_000
        var found: [OrderRecord] = []
        for _ in 0..<100 {
            let page: OrdersResponse = try await client.call(Methods.routerOrders, query)
            found += page.orders
            guard let next = page.nextCursor else { break }
            query.after = next
        }
        return found
    }

    /// Applies the fills after `applied`, page by page; false (nothing applied, the coordinator starting over)
    /// when routerd's database is not the one those sequences count in: then only a positions snapshot is right.
    private static func catchUp(_ coordinator: TradeCoordinator, after applied: Int64, via client: IPCClient) async throws -> Bool {
        var after = applied
        while true {
            let appliedWhenAsked = await coordinator.appliedSequence
            let page: FillsResponse = try await client.call(Methods.routerFills, FillsQuery(afterSequence: after, limit: 1_000))
            guard await coordinator.continues(database: page.databaseId, lastSequence: page.lastSequence, appliedWhenAsked: appliedWhenAsked) else {
                return false
            }
            for fill in page.fills { await coordinator.handle(fill: fill, counts: page.counts(fill)) }
            guard let last = page.fills.last?.sequence, page.fills.count == 1_000 else { return true }
            after = last
        }
    }

    /// Every strategy's performance from routerd's whole fill log (the truth across restarts), read page by
    /// page off the trade path.
    /// `minimumQuantities`: each symbol's least tradable quantity (routerd's rules): a position below it is flat.
    static func performance(_ query: PerformanceQuery, via client: IPCClient, minimumQuantities: [String: ExactDecimal] = [:]) async throws -> PerformanceResponse {
        var ledger = PerformanceLedger(minimumQuantities: minimumQuantities)
        var after: Int64 = 0
        var databaseId: String?
        while true {
            let page: FillsResponse = try await client.call(Methods.routerFills, FillsQuery(afterSequence: after, limit: 1_000))
            if let known = databaseId, known != page.databaseId {
                throw IPCError(.conflict, "routerd's database changed while its fills were read; ask again")
            }
            databaseId = page.databaseId
            for fill in page.fills where page.counts(fill) && (query.strategyId == nil || fill.strategyId == query.strategyId) {
                do {
                    try ledger.apply(fill)
                } catch {
                    throw IPCError(.internal, "fill \(fill.fillId) could not be counted: \(error)")
                }
            }
            guard let last = page.fills.last?.sequence, page.fills.count == 1_000 else {
                after = page.fills.last?.sequence ?? after
                break
            }
            after = last
        }
        return PerformanceResponse(strategies: ledger.performance, throughSequence: after, databaseId: databaseId ?? "")
    }

    func health() async -> HealthReport {
        let counters = await coordinator.counters
        let bothUp = mindsetClient.isConnected && routerClient.isConnected && routerStream.isConnected
        return HealthReport(
            service: "arsenald", status: bothUp ? "ok" : "degraded", summary: await statusLine(),
            uptimeSeconds: Date().timeIntervalSince(started),
            peers: ["mindsetd": mindsetClient.state.summary, "routerd": routerClient.state.summary,
                    "routerd-stream": routerStream.state.summary],
            details: [
                "ticks": "\(counters.ticks)", "signals": "\(counters.signals)", "approved": "\(counters.approved)",
                "blocked": "\(counters.blocked)", "blocked_mindset_unavailable": "\(counters.blockedMindsetUnavailable)",
                "dropped_router_unavailable": "\(counters.droppedRouterUnavailable)",
                "entries_against_another_strategy": "\(counters.entriesAgainstAnotherStrategy)", "orders_placed": "\(counters.ordersPlaced)",
                "orders_rejected": "\(counters.ordersRejected)", "dropped_ticks": "\(droppedTicks.withLockedValue { $0 })",
                "fills": "\(counters.fills)", "closed_trades": "\(counters.closedTrades)",
            ])
            .withProcessDetails()
    }

    public var services: [any Service] { [self] }

    /// Serves and trades until the graceful shutdown, then drains: ticks stop first (buffered ones are dropped)
    /// and the tick consumer finishes (entries queued beside it are dropped; one already at mindsetd or routerd ends
    /// as it would have), so no new order is decided after SIGTERM or after the event stream closes;
    /// then the event stream closes, the orders and fills already received are applied, and the clients and
    /// socket close. Nothing is lost with what is left unapplied: positions are rebuilt from routerd's record at
    /// the next start, and mindsetd counts closed trades from routerd's fill log, not from arsenald.
    public func run() async throws {
        try await server.start()
        let coordinator = coordinator
        let commands = routerClient
        await coordinator.setGapHandler {
            try await Self.resync(coordinator, via: commands, reconnected: false)
        }
        let ticks = ticks
        let updates = updates
        let ranking = followGrades()
        defer { ranking.cancel() }
        let rules = followRules()
        defer { rules.cancel() }
        let lateAcknowledgements = acknowledgeTheLastTick()
        defer { lateAcknowledgements.cancel() }
        // Preferring the coordinator's loop keeps the calls it makes (nonisolated) on that loop too.
        await withDiscardingTaskGroup { updateConsumer in
            updateConsumer.addTask(executorPreference: coordinator.executor) {
                await coordinator.apply(updates, countingIn: ticks)
            }
            await withDiscardingTaskGroup { tickConsumer in
                let stopping = stopping
                tickConsumer.addTask(executorPreference: coordinator.executor) {
                    await coordinator.consume(
                        ticks, shouldStop: { stopping.withLockedValue { $0 } },
                        handled: { tick in
                            self.metrics.processed(tick)
                            return self.pacing.withLockedValue { $0.processed(tick) }
                        },
                        settled: { tick, due in self.acknowledge(tick, due: due) })
                }
                mindsetClient.start()
                routerClient.start()
                routerStream.start()
                readiness.ready()

                try? await gracefulShutdown()
                stopping.withLockedValue { $0 = true }
                ticks.finish()
            }
            await routerStream.shutdown()
            updatesIn.finish()
        }
        await routerClient.shutdown()
        await mindsetClient.shutdown()
        await server.stop()
    }

    /// Before pacing a replay: waits (up to 30 s) until an order can go the whole way — routerd's positions read
    /// (no entry goes out before), routerd and mindsetd connected, and mindsetd connected to routerd (it reads the
    /// fill log before judging an entry) — so a replay's first ticks are not judged while the daemons are still
    /// finding each other.
    private func waitForTradePath() async {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await coordinator.hasPositionsSnapshot, routerClient.isConnected, mindsetClient.isConnected,
               let health: HealthReport = try? await mindsetClient.call(Methods.health, EmptyBody()), health.peers["routerd"] == "connected" {
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.warning("pacing the replay before the whole trade path is up: the first orders may be refused")
    }

    /// A paced replay: once the tick's orders have settled (their fills applied; the coordinator waits for them
    /// before the next tick), routerd hears which ticks are done every `TickPacingState.acknowledgeEvery` ticks (its
    /// window is four times that, so it never waits on an arsenald that keeps up, and always hears before its
    /// window is full). The acknowledgement is written from the coordinator's loop, which holds routerd's connection.
    private func acknowledge(_ tick: Tick, due: Bool) {
        pacing.withLockedValue { $0.settled = TickReference(symbol: tick.symbol, sequence: tick.sequence) }
        guard due else { return }
        Task(executorPreference: coordinator.executor) {
            await self.sendAcknowledgement(TickReference(symbol: tick.symbol, sequence: tick.sequence))
        }
    }

    private func sendAcknowledgement(_ tick: TickReference) async {
        do {
            let _: TickPacing = try await routerStream.call(Methods.routerTicksProcessed, TicksProcessed(symbol: tick.symbol, sequence: tick.sequence))
            pacing.withLockedValue { $0.acknowledged = tick }
        } catch {
            logger.warning("could not tell routerd which ticks are processed", metadata: ["error": "\(error)"])
        }
    }

    /// Every 100 ms, the last settled tick when routerd has not heard of it: the feed never waits on ticks arsenald
    /// has done (the tail of a burst, ticks dropped or processed while pacing was being set up, a failed ack).
    private func acknowledgeTheLastTick() -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let pending = pacing.withLockedValue { $0.paced && $0.settled != $0.acknowledged ? $0.settled : nil }
                if let pending { await sendAcknowledgement(pending) }
            }
        }
    }

    /// Reads routerd's symbol rules every minute while connected (besides at each connection): a venue's rules and
    /// fees change while arsenald stays connected (Binance moves an account to another fee tier), and a strategy must
    /// not go on counting the old, lower fee in its thresholds.
    private func followRules(every interval: Duration = .seconds(60)) -> Task<Void, Never> {
        let coordinator = coordinator
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await coordinator.readSymbolRulesAgain()
            }
        }
    }

    /// Reads mindsetd's grades every few seconds (when the file changed) for the ranking of signals.
    private func followGrades() -> Task<Void, Never> {
        var file = confidenceFile
        let coordinator = coordinator
        let logger = logger
        return Task {
            var complained = false
            while !Task.isCancelled {
                do {
                    if let confidence = try file.readIfChanged() { await coordinator.setGradedConfidence(confidence) }
                    complained = false
                } catch {
                    if !complained { logger.warning("cannot read mindsetd's grades; signals keep their last ranking", metadata: ["error": "\(error)"]) }
                    complained = true
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    public func statusLine() async -> String {
        let c = await coordinator.counters
        return "mindsetd \(mindsetClient.state.summary), routerd \(routerClient.state.summary); ticks \(c.ticks), signals \(c.signals), approved \(c.approved), blocked \(c.blocked), dropped \(c.droppedRouterUnavailable), orders \(c.ordersPlaced), fills \(c.fills)"
    }

    public func isHealthy() async -> Bool {
        // Reaching the actor proves the trade path is not wedged; unreachable peers are reported, not
        // "fixed" by a restart.
        _ = await coordinator.counters
        return true
    }
}

/// A tick by its symbol and sequence, as routerd's pacer knows it.
struct TickReference: Sendable, Equatable {
    var symbol: String
    var sequence: UInt64
}

/// arsenald's side of a paced replay: whether routerd waits for it, the ticks processed, the last one settled and
/// the last one routerd heard of, and which connection to routerd asked to pace.
struct TickPacingState: Sendable {
    /// A quarter of routerd's window: the feed never waits on a consumer that keeps up. Acknowledging more often
    /// (every tick when the buffer runs empty) cost a call per tick and cut the replay to a fifth.
    static let acknowledgeEvery = 64
    var paced = false
    var processed = 0
    var settled: TickReference?
    var acknowledged: TickReference?
    var connection = 0

    /// Counts `tick` processed; whether the feed is paced, and whether routerd should hear of it now.
    mutating func processed(_ tick: Tick) -> (paced: Bool, acknowledge: Bool) {
        processed += 1
        return (paced, processed % Self.acknowledgeEvery == 0)
    }
}
