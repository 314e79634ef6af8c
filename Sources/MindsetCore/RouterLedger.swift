import Foundation
import BagbotDomain
import BagbotIPC

/// What mindsetd uses of routerd: the fill log it counts closed trades from (`router.fills`), the account whose
/// equity the loss limits follow (`router.account`), and orders: while LOCKED with `on_locked: flatten`, the
/// resting reduce-only orders of a position are cancelled and a reduce-only market order closes it.
public protocol RouterLedger: Sendable {
    /// The fills after `after`, oldest first, at most `limit`, with the database's identity and the log's end.
    func fills(after: Int64, limit: Int) async throws -> FillsResponse
    /// Every venue's balances and positions, valued in the account currency.
    func account() async throws -> AccountSummary
    func place(_ request: PlaceOrderRequest) async throws -> OrderRecord
    /// The strategy's orders in `symbol` working at their venue (acknowledged or partially filled).
    func workingOrders(strategyId: String, symbol: String) async throws -> [OrderRecord]
    func cancel(clientOrderId: String) async throws -> OrderRecord
    /// Each symbol's venue rules: a close is rounded down onto the step size, and a position below the minimum
    /// quantity is dust no order can close.
    func symbolRules() async throws -> [SymbolRules]
}

/// routerd's record over IPC.
public struct IPCRouterLedger: RouterLedger {
    let client: IPCClient
    public init(client: IPCClient) { self.client = client }

    public func fills(after: Int64, limit: Int) async throws -> FillsResponse {
        try await client.call(Methods.routerFills, FillsQuery(afterSequence: after, limit: limit))
    }

    public func account() async throws -> AccountSummary {
        try await client.call(Methods.routerAccount, EmptyBody())
    }

    public func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        try await client.call(Methods.routerPlaceOrder, request, requestId: request.requestId)
    }

    public func workingOrders(strategyId: String, symbol: String) async throws -> [OrderRecord] {
        var working: [OrderRecord] = []
        for status in [OrderStatus.acknowledged, .partiallyFilled] {
            let response: OrdersResponse = try await client.call(
                Methods.routerOrders, OrdersQuery(symbol: symbol, status: status, strategyId: strategyId, limit: 1_000))
            working += response.orders
        }
        return working
    }

    public func cancel(clientOrderId: String) async throws -> OrderRecord {
        try await client.call(Methods.routerCancelOrder, CancelOrderRequest(clientOrderId: clientOrderId))
    }

    public func symbolRules() async throws -> [SymbolRules] {
        let response: SymbolRulesResponse = try await client.call(Methods.routerSymbolRules, EmptyBody())
        return response.symbols
    }
}
