import Foundation
import Logging
import ServiceLifecycle
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// mindsetd's wiring: the service behind its socket, and a client of routerd's, from whose fill log it counts
/// closed trades (docs/mindset.md). No network at all (PrivateNetwork under systemd).
public final class MindsetDaemon: BagbotDaemon, Service {
    public static let serviceName = "mindsetd"
    public static let configSections: [any ConfigSection.Type] = [MindsetSettings.self]

    public let service: MindsetService
    private let server: IPCServer
    private let routerClient: IPCClient
    private let fillPollInterval: Duration
    private let readiness: DaemonReadiness
    private let started = Date()

    public init(context: DaemonContext) {
        let config = context.config
        readiness = context.readiness
        routerClient = IPCClient(ownService: "mindsetd", peerService: "routerd", configuration: .from(config, peer: "routerd"),
                                 logger: context.logger("router-client"))
        fillPollInterval = .milliseconds(Int64(config[MindsetSettings.self].fillPollSeconds * 1_000))
        service = MindsetService(
            rules: MindsetRules(config[MindsetSettings.self]), store: MindsetStore(stateDirectory: config.paths.stateFilesDir),
            logger: context.logger("engine"), ledger: IPCRouterLedger(client: routerClient),
            ledgerFreshness: max(1, 3 * config[MindsetSettings.self].fillPollSeconds),
            wallClock: TrustedWallClock(logger: context.logger("clock")).now)
        server = IPCServer(
            serviceName: "mindsetd", configuration: .from(config, service: "mindsetd"), logger: context.logger("ipc"))
        registerMethods()
        let metrics = MindsetMetrics()
        ProcessMetrics.collect { [service] in metrics.update(from: await service.currentState()) }
        ProcessMetrics.followReconnects(of: [routerClient])
    }

    private func registerMethods() {
        let service = service
        let started = started
        let hub = server.events
        let routerClient = routerClient
        server.registry.registerSync(Methods.mindsetSubscribe, SubscribeRequest.self) { request, context in
            let unknown = request.topics.filter { $0 != Topics.mindsetState.name }
            guard unknown.isEmpty else {
                throw IPCError(.badRequest, "unknown topics: \(unknown.joined(separator: ", ")); known: \(Topics.mindsetState.name)")
            }
            hub.subscribe(context.connection, to: request.topics)
            return SubscribeResponse(topics: request.topics)
        }
        server.registry.registerProcessReports()
        server.registry.register(Methods.health, EmptyBody.self) { _, _ in
            HealthReport(service: "mindsetd", status: await service.isHealthy ? "ok" : "degraded",
                         summary: await service.statusLine, uptimeSeconds: Date().timeIntervalSince(started),
                         peers: ["routerd": routerClient.state.summary])
                .withProcessDetails()
        }
        server.registry.register(Methods.mindsetEvaluate, TradeProposal.self) { proposal, call in
            try call.checkRequestId(matches: proposal.requestId)
            return try await service.evaluate(proposal)
        }
        server.registry.register(Methods.mindsetState, EmptyBody.self) { _, _ in
            await service.currentState()
        }
        server.registry.register(Methods.mindsetLock, LockRequest.self) { request, _ in
            guard !request.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw IPCError(.badRequest, "a lock needs a reason")
            }
            return try await service.lock(request)
        }
        server.registry.register(Methods.mindsetUnlock, UnlockRequest.self) { request, _ in
            guard !request.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw IPCError(.badRequest, "reason: an unlock needs a reason")
            }
            return try await service.unlock(request)
        }
        server.registry.register(Methods.mindsetSelfLockout, SelfLockoutRequest.self) { request, _ in
            guard !request.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw IPCError(.badRequest, "reason: a self-lockout needs a reason")
            }
            return try await service.selfLockout(request)
        }
    }

    public var services: [any Service] { [self] }

    /// Serves until the graceful shutdown, then stops accepting and waits for the requests in flight.
    public func run() async throws {
        // The handler first: a request the server answers at once must not change state unannounced.
        let hub = server.events
        await service.setTransitionHandler { change in
            hub.publish(Events.mindsetTransition, topic: Topics.mindsetState, body: change)
        }
        try await server.start()
        routerClient.start()
        let service = service
        let interval = fillPollInterval
        let follower = Task { await service.followRouter(every: interval) }
        readiness.ready()
        try? await gracefulShutdown()
        follower.cancel()
        await server.stop()
        await routerClient.shutdown()
    }

    public func statusLine() async -> String {
        "\(await service.statusLine); clients \(server.connectionCount)"
    }

    public func isHealthy() async -> Bool {
        await service.isHealthy
    }
}
