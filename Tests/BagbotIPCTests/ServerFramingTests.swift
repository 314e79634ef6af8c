#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotTestSupport
import Testing
@testable import BagbotIPC

/// The server as a raw-socket peer sees it: framing across reads, malformed input, hello and versions.
@Suite("IPC server: framing and protocol errors")
struct ServerFramingTests {
    @Test("a hello and a request sent one byte per write are answered")
    func framesSplitAcrossReads() async throws {
        try await withServer { _, directory in
            let replies = try await onThread { () -> [Reply?] in
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.sendByteByByte(Wire.hello(id: 1))
                let hello = try socket.readReply()
                try socket.sendByteByByte(Wire.echo(id: 2, value: 41))
                let echo = try socket.readReply()
                return [hello, echo]
            }
            let hello = try #require(replies[0])
            #expect(hello.type == "response")
            #expect(hello.id == 1)
            #expect(hello.body?.service == "testd")
            #expect(hello.body?.protocol == IPCProtocol.version)
            let echo = try #require(replies[1])
            #expect(echo.type == "response")
            #expect(echo.id == 2)
            #expect(echo.method == "test.echo")
            #expect(echo.body?.value == 41)
        }
    }

    @Test("several frames in one write, and a frame cut mid-header, are all answered in order")
    func framesMergedInOneWrite() async throws {
        try await withServer { _, directory in
            let replies = try await onThread { () -> [Reply?] in
                let socket = try RawSocket.connect(directory.socketPath)
                // hello and three requests in a single write
                try socket.send(Wire.hello(id: 1) + Wire.echo(id: 2, value: 10) + Wire.echo(id: 3, value: 20) + Wire.echo(id: 4, value: 30))
                var replies: [Reply?] = []
                for _ in 0..<4 { replies.append(try socket.readReply()) }
                // one write ending two bytes into the next frame's header, then the rest
                let next = Wire.echo(id: 5, value: 50) + Wire.echo(id: 6, value: 60)
                let cut = Wire.echo(id: 5, value: 50).count + 2
                try socket.send(Array(next[..<cut]))
                usleep(20_000)
                try socket.send(Array(next[cut...]))
                for _ in 0..<2 { replies.append(try socket.readReply()) }
                return replies
            }
            #expect(replies.count == 6)
            #expect(replies.map { $0?.id } == [1, 2, 3, 4, 5, 6])
            #expect(replies.map { $0?.type } == Array(repeating: "response", count: 6))
            #expect(replies.dropFirst().map { $0?.body?.value } == [10, 20, 30, 50, 60])
        }
    }

    @Test("a declared length over the maximum gets frame_too_large, that connection closes, others go on")
    func oversizedFrameIsRefused() async throws {
        try await withServer(maximumFrameBytes: 1 << 20) { _, directory in
            let (refusal, closed, survivor) = try await onThread { () -> (Reply?, Bool, Reply?) in
                let bystander = try RawSocket.connect(directory.socketPath)
                try bystander.send(Wire.hello(id: 1))
                _ = try bystander.readReply()

                let attacker = try RawSocket.connect(directory.socketPath)
                try attacker.send(Wire.hello(id: 1))
                _ = try attacker.readReply()
                // Only the header: the server must refuse at once, before any body arrives.
                try attacker.send(Wire.bigEndian32(0xFFFF_FFF0))
                let refusal = try attacker.readReply()
                let closed = try attacker.readsToEOF()

                try bystander.send(Wire.echo(id: 2, value: 7))
                let survivor = try bystander.readReply()
                return (refusal, closed, survivor)
            }
            let error = try #require(refusal)
            #expect(error.errorCode == "frame_too_large")
            #expect(error.id == nil)
            #expect(closed)
            #expect(survivor?.body?.value == 7)

            // and a brand-new connection is still accepted
            let client = try await connectedClient(socketPath: directory.socketPath)
            let reply = try await client.call("test.echo", EchoRequest(value: 8), as: EchoReply.self)
            #expect(reply == EchoReply(value: 8, via: "sync"))
            await client.shutdown()
        }
    }

