import Foundation
import Logging
import Synchronization
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// A daemon's socket served by the test, with the handlers it registers: the gateway's client connects to it as to
/// the real daemon (same path, same hello, same framing). For routes whose daemon's behaviour the test must choose
/// (a blocked order, a slow answer); the real daemons run in IntegrationTests.
final class FakeDaemon: Sendable {
    let server: IPCServer
    let client: IPCClient
    /// `health` calls answered (the one method every fake serves).
    let healthCalls: Shared<Int>

    /// Serves `peer`'s socket in `h`'s directory and connects the harness's client to it.
    init(_ peer: String, in h: APIHarness, register: (IPCMethodRegistry) -> Void) async throws {
        let client = try #require(h.environment.daemons.all.first { $0.peerService == peer })
        let server = IPCServer(serviceName: peer, configuration: IPCServerConfiguration(socketPath: h.dir.file("\(peer).sock"), socketMode: 0o600),
                               logger: quietLogger)
        register(server.registry)
        let healthCalls = Shared(0)
        server.registry.registerSync(Methods.health, EmptyBody.self) { _, _ in
            healthCalls.withLock { $0 += 1 }
            return HealthReport(service: peer, status: "ok", summary: "fake \(peer)", uptimeSeconds: 1, details: ["version": "9.9.9", "ticks": "7"])
        }
        try await server.start()
        self.server = server
        self.client = client
        self.healthCalls = healthCalls
        client.start()
        try await waitUntil("the gateway's client to connect to \(peer)", timeout: .seconds(60)) { client.isConnected }
    }

    func stop() async {
        await client.shutdown()
        await server.stop(drainTimeout: .seconds(1))
    }
}

/// A stand-in for arsenald's manual orders that keeps arsenald's own idempotency rule (a key names one order; a
/// retry with it gets that order back) and counts every call, so a test sees exactly how many orders went out.
final class ManualOrderDesk: Sendable {
    enum Behaviour: Sendable {
        case fill
        case block(reasons: [String], codes: [String])
        case reject(String)
        case unknown
        /// routerd answered with the order in this status (filled only when `filled`): arsenald says "placed".
        case placedAs(OrderStatus)
        case refuse(IPCErrorCode, String)
    }

    struct State {
        var behaviour: Behaviour = .fill
        var delay: Duration = .zero
        var calls: [ManualOrderRequest] = []
        /// Orders "at routerd" by arsenald key.
        var placed: [String: OrderRecord] = [:]
        var sequence = 0
    }

    let state = Mutex(State())

    var calls: [ManualOrderRequest] { state.withLock { $0.calls } }
    /// Orders that really went out: one per distinct call that was not a key's retry.
    var ordersPlaced: Int { state.withLock { $0.sequence } }

    func set(_ behaviour: Behaviour, delay: Duration = .zero) {
        state.withLock {
            $0.behaviour = behaviour
            $0.delay = delay
        }
    }

    /// routerd settles the key's order (its look-up found what the venue did).
    func settle(key: String, _ status: OrderStatus) {
        state.withLock {
            $0.placed[key]?.status = status
            if status == .filled, let quantity = $0.placed[key]?.quantity { $0.placed[key]?.filledQuantity = quantity }
        }
    }

    func register(_ registry: IPCMethodRegistry) {
        registry.register(Methods.arsenalPlaceManualOrder, ManualOrderRequest.self) { [self] request, _ in
            let delay = state.withLock { state -> Duration in
                state.calls.append(request)
                return state.delay
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            return try state.withLock { state -> ManualOrderResult in
                let time = Date(timeIntervalSince1970: 1_900_000_000)
                let requestId = request.idempotencyKey.map { "m-\($0)" } ?? "run-\(state.sequence + 1)"
                let signal = Signal(strategyId: "manual", symbol: request.symbol, side: request.side, quantity: request.quantity,
                                    price: ExactDecimal("9684.84")!, time: time, strength: 1, confidence: 1, isEntry: request.reduceOnly != true,
                                    reason: "manual order", requestId: requestId)
                if let key = request.idempotencyKey, let existing = state.placed[key] {
                    return ManualOrderResult(outcome: .placed, signal: signal, order: existing, reason: "already placed with this idempotencyKey; not sent again",
                                             alreadyPlaced: true)
                }
                let approved = MindsetDecision(approved: true, sizeMultiplier: 1, approvedQuantity: request.quantity, emotionState: "CALM",
                                               reasons: ["state CALM: size × 1.00"], codes: ["state_size"])
                func order(_ status: OrderStatus, reason: String? = nil) -> OrderRecord {
                    state.sequence += 1
                    let filled = status == .filled
                    let record = OrderRecord(
                        clientOrderId: "bb-\(requestId)", venue: .paper, symbol: request.symbol, side: request.side, type: .market,
                        quantity: request.quantity, status: status, filledQuantity: filled ? request.quantity : 0,
                        averageFillPrice: filled ? ExactDecimal("9685.81")! : nil, exchangeOrderId: "paper-bb-\(requestId)",
                        strategyId: "manual", requestId: requestId, rejectReason: reason, createdAt: time, updatedAt: time)
                    if let key = request.idempotencyKey { state.placed[key] = record }
                    return record
                }
                switch state.behaviour {
                case .fill:
                    return ManualOrderResult(outcome: .placed, signal: signal, decision: approved, order: order(.filled))
                case .reject(let reason):
                    return ManualOrderResult(outcome: .placed, signal: signal, decision: approved, order: order(.rejected, reason: reason))
                case .block(let reasons, let codes):
                    return ManualOrderResult(outcome: .blocked, signal: signal, decision: MindsetDecision(
                        approved: false, sizeMultiplier: 0, approvedQuantity: 0, emotionState: "TILTED", reasons: reasons, codes: codes))
                case .placedAs(let status):
                    return ManualOrderResult(outcome: .placed, signal: signal, decision: approved, order: order(status))
                case .unknown:
                    _ = order(.unknown)
                    return ManualOrderResult(outcome: .unknown, signal: signal, decision: approved, reason: "order bb-\(requestId) sent; routerd did not answer in time")
                case .refuse(let code, let message):
                    throw IPCError(code, message)
                }
            }
        }
    }
}

/// A value tests share with the handlers they register (which escape, so a bare `Mutex` cannot be captured).
final class Shared<Value: Sendable>: Sendable {
    private let box: Mutex<Value>

    init(_ value: Value) { box = Mutex(value) }

    func withLock<R>(_ body: (inout Value) -> R) -> R { box.withLock { body(&$0) } }
}
