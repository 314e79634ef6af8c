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
/// still open is tried again after `retryAfter`, doubling with each attempt that left it as it was, up to
/// `longestWait`: a position no order can close (dust below the symbol's minimum, a symbol no longer routed)
/// costs a venue call every few minutes, not every poll, and is reported as stuck.
struct FlattenSchedule: Sendable {
    let retryAfter: TimeInterval
    let longestWait: TimeInterval
    private var attempts: [String: Attempt] = [:]
    /// The latest orders, newest last (for `mindset.state`).
    private(set) var recent: [FlattenOrder] = []
    static let keptOrders = 20
    /// Attempts after which a position that stays open is reported as stuck.
    static let stuckAfter = 3

    private struct Attempt: Sendable {
        var at: Date
        var count: Int
        var quantity: ExactDecimal
        /// The last order's outcome is not known (a timeout, a venue that did not answer): the longest wait,
        /// time for routerd to settle it with the venue (and adopt a late fill) before another is sent.
        var uncertain = false
    }

    init(retryAfter: TimeInterval, longestWait: TimeInterval = 300) {
        self.retryAfter = retryAfter
        self.longestWait = longestWait
    }

    /// The positions (strategy|symbol) that `stuckAfter` attempts in a row have not moved.
    var stuck: [String] {
        attempts.filter { $0.value.count >= Self.stuckAfter }.keys.sorted()
    }

    /// The orders that close every open position whose wait since its last attempt is over. With the symbol's
    /// `rules`, a close is rounded down onto its step size (what a commission taken in the base asset leaves is
    /// rarely on it) and capped at its largest order, the rest closed by the next round; a position below the
    /// minimum quantity is dust no order can close, and is left alone (not stuck).
    mutating func due(_ positions: [StrategyPosition], rules: [String: SymbolRules] = [:], now: Date) -> [PlaceOrderRequest] {
        let closable = positions.compactMap { position -> (StrategyPosition, ExactDecimal)? in
            guard !position.quantity.isZero else { return nil }
            guard let symbolRules = rules[position.symbol] else { return (position, position.quantity.magnitude) }
            return symbolRules.tradableQuantity(position.quantity.magnitude).map { (position, $0) }
        }
        let open = Set(closable.map { Self.key($0.0) })
        attempts = attempts.filter { open.contains($0.key) }
        return closable.compactMap { position, closing in
            let key = Self.key(position)
            var attempt = attempts[key] ?? Attempt(at: .distantPast, count: 0, quantity: position.quantity)
            if attempt.quantity != position.quantity { attempt.count = 0 }
            if now < attempt.at {
                // The wall clock went back: wait from the new now rather than retry at every poll.
                attempts[key]?.at = now
                return nil
            }
            let wait = attempt.uncertain ? longestWait
                : attempt.count == 0 ? retryAfter : min(longestWait, retryAfter * pow(2, Double(attempt.count - 1)))
            guard attempt.count == 0 && attempts[key] == nil || now.timeIntervalSince(attempt.at) >= wait else { return nil }
            attempts[key] = Attempt(at: now, count: attempt.count + 1, quantity: position.quantity)
            // Random (UUID v4: the system's generator), so no two runs of mindsetd reuse an id.
            let id = "mf-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return PlaceOrderRequest(clientOrderId: id, symbol: position.symbol, side: position.quantity.isPositive ? .sell : .buy,
                                     type: .market, quantity: closing, reduceOnly: true,
                                     strategyId: position.strategyId, requestId: id)
        }
    }

    mutating func record(_ request: PlaceOrderRequest, outcome: String, uncertain: Bool = false, at time: Date) {
        if uncertain, let strategy = request.strategyId { attempts["\(strategy)|\(request.symbol)"]?.uncertain = true }
        recent.append(FlattenOrder(clientOrderId: request.clientOrderId ?? "-", strategyId: request.strategyId, symbol: request.symbol,
                                   side: request.side, quantity: request.quantity, at: time, outcome: outcome))
        if recent.count > Self.keptOrders { recent.removeFirst(recent.count - Self.keptOrders) }
    }

    /// A working reduce-only order cancelled before a close (listed with the orders, so a take-profit that went
    /// away is never a mystery).
    mutating func recordCancel(_ order: OrderRecord, outcome: String, at time: Date) {
        recent.append(FlattenOrder(clientOrderId: order.clientOrderId, strategyId: order.strategyId, symbol: order.symbol,
                                   side: order.side, quantity: order.quantity, at: time, outcome: "cancel before the close: \(outcome)"))
        if recent.count > Self.keptOrders { recent.removeFirst(recent.count - Self.keptOrders) }
    }

    private static func key(_ position: StrategyPosition) -> String { "\(position.strategyId)|\(position.symbol)" }
}