    @Test("a frame of exactly the maximum is accepted; one byte more is refused")
    func maximumIsInclusive() async throws {
        try await withServer(maximumFrameBytes: 1_024) { _, directory in
            let (atLimit, overLimit) = try await onThread { () -> (Reply?, Reply?) in
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.send(Wire.hello(id: 1))
                _ = try socket.readReply()
                // pad the JSON with spaces to exactly 1024 bytes
                let json = #"{"v":1,"id":2,"type":"request","method":"test.echo","body":{"value":3}}"#
                let padded = json + String(repeating: " ", count: 1_024 - json.utf8.count)
                try socket.send(Wire.frame(padded))
                let atLimit = try socket.readReply()
                try socket.send(Wire.frame(padded + " "))
                let overLimit = try socket.readReply()
                return (atLimit, overLimit)
            }
            #expect(atLimit?.type == "response")
            #expect(atLimit?.body?.value == 3)
            #expect(overLimit?.errorCode == "frame_too_large")
        }
    }

    @Test("an HTTP request on the socket reads as a huge length and is refused")
    func httpOnTheSocket() async throws {
        try await withServer { _, directory in
            let (reply, closed) = try await onThread { () -> (Reply?, Bool) in
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                return (try socket.readReply(), try socket.readsToEOF())
            }
            #expect(reply?.errorCode == "frame_too_large")
            #expect(closed)
        }
    }

