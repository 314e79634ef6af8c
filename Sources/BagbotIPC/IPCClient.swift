import Foundation
import BagbotDomain
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Where a client stands with its peer; shown in the owning daemon's status and health.
public enum IPCConnectionState: Sendable, Equatable {
    case connecting(attempt: Int)
    case connected
    case disconnected(reason: String)
    case stopped

    public var summary: String {
        switch self {
        case .connecting(let attempt): return attempt == 0 ? "connecting" : "reconnecting (attempt \(attempt))"
        case .connected: return "connected"
        case .disconnected(let reason): return "disconnected: \(reason)"
        case .stopped: return "stopped"
        }
    }
}

public struct IPCClientConfiguration: Sendable {
    public var socketPath: String
    public var maximumFrameBytes: Int
    public var requestTimeout: Duration
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// How long the client's event loop keeps polling for a reply before it goes to sleep (zero: never polls).
    /// See `ReplyBusyPoller`.
    public var replyBusyPoll: Duration

    public static let defaultReplyBusyPoll = Duration.microseconds(200)

    public init(
        socketPath: String, maximumFrameBytes: Int = IPCProtocol.defaultMaximumFrameBytes,
        requestTimeout: Duration = .seconds(5), initialBackoff: Duration = .milliseconds(100),
        maximumBackoff: Duration = .seconds(5), replyBusyPoll: Duration = IPCClientConfiguration.defaultReplyBusyPoll
    ) {
        self.socketPath = socketPath
        self.maximumFrameBytes = maximumFrameBytes
        self.requestTimeout = requestTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.replyBusyPoll = replyBusyPoll
    }
}

/// A connection to one daemon that keeps itself up: it reconnects with capped exponential backoff and
/// jitter, and while it is down every call fails at once with `unavailable` (nothing is queued).
public final class IPCClient: Sendable {
    public let peerService: String
    private let ownService: String
    private let configuration: IPCClientConfiguration
    private let logger: Logger
    /// Every connection of this client lives on this one loop, so `executor` stays valid across reconnects.
    private let eventLoop: EventLoop
    /// Runs tasks on the client's event loop: calls made from such a task cross no thread. See
    /// `EventLoopTaskExecutor`.
    public let executor: EventLoopTaskExecutor
    private let poller: ReplyBusyPoller
    /// `replyBusyPoll`; a connection on which polling does not pay (`ReplyBusyPoller.pays`) uses zero.
    private let busyPollBudget: TimeAmount
    private let box = NIOLockedValueBox(Shared())

    private struct Pending {
        var continuation: UnsafeContinuation<IncomingFrame, Error>
        var deadline: NIODeadline
        var method: String
        var sent: NIODeadline
        /// Whether the loop may spin for this call's answer: its method's last answer came within the budget.
        var expectsQuickAnswer: Bool
    }

    private struct Shared {
        var state = IPCConnectionState.connecting(attempt: 0)
        var channel: Channel?
        var writer: RequestWriter?
        /// The connection's writer from the moment it is connected, before `hello` has been answered.
        var handshakeWriter: RequestWriter?
        var nextID: UInt64 = 1
        var pending: [UInt64: Pending] = [:]
        /// Methods whose last answer took longer than the busy-poll budget (`ReplyBusyPoller`): the loop does not
        /// spin for them. A spin for a call that takes milliseconds buys nothing, and on a machine of few CPUs it
        /// holds up the very server it waits for: a Unix socket's write wakes the server's thread on the writer's
        /// CPU, where the spinning loop keeps it from running (docs/performance.md, "Binance order round trip").
        var slowMethods: Set<String> = []
        var connectHooks: [@Sendable (IPCClient) async throws -> Void] = []
        var eventHandler: (@Sendable (IPCEvent) -> Void)?
        var loop: Task<Void, Never>?
        var stopping = false
        var connectedSince: Date?
        var connections = 0
    }

