import Foundation
import BagbotDomain

/// `router.account`: every venue's balances and positions added up in one currency (`AccountValuation`).
extension RouterService {
    /// The day's realised P&L and fees come from routerd's fills; the scan of the fill log runs outside the
    /// exclusive section (ticks and orders go on meanwhile) and is kept until a new fill or a new day.
    public func account() async throws -> AccountSummary {
        let (through, start) = try await exclusively { () async throws -> (Int64, Date) in
            rollDay(Date())
            return (try await store.lastFillSequence(), dayStart)
        }
        let figures: [DayFigure]
        if let cached = dayFigures, cached.through == through, cached.dayStart == start {
            figures = cached.figures
        } else {
            figures = try await store.dayFigures(since: start, through: through)
            dayFigures = (through, start, figures)
        }
        return try await exclusively { try await summary(day: figures) }
    }

    /// What the venues hold now, valued; inside the exclusive section.
    func summary(day: [DayFigure]) async throws -> AccountSummary {
        var holdings: [AccountValuation.Holdings] = []
        for venue in venues.values {
            holdings.append(AccountValuation.Holdings(venue: venue.id, balances: try await venue.balances(), positions: try await venue.positions()))
        }
        return try valuation.summarize(holdings, prices: lastTicks.mapValues(\.mid), day: day, dayStart: dayStart,
                                       trading: tradingSwitch.state)
    }
}
