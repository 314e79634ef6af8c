import Foundation
import BagbotDomain
import NIOCore
import NIOFoundationCompat

/// The protocol version spoken on every BAGBOT socket. A peer with another major version is refused.
public enum IPCProtocol {
    public static let majorVersion = 1
    public static let version = "1.0"
    public static let defaultMaximumFrameBytes = 1 << 20

    /// Reads a `protocol` string of exactly `MAJOR.MINOR`, decimal digits only (at most 9 each, so no
    /// overflow); nil for anything else (`"1"`, `"1.x"`, `"+1.0"`, `" 1.0"`), which a hello must not carry.
    public static func parseVersion(_ text: String) -> (major: Int, minor: Int)? {
        var major = 0, minor = 0, majorDigits = 0, minorDigits = 0, sawDot = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "."), !sawDot {
                sawDot = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int(byte - UInt8(ascii: "0"))
            if sawDot {
                minor = minor * 10 + digit
                minorDigits += 1
            } else {
                major = major * 10 + digit
                majorDigits += 1
            }
            guard majorDigits <= 9, minorDigits <= 9 else { return nil }
        }
        guard sawDot, majorDigits > 0, minorDigits > 0 else { return nil }
        return (major, minor)
    }
}

public enum IPCMessageType: String, Codable, Sendable {
    case request, response, error, event
}

/// Stable error codes carried in error frames; clients branch on these, never on messages.
public enum IPCErrorCode: String, Codable, Sendable {
    case badRequest = "bad_request"
    case unknownMethod = "unknown_method"
    case unavailable
    case forbidden
    case `internal`
    case unsupportedVersion = "unsupported_version"
    case frameTooLarge = "frame_too_large"
    case timeout
    case notFound = "not_found"
    case conflict
    case rejected
    case tradingPaused = "trading_paused"
    /// routerd refused an order it could not record (the order is persisted before it is sent, so unrecorded means
    /// unsent): nothing reached the venue. Unlike `internal`, which a client also raises for an answer it could not
    /// read, this never leaves an order's fate open.
    case notSent = "not_sent"
    /// The request's idempotency key already names a different order (arsenald's manual orders: another symbol,
    /// side, kind or a larger size than this request's): nothing was sent, and the key's order is not this one.
    case keyReused = "key_reused"
    case helloRequired = "hello_required"
    /// Raised by the client, never sent: the request was written but the connection closed before its
    /// answer, so the peer may or may not have acted on it.
    case connectionLost = "connection_lost"
}