    /// `group`: the client takes one event loop of it for all its connections. Clients given the same
    /// single loop share it, so one task running on it (`executor`) calls all of them without a thread hop.
    public init(
        ownService: String, peerService: String, configuration: IPCClientConfiguration, logger: Logger,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.ownService = ownService
        self.peerService = peerService
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "peer"] = "\(peerService)"
        self.logger = logger
        self.eventLoop = group.next()
        self.executor = EventLoopTaskExecutor.for(eventLoop)
        self.poller = ReplyBusyPoller.for(eventLoop)
        self.busyPollBudget = TimeAmount(configuration.replyBusyPoll)
    }

    public var state: IPCConnectionState { box.withLockedValue { $0.state } }
    public var isConnected: Bool { state == .connected }
    /// Connections made since the start (a reconnect is each one after the first), for the daemon's metrics.
    public var connections: Int { box.withLockedValue { $0.connections } }

    /// Runs after every successful (re)connection, e.g. to subscribe and re-read state. A hook that
    /// throws drops the connection so the next attempt runs it again.
    public func onConnect(_ hook: @escaping @Sendable (IPCClient) async throws -> Void) {
        box.withLockedValue { $0.connectHooks.append(hook) }
    }

    /// Receives every event, on the connection's event loop: handle it quickly, or hand it on.
    public func onEvent(_ handler: @escaping @Sendable (IPCEvent) -> Void) {
        box.withLockedValue { $0.eventHandler = handler }
    }

    public static func decodeEvent<Body: Decodable>(_ type: Body.Type, from frame: ByteBuffer) throws -> Body {
        try IPCCoding.decodeBody(type, from: frame, decoder: IPCCoding.makeDecoder())
    }

    public func start() {
        box.withLockedValue { shared in
            guard shared.loop == nil else { return }
            shared.loop = Task { await self.connectionLoop() }
        }
    }

    public func shutdown() async {
        let (loop, channel) = box.withLockedValue { shared -> (Task<Void, Never>?, Channel?) in
            shared.stopping = true
            shared.state = .stopped
            return (shared.loop, shared.channel ?? shared.handshakeWriter?.channel)
        }
        loop?.cancel()
        try? await channel?.close()
        await loop?.value
        // These requests were written: stopping does not make them unsent, so they are not `unavailable`.
        failAllPending(IPCError(.connectionLost, "client stopped before \(peerService) answered"))
    }

    /// Sends a request and waits for its response. Throws `IPCError` (the peer's error frame, `unavailable`
    /// when not connected, `timeout` when no answer came in time). `requestId` (by default the task's trade,
    /// `RequestId.current`) goes in the envelope's `rid`: the peer's lines about the call carry it.
    public func call<Request: Encodable & Sendable, Response: Decodable>(
        _ method: String, _ body: Request, as response: Response.Type = Response.self, timeout: Duration? = nil,
        requestId: String? = nil
    ) async throws -> Response {
        guard let writer = box.withLockedValue({ $0.state == .connected ? $0.writer : nil }) else {
            throw IPCError(.unavailable, "\(peerService) is not connected (\(state.summary))")
        }
        let frame = try await send(method, body, requestId: requestId ?? RequestId.current, with: writer, timeout: timeout ?? configuration.requestTimeout)
        return try Self.decodeResponse(Response.self, frame: frame)
    }

    private static func decodeResponse<Response: Decodable>(_ type: Response.Type, frame: IncomingFrame) throws -> Response {
        let decoder = IPCCoding.makeDecoder()
        if frame.header.type == .error {
            throw (try? frame.decodeBody(IPCError.self, decoder: decoder))
                ?? IPCError(.internal, "unreadable error frame")
        }
        do {
            return try frame.decodeBody(Response.self, decoder: decoder)
        } catch let error as IPCError {
            throw IPCError(.internal, "unexpected response body: \(error.message)")
        }
    }

    private func send<Request: Encodable & Sendable>(
        _ method: String, _ body: Request, requestId: String? = nil, with writer: RequestWriter, timeout: Duration
    ) async throws -> IncomingFrame {
        let deadline = NIODeadline.now() + TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        // Unsafe (no canary allocation per call): a pending entry is removed under the lock before its
        // continuation is resumed, so each is resumed exactly once.
        return try await withUnsafeThrowingContinuation { continuation in
            let (id, quick) = box.withLockedValue { shared -> (UInt64, Bool) in
                let id = shared.nextID
                shared.nextID &+= 1
                let quick = !shared.slowMethods.contains(method)
                shared.pending[id] = Pending(continuation: continuation, deadline: deadline, method: method, sent: .now(),
                                             expectsQuickAnswer: quick)
                return (id, quick)
            }
            let frame: ByteBuffer
            do {
                frame = try IPCCoding.encode(
                    OutgoingEnvelope(id: id, type: .request, method: method, rid: requestId, body: body),
                    allocator: writer.channel.allocator, encoder: IPCCoding.makeEncoder(), lengthPrefixed: true)
            } catch {
                complete(id: id, with: .failure(error))
                return
            }
            writer.write(frame, awaitingQuickAnswer: quick) { [weak self] error in
                self?.complete(id: id, with: .failure(IPCError(.unavailable, "write failed: \(error)")))
            }
        }
    }

    private func complete(id: UInt64, with result: Result<IncomingFrame, Error>) {
        let budget = busyPollBudget
        box.withLockedValue { shared -> Pending? in
            guard let call = shared.pending.removeValue(forKey: id) else { return nil }
            // An answer tells how long the method takes; a failure (a timeout, a lost connection) does not.
            if case .success = result, budget > .zero {
                if NIODeadline.now() - call.sent > budget {
                    shared.slowMethods.insert(call.method)
                } else {
                    shared.slowMethods.remove(call.method)
                }
            }
            return call
        }?.continuation.resume(with: result)
    }

    /// Whether the loop would spin for `method`'s next answer (for tests).
    func expectsQuickAnswer(to method: String) -> Bool {
        box.withLockedValue { !$0.slowMethods.contains(method) }
    }

    /// The one connection closed: every call written on it may have been acted on.
    fileprivate func connectionClosed() {
        failAllPending(IPCError(.connectionLost, "connection to \(peerService) lost before its answer"))
    }

    private func failAllPending(_ error: IPCError) {
        let pending = box.withLockedValue { shared -> [Pending] in
            defer { shared.pending.removeAll() }
            return Array(shared.pending.values)
        }
        for item in pending { item.continuation.resume(throwing: error) }
    }

    private func expireOverdue() {
        let now = NIODeadline.now()
        let overdue = box.withLockedValue { shared -> [Pending] in
            let ids = shared.pending.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { shared.pending.removeValue(forKey: $0) }
        }
        for item in overdue {
            item.continuation.resume(throwing: IPCError(.timeout, "\(peerService) did not answer in time"))
        }
    }

    // MARK: connection management

    private func connectionLoop() async {
        var attempt = 0
        var loggedFailure = false
        while !Task.isCancelled && !box.withLockedValue({ $0.stopping }) {
            setState(.connecting(attempt: attempt))
            do {
                let channel = try await connect()
                box.withLockedValue { $0.connections += 1 }
                attempt = 0
                loggedFailure = false
                try await channel.closeFuture.get()
                if !box.withLockedValue({ $0.stopping }) {
                    logger.warning("lost connection; will reconnect")
                }
            } catch {
                if !loggedFailure {
                    logger.warning("cannot reach peer; retrying with backoff", metadata: ["error": "\(error)"])
                    loggedFailure = true
                } else {
                    logger.debug("reconnect attempt failed", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                }
            }
            let stopping = box.withLockedValue { shared -> Bool in
                shared.channel = nil
                shared.writer = nil
                shared.handshakeWriter = nil
                shared.connectedSince = nil
                if !shared.stopping { shared.state = .disconnected(reason: "no connection to \(peerService)") }
                return shared.stopping
            }
            // These requests were written; whether the peer acted on them is unknown.
            connectionClosed()
            if stopping { break }
            try? await Task.sleep(for: Self.backoff(attempt: attempt, initial: configuration.initialBackoff, maximum: configuration.maximumBackoff))
            attempt += 1
        }
    }

    /// Full-jitter-free but randomised backoff: the capped exponential delay scaled by a factor in [0.5, 1].
    static func backoff(attempt: Int, initial: Duration, maximum: Duration) -> Duration {
        let exponent = min(attempt, 16)
        let raw = initial * (1 << exponent)
        let capped = min(raw, maximum)
        return capped * Double.random(in: 0.5...1.0)
    }

    private func connect() async throws -> Channel {
        let maxFrame = configuration.maximumFrameBytes
        let poller = self.poller
        let descriptor = try UnixSocketConnector.connect(path: configuration.socketPath)
        // Decided before NIO owns the descriptor: once it does, a peer that hangs up at once could let the
        // number be reused by an unrelated socket.
        let budget = ReplyBusyPoller.pays(on: descriptor) ? busyPollBudget : .zero
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: maxFrame)),
                        IPCClientConnectionHandler(client: self),
                    ])
                    poller.watch(descriptor)
                    channel.closeFuture.whenComplete { _ in poller.unwatch(descriptor) }
                }
            }
            .withConnectedSocket(descriptor)
            .get()
        let sweeper = channel.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { [weak self] _ in
            self?.expireOverdue()
        }
        channel.closeFuture.whenComplete { _ in sweeper.cancel() }
        let writer = RequestWriter(channel: channel, poller: poller, busyPollBudget: budget)
        do {
            box.withLockedValue { $0.handshakeWriter = writer }
            let helloFrame = try await send("hello", HelloBody(service: ownService), with: writer, timeout: configuration.requestTimeout)
            let hello = try Self.decodeResponse(HelloBody.self, frame: helloFrame)
            guard hello.service == peerService else {
                throw IPCError(.badRequest, "socket \(configuration.socketPath) is served by \(hello.service), not \(peerService)")
            }
            let stopped = box.withLockedValue { shared -> Bool in
                // shutdown() may have run while the handshake was in flight: it could not close this channel.
                guard !shared.stopping else { return true }
                shared.channel = channel
                shared.writer = writer
                shared.state = .connected
                shared.connectedSince = Date()
                return false
            }
            if stopped { throw IPCError(.unavailable, "client stopped") }
            logger.info("connected", metadata: ["socket": "\(configuration.socketPath)"])
            for hook in box.withLockedValue({ $0.connectHooks }) {
                do {
                    try await hook(self)
                } catch {
                    // Connected, but the peer would not do what we need after connecting (subscribe, resync):
                    // always worth a warning, unlike the repeated "still cannot connect" of a backoff loop.
                    logger.warning("connected, but the after-connect step failed; reconnecting", metadata: ["error": "\(error)"])
                    throw error
                }
            }
            return channel
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private func setState(_ state: IPCConnectionState) {
        box.withLockedValue { if !$0.stopping { $0.state = state } }
    }

    /// After the loop has read what arrived: if answers are still outstanding, keep polling for them.
    fileprivate func readBurstEnded() {
        let writer = box.withLockedValue { shared in
            shared.pending.values.contains(where: \.expectsQuickAnswer) ? shared.writer ?? shared.handshakeWriter : nil
        }
        writer?.armBusyPoll()
    }

    fileprivate func received(frame: ByteBuffer, decoder: JSONDecoder) {
        // The envelope is read here once; a response's body is decoded by the waiting caller, on its own task.
        guard let incoming = try? IncomingFrame(frame: frame, decoder: decoder) else {
            logger.warning("peer sent a malformed frame")
            return
        }
        let header = incoming.header
        switch header.type {
        case .response, .error:
            if let id = header.id {
                complete(id: id, with: .success(incoming))
            } else {
                let error = try? incoming.decodeBody(IPCError.self, decoder: decoder)
                logger.warning("peer reported a connection error", metadata: ["error": "\(error?.description ?? "unreadable")"])
            }
        case .event:
            if let method = header.method, let handler = box.withLockedValue({ $0.eventHandler }) {
                handler(IPCEvent(method: method, incoming: incoming))
            }
        case .request:
            logger.warning("peer sent a request to a client connection; ignored")
        }
    }
}

