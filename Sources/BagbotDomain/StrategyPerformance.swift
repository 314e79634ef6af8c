import Foundation

/// One strategy's results in one symbol, from real fills: P&L in the symbol's quote currency, after fees.
public struct SymbolPerformance: Codable, Sendable, Equatable {
    public var symbol: String
    /// Round trips: a position opened and brought back to flat (or flipped), however many fills it took.
    public var trades: Int
    public var wins: Int
    public var losses: Int
    /// Wins ÷ trades; nil before the first trade.
    public var winRate: Double?
    /// Realised P&L after the fees of both sides (a partial close's share included).
    public var netPnl: ExactDecimal
    /// Every fee paid, open positions' included.
    public var fees: ExactDecimal
    /// Sum of the winning round trips' P&L, and of the losing ones' (as a positive amount).
    public var grossProfit: ExactDecimal
    public var grossLoss: ExactDecimal
    /// Gross profit ÷ gross loss; nil without a loss.
    public var profitFactor: Double?
    /// The deepest fall of the running realised net P&L from its high (at each closing fill, in order), as a
    /// positive amount; open positions' unrealised P&L is not in it.
    public var maxDrawdown: ExactDecimal
    /// The position open now (signed) and what it cost: the exposure at entry prices.
    public var position: ExactDecimal
    public var exposure: ExactDecimal
    /// Notional traded (Σ price × quantity of every fill).
    public var volume: ExactDecimal

    public init(symbol: String) {
        self.symbol = symbol
        trades = 0
        wins = 0
        losses = 0
        netPnl = .zero
        fees = .zero
        grossProfit = .zero
        grossLoss = .zero
        maxDrawdown = .zero
        position = .zero
        exposure = .zero
        volume = .zero
    }
}

/// One strategy's results: counts across its symbols, money per symbol (their quote currencies differ).
public struct StrategyPerformance: Codable, Sendable, Equatable {
    public var strategyId: String
    public var trades: Int
    public var wins: Int
    public var winRate: Double?
    public var symbols: [SymbolPerformance]

    public init(strategyId: String, trades: Int, wins: Int, winRate: Double?, symbols: [SymbolPerformance]) {
        self.strategyId = strategyId
        self.trades = trades
        self.wins = wins
        self.winRate = winRate
        self.symbols = symbols
    }
}

/// `arsenal.performance`: optionally one strategy's.
public struct PerformanceQuery: Codable, Sendable, Equatable {
    public var strategyId: String?
    public init(strategyId: String? = nil) { self.strategyId = strategyId }
}

public struct PerformanceResponse: Codable, Sendable, Equatable {
    public var strategies: [StrategyPerformance]
    /// The fills counted: routerd's fill log up to this sequence, in the database with this identity.
    public var throughSequence: Int64
    public var databaseId: String

    public init(strategies: [StrategyPerformance], throughSequence: Int64, databaseId: String) {
        self.strategies = strategies
        self.throughSequence = throughSequence
        self.databaseId = databaseId
    }
}

/// Builds every strategy's performance from its fills, applied in the fill log's order with the same
/// `PositionBook` the trade path uses, so the numbers agree with the positions and with mindsetd's count.
public struct PerformanceLedger: Sendable {
    private struct Entry: Sendable {
        var book = PositionBook()
        var report: SymbolPerformance
        var highPnl = ExactDecimal.zero
        /// Realised P&L of the round trip under way.
        var tripPnl = ExactDecimal.zero
    }

    private var entries: [String: [String: Entry]] = [:]
    /// Each symbol's least tradable quantity: a position below it is dust no order can close (left by a
    /// commission taken in the base asset, or by rounding onto the step size), and counts as flat, as the
    /// strategies count it.
    private let minimumQuantities: [String: ExactDecimal]

    public init(minimumQuantities: [String: ExactDecimal] = [:]) {
        self.minimumQuantities = minimumQuantities
    }

    private func isFlat(_ quantity: ExactDecimal, in symbol: String) -> Bool {
        quantity.isZero || quantity.magnitude < (minimumQuantities[symbol] ?? .zero)
    }

    /// Applies one fill of a strategy (fills without a strategy are the trader's own and are not counted).
    /// Throws, changing nothing, when an amount would leave the exact range.
    public mutating func apply(_ fill: Fill) throws {
        // The trader's own fills are not a strategy's; a fill the position does not take (no positive quantity, a
        // price of 0 but for a long sold for nothing: `PositionBook.apply`) moves nothing here either.
        guard let strategyId = fill.strategyId, !strategyId.isEmpty, fill.quantity.isPositive else { return }
        var entry = entries[strategyId]?[fill.symbol] ?? Entry(report: SymbolPerformance(symbol: fill.symbol))
        var book = entry.book
        let before = book.quantity
        let closed = try book.apply(fill)
        guard closed != nil || book != entry.book else { return }
        var report = entry.report
        report.fees = try report.fees + fill.fee
        report.volume = try report.volume + fill.price.times(fill.quantity)
        if let closed {
            report.netPnl = try report.netPnl + closed.pnl
            entry.tripPnl = try entry.tripPnl + closed.pnl
            entry.highPnl = max(entry.highPnl, report.netPnl)
            report.maxDrawdown = try max(report.maxDrawdown, entry.highPnl - report.netPnl)
            // The round trip ends when the position is flat again (dust included) or flipped to the other side; a
            // fill that only closes dust left by the last one starts the next (its P&L joins it).
            if !isFlat(before, in: fill.symbol), isFlat(book.quantity, in: fill.symbol) || book.quantity.isPositive != before.isPositive {
                report.trades += 1
                if entry.tripPnl.isPositive {
                    report.wins += 1
                    report.grossProfit = try report.grossProfit + entry.tripPnl
                } else if entry.tripPnl.isNegative {
                    report.losses += 1
                    report.grossLoss = try report.grossLoss + entry.tripPnl.magnitude
                }
                entry.tripPnl = .zero
            }
        }
        report.position = book.quantity
        report.exposure = book.cost
        report.winRate = report.trades == 0 ? nil : Double(report.wins) / Double(report.trades)
        report.profitFactor = report.grossLoss.isZero ? nil : report.grossProfit.doubleValue / report.grossLoss.doubleValue
        entry.book = book
        entry.report = report
        entries[strategyId, default: [:]][fill.symbol] = entry
    }

    /// Every strategy's performance, by id, symbols in name order.
    public var performance: [StrategyPerformance] {
        entries.keys.sorted().map { id in
            let symbols = entries[id, default: [:]].values.map(\.report).sorted { $0.symbol < $1.symbol }
            let trades = symbols.reduce(0) { $0 + $1.trades }
            let wins = symbols.reduce(0) { $0 + $1.wins }
            return StrategyPerformance(strategyId: id, trades: trades, wins: wins,
                                       winRate: trades == 0 ? nil : Double(wins) / Double(trades), symbols: symbols)
        }
    }
}
