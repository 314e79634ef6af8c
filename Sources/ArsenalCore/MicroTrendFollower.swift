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

    /// One symbol's state. The class is mutated in place (a struct copied out of `books` and written back
    /// would copy both windows' buffers on every tick: O(window), not O(1)); its fields live in one struct
    /// that a tick mutates in a single access (each access to a class's property is checked for exclusivity
    /// at run time, and a tick would otherwise make a dozen).
    final class SymbolState {
        var book: SymbolBook

        init(_ book: SymbolBook) {
            self.book = book
        }
    }

    struct SymbolBook {
        var lastMid: Double?
        var momentum: RollingWindow
        var volatility: RollingWindow
        var position = PositionBook()
        var guardrail: OrderRateGuard
        var orderInFlight = false
        /// The symbol's base order size (looked up once, not hashed on every tick).
        var baseQuantity: ExactDecimal
    }

    public init(id: String = "micro_trend", settings: MicroTrendSettings) {
        self.id = id
        self.settings = settings
        self.symbols = settings.symbols
        self.isEnabled = settings.enabled
        for symbol in settings.symbols {
            books[symbol] = SymbolState(SymbolBook(
                momentum: RollingWindow(capacity: settings.momentumWindow),
                volatility: RollingWindow(capacity: settings.volatilityWindow),
                guardrail: OrderRateGuard(cooldown: settings.orderCooldownMs / 1000, maxPerMinute: settings.maxOrdersPerMinute),
                baseQuantity: settings.baseQuantity[symbol] ?? .zero))
        }
    }

    public func position(of symbol: String) -> PositionBook? { books[symbol]?.book.position }

    /// The symbol of the last tick and its state: a feed sends runs of one symbol, and comparing two short
    /// strings costs less than hashing one.
    private var lastBook: (symbol: String, state: SymbolState)?

    private func state(of symbol: String) -> SymbolState? {
        if let lastBook, lastBook.symbol == symbol { return lastBook.state }
        guard let state = books[symbol] else { return nil }
        lastBook = (symbol, state)
        return state
    }

    public func onTick(_ tick: Tick, requestId: () -> String) -> Signal? {
        guard let state = state(of: tick.symbol), tick.bid.isPositive, tick.ask >= tick.bid else { return nil }
        let bid = tick.bid.doubleValue, ask = tick.ask.doubleValue
        guard let decision = step(&state.book, bid: bid, ask: ask, tick: tick) else { return nil }
        stats.signals += 1
        return signal(decision, tick: tick, requestId: requestId)
    }

    /// The tick's work on one symbol, in one access to its state: windows, then the stop, then the entry or
    /// reversal logic behind the guardrails.
    private func step(_ book: inout SymbolBook, bid: Double, ask: Double, tick: Tick) -> Decision? {
        let mid = (bid + ask) / 2
        if let last = book.lastMid {
            let change = (mid - last) / last
            book.momentum.push(change)
            book.volatility.push(change)
        }
        book.lastMid = mid
        guard !book.orderInFlight else { return nil }

        // The stop comes first and needs no history: after a restart an open position is protected from
        // its first tick, and neither a disabled strategy nor the order-rate guard may hold an exit back.
        if let stop = stopLoss(position: book.position, mid: mid) {
            book.guardrail.record(tick.time)
            book.orderInFlight = true
            return stop
        }
        guard isEnabled, book.momentum.isFull, book.volatility.isFull,
              let decision = decide(book, mid: mid, spread: ask - bid),
              book.guardrail.allows(at: tick.time) else { return nil }
        book.guardrail.record(tick.time)
        book.orderInFlight = true
        return decision
    }

    private func signal(_ decision: Decision, tick: Tick, requestId: () -> String) -> Signal {
        Signal(strategyId: id, symbol: tick.symbol, side: decision.side, quantity: decision.quantity,
               price: decision.side == .buy ? tick.ask : tick.bid, time: tick.time, strength: decision.strength,
               confidence: stats.confidence, isEntry: decision.isEntry, reason: decision.reason.text, requestId: requestId())
    }

    private func stopLoss(position: borrowing PositionBook, mid: Double) -> Decision? {
        let entry = position.averagePrice.doubleValue
        guard !position.isFlat, entry > 0 else { return nil }
        let move = (mid - entry) / entry * (position.quantity.isPositive ? 1 : -1)
        guard move <= -settings.stopLossPercent / 100 else { return nil }
        return Decision(side: position.quantity.isPositive ? .sell : .buy, quantity: position.quantity.magnitude, strength: 10,
                        isEntry: false, reason: .stop(move: move))
    }

    private struct Decision {
        var side: Side
        var quantity: ExactDecimal
        var strength: Double
        var isEntry: Bool
        var reason: Reason
    }

    private func decide(_ book: borrowing SymbolBook, mid: Double, spread: Double) -> Decision? {
        let momentum = book.momentum.sum
        let noise = book.volatility.standardDeviation
        guard noise >= settings.minVolatility, noise <= settings.maxVolatility else { return nil }
        let costs = (spread / mid) + 2 * (settings.feeRate + settings.slippageRate)
        let threshold = settings.thresholdMultiple * noise * Double(settings.momentumWindow).squareRoot() + costs
        let strength = abs(momentum) / threshold
        let direction: Side = momentum > 0 ? .buy : .sell
        let base = book.baseQuantity

        if book.position.isFlat {
            guard strength >= 1, base.isPositive else { return nil }
            return Decision(side: direction, quantity: base, strength: strength, isEntry: true,
                            reason: .momentum(momentum, threshold: threshold))
        }
        let holdingLong = book.position.quantity.isPositive
        let against = (holdingLong && direction == .sell) || (!holdingLong && direction == .buy)
        if against && strength >= settings.reversalMultiple {
            // Reverse in two steps: close now; the next strong tick opens the other way (through the mindset).
            return Decision(side: direction, quantity: book.position.quantity.magnitude, strength: strength, isEntry: false,
                            reason: .reversal(momentum))
        }
        return nil
    }

    public func onFill(_ fill: Fill) throws -> ClosedTrade? {
        guard let state = books[fill.symbol] else { return nil }
        stats.fills += 1
        guard let closed = try state.book.position.apply(fill) else { return nil }
        let trade = ClosedTrade(strategyId: id, symbol: fill.symbol, side: closed.closedSide, quantity: closed.quantity,
                                entryPrice: closed.entryPrice, exitPrice: fill.price, pnl: closed.pnl, closedAt: fill.time,
                                requestId: fill.requestId, tradeId: fill.fillId)
        stats.record(trade)
        return trade
    }

    public func orderEnded(symbol: String) {
        books[symbol]?.book.orderInFlight = false
    }

    public func orderStillInFlight(symbol: String) {
        books[symbol]?.book.orderInFlight = true
    }

    public func resync(symbol: String, position: PositionBook) {
        books[symbol]?.book.position = position
        books[symbol]?.book.orderInFlight = false
    }

    public func info() -> StrategyInfo {
        StrategyInfo(id: id, kind: kind, enabled: isEnabled, symbols: symbols,
                     positions: books.mapValues { $0.book.position.quantity }, signals: stats.signals, fills: stats.fills,
                     realizedPnl: stats.realizedPnl, trades: stats.trades, wins: stats.wins)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%+.4f%%", fraction * 100) }

    /// Why a decision was made, as numbers: the sentence is written only for a signal that goes out (most
    /// decisions wait for the guardrails, and `String(format:)` costs more than the rest of a tick).
    enum Reason {
        case momentum(Double, threshold: Double)
        case reversal(Double)
        case stop(move: Double)

        var text: String {
            switch self {
            case .momentum(let momentum, let threshold): "momentum \(percent(momentum)) beats threshold \(percent(threshold))"
            case .reversal(let momentum): "strong opposite move \(percent(momentum)): closing to reverse"
            case .stop(let move): "stop loss: \(percent(move)) against the position"
            }
        }
    }
}
