import Foundation
import BagbotDomain

/// The embedded default venue: fills against the latest tick with a spread (the tick's own), slippage
/// and a fee, and keeps cash and positions. Plain Swift, no I/O: the router persists its snapshot in the
/// same transaction as the order it executes, so the two can never disagree after a crash.
public struct PaperExchange: Sendable {
    public struct Settings: Sendable, Equatable {
        public var feeBps: Double
        public var slippageBps: Double
        public var startingCash: Double

        public init(feeBps: Double, slippageBps: Double, startingCash: Double) {
            self.feeBps = feeBps
            self.slippageBps = slippageBps
            self.startingCash = startingCash
        }

        public init(_ config: RouterSettings.Paper) {
            self.init(feeBps: config.feeBps, slippageBps: config.slippageBps, startingCash: config.startingCash)
        }
    }

    /// What is persisted: cash, fees and the book per symbol.
    public struct Snapshot: Sendable, Equatable {
        public var cash: Double
        public var feesPaid: Double
        public var positions: [String: PaperPosition]
    }

    public struct PaperPosition: Sendable, Equatable {
        public var book: PositionBook
        public var realizedPnl: Double
        public var lastPrice: Double?
    }

    public enum Outcome: Sendable, Equatable {
        case filled(Fill)
        case resting
        case rejected(String)
    }

    public let settings: Settings
    public private(set) var snapshot: Snapshot
    private var lastTicks: [String: Tick] = [:]
    /// Limit orders waiting for the market to reach them, in arrival order.
    public private(set) var resting: [OrderRecord] = []
    static let currency = "USD"

    public init(settings: Settings, snapshot: Snapshot? = nil) {
        self.settings = settings
        self.snapshot = snapshot ?? Snapshot(cash: settings.startingCash, feesPaid: 0, positions: [:])
    }

    public func lastTick(for symbol: String) -> Tick? { lastTicks[symbol] }

    /// Takes the book (cash and positions) as recorded on disk, when memory can no longer be trusted to
    /// match it. Resting orders and market data stay.
    public mutating func adopt(_ recorded: Snapshot) {
        snapshot = recorded
    }

    /// Restores a resting limit order after a restart.
    public mutating func restore(resting order: OrderRecord) {
        resting.append(order)
    }

    /// Records the tick and fills every resting limit order it reaches.
    public mutating func observe(_ tick: Tick) -> [(order: OrderRecord, fill: Fill)] {
        record(tick)
        return crossedOrders(by: tick).compactMap { fillResting($0, on: tick) }
    }

    /// Takes the tick as the latest price of its symbol.
    public mutating func record(_ tick: Tick) {
        lastTicks[tick.symbol] = tick
        snapshot.positions[tick.symbol]?.lastPrice = tick.mid
    }

    /// The resting orders this tick reaches, in arrival order.
    public func crossedOrders(by tick: Tick) -> [String] {
        resting.filter { order in
            order.symbol == tick.symbol && order.limitPrice.flatMap { Self.touch(order.side, limit: $0, tick: tick) } != nil
        }.map(\.clientOrderId)
    }

    /// Fills one resting order on this tick, if it still crosses and buying power allows. One at a time, so
    /// the caller can persist each fill with a book that holds exactly the fills persisted so far.
    public mutating func fillResting(_ clientOrderId: String, on tick: Tick) -> (order: OrderRecord, fill: Fill)? {
        guard let index = resting.firstIndex(where: { $0.clientOrderId == clientOrderId }),
              let limit = resting[index].limitPrice, let price = Self.touch(resting[index].side, limit: limit, tick: tick) else { return nil }
        let order = resting[index]
        guard case .filled(let fill) = execute(order, at: price, time: tick.time) else { return nil }
        resting.remove(at: index)
        return (order, fill)
    }

    /// Executes or rests a new order. Market orders need a tick; limit orders fill at once when
    /// marketable (at the better of limit and market), else rest.
    public mutating func submit(_ order: OrderRecord) -> Outcome {
        guard let tick = lastTicks[order.symbol] else {
            return .rejected("no market data for \(order.symbol) yet")
        }
        switch order.type {
        case .market:
            let slip = settings.slippageBps / 10_000
            let price = order.side == .buy ? tick.ask * (1 + slip) : tick.bid * (1 - slip)
            return execute(order, at: price, time: tick.time)
        case .limit:
            guard let limit = order.limitPrice else { return .rejected("a limit order needs a limit price") }
            if let price = Self.touch(order.side, limit: limit, tick: tick) {
                return execute(order, at: price, time: tick.time)
            }
            if let refusal = buyingPowerRefusal(order, price: limit) { return .rejected(refusal) }
            // Resting means the venue took it: it is `new` from here on, as its record on disk says.
            var acknowledged = order
            acknowledged.status = .new
            resting.append(acknowledged)
            return .resting
        }
    }

