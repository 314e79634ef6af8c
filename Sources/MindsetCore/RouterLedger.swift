import Foundation
import BagbotDomain
import BagbotIPC

/// What mindsetd uses of routerd: the fill log it counts closed trades from (`router.fills`), the account whose
/// equity the loss limits follow (`router.account`), and orders: the reduce-only ones that flatten positions
/// while LOCKED with `on_locked: flatten` (`router.placeOrder`).
public protocol RouterLedger: Sendable {
    /// The fills after `after`, oldest first, at most `limit`, with the database's identity and the log's end.
    func fills(after: Int64, limit: Int) async throws -> FillsResponse
    /// Every venue's balances and positions, valued in the account currency.
    func account() async throws -> AccountSummary
    func place(_ request: PlaceOrderRequest) async throws -> OrderRecord
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
        try await client.call(Methods.routerPlaceOrder, request)
    }
}
