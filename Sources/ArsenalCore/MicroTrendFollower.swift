import Foundation
import BagbotDomain

/// The Micro Trend Follower: trades short bursts of momentum that beat noise and costs.
///
/// Per tick, O(1): mid price → return → momentum (running sum of the last N returns) and volatility
/// (running standard deviation) → volatility filter (skip dead and chaotic markets) → threshold
/// (momentum must beat a multiple of the window's expected noise plus spread, slippage and fees) →
/// guardrails (cooldown, orders per minute, one order in flight per symbol) → position logic.
public final class MicroTrendFollower: Strategy {
    public let id: String
    public let kind = "micro_trend_follower"
    public let symbols: [String]
    public var isEnabled: Bool
    public private(set) var stats = StrategyStats()
    private let settings: MicroTrendSettings
    private var books: [String: SymbolState] = [:]

    struct SymbolState {
        var lastMid: Double?
        var momentum: RollingWindow
        var volatility: RollingWindow
        var position = PositionBook()
        var guardrail: OrderRateGuard
        var orderInFlight = false
    }

    public init(id: String = "micro_trend", settings: MicroTrendSettings) {
        self.id = id
        self.settings = settings
        self.symbols = settings.symbols
        self.isEnabled = settings.enabled
        for symbol in settings.symbols {
            books[symbol] = SymbolState(
                momentum: RollingWindow(capacity: settings.momentumWindow),
                volatility: RollingWindow(capacity: settings.volatilityWindow),
                guardrail: OrderRateGuard(cooldown: settings.orderCooldownMs / 1000, maxPerMinute: settings.maxOrdersPerMinute))
        }
    }

    public func position(of symbol: String) -> PositionBook? { books[symbol]?.position }

    public func onTick(_ tick: Tick, requestId: () -> String) -> Signal? {
        guard var state = books[tick.symbol], tick.bid.isPositive, tick.ask >= tick.bid else { return nil }
        defer { books[tick.symbol] = state }
        let mid = tick.midValue
        if let last = state.lastMid {
            let change = (mid - last) / last
            state.momentum.push(change)
            state.volatility.push(change)
        }
        state.lastMid = mid
        guard !state.orderInFlight else { return nil }

        // The stop comes first and needs no history: after a restart an open position is protected from
        // its first tick, and neither a disabled strategy nor the order-rate guard may hold an exit back.
        if let stop = stopLoss(position: state.position, mid: mid) {
            state.guardrail.record(tick.time)
            state.orderInFlight = true
            stats.signals += 1
            return signal(stop, tick: tick, requestId: requestId)
        }
        guard isEnabled, state.momentum.isFull, state.volatility.isFull else { return nil }
        let decision = decide(state: state, tick: tick)
        guard let decision, state.guardrail.refusal(at: tick.time) == nil else { return nil }
        state.guardrail.record(tick.time)
        state.orderInFlight = true
        stats.signals += 1
        return signal(decision, tick: tick, requestId: requestId)
    }

    private func signal(_ decision: Decision, tick: Tick, requestId: () -> String) -> Signal {
        Signal(strategyId: id, symbol: tick.symbol, side: decision.side, quantity: decision.quantity,
               price: decision.side == .buy ? tick.ask : tick.bid, time: tick.time, strength: decision.strength,
               confidence: stats.confidence, isEntry: decision.isEntry, reason: decision.reason, requestId: requestId())
    }

    private func stopLoss(position: PositionBook, mid: Double) -> Decision? {
        let entry = position.averagePrice.doubleValue
        guard !position.isFlat, entry > 0 else { return nil }
        let move = (mid - entry) / entry * (position.quantity.isPositive ? 1 : -1)
        guard move <= -settings.stopLossPercent / 100 else { return nil }
        return Decision(side: position.quantity.isPositive ? .sell : .buy, quantity: position.quantity.magnitude, strength: 10,
                        isEntry: false, reason: "stop loss: \(Self.percent(move)) against the position")
    }

    private struct Decision {
        var side: Side
        var quantity: ExactDecimal
        var strength: Double
        var isEntry: Bool
        var reason: String
    }

    private func decide(state: SymbolState, tick: Tick) -> Decision? {
        let mid = tick.midValue
        let position = state.position
        let momentum = state.momentum.sum
        let noise = state.volatility.standardDeviation
        guard noise >= settings.minVolatility, noise <= settings.maxVolatility else { return nil }
        let costs = (tick.spreadValue / mid) + 2 * (settings.feeRate + settings.slippageRate)
        let threshold = settings.thresholdMultiple * noise * Double(settings.momentumWindow).squareRoot() + costs
        let strength = abs(momentum) / threshold
        let direction: Side = momentum > 0 ? .buy : .sell
        let base = settings.baseQuantity[tick.symbol] ?? .zero

        if position.isFlat {
            guard strength >= 1, base.isPositive else { return nil }
            return Decision(side: direction, quantity: base, strength: strength, isEntry: true,
                            reason: "momentum \(Self.percent(momentum)) beats threshold \(Self.percent(threshold))")
        }
        let holdingLong = position.quantity.isPositive
        let against = (holdingLong && direction == .sell) || (!holdingLong && direction == .buy)
        if against && strength >= settings.reversalMultiple {
            // Reverse in two steps: close now; the next strong tick opens the other way (through the mindset).
            return Decision(side: direction, quantity: position.quantity.magnitude, strength: strength, isEntry: false,
                            reason: "strong opposite move \(Self.percent(momentum)): closing to reverse")
        }
        return nil
    }

    public func onFill(_ fill: Fill) throws -> ClosedTrade? {
        guard var state = books[fill.symbol] else { return nil }
        defer { books[fill.symbol] = state }
        stats.fills += 1
        guard let closed = try state.position.apply(fill) else { return nil }
        let trade = ClosedTrade(strategyId: id, symbol: fill.symbol, side: closed.closedSide, quantity: closed.quantity,
                                entryPrice: closed.entryPrice, exitPrice: fill.price, pnl: closed.pnl, closedAt: fill.time,
                                requestId: fill.requestId, tradeId: fill.fillId)
        stats.record(trade)
        return trade
    }

    public func orderEnded(symbol: String) {
        books[symbol]?.orderInFlight = false
    }

    public func orderStillInFlight(symbol: String) {
        books[symbol]?.orderInFlight = true
    }

    public func resync(symbol: String, position: PositionBook) {
        books[symbol]?.position = position
        books[symbol]?.orderInFlight = false
    }

    public func info() -> StrategyInfo {
        StrategyInfo(id: id, kind: kind, enabled: isEnabled, symbols: symbols,
                     positions: books.mapValues { $0.position.quantity }, signals: stats.signals, fills: stats.fills,
                     realizedPnl: stats.realizedPnl, trades: stats.trades, wins: stats.wins)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%+.4f%%", fraction * 100) }
}
