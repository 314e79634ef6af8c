import Foundation
import NIOConcurrencyHelpers
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// arsenald's calls on a trade's path name the trade in the envelope (`rid`), so mindsetd's and routerd's lines
/// about the call carry its request id: checked against a real server on a Unix socket.
@Suite("arsenald's ports name the trade in the envelope")
struct IPCPortsRequestIdTests {
    @Test("mindset.evaluate and router.place carry the proposal's and the order's request id")
    func portsCarryTheRequestId() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let seen = NIOLockedValueBox<[String: String?]>([:])
        let server = IPCServer(serviceName: "peerd", configuration: IPCServerConfiguration(socketPath: directory.path + "/peer.sock"),
                               logger: quietLogger)
        // Both answer with a refusal once they have seen the call: the ports' callers get it like any other.
        server.registry.register(Methods.mindsetEvaluate, TradeProposal.self) { _, call -> MindsetDecision in
            seen.withLockedValue { $0[Methods.mindsetEvaluate] = call.requestId }
            throw IPCError(.rejected, "seen")
        }
        server.registry.register(Methods.routerPlaceOrder, PlaceOrderRequest.self) { _, call -> OrderRecord in
            seen.withLockedValue { $0[Methods.routerPlaceOrder] = call.requestId }
            throw IPCError(.rejected, "seen")
        }
        try await server.start()
        let client = IPCClient(ownService: "arsenald", peerService: "peerd",
                               configuration: IPCClientConfiguration(socketPath: directory.path + "/peer.sock"), logger: quietLogger)
        client.start()
        do {
            try await waitUntil("the client to connect") { client.isConnected }
            let proposal = TradeProposal(strategyId: "micro_trend", symbol: "BTCUSDT", side: .buy, quantity: 0.001, price: 50000,
                                         time: Date(), strength: 1, confidence: 1, isEntry: true, requestId: "r7q2-41")
            await #expect(throws: IPCError(.rejected, "seen")) { _ = try await IPCMindsetPort(client: client).evaluate(proposal) }
            let order = PlaceOrderRequest(clientOrderId: "bb-r7q2-41", symbol: "BTCUSDT", side: .buy, quantity: 0.001,
                                          strategyId: "micro_trend", requestId: "r7q2-41")
            await #expect(throws: IPCError(.rejected, "seen")) { _ = try await IPCRouterPort(client: client).place(order) }
            #expect(seen.withLockedValue { $0 } == [Methods.mindsetEvaluate: "r7q2-41", Methods.routerPlaceOrder: "r7q2-41"])
        } catch {
            await client.shutdown()
            await server.stop(drainTimeout: .seconds(1))
            throw error
        }
        await client.shutdown()
        await server.stop(drainTimeout: .seconds(1))
    }
}
