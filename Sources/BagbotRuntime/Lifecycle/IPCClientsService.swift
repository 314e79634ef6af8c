import BagbotIPC
import ServiceLifecycle

/// A daemon's clients to its peers as one service: they connect (and keep reconnecting) while the group
/// runs, and shut down when it stops, after the services that use them.
public struct IPCClientsService: Service {
    public let clients: [IPCClient]

    public init(_ clients: [IPCClient]) {
        self.clients = clients
    }

    public func run() async throws {
        for client in clients { client.start() }
        try? await gracefulShutdown()
        for client in clients { await client.shutdown() }
    }
}
