import NIOCore

/// An event as a subscriber's handler receives it: its envelope already read (once, by the client), its body
/// decoded on demand.
public struct IPCEvent: Sendable {
    public let method: String
    let incoming: IncomingFrame

    /// The whole frame, as it came (for a handler that reads it without decoding, like the gateway's tick sampler).
    public var frame: ByteBuffer { incoming.frame }

    /// The request id of the trade the event belongs to (the envelope's `rid`).
    public var requestId: String? { incoming.header.rid }

    /// The body as `Body`; throws `IPCError(.badRequest)` naming what is wrong.
    public func decode<Body: Decodable>(_ type: Body.Type) throws -> Body {
        try incoming.decodeBody(type, decoder: IPCCoding.makeDecoder())
    }
}