/// Writes requests on a channel's event loop and flushes once per burst: calls made together (from many
/// tasks) go out in one write syscall instead of one each, and a lone call is flushed straight after.
///
/// After each burst it lets the loop poll for the answers (`ReplyBusyPoller`) rather than sleep.
final class RequestWriter: @unchecked Sendable {
    let channel: Channel
    private let poller: ReplyBusyPoller
    private let busyPollBudget: TimeAmount
    /// Touched only on the channel's event loop.
    private var flushScheduled = false
    /// Whether a write of the burst being flushed awaits an answer worth spinning for. On the loop only.
    private var burstAwaitsQuickAnswer = false

    init(channel: Channel, poller: ReplyBusyPoller, busyPollBudget: TimeAmount) {
        self.channel = channel
        self.poller = poller
        self.busyPollBudget = busyPollBudget
    }

    /// `awaitingQuickAnswer`: the loop may spin for its answer after the flush (`IPCClient.Shared.slowMethods`).
    func write(_ frame: ByteBuffer, awaitingQuickAnswer: Bool = true, onFailure: @escaping @Sendable (Error) -> Void) {
        let loop = channel.eventLoop
        if loop.inEventLoop {
            writeOnLoop(frame, awaitingQuickAnswer: awaitingQuickAnswer, onFailure: onFailure)
        } else {
            loop.execute { self.writeOnLoop(frame, awaitingQuickAnswer: awaitingQuickAnswer, onFailure: onFailure) }
        }
    }

