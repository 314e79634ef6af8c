import Foundation
import BagbotDomain

/// What a backtest found, as `bagbot backtest` prints it and writes it as JSON (docs/backtest.md).
public struct BacktestReport: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public var path: String
        public var symbol: String?
        /// Ticks of this file inside the session's `from`–`to`.
        public var ticks: Int
        public var skippedLines: Int
    }

    public struct Account: Codable, Sendable, Equatable {
        public var currency: String
        public var startEquity: ExactDecimal?
        public var endEquity: ExactDecimal?
        /// End less start: realised and unrealised P&L net of fees, in the account currency.
        public var netPnl: ExactDecimal?
        public var maxDrawdown: ExactDecimal
        public var sharpePerDay: Double?
    }

    public var sources: [Source]
    /// Market time of the first and last tick run.
    public var from: Date?
    public var to: Date?
    public var ticks: Int
    /// The strategies enabled, with the settings they ran with.
    public var strategies: [StrategyInfo]
    public var signals: Int
    public var ordersPlaced: Int
    public var ordersRejected: Int
    public var fills: Int
    /// Round trips closed, and those that made money net of fees.
    public var trades: Int
    public var wins: Int
    public var winRate: Double?
    public var account: Account
    /// Per strategy and symbol, from the fills (as `arsenal.performance` computes it live).
    public var performance: [StrategyPerformance]
    /// Signals that did not become an order, by reason: mindsetd's code for a blocked entry, or the trade
    /// path's (`short_not_allowed`, `below_minimum`, `against_another_strategy`), or the venue's refusal.
    public var blocked: [String: Int]
    /// How the mindset's emotional state moved during the session.
    public var stateChanges: [StateChange]

    public struct StateChange: Codable, Sendable, Equatable {
        public var from: String
        public var to: String
        public var reason: String
        public var at: Date
    }

    /// The report as JSON (keys sorted, so identical runs write identical files).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(BacktestReport.timestamp(date))
        }
        return try encoder.encode(self)
    }

    /// A few lines for a terminal.
    public var text: String {
        var lines: [String] = []
        let span = [from, to].compactMap { $0.map(Self.timestamp) }.joined(separator: " → ")
        lines.append("Backtest of \(ticks) ticks\(span.isEmpty ? "" : " (\(span))")")
        for source in sources {
            lines.append("  \(source.path): \(source.symbol ?? "-"), \(source.ticks) ticks\(source.skippedLines > 0 ? ", \(source.skippedLines) lines skipped" : "")")
        }
        lines.append("Strategies: \(strategies.map { $0.id }.joined(separator: ", "))")
        lines.append("Signals \(signals), orders \(ordersPlaced) (\(ordersRejected) refused by the venue), fills \(fills)")
        let rate = winRate.map { String(format: "%.1f %%", $0 * 100) } ?? "-"
        lines.append("Trades \(trades), won \(wins) (\(rate))")
        let currency = account.currency
        lines.append("Net P&L \(account.netPnl.map { "\($0)" } ?? "-") \(currency) after fees; equity \(account.startEquity.map { "\($0)" } ?? "-") → \(account.endEquity.map { "\($0)" } ?? "-")")
        lines.append("Max drawdown \(account.maxDrawdown) \(currency); Sharpe per day \(account.sharpePerDay.map { String(format: "%.2f", $0) } ?? "- (too few minutes with a change)")")
        for strategy in performance {
            for symbol in strategy.symbols {
                let factor = symbol.profitFactor.map { String(format: "%.2f", $0) } ?? "-"
                lines.append("  \(strategy.strategyId) \(symbol.symbol): \(symbol.trades) trades, net \(symbol.netPnl) (fees \(symbol.fees)), profit factor \(factor), max drawdown \(symbol.maxDrawdown)")
            }
        }
        if !blocked.isEmpty {
            lines.append("Not sent: " + blocked.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        for change in stateChanges {
            lines.append("  mindset \(change.from) → \(change.to) at \(Self.timestamp(change.at)): \(change.reason)")
        }
        return lines.joined(separator: "\n")
    }

    /// Market time with milliseconds, UTC: the same text for the same instant on every machine.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// The fills of a backtest as CSV, one per line, with the realised P&L each one closed and the strategy's
/// position after it: the same inputs write the same bytes.
public enum BacktestTradesCSV {
    public static let header = "time,strategy,symbol,side,quantity,price,fee,realized_pnl,position_after,client_order_id"

    public static func render(_ fills: [Fill]) throws -> String {
        var books: [String: PositionBook] = [:]
        var lines = [header]
        lines.reserveCapacity(fills.count + 1)
        for fill in fills {
            let key = "\(fill.strategyId ?? "")|\(fill.symbol)"
            var book = books[key] ?? PositionBook()
            let closed = try book.apply(fill)
            books[key] = book
            lines.append([
                BacktestReport.timestamp(fill.time), fill.strategyId ?? "", fill.symbol, fill.side.rawValue, "\(fill.quantity)",
                "\(fill.price)", "\(fill.fee)", closed.map { "\($0.pnl)" } ?? "", "\(book.quantity)", fill.clientOrderId,
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
