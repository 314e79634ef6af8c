import Foundation
import NIOCore
import NIOFoundationCompat

/// The protocol version spoken on every BAGBOT socket. A peer with another major version is refused.
public enum IPCProtocol {
    public static let majorVersion = 1
    public static let version = "1.0"
    public static let defaultMaximumFrameBytes = 1 << 20
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
    case helloRequired = "hello_required"
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
}

struct EnvelopeBody<Body: Decodable>: Decodable {
    var body: Body?
}

struct OutgoingEnvelope<Body: Encodable>: Encodable {
    var v: Int = IPCProtocol.majorVersion
    var id: UInt64?
    var type: IPCMessageType
    var method: String?
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

    public var majorVersion: Int? { Int(`protocol`.split(separator: ".").first ?? "") }
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

    /// Encodes one envelope into a fresh buffer (without the length prefix, which the pipeline adds).
    static func encode<Body: Encodable>(
        _ envelope: OutgoingEnvelope<Body>, allocator: ByteBufferAllocator, encoder: JSONEncoder
    ) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        try buffer.writeJSONEncodable(envelope, encoder: encoder)
        return buffer
    }

    static func errorFrame(
        id: UInt64?, method: String?, error: IPCError, allocator: ByteBufferAllocator, encoder: JSONEncoder
    ) -> ByteBuffer {
        let envelope = OutgoingEnvelope(id: id, type: .error, method: method, body: error)
        // Encoding a struct of two strings cannot fail; fall back to a fixed frame rather than trap.
        return (try? encode(envelope, allocator: allocator, encoder: encoder))
            ?? ByteBuffer(string: #"{"v":1,"type":"error","body":{"code":"internal","message":"encoding failed"}}"#)
    }

    /// Decodes a frame's body as `Body`; a missing body is accepted only for `EmptyBody`.
    static func decodeBody<Body: Decodable>(_ type: Body.Type, from frame: ByteBuffer, decoder: JSONDecoder) throws -> Body {
        let wrapper: EnvelopeBody<Body>
        do {
            wrapper = try decoder.decode(EnvelopeBody<Body>.self, from: frame)
        } catch let error as DecodingError {
            throw IPCError(.badRequest, "invalid body: \(error.readableDescription)")
        }
        if let body = wrapper.body { return body }
        if let empty = EmptyBody() as? Body { return empty }
        throw IPCError(.badRequest, "missing body")
    }
}

extension DecodingError {
    /// "at body.qty: expected Double" rather than Foundation's nested debug dump.
    public var readableDescription: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch self {
        case .typeMismatch(let type, let context):
            return "at \(path(context)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "at \(path(context)): missing \(type) value"
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key \(parent == "top level" ? "" : parent + ".")\(key.stringValue)"
        case .dataCorrupted(let context):
            return "at \(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
