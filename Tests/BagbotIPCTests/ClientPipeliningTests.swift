import Foundation
import NIOConcurrencyHelpers
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import BagbotIPC

/// Lets async handlers through only once `needed` of them are waiting at the same time, which proves that
/// many requests are in flight on one connection at once (a serialising client or server never opens it).
final class Gate: Sendable {
    private struct State {
        var arrived = 0
        var opened = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let needed: Int
    private let state = NIOLockedValueBox(State())

    init(needed: Int) {
        self.needed = needed
    }

    var arrived: Int { state.withLockedValue { $0.arrived } }

    func arrive() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let release = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.arrived += 1
                state.waiting.append(continuation)
                guard state.opened || state.arrived >= needed else { return [] }
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            for waiter in release { waiter.resume() }
        }
    }

    /// Opens the gate for everyone, waiting or still to come.
    func open() {
        let release = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.opened = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for waiter in release { waiter.resume() }
    }
}

@Suite("IPC client: many requests in flight on one connection")
struct ClientPipeliningTests {
    @Test("1,000 concurrent calls on one connection, sync and async handlers, each gets its own answer")
    func thousandInFlight() async throws {
        let total = 1_000
        // every fourth request goes to a handler that waits until all of its kind are in flight together
        let gate = Gate(needed: total / 4)
        try await withServer(setup: { server in
            server.registry.register("test.gated", EchoRequest.self) { request, _ in
                await gate.arrive()
                return EchoReply(value: request.value, via: "gated")
            }
        }) { _, directory in
            let client = try await connectedClient(socketPath: directory.socketPath)
            let results = try await withThrowingTaskGroup(of: (Int, EchoReply).self) { group in
                for index in 0..<total {
                    group.addTask {
                        let method: String
                        switch index % 4 {
                        case 1: method = "test.gated"
                        case 3: method = "test.echoAsync"
                        default: method = "test.echo"
                        }
                        let reply = try await client.call(method, EchoRequest(value: index * 7 + 3), as: EchoReply.self)
                        return (index, reply)
                    }
                }
                var results: [Int: EchoReply] = [:]
                for try await (index, reply) in group { results[index] = reply }
                return results
            }
            await client.shutdown()

            #expect(results.count == total)
            #expect(gate.arrived == total / 4)
            var wrong = 0
            for index in 0..<total {
                let expectedVia: String
                switch index % 4 {
                case 1: expectedVia = "gated"
                case 3: expectedVia = "async"
                default: expectedVia = "sync"
                }
                if results[index] != EchoReply(value: index * 7 + 3, via: expectedVia) { wrong += 1 }
            }
            #expect(wrong == 0, "\(wrong) calls got another call's answer or none")
        }
    }

    @Test("errors come back to the call that caused them while the others succeed")
    func errorsPerCall() async throws {
        try await withServer { _, directory in
            let client = try await connectedClient(socketPath: directory.socketPath)
            let outcomes = try await withThrowingTaskGroup(of: (Int, Result<EchoReply, IPCError>).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        do {
                            let method = index % 3 == 0 ? "no.such.method" : "test.echoAsync"
                            return (index, .success(try await client.call(method, EchoRequest(value: index), as: EchoReply.self)))
                        } catch let error as IPCError {
                            return (index, .failure(error))
                        }
                    }
                }
                var outcomes: [Int: Result<EchoReply, IPCError>] = [:]
                for try await (index, outcome) in group { outcomes[index] = outcome }
                return outcomes
            }
            await client.shutdown()
            for index in 0..<200 {
                switch outcomes[index] {
                case .success(let reply)?:
                    #expect(index % 3 != 0)
                    #expect(reply.value == index)
                case .failure(let error)?:
                    #expect(index % 3 == 0)
                    #expect(error.code == .unknownMethod)
                case nil:
                    Issue.record("no outcome for call \(index)")
                }
            }
        }
    }

    @Test("a call not answered in time fails with timeout, a late answer is ignored, the connection goes on")
    func callTimeout() async throws {
        let gate = Gate(needed: Int.max)
        try await withServer(setup: { server in
            server.registry.register("test.hold", EchoRequest.self) { request, _ in
                await gate.arrive()
                return EchoReply(value: request.value, via: "late")
            }
        }) { _, directory in
            let client = try await connectedClient(socketPath: directory.socketPath)
            await #expect(throws: IPCError(.timeout, "testd did not answer in time")) {
                _ = try await client.call("test.hold", EchoRequest(value: 1), as: EchoReply.self, timeout: .milliseconds(100))
            }
            gate.open()
            let reply = try await client.call("test.echo", EchoRequest(value: 2), as: EchoReply.self)
            #expect(reply == EchoReply(value: 2, via: "sync"))
            #expect(client.isConnected)
            await client.shutdown()
        }
    }

    @Test("a client refuses a socket served by another service than the one it expects")
    func wrongPeerService() async throws {
        try await withServer { _, directory in
            let client = makeClient(socketPath: directory.socketPath, peer: "someone-else")
            client.start()
            // It keeps trying (and failing) to connect; it must never report connected.
            try await waitUntil("a failed attempt") {
                switch client.state {
                case .disconnected: return true
                case .connecting(let attempt): return attempt > 0
                case .connected, .stopped: return false
                }
            }
            #expect(!client.isConnected)
            await #expect(throws: IPCError.self) {
                _ = try await client.call("test.echo", EchoRequest(value: 1), as: EchoReply.self)
            }
            await client.shutdown()
            #expect(client.state == .stopped)
        }
    }
}
