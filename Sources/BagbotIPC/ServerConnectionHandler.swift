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

/// Reads frames from one client: checks the peer, requires `hello` first, dispatches requests, and
/// answers every malformed frame with an error frame instead of failing.
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
        inFlight: InFlightCounter, logger: Logger
    ) {
        self.serviceName = serviceName
        self.registry = registry
        self.hub = hub
        self.policy = policy
        self.inFlight = inFlight
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        PeerCredentials.of(channel).whenComplete { result in
            loopBound.value.checkPeer(result, context: contextBound.value)
        }
        context.fireChannelActive()
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
            send(context: context, errorFrame(id: nil, method: nil, IPCError(.badRequest, "malformed envelope: \(error.readableDescription)")))
            return
        } catch {
            send(context: context, errorFrame(id: nil, method: nil, IPCError(.badRequest, "malformed envelope")))
            return
        }
        let header = incoming.header
        guard header.v == IPCProtocol.majorVersion else {
            sendErrorAndClose(context: context, id: header.id, method: header.method,
                IPCError(.unsupportedVersion, "protocol version \(header.v) is not supported; this daemon speaks \(IPCProtocol.majorVersion)"))
            return
        }
        guard header.type == .request, let method = header.method, !method.isEmpty else {
            send(context: context, errorFrame(id: header.id, method: header.method, IPCError(.badRequest, "expected a request with a method")))
            return
        }
        if method == "hello" {
            answerHello(context: context, incoming: incoming)
            return
        }
        guard state == .ready else {
            send(context: context, errorFrame(id: header.id, method: method, IPCError(.helloRequired, "send hello before any other request")))
            return
        }
        dispatch(context: context, incoming: incoming, method: method, connection: connection)
    }

    private func answerHello(context: ChannelHandlerContext, incoming: IncomingFrame) {
        let header = incoming.header
        do {
            let hello = try incoming.decodeBody(HelloBody.self, decoder: decoder)
            guard hello.majorVersion == IPCProtocol.majorVersion else {
                sendErrorAndClose(context: context, id: header.id, method: "hello",
                    IPCError(.unsupportedVersion, "protocol \(hello.protocol) is not supported; this daemon speaks \(IPCProtocol.version)"))
                return
            }
            state = .ready
            logger.debug("peer said hello", metadata: ["peer_service": "\(hello.service)"])
            let reply = IPCReply(HelloBody(service: serviceName))
            send(context: context, try reply.encode(header.id, "hello", context.channel.allocator, encoder))
        } catch let error as IPCError {
            send(context: context, errorFrame(id: header.id, method: "hello", error))
        } catch {
            send(context: context, errorFrame(id: header.id, method: "hello", IPCError(.internal, "\(error)")))
        }
    }

    private func dispatch(
        context: ChannelHandlerContext, incoming: IncomingFrame, method: String, connection: IPCConnection
    ) {
        let header = incoming.header
        guard let handler = registry.method(named: method) else {
            send(context: context, errorFrame(id: header.id, method: method, IPCError(.unknownMethod, "unknown method '\(method)'")))
            return
        }
        let call = IPCCallContext(requestID: header.id, method: method, peer: connection.peer, connection: connection, logger: logger)
        switch handler {
        case .sync(let run):
            do {
                let reply = try run(incoming, call, decoder)
                send(context: context, try reply.encode(header.id, method, context.channel.allocator, encoder))
            } catch {
                send(context: context, errorFrame(id: header.id, method: method, Self.ipcError(from: error, method: method, logger: logger)))
            }
        case .async(let prepare):
            let work: @Sendable () async throws -> IPCReply
            do {
                work = try prepare(incoming, call, decoder)
            } catch {
                send(context: context, errorFrame(id: header.id, method: method, Self.ipcError(from: error, method: method, logger: logger)))
                return
            }
            let channel = context.channel
            let id = header.id
            let logger = logger
            let inFlight = inFlight
            inFlight.increment()
            Task {
                defer { inFlight.decrement() }
                let frame: ByteBuffer
                let encoder = IPCCoding.makeEncoder()
                do {
                    frame = try await work().encode(id, method, channel.allocator, encoder)
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
        logger.error("handler failed", metadata: ["method": "\(method)", "error": "\(error)"])
        return IPCError(.internal, "\(error)")
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let connection {
            hub.connectionBecameWritable(connection)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { hub.remove(connection) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tooLarge = error as? FrameTooLargeError {
            logger.warning("closing a connection that sent an oversized frame", metadata: ["declared": "\(tooLarge.declared)"])
            sendErrorAndClose(context: context, id: nil, method: nil, IPCError(.frameTooLarge, tooLarge.description))
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
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
