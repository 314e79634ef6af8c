import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// An order is "not sent" only when routerd refused it explicitly (or the call never went out). Every other failure
/// of `router.placeOrder` — above all an answer the client could not read, which `IPCClient` reports as `internal`
/// like a handler's own failure — leaves its fate open: it may be at the venue, so its symbol stays busy and it is
/// looked up, never answered "not sent".
@Suite("router.placeOrder failures: not sent or outcome unknown")
struct PlaceRefusalTests {
    @Test("routerd's explicit refusals mean not sent: the symbol is free again", arguments: [
        IPCError(.badRequest, "refused by rule min_quantity"), IPCError(.conflict, "order bb-0 for BTCUSDT has an outcome not yet known"),
        IPCError(.tradingPaused, "trading is paused"), IPCError(.unavailable, "routerd is not connected"),
        IPCError(.notSent, "order bb-1 could not be recorded, so it was not sent"),
    ])
    func refusals(error: IPCError) async throws {
        let h = Harness()
        h.router.error.set(error)
        await h.tickAt(1)
        #expect(!h.strategy.inFlight)
        #expect(await h.coordinator.counters.droppedRouterUnavailable == 1)
    }

    @Test("anything else is outcome unknown: the symbol stays busy, no second order, and a manual order says unknown", arguments: [
        IPCError(.internal, "unexpected response body: keyNotFound clientOrderId"), IPCError(.internal, "unreadable error frame"),
        IPCError(.rejected, "reserved"), IPCError(.forbidden, "peer refused"), IPCError(.notFound, "no such thing"),
        // The id names an order routerd has: this request sent nothing, but the id's order exists and is looked up.
        IPCError(.keyReused, "clientOrderId bb-1 already names a different order; nothing was sent"),
    ])
    func unknownOutcomes(error: IPCError) async throws {
        let h = Harness()
        await h.coordinator.setConfirmPause(.seconds(600))
        h.router.error.set(error)
        await h.tickAt(1)
        #expect(h.strategy.inFlight, "the order may be at the venue")
        #expect(await h.coordinator.counters.droppedRouterUnavailable == 0)
        await h.tickAt(2)
        #expect(h.router.placed.get().count == 1, "no second order while the first one's fate is unknown")

        let manual = Harness()
        await manual.coordinator.setConfirmPause(.seconds(600))
        manual.strategy.isEnabled = false
        await manual.tickAt(1)
        manual.router.error.set(error)
        let result = try await manual.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        #expect(result.outcome == .unknown, "\(result)")
        let again = await #expect(throws: IPCError.self) {
            try await manual.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        }
        #expect(again?.code == .conflict, "the first manual order still holds the symbol")
    }

    @Test("through a real socket: routerd answers with a body that does not decode → outcome unknown, never not sent")
    func undecodableAnswer() async throws {
        let dir = try TempDir()
        let socket = dir.file("routerd.sock")
        let placed = Locked(0)
        let server = IPCServer(serviceName: "routerd", configuration: IPCServerConfiguration(socketPath: socket, socketMode: 0o600), logger: quietLogger)
        server.registry.register(Methods.routerPlaceOrder, PlaceOrderRequest.self) { _, _ in
            placed.update { $0 += 1 }
            // Placed at the venue, but the answer is not an OrderRecord (a newer routerd, a bug): unreadable here.
            return JSONValue.object(["status": .string("filled"), "clientOrderId": .number(42)])
        }
        server.registry.registerSync(Methods.routerOrders, OrdersQuery.self) { _, _ in OrdersResponse(orders: []) }
        try await server.start()
        let client = IPCClient(ownService: "arsenald", peerService: "routerd", configuration: IPCClientConfiguration(socketPath: socket),
                               logger: quietLogger)
        client.start()
        try await waitUntil("arsenald's client to connect to routerd", timeout: .seconds(60)) { client.isConnected }
        let coordinator = TradeCoordinator(strategies: [], mindset: FakeMindset(), router: IPCRouterPort(client: client), logger: quietLogger,
                                           manualMaxQuantity: ["BTCUSDT": 10])
        await coordinator.setConfirmPause(.seconds(600))
        await coordinator.handle(tick: tick(mid: 100, at: 1))

        let result = try await coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "k1"))
        let second = await #expect(throws: IPCError.self) {
            try await coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "k2"))
        }
        await client.shutdown()
        await server.stop(drainTimeout: .seconds(1))
        #expect(placed.get() == 1)
        #expect(result.outcome == .unknown, "\(result)")
        #expect(result.reason?.contains("bb-m-k1") == true)
        #expect(second?.code == .conflict, "the symbol stays busy until routerd's record settles the first")
    }
}
