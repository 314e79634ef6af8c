import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotStorage

/// routerd's wiring: the database, the paper venue, the replay feed and its socket.
public final class RouterDaemon: BagbotDaemon, Service {
    public static let serviceName = "routerd"
    public static let configSections: [any ConfigSection.Type] = [RouterSettings.self]
    /// Ticks of a paced replay written together: an eighth of the pacing window, so arsenald always has some to do.
    static let tickBatch = TickPacer.window / 8

    private let context: DaemonContext
    private let server: IPCServer
    private let logger: Logger
    private let started = Date()
    private let routerService = NIOLockedValueBox<RouterService?>(nil)

    public init(context: DaemonContext) {
        self.context = context
        logger = context.logger("router")
        server = IPCServer(serviceName: "routerd", configuration: .from(context.config, service: "routerd"), logger: context.logger("ipc"))
    }

    public var services: [any Service] { [self] }

    /// Reconciles the orders, serves, and replays the feed until the graceful shutdown; then the feed stops
    /// and the socket closes after the requests in flight.
    public func run() async throws {
        let settings = context.config[RouterSettings.self]
        let paths = context.config.paths
        let database = try BagbotDatabase.open(path: paths.databasePath)
        if settings.mode == "live" {
            let money = settings.binance.environment == .testnet && settings.binance.restUrl.isEmpty
                ? "Binance's spot testnet (test money)" : "Binance with real money"
            logger.critical("LIVE TRADING: orders for crypto symbols go to \(money)", metadata: [
                "binance": "\(settings.binance.resolvedRestURL)", "symbols": "\(settings.binance.symbols.joined(separator: ","))",
            ])
        }
        let built = try await VenueRegistry.build(settings, database: database, stateDirectory: paths.stateFilesDir, logger: context.logger("paper"))
        // Live: market data comes from the live venues' own streams; a replay beside them would be a second,
        // made-up price for the same symbols.
        let live = settings.mode == "live"
        let speed = ReplaySpeed(settings.replay.speed) ?? .multiple(1)
        let service = try await RouterService(
            store: OrderStore(database: database), venues: built.venues, symbols: SymbolMap(config: settings),
            tradingSwitch: TradingSwitch(stateDirectory: paths.stateFilesDir, logger: logger),
            events: server.events, logger: logger, reconciliation: settings.reconcile.settings, account: settings.account,
            priceAgeLimit: settings.priceAgeLimit, dayClock: Self.dayClock(live: live, speed: speed))
        // Before the socket opens: no new order is taken until the last run's orders are settled.
        try await service.start()

        var files = live ? [] : try ReplaySources.load(config: settings.replay, tickSizes: settings.paper.symbols.mapValues(\.tickSize))
        if files.isEmpty && !live {
            files = SyntheticFeed.files()
            logger.warning("no replay data configured or found: replaying a SYNTHETIC random walk, not real market data")
        }
        for file in files where file.skippedLines > 0 {
            logger.warning("replay file had unusable lines", metadata: ["file": "\(file.path)", "skipped": "\(file.skippedLines)"])
        }
        let feed = ReplayFeed(files: files, speed: speed, loop: settings.replay.loop)
        // At max speed the feed waits for its subscriber instead of dropping ticks (docs/ipc.md, "Paced replay").
        let pacer = feed.speed == .max ? TickPacer() : nil
        register(service, pacer: pacer, callExecutor: Self.callExecutor(venues: built.venues.map(\.id)))
        try await server.start()
        routerService.withLockedValue { $0 = service }
        context.readiness.ready()

        let logger = logger
        let paper = built.paper
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await service.runReconciliation() }
                group.addTask { await service.runLateLookups() }
                group.addTask {
                    await service.equityHistory.run(every: .milliseconds(Int64(settings.account.equitySampleSeconds * 1_000)),
                                                    account: { try await service.account() }, logger: logger)
                }
                // On routerd's core thread: each tick reaches the paper venue without a thread hop.
                if !live {
                    group.addTask(executorPreference: RouterExecutor.shared.tasks) {
                        logger.info("replay started", metadata: ["files": "\(feed.description)", "speed": "\(feed.speed)", "loop": "\(feed.loop)"])
                        if pacer != nil { logger.info("max speed: the feed waits for a subscriber to pace it (router.ticksProcessed)") }
                        // Paced, ticks go out in batches (`EventBatch`), flushed every `tickBatch` ticks and before the
                        // feed waits for room: arsenald acknowledges ticks it has been sent. At a replay speed every
                        // tick goes out at once, as a live feed's would.
                        let batch = pacer != nil ? EventBatch() : nil
                        var unflushed = 0
                        await EventBatch.$current.withValue(batch) {
                            await feed.run { tick in
                                if let pacer {
                                    if !pacer.hasRoomNow {
                                        batch?.flush()
                                        unflushed = 0
                                    }
                                    await pacer.waitForRoom()
                                }
                                // Stopping: the tick it waited (or slept) to send is not sent.
                                if Task.isCancelled { return }
                                pacer?.published(tick)
                                service.tickToOrder.published(tick)
                                await paper.ingest(tick)
                                unflushed += 1
                                if unflushed == Self.tickBatch {
                                    batch?.flush()
                                    unflushed = 0
                                }
                            }
                        }
                        batch?.finish()
                        if !Task.isCancelled { logger.notice("replay finished: every file has been played") }
                    }
                }
                await group.waitForAll()
            }
        }
        try? await gracefulShutdown()
        await server.stop()
        for venue in built.venues { await venue.shutdown() }
    }

    /// The day routerd's day figures follow: a replay at max speed plays its files' own days (their ticks and fills keep
    /// the times they were recorded at), anything else runs on the wall clock (a paced replay shifts its ticks to now).
    static func dayClock(live: Bool, speed: ReplaySpeed) -> RouterService.DayClock {
        !live && speed == .max ? .latestTick : .wall
    }

    /// The task executor of the IPC calls that go straight to `RouterService` with a small answer (an order, a cancel,
    /// positions, the account): routerd's core thread when the paper venue is the only venue, so that a call goes from
    /// the event loop to the service and back without a pool thread (`RouterExecutor`); nil (the pool) as soon as
    /// another venue is configured, live or not (paper mode with `router.binance.enabled` still reads Binance's account
    /// for positions): a task's preference carries into the actors it calls that have no executor of their own, so
    /// that venue's REST work would run on the core thread, ahead of ticks and orders.
    static func callExecutor(venues: [Venue]) -> (any TaskExecutor)? {
        venues.allSatisfy { $0 == .paper } ? RouterExecutor.shared.tasks : nil
    }

    private func register(_ service: RouterService, pacer: TickPacer?, callExecutor core: (any TaskExecutor)?) {
        let registry = server.registry
        let hub = server.events
        let started = started
        registry.registerProcessReports()
        registry.register(Methods.health, EmptyBody.self) { _, _ in
            HealthReport(service: "routerd", status: await service.isHealthy ? "ok" : "degraded", summary: await service.statusLine,
                         uptimeSeconds: Date().timeIntervalSince(started),
                         details: ["subscribers": "\(hub.subscriberCount)", "dropped_ticks": "\(hub.droppedEvents)",
                                   "pacing_subscribers": "\(pacer?.subscriberCount ?? 0)"]
                            .merging(service.tickToOrder.details) { current, _ in current })
                .withProcessDetails()
        }
        // Calls that go straight to RouterService with a small answer run their task on `core` when it is given
        // (`callExecutor(venues:)`). Pages of orders and fills are encoded on the pool, off the thread orders and
        // ticks wait for.
        registry.register(Methods.routerPlaceOrder, PlaceOrderRequest.self, executor: core) { request, call in
            try call.checkRequestId(matches: request.requestId)
            return try await service.place(request)
        }
        registry.register(Methods.routerCancelOrder, CancelOrderRequest.self, executor: core) { request, _ in
            try await service.cancel(clientOrderId: request.clientOrderId)
        }
        registry.register(Methods.routerOrders, OrdersQuery.self) { query, _ in try await service.orderPage(query) }
        registry.register(Methods.routerPositions, EmptyBody.self, executor: core) { _, _ in PositionsResponse(positions: try await service.positions()) }
        registry.register(Methods.routerStrategyPositions, EmptyBody.self) { _, _ in
            try await service.strategyPositions()
        }
        registry.register(Methods.routerFills, FillsQuery.self) { query, _ in try await service.fills(query) }
        registry.register(Methods.routerFillHistory, FillHistoryQuery.self) { query, _ in try await service.fillHistory(query) }
        registry.register(Methods.routerEquityHistory, EquityHistoryQuery.self) { query, _ in try await service.equityHistory(query) }
        registry.registerSync(Methods.routerSymbolRules, EmptyBody.self) { _, _ in SymbolRulesResponse(symbols: service.routedSymbolRules) }
        registry.register(Methods.routerAccount, EmptyBody.self, executor: core) { _, _ in try await service.account() }
        registry.register(Methods.routerPause, PauseRequest.self) { request, _ in
            try await service.setTrading(enabled: false, reason: request.reason ?? "paused by operator")
        }
        registry.register(Methods.routerResume, EmptyBody.self) { _, _ in try await service.setTrading(enabled: true, reason: nil) }
        registry.registerSync(Methods.routerSubscribe, SubscribeRequest.self) { request, context in
            let known = Set(Topics.router.map(\.name))
            let unknown = request.topics.filter { !known.contains($0) }
            guard unknown.isEmpty, !request.topics.isEmpty else {
                throw IPCError(.badRequest, "unknown or no topics \(RequestRules.quoted(unknown.joined(separator: ", "))); known: \(known.sorted().joined(separator: ", "))")
            }
            hub.subscribe(context.connection, to: request.topics)
            return SubscribeResponse(topics: request.topics)
        }
        registry.registerSync(Methods.routerTicksProcessed, TicksProcessed.self) { request, context in
            guard let pacer else { return TickPacing(paced: false, window: 0) }
            let subscriber = ObjectIdentifier(context.connection)
            if pacer.register(subscriber) {
                context.connection.channel.closeFuture.whenComplete { _ in pacer.remove(subscriber) }
            }
            if let symbol = request.symbol, let sequence = request.sequence {
                pacer.acknowledge(subscriber, symbol: symbol, sequence: sequence)
            }
            return TickPacing(paced: true, window: TickPacer.window)
        }
    }

    public func statusLine() async -> String {
        guard let service = routerService.withLockedValue({ $0 }) else { return "starting" }
        return "\(await service.statusLine); subscribers \(server.events.subscriberCount)"
    }

    public func isHealthy() async -> Bool {
        guard let service = routerService.withLockedValue({ $0 }) else { return false }
        return await service.isHealthy
    }
}
