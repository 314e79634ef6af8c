import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import BagbotIPC

/// A ladder step between the raw client and `IPCClient`: a NIO client with the IPC client's pipeline
/// (BoundedFrameDecoder; frames carry their length prefix) that sends the raw client's bytes and sends the next
/// request from the reply's `channelRead`, on the event loop: no JSON, no tasks, no continuations.
enum NIOClientBenchmark {
    private final class PingPong: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let request: ByteBuffer
        private let hello: ByteBuffer
        private let total: Int
        private let done: EventLoopPromise<[UInt64]>
        private var samples: [UInt64] = []
        private var started: UInt64 = 0
        private var helloAnswered = false

        init(request: ByteBuffer, hello: ByteBuffer, total: Int, done: EventLoopPromise<[UInt64]>) {
            self.request = request
            self.hello = hello
            self.total = total
            self.done = done
            samples.reserveCapacity(total)
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(Self.wrapOutboundOut(hello), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if helloAnswered {
                samples.append(nowNanos() - started)
            } else {
                helloAnswered = true
            }
            guard samples.count < total else {
                done.succeed(samples)
                return
            }
            started = nowNanos()
            context.writeAndFlush(Self.wrapOutboundOut(request), promise: nil)
        }
    }

    /// `nio-client PATH WARMUP ROUND_TRIPS`
    static func client(path: String, warmup: Int, roundTrips: Int) -> ClientReport {
        // The raw client's frames, length prefix included.
        let request = ByteBuffer(bytes: RawBenchmark.representativeFrame())
        let hello = ByteBuffer(bytes: RawBenchmark.helloFrame())
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: [UInt64].self)
        let channel = try! ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: IPCProtocol.defaultMaximumFrameBytes)),
                        PingPong(request: request, hello: hello, total: warmup + roundTrips, done: done),
                    ])
                }
            }
            .connect(unixDomainSocketPath: path)
            .wait()
        let samples = try! done.futureResult.wait()
        try? channel.close().wait()
        var latencies = Latencies(capacity: roundTrips)
        for sample in samples.dropFirst(warmup) { latencies.add(sample) }
        return ClientReport(roundTrip: latencies.summary(), throughput: [:], cpus: allowedCPUs())
    }
}
