#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import BagbotIPC

/// The floor, and the steps between it and the IPC layer.
///
/// `raw-server` is a plain blocking echo (no framework, no JSON). `nio-echo-server` echoes frames through
/// the same NIO pipeline the IPC server uses (BoundedFrameDecoder, length prefix written by hand) but does
/// no JSON work. The raw client is plain blocking read/write; it sends the exact bytes an `IPCClient` sends for a
/// `bench.echo` call, so it can also talk to the real `ipc-server` (after a hello), which isolates the
/// server's cost from the client's.
enum RawBenchmark {
    /// `raw-server PATH`: accept connections one after another and echo bytes until each closes.
    static func serve(path: String) -> Never {
        let listener = RawSocketIO.listen(path)
        announceReady()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            while true {
                let got = read(connection, buffer, 1 << 16)
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                RawSocketIO.writeAll(connection, buffer, got)
            }
            close(connection)
        }
    }

    /// Echoes every frame back, with its length prefix written into one new buffer as the IPC layer
    /// does; flushes once per read burst, as the IPC server does.
    private final class FrameEcho: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var pending = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let payload = Self.unwrapInboundIn(data)
            var frame = context.channel.allocator.buffer(capacity: payload.readableBytes + 4)
            frame.writeInteger(UInt32(payload.readableBytes))
            frame.writeImmutableBuffer(payload)
            context.write(Self.wrapOutboundOut(frame), promise: nil)
            pending = true
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if pending {
                pending = false
                context.flush()
            }
            context.fireChannelReadComplete()
        }
    }

    /// `nio-echo-server PATH`: the IPC server's framing with an echo instead of JSON dispatch.
    static func serveNIOEcho(path: String) -> Never {
        unlink(path)
        let channel = try! ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(BoundedFrameDecoder(maximumFrameBytes: IPCProtocol.defaultMaximumFrameBytes)),
                        FrameEcho(),
                    ])
                }
            }
            .bind(unixDomainSocketPath: path)
            .wait()
        announceReady()
        try! channel.closeFuture.wait()
        exit(0)
    }

    static func frame(_ json: Data) -> [UInt8] {
        let length = UInt32(json.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)] + Array(json)
    }

    /// The exact frame the IPC client sends for one `bench.echo` call (length prefix included).
    static func representativeFrame() -> [UInt8] {
        let json = #"{"v":1,"id":123456,"type":"request","method":"bench.echo","body":"#
        var body = try! IPCCoding.makeEncoder().encode(BenchPayload.number(42))
        body.append(UInt8(ascii: "}"))
        return frame(Data(json.utf8) + body)
    }

    static func helloFrame() -> [UInt8] {
        frame(Data(#"{"v":1,"id":1,"type":"request","method":"hello","body":{"service":"bench-client","protocol":"1.0"}}"#.utf8))
    }

    /// Reads whole frames from a blocking socket.
    final class FrameReader {
        private let fd: Int32
        private var buffer = [UInt8](repeating: 0, count: 1 << 17)
        private var start = 0
        private var end = 0

        /// How the reader waits for bytes before each read.
        enum Wait: String {
            /// Blocked in `read` itself.
            case block
            /// In `epoll_wait`, as an event loop does.
            case epoll
            /// Spinning on `epoll_wait` with a zero timeout until the socket is readable, as an event loop that
            /// busy-polls for a reply does (`ReplyBusyPoller`).
            case spin
        }

        private let epoll: Int32?
        private let spin: Bool

        init(fd: Int32, wait: Wait = .block) {
            self.fd = fd
            spin = wait == .spin
            if wait != .block {
                let epoll = c_epoll_create1(0)
                var event = (UInt64(0), UInt64(0))
                withUnsafeMutableBytes(of: &event) { raw in
                    raw.storeBytes(of: 1, toByteOffset: 0, as: UInt32.self)  // EPOLLIN
                    _ = c_epoll_ctl(epoll, 1, fd, raw.baseAddress!)  // EPOLL_CTL_ADD
                }
                self.epoll = epoll
            } else {
                self.epoll = nil
            }
        }

        private func fill() {
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            if let epoll {
                var event = (UInt64(0), UInt64(0))  // room for one packed struct epoll_event (12 bytes)
                let timeout: Int32 = spin ? 0 : -1
                while withUnsafeMutableBytes(of: &event, { c_epoll_wait(epoll, $0.baseAddress!, 1, timeout) }) == 0 {}
            }
            let got = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + end, raw.count - end) }
            if got < 0 && errno == EINTR { return }
            guard got > 0 else { die("the server closed the connection") }
            end += got
        }

        /// The next frame's payload length (the payload itself is skipped).
        func nextFrame() -> Int {
            while end - start < 4 { fill() }
            let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            guard length + 4 <= buffer.count else { die("frame of \(length) bytes") }
            while end - start < 4 + length { fill() }
            start += 4 + length
            return length
        }
    }

    /// `raw-client PATH WARMUP ROUND_TRIPS STREAMED HELLO`: sequential round trips, then a streamed
    /// (pipelined) run; with HELLO=1 it first says hello, for the IPC server.
    static func client(path: String, warmup: Int, roundTrips: Int, streamed: Int, hello: Bool, wait: FrameReader.Wait = .block) -> ClientReport {
        let frame = representativeFrame()
        let size = frame.count
        let fd = RawSocketIO.connect(path)
        let reader = FrameReader(fd: fd, wait: wait)
        if hello {
            let helloFrame = helloFrame()
            helloFrame.withUnsafeBytes { RawSocketIO.writeAll(fd, $0.baseAddress!, $0.count) }
            _ = reader.nextFrame()
        }
        var latencies = Latencies(capacity: roundTrips)
        frame.withUnsafeBytes { request in
            for index in 0..<(warmup + roundTrips) {
                let start = nowNanos()
                RawSocketIO.writeAll(fd, request.baseAddress!, size)
                _ = reader.nextFrame()
                let end = nowNanos()
                if index >= warmup { latencies.add(end - start) }
            }
        }

        // Pipelined: one thread writes `streamed` frames, one write(2) per frame, while this thread reads
        // the replies back; messages per second from the first write to the last reply read.
        let start = nowNanos()
        let writer = Thread {
            frame.withUnsafeBytes { request in
                for _ in 0..<streamed { RawSocketIO.writeAll(fd, request.baseAddress!, size) }
            }
        }
        writer.start()
        for _ in 0..<streamed { _ = reader.nextFrame() }
        let elapsed = Double(nowNanos() - start) / 1e9
        close(fd)
        return ClientReport(
            roundTrip: latencies.summary(),
            throughput: ["stream": Double(streamed) / elapsed],
            cpus: allowedCPUs())
    }
}

// Glibc's module map does not export epoll.
@_silgen_name("epoll_create1") private func c_epoll_create1(_ flags: Int32) -> Int32
@_silgen_name("epoll_ctl") private func c_epoll_ctl(_ epfd: Int32, _ op: Int32, _ fd: Int32, _ event: UnsafeMutableRawPointer) -> Int32
@_silgen_name("epoll_wait") private func c_epoll_wait(_ epfd: Int32, _ events: UnsafeMutableRawPointer, _ count: Int32, _ timeout: Int32) -> Int32
