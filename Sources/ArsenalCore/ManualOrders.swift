import Foundation
import BagbotDomain

/// The trader's own orders through arsenald (`arsenal.placeManualOrder`), as a strategy without logic: it
/// sees no tick and proposes nothing, but its orders take the strategies' path (mindsetd, then routerd, with
/// the same events and records), its fills build its positions (strategy id `manual`), and its entries obey
/// the same rule against opposite positions in a symbol.
final class ManualOrders: Strategy {
    static let strategyId = ManualTrading.strategyId
    let id = ManualOrders.strategyId
    let kind = "manual"
    var isEnabled = true
    private var books: [String: PositionBook] = [:]
    private var inFlight: Set<String> = []
    private var stats = StrategyStats()

    /// Every symbol it has traded or has an order in: what catch-ups and resyncs go through.
    var symbols: [String] { books.keys.sorted() }

    /// Adds a symbol before its first order.
    func track(_ symbol: String) {
        if books[symbol] == nil { books[symbol] = PositionBook() }
    }

    func onTick(_ tick: Tick, requestId: () -> String) -> Signal? { nil }

    func onFill(_ fill: Fill) throws -> ClosedTrade? {
        var book = books[fill.symbol] ?? PositionBook()
        stats.fills += 1
        let closed = try book.apply(fill)
        books[fill.symbol] = book
        guard let closed else { return nil }
        let trade = ClosedTrade(strategyId: id, symbol: fill.symbol, side: closed.closedSide, quantity: closed.quantity,
                                entryPrice: closed.entryPrice, exitPrice: fill.price, pnl: closed.pnl, closedAt: fill.time,
                                requestId: fill.requestId, tradeId: fill.fillId)
        stats.record(trade)
        return trade
    }

    func isInFlight(symbol: String, role: OrderRole) -> Bool { inFlight.contains("\(symbol)|\(role)") }
    func orderEnded(symbol: String, role: OrderRole) { inFlight.remove("\(symbol)|\(role)") }
    func orderStillInFlight(symbol: String, role: OrderRole) { inFlight.insert("\(symbol)|\(role)") }
    func position(of symbol: String) -> PositionBook? { books[symbol] }
    func exitRefused(symbol: String) {}
    /// The trader sizes their own exits (a manual reduce-only order must be tradable as asked) and judges their own costs.
    func setSymbolRules(_ rules: SymbolRules) {}

    func resync(symbol: String, position: PositionBook) {
        books[symbol] = position
        inFlight.remove("\(symbol)|\(OrderRole.entry)")
        inFlight.remove("\(symbol)|\(OrderRole.exit)")
    }

    func info() -> StrategyInfo {
        StrategyInfo(id: id, kind: kind, description: "The trader's own orders (arsenal.placeManualOrder).", enabled: true,
                     symbols: symbols, positions: books.mapValues(\.quantity), signals: stats.signals, fills: stats.fills,
                     realizedPnl: stats.realizedPnl, trades: stats.trades, wins: stats.wins)
    }
}
