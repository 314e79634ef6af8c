import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import BagbotIPC
import BagbotRuntime
import BagbotStorage

/// gateway's wiring: the token store, clients to the three daemons, and the HTTP server. The Hummingbird
/// `Application` is a service of the daemon's group, after the clients it calls through, so it stops first.
public final class GatewayDaemon: BagbotDaemon {
    public static let serviceName = "gateway"
    public static let configSections: [any ConfigSection.Type] = [GatewaySettings.self]

    public let services: [any Service]
    private let daemons: DaemonClients
    private let readiness: DaemonReadiness
    private let boundPort: NIOLockedValueBox<Int?>
    private let usage: UsageRecorder
    private let events: EventFanOut

    public init(context: DaemonContext) throws {
        let settings = context.config[GatewaySettings.self]
        let logger = context.logger("http")
        func client(_ peer: String, _ role: String = "client") -> IPCClient {
            IPCClient(ownService: "gateway", peerService: peer, configuration: .from(context.config, peer: peer),
                      logger: context.logger("\(peer)-\(role)"))
        }
        let daemons = DaemonClients(mindset: client("mindsetd"), arsenal: client("arsenald"), router: client("routerd"))
        // The event stream's own connections: a backlog of events never delays a route's call.
        let fanOut = EventFanOut(settings: settings.events, logger: context.logger("events"))
        let changes = SharedReadChanges()
        let feed = EventFeed(fanOut: fanOut, mindset: client("mindsetd", "events"), arsenal: client("arsenald", "events"),
                             router: client("routerd", "events"), changes: changes,
                             logger: context.logger("events"))
        let database = try BagbotDatabase.open(path: context.config.paths.databasePath)
        let tokens = TokenStore(database: database, acceptLegacyTokens: settings.acceptLegacyTokens)
        let usage = UsageRecorder(database: database, settings: settings.usage, logger: context.logger("usage"))
        var environment = GatewayEnvironment(tokens: tokens, limiter: RateLimiter(), usage: usage, settings: settings,
                                             daemons: daemons, events: fanOut, idempotency: try IdempotencyStore(database: database),
                                             started: Date(), clock: { Date() },
                                             timeouts: DaemonTimeouts(control: .milliseconds(settings.controlTimeoutMs)))
        environment.sharedReadChanges = changes
        environment.dashboardDirectory = DashboardMiddleware.directory(configured: settings.dashboardDir)
        if let directory = environment.dashboardDirectory {
            logger.info("dashboard served at /", metadata: ["files": "\(directory)"])
        } else {
            logger.warning("the dashboard's files were not found; / answers 404 (set gateway.dashboard_dir)",
                           metadata: ["configured": "\(settings.dashboardDir)"])
        }
        let readiness = context.readiness
        let boundPort = NIOLockedValueBox<Int?>(nil)
        var app = Application(
            router: GatewayRoutes.build(environment: environment),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "bagbot"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                boundPort.withLockedValue { $0 = port }
                logger.info("HTTP API listening", metadata: ["url": "http://\(settings.host):\(port)"])
                readiness.ready()
            },
            logger: logger)
        let runDir = context.config.paths.runDir
        app.beforeServerStarts {
            var outcome = TokenStore.BootstrapOutcome.noToken
            if let file = Self.bootstrapTokenFile(settings: settings) {
                outcome = try await tokens.bootstrapAdmin(fromFile: file, logger: logger)
            }
            try AdminTokenMarker.record(outcome, runDir: runDir)
            if try await !tokens.hasAdminToken() {
                logger.warning("no admin token exists; admin routes will refuse every request")
            }
        }
        self.daemons = daemons
        self.readiness = readiness
        self.boundPort = boundPort
        self.usage = usage
        self.events = fanOut
        // Stopped in reverse: the event feed first (it ends every event stream, which the HTTP server would otherwise
        // wait for), then the HTTP server, then the usage recorder writes every call it still holds.
        services = [IPCClientsService(daemons.all), usage, app, feed]
        ProcessMetrics.followReconnects(of: daemons.all)
    }

    /// The first admin token: the configured file, else the systemd credential `bagbot-admin-token`.
    static func bootstrapTokenFile(settings: GatewaySettings) -> String? {
        if !settings.bootstrapAdminTokenFile.isEmpty { return settings.bootstrapAdminTokenFile }
        if let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"] {
            return credentials + "/bagbot-admin-token"
        }
        return nil
    }

    public func statusLine() async -> String {
        let port = boundPort.withLockedValue { $0 }.map { "port \($0)" } ?? "starting"
        let peers = daemons.all.map { "\($0.peerService) \($0.state.summary)" }.joined(separator: ", ")
        return "HTTP \(port); usage \(usage.written) written, \(usage.pending) pending, \(usage.dropped) dropped; "
            + "event streams \(events.clientCount) open, \(events.cutOffTotal) cut off; \(peers)"
    }

    public func isHealthy() async -> Bool {
        readiness.isReady
    }
}
