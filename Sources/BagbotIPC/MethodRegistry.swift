import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What a handler knows about the call it serves.
public struct IPCCallContext: Sendable {
    /// The envelope's `id`: pairs this call with its answer on the connection.
    public let callId: UInt64?
    /// The envelope's `rid`: the request id of the trade the call belongs to, when the caller named one. `logger`
    /// carries it as `request_id`.
    public let requestId: String?
    public let method: String
    public let peer: PeerCredentials
    public let connection: IPCConnection
    public let logger: Logger

    /// Refuses a call whose envelope names another trade than its body does: the two must tell one story, or the
    /// peer's log lines would file the call under a trade it is not part of.
    public func checkRequestId(matches bodyRequestId: String?) throws {
        guard let requestId, let bodyRequestId, requestId != bodyRequestId else { return }
        throw IPCError(.badRequest, "rid \(LogExcerpt.of(requestId, limit: 64)) names another trade than the body's requestId \(LogExcerpt.of(bodyRequestId, limit: 64))")
    }
}

/// A handler's result, kept typed until it is encoded on the connection's event loop.
public struct IPCReply: Sendable {
    let encode: @Sendable (_ id: UInt64?, _ method: String, ByteBufferAllocator, JSONEncoder) throws -> ByteBuffer

    public init<Body: Encodable & Sendable>(_ body: Body) {
        encode = { id, method, allocator, encoder in
            try IPCCoding.encode(
                OutgoingEnvelope(id: id, type: .response, method: method, body: body),
                allocator: allocator, encoder: encoder, lengthPrefixed: true)
        }
    }
}

/// The methods a daemon serves. Bodies are decoded on the event loop, so a malformed request is answered
/// at once; synchronous handlers also run there (no thread hop), asynchronous ones in a task.
public final class IPCMethodRegistry: Sendable {
    enum Method: Sendable {
        case sync(@Sendable (IncomingFrame, IPCCallContext, JSONDecoder) throws -> IPCReply)
        /// `executor`: the task executor the handler's task prefers (nil: the global pool).
        case async(@Sendable (IncomingFrame, IPCCallContext, JSONDecoder) throws -> @Sendable () async throws -> IPCReply,
                   executor: (any TaskExecutor)?)
    }

    private let methods: NIOLockedValueBox<[String: Method]>

    public init() {
        methods = NIOLockedValueBox([:])
    }

    /// Registers a handler cheap enough to run on the event loop (no blocking, no awaiting).
    public func registerSync<Request: Decodable & Sendable, Response: Encodable & Sendable>(
        _ name: String, _ request: Request.Type = Request.self,
        handler: @escaping @Sendable (Request, IPCCallContext) throws -> Response
    ) {
        methods.withLockedValue {
            $0[name] = .sync { frame, context, decoder in
                let body = try frame.decodeBody(Request.self, decoder: decoder)
                return IPCReply(try handler(body, context))
            }
        }
    }

    /// Registers a handler that runs in a task of its own. `executor` is the task executor that task prefers: a
    /// daemon whose handlers go straight to an actor on a thread of its own gives that thread's executor, so a call
    /// wakes that thread alone instead of a pool thread on the way in and another on the way out. The task also
    /// encodes the answer there, so only handlers with small answers should name one.
    public func register<Request: Decodable & Sendable, Response: Encodable & Sendable>(
        _ name: String, _ request: Request.Type = Request.self, executor: (any TaskExecutor)? = nil,
        handler: @escaping @Sendable (Request, IPCCallContext) async throws -> Response
    ) {
        methods.withLockedValue {
            $0[name] = .async({ frame, context, decoder in
                let body = try frame.decodeBody(Request.self, decoder: decoder)
                return { IPCReply(try await handler(body, context)) }
            }, executor: executor)
        }
    }

    func method(named name: String) -> Method? {
        methods.withLockedValue { $0[name] }
    }

    public var methodNames: [String] {
        methods.withLockedValue { $0.keys.sorted() }
    }
}