/// An error that crosses a socket: thrown by handlers, sent as an error frame, rethrown by clients.
public struct IPCError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: IPCErrorCode
    public var message: String

    public init(_ code: IPCErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The fields every frame has; decoded first so the body can be decoded with the method's own type.
public struct EnvelopeHeader: Decodable, Sendable {
    public var v: Int
    public var id: UInt64?
    public var type: IPCMessageType
    public var method: String?
    /// The request id of the trade a request or event belongs to (`RequestId`), for the receiver's log lines.
    public var rid: String?
}

struct EnvelopeBody<Body: Decodable>: Decodable {
    var body: Body?
}

struct OutgoingEnvelope<Body: Encodable>: Encodable {
    var v: Int = IPCProtocol.majorVersion
    var id: UInt64?
    var type: IPCMessageType
    var method: String?
    var rid: String? = nil
    var body: Body
}

/// For methods that take or return nothing.
public struct EmptyBody: Codable, Sendable, Equatable {
    public init() {}
}

public struct HelloBody: Codable, Sendable {
    public var service: String
    public var `protocol`: String

    public init(service: String, protocol: String = IPCProtocol.version) {
        self.service = service
        self.protocol = `protocol`
    }

    /// The major version of a well-formed `protocol` (`MAJOR.MINOR`); nil when it is not well formed.
    public var majorVersion: Int? { IPCProtocol.parseVersion(`protocol`)?.major }
}

/// JSON coding shared by every daemon: dates are seconds since the Unix epoch (fractional), which keeps
/// microseconds and is what any client language reads without a date parser.
public enum IPCCoding {
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }

    /// Encodes one envelope into a fresh buffer; with `lengthPrefixed` (everything written to a socket),
    /// the frame's 4-byte length comes first, written into the same buffer rather than by a pipeline
    /// handler (which allocated a second buffer and made a second write per message).
    ///
    /// The envelope's own fields are written directly and the body by `FastJSON`, straight into the same
    /// buffer. A body the fast path declines goes through JSONEncoder, encoded as the value of a one-key
    /// object exactly as when it was nested in the envelope, so types that encode nothing (EmptyBody) still
    /// give `{}`, fragments work, and errors are JSONEncoder's. `encoder` is only used for that fallback:
    /// it must be one made by `makeEncoder()`, whose settings the fast path implements.
    static func encode<Body: Encodable>(
        _ envelope: OutgoingEnvelope<Body>, allocator: ByteBufferAllocator, encoder: JSONEncoder,
        lengthPrefixed: Bool = false
    ) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        if lengthPrefixed { buffer.writeInteger(UInt32(0)) }
        let start = buffer.writerIndex
        buffer.writeStaticString(#"{"v":"#)
        buffer.writeString(String(envelope.v))
        if let id = envelope.id {
            buffer.writeStaticString(#","id":"#)
            buffer.writeString(String(id))
        }
        buffer.writeStaticString(#","type":""#)
        buffer.writeString(envelope.type.rawValue)
        buffer.writeStaticString("\"")
        if let method = envelope.method {
            buffer.writeStaticString(#","method":"#)
            buffer.writeJSONStringLiteral(method)
        }
        if let rid = envelope.rid {
            buffer.writeStaticString(#","rid":"#)
            buffer.writeJSONStringLiteral(rid)
        }
        buffer.writeStaticString(#","body":"#)
        if FastJSON.encode(envelope.body, appendingTo: &buffer) {
            buffer.writeStaticString("}")
        } else {
            let wrapped = try encoder.encode(BodyWrapper(body: envelope.body))
            // `wrapped` is `{"body":<value>}`: keep the `<value>}` part, which also closes the envelope.
            let prefix = wrapperPrefix
            if wrapped.count > prefix.count + 1, wrapped.starts(with: prefix), wrapped.last == UInt8(ascii: "}") {
                buffer.writeBytes(wrapped.dropFirst(prefix.count))
            } else {
                buffer.moveWriterIndex(to: start)
                try buffer.writeJSONEncodable(envelope, encoder: encoder)
            }
        }
        if lengthPrefixed {
            guard let length = UInt32(exactly: buffer.writerIndex - start) else {
                throw EncodingError.invalidValue(envelope.method ?? "", .init(codingPath: [], debugDescription: "frame too large"))
            }
            buffer.setInteger(length, at: start - 4)
        }
        return buffer
    }

    private static let wrapperPrefix = Array(#"{"body":"#.utf8)

    private struct BodyWrapper<Body: Encodable>: Encodable {
        var body: Body
    }

    /// One frame as the IPC layer writes it, for tools and benchmarks: with `lengthPrefixed` exactly the
    /// bytes that go on a socket, without it only the JSON (what `IPCClient.decodeEvent` reads).
    public static func frame<Body: Encodable>(
        id: UInt64?, type: IPCMessageType, method: String?, requestId: String? = nil, body: Body,
        encoder: JSONEncoder = makeEncoder(), lengthPrefixed: Bool = false
    ) throws -> ByteBuffer {
        try encode(OutgoingEnvelope(id: id, type: type, method: method, rid: requestId, body: body), allocator: ByteBufferAllocator(),
                   encoder: encoder, lengthPrefixed: lengthPrefixed)
    }

    /// An error frame, length prefix included, ready for a socket.
    static func errorFrame(
        id: UInt64?, method: String?, error: IPCError, allocator: ByteBufferAllocator, encoder: JSONEncoder
    ) -> ByteBuffer {
        let envelope = OutgoingEnvelope(id: id, type: .error, method: method, body: error)
        // Encoding a struct of two strings cannot fail; fall back to a fixed frame rather than trap.
        if let frame = try? encode(envelope, allocator: allocator, encoder: encoder, lengthPrefixed: true) { return frame }
        let fixed = #"{"v":1,"type":"error","body":{"code":"internal","message":"encoding failed"}}"#
        var frame = allocator.buffer(capacity: fixed.utf8.count + 4)
        frame.writeInteger(UInt32(fixed.utf8.count))
        frame.writeString(fixed)
        return frame
    }

    /// Decodes a frame's body as `Body`; a missing body is accepted only for `EmptyBody`.
    static func decodeBody<Body: Decodable>(_ type: Body.Type, from frame: ByteBuffer, decoder: JSONDecoder) throws -> Body {
        let incoming: IncomingFrame
        do {
            incoming = try IncomingFrame(frame: frame, decoder: decoder)
        } catch let error as DecodingError {
            throw IPCError(.badRequest, "invalid body: \(error.readableDescription)")
        }
        return try incoming.decodeBody(type, decoder: decoder)
    }
}
