import Foundation
import BagbotTestSupport
import Testing
@testable import BagbotIPC

@Suite("IPC client: reconnecting, failing fast, shutting down")
struct ClientReconnectTests {
    @Test("after the server goes away calls fail with unavailable; a new server is found again by itself")
    func reconnectsToANewServer() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let first = try await startServer(in: directory)
        let hookRuns = Counter()
        let client = try await connectedClient(socketPath: directory.socketPath) { client in
            client.onConnect { _ in hookRuns.increment() }
        }
        try await waitUntil("the connect hook") { hookRuns.value == 1 }
        #expect(try await client.call("test.echo", EchoRequest(value: 1), as: EchoReply.self).value == 1)

        await first.stop(drainTimeout: .seconds(1))
        try await waitUntil("the client to notice") { !client.isConnected }
        #expect(client.state != .connected)
        #expect(client.state.summary != "connected")
        do {
            _ = try await client.call("test.echo", EchoRequest(value: 2), as: EchoReply.self)
            Issue.record("a call succeeded with no server")
        } catch let error as IPCError {
            #expect(error.code == .unavailable)
        }
        #expect(hookRuns.value == 1)

        let second = try await startServer(in: directory)
        try await waitUntil("the client to reconnect") { client.isConnected }
        try await waitUntil("the connect hook to run again") { hookRuns.value == 2 }
        #expect(try await client.call("test.echoAsync", EchoRequest(value: 3), as: EchoReply.self).value == 3)
        #expect(client.state == .connected)

        await client.shutdown()
        #expect(client.state == .stopped)
        await #expect(throws: IPCError.self) {
            _ = try await client.call("test.echo", EchoRequest(value: 4), as: EchoReply.self)
        }
        try await waitUntil("the server to see the client go") { second.connectionCount == 0 }
        await second.stop(drainTimeout: .seconds(1))
    }

    @Test("a client started before its server exists connects once the server appears")
    func connectsLate() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let client = makeClient(socketPath: directory.socketPath)
        client.start()
        try await waitUntil("a failed attempt") {
            if case .disconnected = client.state { return true }
            if case .connecting(let attempt) = client.state { return attempt > 0 }
            return false
        }
        do {
            _ = try await client.call("test.echo", EchoRequest(value: 1), as: EchoReply.self)
            Issue.record("a call succeeded with no server")
        } catch let error as IPCError {
            #expect(error.code == .unavailable)
        }
        let server = try await startServer(in: directory)
        try await waitUntil("the client to connect") { client.isConnected }
        #expect(try await client.call("test.echo", EchoRequest(value: 5), as: EchoReply.self).value == 5)
        await client.shutdown()
        await server.stop(drainTimeout: .seconds(1))
    }

    @Test("a call in flight when the connection drops fails at once with connection_lost rather than waiting for its timeout")
    func inFlightCallFailsOnDisconnect() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let gate = Gate(needed: Int.max)
        let server = try await startServer(in: directory) { server in
            server.registry.register("test.hold", EchoRequest.self) { request, _ in
                await gate.arrive()
                return EchoReply(value: request.value, via: "late")
            }
        }
        // a long request timeout: if the call waited for it, the hang guard below would fire first
        let client = makeClient(socketPath: directory.socketPath, requestTimeout: .seconds(300))
        client.start()
        try await waitUntil("the client to connect") { client.isConnected }
        let call = Task { () -> IPCErrorCode? in
            do {
                _ = try await client.call("test.hold", EchoRequest(value: 1), as: EchoReply.self)
                return nil
            } catch let error as IPCError {
                return error.code
            } catch {
                return .internal
            }
        }
        try await waitUntil("the request to reach its handler") { gate.arrived == 1 }
        await server.stop(drainTimeout: .milliseconds(50))
        let code = try await withThrowingTaskGroup(of: IPCErrorCode?.self) { group in
            group.addTask { await call.value }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                throw TestFailure("the in-flight call did not fail after the disconnect (hang guard)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        // The request was written and the peer may have acted on it: the caller is told so, not "never sent".
        #expect(code == .connectionLost)
        gate.open()
        await client.shutdown()
    }

    @Test("a connect hook that throws drops the connection and runs again on the next attempt")
    func failingHookRetries() async throws {
        try await withServer { server, directory in
            let attempts = Counter()
            let client = makeClient(socketPath: directory.socketPath)
            client.onConnect { _ in
                attempts.increment()
                if attempts.value < 3 { throw IPCError(.unavailable, "not yet") }
            }
            client.start()
            try await waitUntil("the third hook run") { attempts.value >= 3 }
            try await waitUntil("the client to be connected") { client.isConnected }
            #expect(attempts.value == 3)
            #expect(try await client.call("test.echo", EchoRequest(value: 9), as: EchoReply.self).value == 9)
            // the connections dropped after the failed hooks are closed on the server too
            try await waitUntil("the dropped connections to close") { server.connectionCount == 1 }
            await client.shutdown()
        }
    }

    @Test("a connect hook's call cut off by the connection closing fails at once: shutdown returns, a lost peer is reconnected to")
    func hookCallCutOff() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let gate = Gate(needed: Int.max)
        let holding: (IPCServer) -> Void = { server in
            server.registry.register("test.hold", EchoRequest.self) { request, _ in
                await gate.arrive()
                return EchoReply(value: request.value, via: "late")
            }
        }
        let first = try await startServer(in: directory, setup: holding)
        // A request timeout far beyond the hang guards: only the closed connection can end the hook's call.
        let client = makeClient(socketPath: directory.socketPath, requestTimeout: .seconds(300))
        let hookRuns = Counter()
        client.onConnect { client in
            hookRuns.increment()
            _ = try await client.call("test.hold", EchoRequest(value: 1), as: EchoReply.self)
        }
        client.start()
        try await waitUntil("the hook's call to reach the server") { gate.arrived == 1 }

        // The peer goes away mid-hook: the client notices and connects to the next server, its hook running again.
        await first.stop(drainTimeout: .milliseconds(50))
        let second = try await startServer(in: directory, setup: holding)
        try await waitUntil("the hook to run on the new server", timeout: .seconds(30)) { hookRuns.value == 2 && gate.arrived == 2 }

        // Stopped mid-hook: shutdown does not wait for an answer that will never come.
        let returned = Counter()
        Task { await client.shutdown(); returned.increment() }
        try await waitUntil("shutdown to return", timeout: .seconds(30)) { returned.value == 1 }
        gate.open()
        await second.stop(drainTimeout: .seconds(1))
    }
}
