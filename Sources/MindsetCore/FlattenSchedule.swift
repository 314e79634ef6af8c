import Foundation
import BagbotDomain

/// One order mindsetd sent to flatten a position while LOCKED (`on_locked: flatten`), and what came of it.
public struct FlattenOrder: Codable, Sendable, Equatable {
    public var clientOrderId: String
    /// Nil: a position of orders without a strategy (the venue's net position is what routerd reduces).
    public var strategyId: String?
    public var symbol: String
    public var side: Side
    public var quantity: ExactDecimal
    public var at: Date
    /// routerd's answer (the order's status, and its reason when rejected), or why it was not placed.
    public var outcome: String
}

/// Which open positions get a reduce-only market order now, while LOCKED with `on_locked: flatten`
/// (docs/mindset.md, "Flatten on LOCKED"). Positions are mindsetd's own, from routerd's fill log. A position
/// is tried again `retryAfter` after its last order (one still open or a refusal: routerd refuses a reduce-only
/// order that, with those still open, would flip the position, so a second order never overshoots).
struct FlattenSchedule: Sendable {
    let retryAfter: TimeInterval
    private var lastTried: [String: Date] = [:]
    /// The latest orders, newest last (for `mindset.state`).
    private(set) var recent: [FlattenOrder] = []
    static let keptOrders = 20

    init(retryAfter: TimeInterval) {
        self.retryAfter = retryAfter
    }

    /// The orders that close every open position not tried within `retryAfter`.
    mutating func due(_ positions: [StrategyPosition], now: Date) -> [PlaceOrderRequest] {
        positions.compactMap { position in
            guard !position.quantity.isZero else { return nil }
            let key = "\(position.strategyId)|\(position.symbol)"
            if let tried = lastTried[key], now.timeIntervalSince(tried) < retryAfter, now >= tried { return nil }
            lastTried[key] = now
            // Random (UUID v4: the system's generator), so no two runs of mindsetd reuse an id.
            let id = "mf-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return PlaceOrderRequest(clientOrderId: id, symbol: position.symbol, side: position.quantity.isPositive ? .sell : .buy,
                                     type: .market, quantity: position.quantity.magnitude, reduceOnly: true,
                                     strategyId: position.strategyId.isEmpty ? nil : position.strategyId, requestId: id)
        }
    }

    mutating func record(_ request: PlaceOrderRequest, outcome: String, at time: Date) {
        recent.append(FlattenOrder(clientOrderId: request.clientOrderId ?? "-", strategyId: request.strategyId, symbol: request.symbol,
                                   side: request.side, quantity: request.quantity, at: time, outcome: outcome))
        if recent.count > Self.keptOrders { recent.removeFirst(recent.count - Self.keptOrders) }
    }
}
