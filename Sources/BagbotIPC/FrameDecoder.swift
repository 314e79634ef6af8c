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
    /// Servers only: a frame must be complete this long after its first bytes arrived (`FrameDeadline`).
    private let deadline: FrameDeadline?

    public init(maximumFrameBytes: Int, frameTimeout: TimeAmount? = nil) {
        self.maximumFrameBytes = maximumFrameBytes
        self.deadline = frameTimeout.map(FrameDeadline.init(timeout:))
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return needMoreData(buffer, context: context)
        }
        guard Int(length) <= maximumFrameBytes else {
            throw FrameTooLargeError(declared: length, maximum: maximumFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return needMoreData(buffer, context: context) }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(length))!
        deadline?.noPartialFrame()
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    private func needMoreData(_ buffer: ByteBuffer, context: ChannelHandlerContext) -> DecodingState {
        if let deadline, buffer.readableBytes > 0 {
            deadline.frameIncomplete(buffered: buffer.readableBytes, context: context)
        }
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        deadline?.cancel()
        return .needMoreData
    }

    public mutating func decoderRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }
}
