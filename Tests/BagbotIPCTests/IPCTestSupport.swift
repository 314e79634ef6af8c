#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers
import BagbotTestSupport
import Testing
@testable import BagbotIPC

// Helpers shared by the IPC tests: short temp directories for sockets, a plain POSIX socket client that
// speaks raw bytes, servers and clients wired with quiet loggers, and polling with hang guards.
//
// No test asserts on elapsed time: every timeout here only stops a broken test from hanging the run.


// MARK: wire format, spelled out by hand

enum Wire {
    static func bigEndian32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        bigEndian32(UInt32(payload.count)) + payload
    }

    static func frame(_ json: String) -> [UInt8] {
        frame(Array(json.utf8))
    }

    static func request(id: UInt64, method: String, body: String = "{}", version: Int = 1) -> [UInt8] {
        frame(#"{"v":\#(version),"id":\#(id),"type":"request","method":"\#(method)","body":\#(body)}"#)
    }

    static func hello(id: UInt64 = 1, service: String = "raw-test", protocol version: String = "1.0") -> [UInt8] {
        request(id: id, method: "hello", body: #"{"service":"\#(service)","protocol":"\#(version)"}"#)
    }

    static func echo(id: UInt64, value: Int, method: String = "test.echo") -> [UInt8] {
        request(id: id, method: method, body: #"{"value":\#(value)}"#)
    }

    /// Splits a byte string into complete frames; leftover bytes are reported, not guessed at.
    static func frames(in bytes: [UInt8]) -> (frames: [[UInt8]], leftover: Int) {
        var frames: [[UInt8]] = []
        var index = 0
        while bytes.count - index >= 4 {
            let length = Int(bytes[index]) << 24 | Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard bytes.count - index - 4 >= length else { break }
            frames.append(Array(bytes[(index + 4)..<(index + 4 + length)]))
            index += 4 + length
        }
        return (frames, bytes.count - index)
    }
}

/// Any frame the server sends, decoded loosely so tests can check every field.
struct Reply: Decodable, Sendable {
    var v: Int
    var id: UInt64?
    var type: String
    var method: String?
    var body: Body?

    struct Body: Decodable, Sendable {
        var code: String?
        var message: String?
        var value: Int?
        var via: String?
        var service: String?
        var `protocol`: String?
        var seq: Int?
    }

    /// The error code of an error frame; nil for any other frame.
    var errorCode: String? { type == "error" ? body?.code : nil }

    static func decode(_ frame: [UInt8]) throws -> Reply {
        try JSONDecoder().decode(Reply.self, from: Data(frame))
    }
}

// MARK: a plain POSIX socket client

/// A blocking Unix-socket client with no framework in between, for sending exactly the bytes a test wants.
/// Use it from one thread at a time (through `onThread`).
final class RawSocket: @unchecked Sendable {
    private(set) var fd: Int32
    private var buffer: [UInt8] = []
    private(set) var sawEOF = false

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    static func connect(_ path: String) throws -> RawSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw TestFailure("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TestFailure("connect(\(path)): \(message)")
        }
        return RawSocket(fd: fd)
    }

    /// Writes every byte in one `send` loop (so several frames may go out in one write).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw TestFailure("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Writes one byte per system call, pausing between them so the server sees the frame in many reads.
    func sendByteByByte(_ bytes: [UInt8], pauseMicroseconds: UInt32 = 200) throws {
        for byte in bytes {
            try send([byte])
            if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
        }
    }

    /// Reads more bytes into the buffer; false at end of stream (or a reset, which ends it as well).
    private func fill(timeout: Double) throws -> Bool {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pollFD, 1, Int32(timeout * 1_000))
        if ready == 0 { throw TestFailure("no data from the server within \(timeout) s (hang guard)") }
        if ready < 0 {
            if errno == EINTR { return true }
            throw TestFailure("poll: \(String(cString: strerror(errno)))")
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk.prefix(count))
            return true
        }
        if count == 0 || errno == ECONNRESET {
            sawEOF = true
            return false
        }
        if errno == EINTR || errno == EAGAIN { return true }
        throw TestFailure("recv: \(String(cString: strerror(errno)))")
    }

    /// The next complete frame's payload, or nil if the stream ended first.
    func readFrame(timeout: Double = 60) throws -> [UInt8]? {
        while true {
            if buffer.count >= 4 {
                let length = Self.declaredLength(buffer)
                if buffer.count - 4 >= length {
                    let frame = Array(buffer[4..<(4 + length)])
                    buffer.removeFirst(4 + length)
                    return frame
                }
            }
            if sawEOF { return nil }
            guard try fill(timeout: timeout) else { return nil }
        }
    }

    private static func declaredLength(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 4 else { return 0 }
        return Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
    }

    func readReply(timeout: Double = 60) throws -> Reply? {
        guard let frame = try readFrame(timeout: timeout) else { return nil }
        return try Reply.decode(frame)
    }

    /// True if the server closes the connection (after any frames still buffered, which are discarded).
    func readsToEOF(timeout: Double = 60) throws -> Bool {
        buffer.removeAll()
        while try fill(timeout: timeout) { buffer.removeAll(keepingCapacity: true) }
        return sawEOF
    }

    /// Every byte until the server closes the connection.
    func readAllUntilEOF(timeout: Double = 60) throws -> [UInt8] {
        while try fill(timeout: timeout) {}
        defer { buffer.removeAll() }
        return buffer
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

// MARK: servers and clients

struct EchoRequest: Codable, Sendable {
    var value: Int
}

struct EchoReply: Codable, Sendable, Equatable {
    var value: Int
    var via: String
}

/// A server on a fresh socket in `directory`, with `test.echo` (sync) and `test.echoAsync` (async).
func startServer(
    in directory: TempDir, service: String = "testd", maximumFrameBytes: Int = 1 << 20,
    socketMode: mode_t = 0o600, socketGroup: String? = nil, limits: SubscriberLimits = SubscriberLimits(),
    helloTimeout: Duration = .seconds(5), frameTimeout: Duration = .seconds(10), logger: Logger = quietLogger,
    setup: (IPCServer) -> Void = { _ in }
) async throws -> IPCServer {
    let configuration = IPCServerConfiguration(
        socketPath: directory.socketPath, maximumFrameBytes: maximumFrameBytes, socketMode: socketMode,
        socketGroup: socketGroup, subscriberLimits: limits, helloTimeout: helloTimeout, frameTimeout: frameTimeout)
    let server = IPCServer(serviceName: service, configuration: configuration, logger: logger)
    server.registry.registerSync("test.echo", EchoRequest.self) { request, _ in
        EchoReply(value: request.value, via: "sync")
    }
    server.registry.register("test.echoAsync", EchoRequest.self) { request, _ in
        await Task.yield()
        return EchoReply(value: request.value, via: "async")
    }
    setup(server)
    try await server.start()
    return server
}

/// Starts a server in its own directory, runs `body`, then stops the server and removes the directory
/// whether or not `body` threw.
func withServer<T>(
    directoryMode: mode_t = 0o700, maximumFrameBytes: Int = 1 << 20, socketMode: mode_t = 0o600,
    socketGroup: String? = nil, limits: SubscriberLimits = SubscriberLimits(),
    helloTimeout: Duration = .seconds(5), frameTimeout: Duration = .seconds(10), logger: Logger = quietLogger,
    setup: (IPCServer) -> Void = { _ in },
    _ body: (IPCServer, TempDir) async throws -> T
) async throws -> T {
    let directory = try TempDir(mode: directoryMode)
    defer { directory.remove() }
    let server = try await startServer(
        in: directory, maximumFrameBytes: maximumFrameBytes, socketMode: socketMode, socketGroup: socketGroup,
        limits: limits, helloTimeout: helloTimeout, frameTimeout: frameTimeout, logger: logger, setup: setup)
    do {
        let result = try await body(server, directory)
        await server.stop(drainTimeout: .seconds(2))
        return result
    } catch {
        await server.stop(drainTimeout: .seconds(2))
        throw error
    }
}

func makeClient(
    socketPath: String, peer: String = "testd", requestTimeout: Duration = .seconds(60),
    initialBackoff: Duration = .milliseconds(10), maximumBackoff: Duration = .milliseconds(200)
) -> IPCClient {
    IPCClient(
        ownService: "tester", peerService: peer,
        configuration: IPCClientConfiguration(
            socketPath: socketPath, requestTimeout: requestTimeout, initialBackoff: initialBackoff,
            maximumBackoff: maximumBackoff),
        logger: quietLogger)
}

/// A client that has completed its hello.
func connectedClient(socketPath: String, configure: (IPCClient) -> Void = { _ in }) async throws -> IPCClient {
    let client = makeClient(socketPath: socketPath)
    configure(client)
    client.start()
    do {
        try await waitUntil("the client to connect") { client.isConnected }
    } catch {
        await client.shutdown()
        throw error
    }
    return client
}

/// A counter readable from any thread.
final class Counter: Sendable {
    private let box = NIOLockedValueBox(0)
    func increment() { box.withLockedValue { $0 += 1 } }
    var value: Int { box.withLockedValue { $0 } }
}