    public mutating func cancel(clientOrderId: String) -> OrderRecord? {
        guard let index = resting.firstIndex(where: { $0.clientOrderId == clientOrderId }) else { return nil }
        return resting.remove(at: index)
    }

    /// The price a limit order trades at on this tick, if the market reached it.
    static func touch(_ side: Side, limit: Double, tick: Tick) -> Double? {
        switch side {
        case .buy: return tick.ask <= limit ? tick.ask : nil
        case .sell: return tick.bid >= limit ? tick.bid : nil
        }
    }

    private mutating func execute(_ order: OrderRecord, at price: Double, time: Date) -> Outcome {
        if let refusal = buyingPowerRefusal(order, price: price) { return .rejected(refusal) }
        let notional = order.quantity * price
        let fee = notional * settings.feeBps / 10_000
        snapshot.cash += order.side == .buy ? -(notional + fee) : (notional - fee)
        snapshot.feesPaid += fee
        var position = snapshot.positions[order.symbol] ?? PaperPosition(book: PositionBook(), realizedPnl: 0, lastPrice: nil)
        let fill = Fill(fillId: "\(order.clientOrderId)-1", clientOrderId: order.clientOrderId, venue: .paper, symbol: order.symbol,
                        side: order.side, quantity: order.quantity, price: price, fee: fee, time: time,
                        strategyId: order.strategyId, requestId: order.requestId)
        // The book tracks gross P&L; fees are in the account.
        var gross = fill
        gross.fee = 0
        if let closed = position.book.apply(gross) { position.realizedPnl += closed.pnl }
        position.lastPrice = lastTicks[order.symbol]?.mid ?? price
        snapshot.positions[order.symbol] = position
        return .filled(fill)
    }

    /// Refuses orders that would open or grow exposure beyond the account's equity (no leverage on paper).
    private func buyingPowerRefusal(_ order: OrderRecord, price: Double) -> String? {
        guard order.quantity > 0, order.quantity.isFinite, price > 0, price.isFinite else { return "quantity and price must be positive" }
        let current = snapshot.positions[order.symbol]?.book.quantity ?? 0
        let after = current + order.quantity * order.side.sign
        guard abs(after) > abs(current) else { return nil }
        let exposureAfter = grossExposure(excluding: order.symbol) + abs(after) * price
        let equity = self.equity
        guard exposureAfter <= equity else {
            return String(format: "insufficient buying power: exposure %.2f would exceed equity %.2f", exposureAfter, equity)
        }
        return nil
    }

    private func grossExposure(excluding symbol: String) -> Double {
        snapshot.positions.filter { $0.key != symbol }.reduce(0) { $0 + abs($1.value.book.quantity) * markPrice($1.key, $1.value) }
    }

    private func markPrice(_ symbol: String, _ position: PaperPosition) -> Double {
        lastTicks[symbol]?.mid ?? position.lastPrice ?? position.book.averagePrice
    }

    public var equity: Double {
        snapshot.cash + snapshot.positions.reduce(0) { $0 + $1.value.book.quantity * markPrice($1.key, $1.value) }
    }

    public func positions() -> [Position] {
        snapshot.positions.filter { !$0.value.book.isFlat || $0.value.realizedPnl != 0 }.map { symbol, position in
            let mark = markPrice(symbol, position)
            return Position(venue: .paper, symbol: symbol, quantity: position.book.quantity, averagePrice: position.book.averagePrice,
                            realizedPnl: position.realizedPnl, lastPrice: mark,
                            unrealizedPnl: (mark - position.book.averagePrice) * position.book.quantity)
        }.sorted { $0.symbol < $1.symbol }
    }

    public func account() -> VenueAccount {
        VenueAccount(venue: .paper, currency: Self.currency, cash: snapshot.cash, equity: equity, feesPaid: snapshot.feesPaid)
    }
}