    @Test("garbage and invalid JSON in well-formed frames get bad_request and the connection stays usable")
    func garbageInAFrame() async throws {
        try await withServer { _, directory in
            let replies = try await onThread { () -> [Reply?] in
                let socket = try RawSocket.connect(directory.socketPath)
                var replies: [Reply?] = []
                let bad: [[UInt8]] = [
                    Wire.frame([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0xfe]),     // not UTF-8
                    Wire.frame("{\"v\":1,\"id\":"),                              // truncated JSON
                    Wire.frame("[1,2,3]"),                                       // JSON, not an envelope
                    Wire.frame(#"{"v":"one","id":1,"type":"request","method":"hello"}"#),  // v of the wrong type
                    Wire.frame(#"{"v":1,"id":1,"type":"gossip","method":"hello"}"#),       // unknown type
                    Wire.frame([]),                                               // empty frame
                ]
                for frame in bad {
                    try socket.send(frame)
                    replies.append(try socket.readReply())
                }
                // still usable: hello, then a body of the wrong type for the method, then a good request
                try socket.send(Wire.hello(id: 10))
                replies.append(try socket.readReply())
                try socket.send(Wire.request(id: 11, method: "test.echo", body: #"{"value":"seven"}"#))
                replies.append(try socket.readReply())
                try socket.send(Wire.request(id: 12, method: "test.echoAsync", body: #"{}"#))
                replies.append(try socket.readReply())
                try socket.send(Wire.echo(id: 13, value: 7))
                replies.append(try socket.readReply())
                return replies
            }
            #expect(replies.count == 10)
            for reply in replies.prefix(6) {
                #expect(reply?.errorCode == "bad_request")
            }
            #expect(replies[6]?.type == "response")
            #expect(replies[6]?.id == 10)
            #expect(replies[7]?.errorCode == "bad_request")
            #expect(replies[7]?.id == 11)
            #expect(replies[7]?.body?.message?.contains("value") == true)
            #expect(replies[8]?.errorCode == "bad_request")
            #expect(replies[8]?.id == 12)
            #expect(replies[9]?.type == "response")
            #expect(replies[9]?.id == 13)
            #expect(replies[9]?.body?.value == 7)
        }
    }

    @Test("a response or event sent to the server is refused as bad_request")
    func nonRequestFrames() async throws {
        try await withServer { _, directory in
            let replies = try await onThread { () -> [Reply?] in
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.send(Wire.hello(id: 1))
                _ = try socket.readReply()
                try socket.send(Wire.frame(#"{"v":1,"id":5,"type":"response","method":"test.echo","body":{}}"#))
                let first = try socket.readReply()
                try socket.send(Wire.frame(#"{"v":1,"id":6,"type":"request","body":{}}"#))
                let second = try socket.readReply()
                return [first, second]
            }
            #expect(replies[0]?.errorCode == "bad_request")
            #expect(replies[0]?.id == 5)
            #expect(replies[1]?.errorCode == "bad_request")
            #expect(replies[1]?.id == 6)
        }
    }

    @Test("an unknown method gets unknown_method and a request before hello gets hello_required")
    func unknownMethodAndHelloRequired() async throws {
        try await withServer { _, directory in
            let replies = try await onThread { () -> [Reply?] in
                let socket = try RawSocket.connect(directory.socketPath)
                var replies: [Reply?] = []
                try socket.send(Wire.echo(id: 1, value: 1))
                replies.append(try socket.readReply())
                try socket.send(Wire.request(id: 2, method: "no.such.method"))
                replies.append(try socket.readReply())
                try socket.send(Wire.hello(id: 3))
                replies.append(try socket.readReply())
                try socket.send(Wire.request(id: 4, method: "no.such.method"))
                replies.append(try socket.readReply())
                try socket.send(Wire.echo(id: 5, value: 5))
                replies.append(try socket.readReply())
                return replies
            }
            #expect(replies[0]?.errorCode == "hello_required")
            #expect(replies[0]?.id == 1)
            // before hello, even an unknown method is answered with hello_required
            #expect(replies[1]?.errorCode == "hello_required")
            #expect(replies[2]?.type == "response")
            #expect(replies[3]?.errorCode == "unknown_method")
            #expect(replies[3]?.id == 4)
            #expect(replies[3]?.method == "no.such.method")
            #expect(replies[4]?.body?.value == 5)
        }
    }

    @Test("an envelope of version 2 gets unsupported_version and the connection is closed")
    func unknownEnvelopeVersion() async throws {
        try await withServer { _, directory in
            let (reply, closed) = try await onThread { () -> (Reply?, Bool) in
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.send(Wire.request(id: 1, method: "hello", body: #"{"service":"x","protocol":"1.0"}"#, version: 2))
                return (try socket.readReply(), try socket.readsToEOF())
            }
            #expect(reply?.errorCode == "unsupported_version")
            #expect(reply?.id == 1)
            #expect(closed)
        }
    }

    @Test("a hello with protocol 2.0 gets unsupported_version and the connection is closed")
    func unknownHelloProtocol() async throws {
        try await withServer { _, directory in
            let (reply, closed) = try await onThread { () -> (Reply?, Bool) in
                let socket = try RawSocket.connect(directory.socketPath)
                try socket.send(Wire.hello(id: 1, protocol: "2.0"))
                return (try socket.readReply(), try socket.readsToEOF())
            }
            #expect(reply?.errorCode == "unsupported_version")
            #expect(reply?.id == 1)
            #expect(reply?.body?.message?.contains("2.0") == true)
            #expect(closed)
        }
    }

    @Test("a second server on a live socket is refused instead of stealing it")
    func secondInstanceRefused() async throws {
        try await withServer { _, directory in
            let second = IPCServer(
                serviceName: "testd", configuration: IPCServerConfiguration(socketPath: directory.socketPath),
                logger: quietLogger)
            await #expect(throws: IPCError.self) { try await second.start() }
            // the first one still answers
            let client = try await connectedClient(socketPath: directory.socketPath)
            let reply = try await client.call("test.echo", EchoRequest(value: 1), as: EchoReply.self)
            #expect(reply.value == 1)
            await client.shutdown()
        }
    }

    @Test("the socket file gets the configured mode")
    func socketMode() async throws {
        try await withServer(socketMode: 0o660) { _, directory in
            var info = stat()
            #expect(stat(directory.socketPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
        }
    }
}
