import NIOCore

/// Thrown when a peer declares a frame larger than the configured maximum.
public struct FrameTooLargeError: Error, CustomStringConvertible {
    public let declared: UInt32
    public let maximum: Int
    public var description: String { "frame of \(declared) bytes exceeds the maximum of \(maximum) bytes" }
}

/// Splits a byte stream into frames of a 4-byte big-endian length followed by that many bytes.
///
/// NIOExtras' `LengthFieldBasedFrameDecoder` has no maximum of its own, and
/// `ByteToMessageHandler(maximumBufferSize:)` only trips after the bytes have arrived; this decoder refuses
/// an oversized frame as soon as its header is read, so nothing is ever allocated from an untrusted length.
public struct BoundedFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    public let maximumFrameBytes: Int

    public init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        guard Int(length) <= maximumFrameBytes else {
            throw FrameTooLargeError(declared: length, maximum: maximumFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
