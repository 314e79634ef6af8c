import Foundation
import BagbotDomain
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A live server-side connection, as handlers see it (to subscribe it to events, or to know its peer).
public final class IPCConnection: Sendable {
    public let channel: Channel
    public let peer: PeerCredentials

    init(channel: Channel, peer: PeerCredentials) {
        self.channel = channel
        self.peer = peer
    }
}

/// Reads frames from one client: checks the peer, requires `hello` first (within `helloTimeout`),
/// dispatches requests, and answers every malformed frame with an error frame instead of failing. Refused
/// frames are logged as excerpts, a few per second at most (`LogRateLimiter`).
final class IPCServerConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case checkingPeer, awaitingHello, ready, refused
    }

    private let serviceName: String
    private let registry: IPCMethodRegistry
    private let hub: IPCEventHub
    private let policy: PeerPolicy
    private let inFlight: InFlightCounter
    private let helloTimeout: TimeAmount
    private var helloTimer: Scheduled<Void>?
    private var refusalLog = LogRateLimiter()
    private var logger: Logger
    private let encoder = IPCCoding.makeEncoder()
    private let decoder = IPCCoding.makeDecoder()
    private var state = State.checkingPeer
    private var connection: IPCConnection?
    /// Replies written during this read burst; flushed once in `channelReadComplete` (one syscall for
    /// many pipelined replies instead of one each).
    private var needsFlush = false

    init(
        serviceName: String, registry: IPCMethodRegistry, hub: IPCEventHub, policy: PeerPolicy,
        inFlight: InFlightCounter, helloTimeout: TimeAmount, logger: Logger
    ) {
        self.serviceName = serviceName
        self.registry = registry
        self.hub = hub
        self.policy = policy
        self.inFlight = inFlight
        self.helloTimeout = helloTimeout
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        PeerCredentials.of(channel).whenComplete { result in
            loopBound.value.checkPeer(result, context: contextBound.value)
        }
        helloTimer = context.eventLoop.scheduleTask(in: helloTimeout) {
            loopBound.value.helloTimedOut(context: contextBound.value)
        }
        context.fireChannelActive()
    }

    private func helloTimedOut(context: ChannelHandlerContext) {
        helloTimer = nil
        guard state == .checkingPeer || state == .awaitingHello, context.channel.isActive else { return }
        state = .refused
        let milliseconds = helloTimeout.nanoseconds / 1_000_000
        logger.notice("closing a connection that did not complete hello in time", metadata: ["timeout_ms": "\(milliseconds)"])
        closeNow(context: context, IPCError(.timeout, "no hello within \(milliseconds) ms"))
    }

    private func checkPeer(_ result: Result<PeerCredentials, Error>, context: ChannelHandlerContext) {
        switch result {
        case .success(let peer) where policy.allows(peer):
            logger[metadataKey: "peer_pid"] = "\(peer.pid)"
            connection = IPCConnection(channel: context.channel, peer: peer)
            state = .awaitingHello
        case .success(let peer):
            state = .refused
            logger.warning(
                "refused a connection from a process outside the allowed users and group",
                metadata: ["peer_uid": "\(peer.uid)", "peer_gid": "\(peer.gid)", "peer_pid": "\(peer.pid)"])
            sendErrorAndClose(context: context, id: nil, method: nil, IPCError(.forbidden, "peer uid \(peer.uid) is not allowed on this socket"))
        case .failure(let error):
            state = .refused
            logger.error("could not read the peer's credentials", metadata: ["error": "\(error)"])
            sendErrorAndClose(context: context, id: nil, method: nil, IPCError(.forbidden, "peer credentials unavailable"))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard state == .awaitingHello || state == .ready, let connection else { return }

        let incoming: IncomingFrame
        do {
            incoming = try IncomingFrame(frame: frame, decoder: decoder)
        } catch let error as DecodingError {
            refuse(context: context, frame: frame, id: nil, method: nil, IPCError(.badRequest, "malformed envelope: \(error.readableDescription)"))
            return
        } catch let error as IPCError {
            refuse(context: context, frame: frame, id: nil, method: nil, error)
            return
        } catch {
            refuse(context: context, frame: frame, id: nil, method: nil, IPCError(.badRequest, "malformed envelope"))
            return
        }
        let header = incoming.header
        guard header.v == IPCProtocol.majorVersion else {
            logRefusal(frame: frame, requestId: nil, IPCError(.unsupportedVersion, "v \(header.v)"))
            sendErrorAndClose(context: context, id: header.id, method: header.method,
                IPCError(.unsupportedVersion, "protocol version \(header.v) is not supported; this daemon speaks \(IPCProtocol.majorVersion)"))
            return
        }
        guard header.type == .request, let method = header.method, !method.isEmpty else {
            refuse(context: context, frame: frame, id: header.id, method: header.method, IPCError(.badRequest, "expected a request with a method"))
            return
        }
        if method == "hello" {
            answerHello(context: context, incoming: incoming)
            return
        }
        guard state == .ready else {
            refuse(context: context, frame: frame, id: header.id, method: method, IPCError(.helloRequired, "send hello before any other request"))
            return
        }
        dispatch(context: context, incoming: incoming, method: method, connection: connection)
    }

    private func answerHello(context: ChannelHandlerContext, incoming: IncomingFrame) {
        let header = incoming.header
        do {
            let hello = try incoming.decodeBody(HelloBody.self, decoder: decoder)
            // `majorVersion` is nil unless `protocol` is exactly MAJOR.MINOR in decimal digits ("1.x" is not).
            guard hello.majorVersion == IPCProtocol.majorVersion else {
                let error = IPCError(.unsupportedVersion,
                    "protocol \(LogExcerpt.of(hello.protocol, limit: 40)) is not supported; this daemon speaks \(IPCProtocol.version) (MAJOR.MINOR, digits only)")
                logRefusal(frame: incoming.frame, requestId: nil, error)
                sendErrorAndClose(context: context, id: header.id, method: "hello", error)
                return
            }
            state = .ready
            helloTimer?.cancel()
            helloTimer = nil
            logger.debug("peer said hello", metadata: ["peer_service": "\(LogExcerpt.of(hello.service, limit: 64))"])
            let reply = IPCReply(HelloBody(service: serviceName))
            send(context: context, try reply.encode(header.id, "hello", context.channel.allocator, encoder))
        } catch let error as IPCError {
            refuse(context: context, frame: incoming.frame, id: header.id, method: "hello", error)
        } catch {
            send(context: context, errorFrame(id: header.id, method: "hello", IPCError(.internal, "\(error)")))
        }
    }

    private func dispatch(
        context: ChannelHandlerContext, incoming: IncomingFrame, method: String, connection: IPCConnection
    ) {
        let header = incoming.header
        guard let handler = registry.method(named: method) else {
            refuse(context: context, frame: incoming.frame, id: header.id, method: method,
                   IPCError(.unknownMethod, "unknown method '\(LogExcerpt.of(method, limit: 100))'"))
            return
        }
        var callLogger = logger
        if let rid = header.rid {
            guard RequestId.isWellFormed(rid) else {
                refuse(context: context, frame: incoming.frame, id: header.id, method: method,
                       IPCError(.badRequest, "rid must be a request id of 1–\(RequestId.maximumLength) visible ASCII characters"))
                return
            }
            callLogger[metadataKey: "request_id"] = "\(rid)"
        }
        let call = IPCCallContext(callId: header.id, requestId: header.rid, method: method, peer: connection.peer,
                                  connection: connection, logger: callLogger)
        switch handler {
        case .sync(let run):
            do {
                // The handler's lines, and the calls it makes, are the trade's (the async task below inherits it).
                let reply = try RequestId.$current.withValue(header.rid) { try run(incoming, call, decoder) }
                send(context: context, try reply.encode(header.id, method, context.channel.allocator, encoder))
            } catch {
                refuse(context: context, frame: incoming.frame, id: header.id, method: method, requestId: call.requestId,
                       Self.ipcError(from: error, method: method, logger: callLogger))
            }
        case .async(let prepare, let executor):
            let work: @Sendable () async throws -> IPCReply
            do {
                work = try RequestId.$current.withValue(header.rid) { try prepare(incoming, call, decoder) }
            } catch {
                refuse(context: context, frame: incoming.frame, id: header.id, method: method, requestId: call.requestId,
                       Self.ipcError(from: error, method: method, logger: callLogger))
                return
            }
            let channel = context.channel
            let id = header.id
            let logger = callLogger
            let inFlight = inFlight
            inFlight.increment()
            let requestId = header.rid
            Task(executorPreference: executor) {
                defer { inFlight.decrement() }
                let frame: ByteBuffer
                let encoder = IPCCoding.makeEncoder()
                do {
                    frame = try await RequestId.$current.withValue(requestId) { try await work() }.encode(id, method, channel.allocator, encoder)
                } catch {
                    frame = IPCCoding.errorFrame(id: id, method: method, error: IPCServerConnectionHandler.ipcError(from: error, method: method, logger: logger),
                                                 allocator: channel.allocator, encoder: encoder)
                }
                channel.writeAndFlush(frame, promise: nil)
            }
        }
    }

    static func ipcError(from error: Error, method: String, logger: Logger) -> IPCError {
        if let error = error as? IPCError { return error }
        logger.error("handler failed", metadata: ["method": "\(method)", "error": "\(LogExcerpt.of("\(error)"))"])
        return IPCError(.internal, "\(error)")
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let connection {
            hub.connectionBecameWritable(connection)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        helloTimer?.cancel()
        helloTimer = nil
        if let connection { hub.remove(connection) }
        let suppressed = refusalLog.takeSuppressed()
        if suppressed > 0 {
            logger.notice("connection closed; refused frames not logged (rate limit)", metadata: ["suppressed": "\(suppressed)"])
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tooLarge = error as? FrameTooLargeError {
            logger.warning("closing a connection that sent an oversized frame", metadata: ["declared": "\(tooLarge.declared)"])
            sendErrorAndClose(context: context, id: nil, method: nil, IPCError(.frameTooLarge, tooLarge.description))
        } else if let stalled = error as? FrameTimeoutError {
            logger.warning("closing a connection that stalled in the middle of a frame", metadata: [
                "timeout_ms": "\(stalled.timeout.nanoseconds / 1_000_000)", "buffered_bytes": "\(stalled.bufferedBytes)"])
            closeNow(context: context, IPCError(.timeout, stalled.description))
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// Answers a frame with an error; the refusals that mean bad input are logged as well.
    private func refuse(context: ChannelHandlerContext, frame: ByteBuffer, id: UInt64?, method: String?, requestId: String? = nil, _ error: IPCError) {
        logRefusal(frame: frame, requestId: requestId, error)
        send(context: context, errorFrame(id: id, method: method, error))
    }

    /// One line per refused frame, as excerpts: a peer can send megabytes in a loop, and neither the
    /// journal nor the event loop should pay for it. Handlers' business refusals (`conflict`, …) are not
    /// bad input and are not logged here.
    private func logRefusal(frame: ByteBuffer, requestId: String?, _ error: IPCError) {
        switch error.code {
        case .badRequest, .unknownMethod, .helloRequired, .unsupportedVersion: break
        default: return
        }
        guard case .log(let suppressed) = refusalLog.admit() else { return }
        var metadata: Logger.Metadata = [
            "code": "\(error.code.rawValue)",
            "error": "\(LogExcerpt.of(error.message))",
            "frame": "\(frame.withUnsafeReadableBytes { LogExcerpt.of(bytes: $0) })",
            "frame_bytes": "\(frame.readableBytes)",
        ]
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        if let requestId { metadata["request_id"] = "\(requestId)" }
        logger.notice("refused a frame", metadata: metadata)
    }

    private func errorFrame(id: UInt64?, method: String?, _ error: IPCError) -> ByteBuffer {
        IPCCoding.errorFrame(id: id, method: method, error: error, allocator: ByteBufferAllocator(), encoder: encoder)
    }

    /// Writes a reply to a frame being read; `channelReadComplete` flushes.
    private func send(context: ChannelHandlerContext, _ frame: ByteBuffer) {
        context.write(Self.wrapOutboundOut(frame), promise: nil)
        needsFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// For a peer that may not be reading (it stalled, or never spoke): the error frame goes out if the
    /// socket takes it at once, and the connection closes without waiting for the write.
    private func closeNow(context: ChannelHandlerContext, _ error: IPCError) {
        context.writeAndFlush(Self.wrapOutboundOut(errorFrame(id: nil, method: nil, error)), promise: nil)
        context.close(promise: nil)
    }

    private func sendErrorAndClose(context: ChannelHandlerContext, id: UInt64?, method: String?, _ error: IPCError) {
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(errorFrame(id: id, method: method, error))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// Counts asynchronous requests still running, so a graceful shutdown can wait for them.
final class InFlightCounter: Sendable {
    private let count = NIOLockedValueBox<Int>(0)

    func increment() { count.withLockedValue { $0 += 1 } }
    func decrement() { count.withLockedValue { $0 -= 1 } }
    var value: Int { count.withLockedValue { $0 } }
}
