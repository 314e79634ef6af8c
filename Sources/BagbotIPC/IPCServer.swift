#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

public struct IPCServerConfiguration: Sendable {
    public var socketPath: String
    public var maximumFrameBytes: Int
    /// Permission bits of the socket file (0660 in production: owner and group).
    public var socketMode: mode_t
    /// Group that owns the socket and may connect; nil means root and the daemon's own user only.
    public var socketGroup: String?
    public var subscriberLimits: SubscriberLimits
    /// A connection that has not completed `hello` this long after it was accepted is closed (a peer that
    /// connects and says nothing would otherwise hold a connection forever).
    public var helloTimeout: Duration
    /// A frame whose first bytes arrived must be complete within this; otherwise the connection is closed.
    /// Idle time between frames is not limited: clients keep their connections for the daemon's lifetime.
    public var frameTimeout: Duration

    public init(
        socketPath: String, maximumFrameBytes: Int = IPCProtocol.defaultMaximumFrameBytes, socketMode: mode_t = 0o660,
        socketGroup: String? = nil, subscriberLimits: SubscriberLimits = SubscriberLimits(),
        helloTimeout: Duration = .seconds(5), frameTimeout: Duration = .seconds(10)
    ) {
        self.socketPath = socketPath
        self.maximumFrameBytes = maximumFrameBytes
        self.socketMode = socketMode
        self.socketGroup = socketGroup
        self.subscriberLimits = subscriberLimits
        self.helloTimeout = helloTimeout
        self.frameTimeout = frameTimeout
    }
}

/// A daemon's Unix-socket server: framing, peer checks, hello, dispatch, events and graceful stop.
public final class IPCServer: Sendable {
    public let serviceName: String
    public let registry: IPCMethodRegistry
    public let events: IPCEventHub
    private let configuration: IPCServerConfiguration
    private let logger: Logger
    private let group: EventLoopGroup
    private let inFlight = InFlightCounter()
    private let listener = NIOLockedValueBox<Channel?>(nil)
    private let connections = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    public init(
        serviceName: String, configuration: IPCServerConfiguration, registry: IPCMethodRegistry = IPCMethodRegistry(),
        logger: Logger, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.serviceName = serviceName
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        self.group = group
        self.events = IPCEventHub(limits: configuration.subscriberLimits, logger: logger)
    }

    public var connectionCount: Int { connections.withLockedValue { $0.count } }

    /// Binds the socket, sets its owner group and mode, and starts accepting.
    public func start() async throws {
        let path = configuration.socketPath
        guard path.utf8.count <= 107 else {
            throw IPCError(.badRequest, "socket path is \(path.utf8.count) bytes; Unix sockets allow at most 107: \(path)")
        }
        let policy = try PeerPolicy.forGroup(named: configuration.socketGroup)
        try Self.refuseIfAnotherInstanceServes(path)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)

        let maxFrame = configuration.maximumFrameBytes
        let helloTimeout = TimeAmount(configuration.helloTimeout)
        let frameTimeout = TimeAmount(configuration.frameTimeout)
        let serviceName = serviceName
        let registry = registry
        let hub = events
        let inFlight = inFlight
        let logger = logger
        let connections = connections
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    connections.withLockedValue { $0[ObjectIdentifier(child)] = child }
                    child.closeFuture.whenComplete { _ in
                        _ = connections.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(child)) }
                    }
                    try child.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: maxFrame, frameTimeout: frameTimeout)),
                        IPCServerConnectionHandler(
                            serviceName: serviceName, registry: registry, hub: hub, policy: policy,
                            inFlight: inFlight, helloTimeout: helloTimeout, logger: logger),
                    ])
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        listener.withLockedValue { $0 = channel }

        guard chmod(path, configuration.socketMode) == 0 else {
            throw IPCError(.internal, "chmod \(path): \(String(cString: strerror(errno)))")
        }
        // Under systemd the daemon runs with the socket group as its own, so the socket already has it;
        // chown is then unnecessary (and refused by the units' system-call filter).
        var status = stat()
        if let gid = policy.allowedGID, stat(path, &status) == 0, status.st_gid != gid, chown(path, uid_t.max, gid) != 0 {
            throw IPCError(.internal, "chown \(path) to group \(configuration.socketGroup ?? ""): \(String(cString: strerror(errno)))")
        }
        logger.info("listening", metadata: ["socket": "\(path)"])
    }

    /// Stops accepting, waits (bounded) for requests in flight, then closes every connection.
    public func stop(drainTimeout: Duration = .seconds(5)) async {
        if let channel = listener.withLockedValue({ $0 }) {
            try? await channel.close()
        }
        let deadline = ContinuousClock.now + drainTimeout
        while inFlight.value > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let open = connections.withLockedValue { Array($0.values) }
        for channel in open {
            try? await channel.close()
        }
        unlink(configuration.socketPath)
        logger.info("stopped listening", metadata: ["socket": "\(configuration.socketPath)"])
    }

    /// Binding over a live socket would silently steal it from a running daemon; refuse instead.
    private static func refuseIfAnotherInstanceServes(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 {
            throw IPCError(.conflict, "another process is already serving \(path)")
        }
    }
}
