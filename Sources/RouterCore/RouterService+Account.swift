import Foundation
import BagbotDomain

/// `router.account`: every venue's balances and positions added up in one currency (`AccountValuation`).
extension RouterService {
    /// The day's realised P&L and fees come from routerd's fills (`DayLedger`): the ledger is kept and given
    /// the fills recorded since the last call, and built from the whole log on a new day or when the log is
    /// shorter than it (another file). Reading the log runs outside the exclusive section, so ticks and
    /// orders go on meanwhile.
    public func account() async throws -> AccountSummary {
        let (through, start) = try await exclusively { () async throws -> (Int64, Date) in
            rollDay(Date())
            return (try await store.lastFillSequence(), dayStart)
        }
        var ledger: DayLedger
        if let kept = dayLedger, kept.dayStart == start, kept.through <= through {
            ledger = kept
            while ledger.through < through {
                let fills = try await store.fills(after: ledger.through, limit: 10_000).fills
                guard !fills.isEmpty else { break }
                for fill in fills where (fill.sequence ?? .max) <= through { try ledger.apply(fill) }
                if let last = fills.last?.sequence, last >= through { break }
            }
        } else {
            ledger = try await store.dayLedger(since: start, through: through)
        }
        // Calls may overlap: keep the ledger that has seen the most.
        if (dayLedger?.dayStart != ledger.dayStart) || (dayLedger?.through ?? -1) <= ledger.through { dayLedger = ledger }
        return try await exclusively { try await summary(day: ledger.dayFigures) }
    }

    /// What the venues hold now, valued; inside the exclusive section.
    func summary(day: [DayFigure]) async throws -> AccountSummary {
        var holdings: [AccountValuation.Holdings] = []
        for venue in venues.values {
            holdings.append(AccountValuation.Holdings(venue: venue.id, balances: try await venue.balances(), positions: try await venue.positions()))
        }
        let symbols = symbols
        return try valuation.summarize(holdings, prices: currentPrices(), markVenue: { symbols.venue(for: $0) }, day: day,
                                       dayStart: dayStart, trading: tradingSwitch.state)
    }

    /// The last price of each symbol, leaving out those received longer than `priceAgeLimit` ago.
    func currentPrices() -> [String: ExactDecimal] {
        guard let limit = priceAgeLimit else { return lastTicks.mapValues(\.mid) }
        let now = clock()
        var prices: [String: ExactDecimal] = [:]
        for (symbol, tick) in lastTicks {
            guard let received = lastTickReceived[symbol], now - received <= limit else { continue }
            prices[symbol] = tick.mid
        }
        return prices
    }
}
