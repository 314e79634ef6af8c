import Foundation
import BagbotDomain

/// The day's realised P&L (net of fees) and fees per venue and symbol, folded from routerd's fills in the
/// order they were recorded. Every fill goes through a `PositionBook` per venue and symbol, since a close
/// today is measured against an entry of any day; only fills at or after `dayStart` count. Kept between
/// `router.account` calls and given only the fills recorded since (`through`).
public struct DayLedger: Sendable {
    public let dayStart: Date
    /// The sequence of the last fill applied.
    public private(set) var through: Int64 = 0
    private var books: [String: PositionBook] = [:]
    private var figures: [String: DayFigure] = [:]

    public init(dayStart: Date) {
        self.dayStart = dayStart
    }

    /// Applies the next fill of the log (one with a sequence above `through`; others are skipped).
    public mutating func apply(_ fill: Fill) throws {
        guard let sequence = fill.sequence, sequence > through else { return }
        through = sequence
        let key = fill.venue.rawValue + "|" + fill.symbol
        let closed = try books[key, default: PositionBook()].apply(fill)
        guard fill.time >= dayStart else { return }
        var figure = figures[key] ?? DayFigure(venue: fill.venue, symbol: fill.symbol, realizedPnl: .zero, fees: .zero)
        figure.fees = try figure.fees + fill.fee
        if let closed { figure.realizedPnl = try figure.realizedPnl + closed.pnl }
        figures[key] = figure
    }

    public var dayFigures: [DayFigure] {
        figures.values.sorted { ($0.venue.rawValue, $0.symbol) < ($1.venue.rawValue, $1.symbol) }
    }
}
