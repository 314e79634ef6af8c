import Foundation
import BagbotDomain
import BagbotIPC

/// What routerd says about an order after it was placed: its record when its status changes, and each fill.
public enum RouterUpdate: Sendable {
    case order(OrderRecord)
    case fill(Fill)
}

/// The orders routerd is settling (not final) and those it gave up as not found at their venue lately, which a
/// coordinator that lost its own record of them takes up again (`TradeCoordinator.adopt`).
public struct OrdersToAdopt: Sendable {
    public var working: [OrderRecord]
    public var givenUp: [OrderRecord]
    public init(working: [OrderRecord], givenUp: [OrderRecord]) {
        self.working = working
        self.givenUp = givenUp
    }
}

/// What the coordinator needs from mindsetd; the daemon uses IPC, tests use fakes.
public protocol MindsetPort: Sendable {
    func evaluate(_ proposal: TradeProposal) async throws -> MindsetDecision
}

/// What the coordinator needs from routerd.
public protocol RouterPort: Sendable {
    var isConnected: Bool { get }
    func place(_ request: PlaceOrderRequest) async throws -> OrderRecord
    /// The stored order with this client order id, or nil if routerd never recorded it. Never places anything.
    func order(clientOrderId: String) async throws -> OrderRecord?
    /// What each tradable symbol's venue accepts.
    func symbolRules() async throws -> [SymbolRules]
    /// Cancels what is left of an order (routerd refuses a final one).
    func cancel(clientOrderId: String) async throws -> OrderRecord
}

public struct IPCMindsetPort: MindsetPort {
    let client: IPCClient
    public init(client: IPCClient) { self.client = client }

    public func evaluate(_ proposal: TradeProposal) async throws -> MindsetDecision {
        try await client.call(Methods.mindsetEvaluate, proposal, requestId: proposal.requestId)
    }
}

public struct IPCRouterPort: RouterPort {
    let client: IPCClient
    public init(client: IPCClient) { self.client = client }

    public var isConnected: Bool { client.isConnected }

    public func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        try await client.call(Methods.routerPlaceOrder, request, requestId: request.requestId)
    }

    public func order(clientOrderId: String) async throws -> OrderRecord? {
        let response: OrdersResponse = try await client.call(Methods.routerOrders, OrdersQuery(clientOrderId: clientOrderId, limit: 1))
        return response.orders.first
    }

    public func symbolRules() async throws -> [SymbolRules] {
        let response: SymbolRulesResponse = try await client.call(Methods.routerSymbolRules, EmptyBody())
        return response.symbols
    }

    public func cancel(clientOrderId: String) async throws -> OrderRecord {
        try await client.call(Methods.routerCancelOrder, CancelOrderRequest(clientOrderId: clientOrderId))
    }
}