    private func writeOnLoop(_ frame: ByteBuffer, awaitingQuickAnswer: Bool, onFailure: @escaping @Sendable (Error) -> Void) {
        channel.write(frame).whenFailure(onFailure)
        burstAwaitsQuickAnswer = burstAwaitsQuickAnswer || awaitingQuickAnswer
        guard !flushScheduled else { return }
        flushScheduled = true
        // Runs after every write already queued on the loop, so each of them is covered by this flush;
        // a write queued after it finds the flag cleared and schedules the next one.
        channel.eventLoop.execute {
            self.flushScheduled = false
            self.channel.flush()
            if self.burstAwaitsQuickAnswer { self.armBusyPoll() }
            self.burstAwaitsQuickAnswer = false
        }
    }

    /// On the loop: keep it polling for answers for up to this connection's budget.
    func armBusyPoll() {
        poller.arm(for: busyPollBudget)
    }
}

private final class IPCClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private weak var client: IPCClient?
    private let decoder = IPCCoding.makeDecoder()

    init(client: IPCClient) {
        self.client = client
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client?.received(frame: Self.unwrapInboundIn(data), decoder: decoder)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        client?.readBurstEnded()
    }

    /// Calls waiting on this connection fail at once: the connection loop would only fail them once its `connect()`
    /// returns, and a connect hook's own call (a subscribe, a resync) holds it there, with the timeout sweeper
    /// gone with the connection.
    func channelInactive(context: ChannelHandlerContext) {
        client?.connectionClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
