import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import Shared

/// gateway's wiring: the token store, clients to the three daemons, and the HTTP server.
public final class GatewayDaemon: BagbotDaemon {
    private let context: DaemonContext
    private let logger: Logger
    private let daemons: DaemonClients
    private let started = Date()
    private let serverTask = NIOLockedValueBox<Task<Void, Error>?>(nil)
    private let boundPort = NIOLockedValueBox<Int?>(nil)

    public init(context: DaemonContext) {
        self.context = context
        logger = context.logger("http")
        func client(_ peer: String) -> IPCClient {
            IPCClient(ownService: "gateway", peerService: peer, configuration: .from(context.config, peer: peer),
                      logger: context.logger("\(peer)-client"))
        }
        daemons = DaemonClients(mindset: client("mindsetd"), arsenal: client("arsenald"), router: client("routerd"))
    }

    /// The first admin token: the configured file, else the systemd credential `bagbot-admin-token`.
    static func bootstrapTokenFile(config: BagbotConfig) -> String? {
        if !config.gateway.bootstrapAdminTokenFile.isEmpty { return config.gateway.bootstrapAdminTokenFile }
        if let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"] {
            return credentials + "/bagbot-admin-token"
        }
        return nil
    }

    public func start() async throws {
        let config = context.config
        let tokens = TokenStore(database: try BagbotDatabase.open(path: config.paths.databasePath))
        if let file = Self.bootstrapTokenFile(config: config) {
            try tokens.bootstrapAdmin(fromFile: file, logger: logger)
        }
        if try !tokens.hasAdminToken() {
            logger.warning("no admin token exists; admin routes will refuse every request")
        }
        for client in daemons.all { client.start() }

        let router = GatewayRoutes.build(tokens: tokens, daemons: daemons, started: started)
        let (ready, readyIn) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(config.gateway.host, port: config.gateway.port), serverName: "bagbot"),
            onServerRunning: { channel in
                readyIn.yield(channel.localAddress?.port ?? 0)
                readyIn.finish()
            },
            logger: logger)
        let task = Task { try await app.run() }
        serverTask.withLockedValue { $0 = task }
        var iterator = ready.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw IPCError(.internal, "HTTP server stopped before it was ready")
        }
        boundPort.withLockedValue { $0 = port }
        logger.info("HTTP API listening", metadata: ["url": "http://\(config.gateway.host):\(port)"])
    }

    public func stop() async {
        if let task = serverTask.withLockedValue({ $0 }) {
            task.cancel()
            _ = try? await task.value
        }
        for client in daemons.all { await client.shutdown() }
    }

    public func statusLine() async -> String {
        let port = boundPort.withLockedValue { $0 }.map { "port \($0)" } ?? "starting"
        let peers = daemons.all.map { "\($0.peerService) \($0.state.summary)" }.joined(separator: ", ")
        return "HTTP \(port); \(peers)"
    }

    public func isHealthy() async -> Bool {
        guard let task = serverTask.withLockedValue({ $0 }) else { return false }
        return !task.isCancelled
    }
}
