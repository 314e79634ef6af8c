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
            rollDay(today())
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
        let day = ledger.dayFigures.filter { countsInAccount($0.venue) }
        var account = try await withHoldings(of: venues.values.filter { countsInAccount($0.id) }) { holdings in
            try summary(day: day, holdings: holdings)
        }
        for index in account.venues.indices {
            let venue = account.venues[index].venue
            account.venues[index].blocked = await venues[venue]?.blockedReason()
            account.venues[index].ordersHeld = await ordersHeldReason(venue)
        }
        let unvalued = account.unvalued.isEmpty ? "" : " (not valued: \(account.unvalued.joined(separator: ", ")))"
        let equity = (try? account.equity.rounded(toScale: 2, rounding: .halfEven)).map { "\($0)" } ?? "?"
        lastEquity = ("equity \(equity) \(account.currency)\(unvalued)", clock())
        return account
    }

    /// Whether a venue's holdings and fills are the trader's account. A live routerd also runs the paper venue (for
    /// the orders and positions a paper run left), but its 100,000 play dollars and replayed positions are not money:
    /// counted, they would inflate live equity and loosen every percentage limit mindsetd takes from it.
    /// The same rule keeps the strategies' positions (`strategyBooks`, `router.strategyPositions`) and tells
    /// arsenald and mindsetd which fills of `router.fills` to apply: a paper position left by an earlier run must
    /// never pass the reduce-only check of a real order, or be closed (flattened) with one.
    nonisolated func countsInAccount(_ venue: Venue) -> Bool {
        symbols.paperTrading || venue != .paper
    }

    nonisolated var accountVenues: Set<Venue> { Set(venues.keys.filter(countsInAccount)) }


    /// The identity of the fill log that `router.fills` and `router.strategyPositions` give out: the database's,
    /// marked in live mode. What arsenald and mindsetd built from the log in paper mode (positions, counted trades)
    /// included the paper venue's fills; a new identity makes them start over from the live account's fills alone,
    /// as for another database, when routerd is switched to live (and again when it is switched back).
    nonisolated func scopedLogIdentity(_ databaseId: String) -> String {
        FillLogIdentity.scoped(databaseId, live: !symbols.paperTrading)
    }

    /// The account's sampled equity (`EquityHistory`), in routerd's database.
    public nonisolated var equityHistory: EquityHistory { EquityHistory(database: store.database) }

    /// `router.equityHistory`: today since the daily reset a point a minute, or 30 days a point an hour.
    public func equityHistory(_ query: EquityHistoryQuery) async throws -> EquityHistoryResponse {
        let since: Date, bucket: Int
        switch query.range {
        case .day:
            // The samples carry the wall clock's time, whatever `dayClock` says (a replay at max speed plays 2020).
            since = DailyResetTime("00:00")!.dayStart(containing: Date())
            bucket = 60
        case .month:
            since = Date().addingTimeInterval(-30 * 86_400)
            bucket = 3_600
        }
        let samples = try await equityHistory.samples(since: since, bucketSeconds: bucket, currency: valuation.currency)
        return EquityHistoryResponse(range: query.range, currency: valuation.currency, samples: samples)
    }

    /// Runs `use` in the exclusive section with what `venues` hold, read outside it when nothing could have moved them
    /// meanwhile. A venue may answer over the network (Binance's REST account while its user stream is down), and
    /// orders and ticks must not wait behind that round trip: the holdings are read first, outside; then, in the
    /// section, taken only if no order was placed, cancelled or recorded since (`holdingsChanges`), else read again
    /// there, as they always were before. So `use` sees what one read inside the section would have shown: the
    /// holdings after every order that came before this call, balances and positions from one read of each venue.
    func withHoldings<T>(of venues: [any TradingVenue], _ use: ([AccountValuation.Holdings]) async throws -> T) async throws -> T {
        let changesBefore = holdingsChanges
        let outside = try await Self.read(venues)
        return try await exclusively {
            try await use(holdingsChanges == changesBefore ? outside : try await Self.read(venues))
        }
    }

    private static func read(_ venues: [any TradingVenue]) async throws -> [AccountValuation.Holdings] {
        var holdings: [AccountValuation.Holdings] = []
        for venue in venues.sorted(by: { $0.id.rawValue < $1.id.rawValue }) {
            let (balances, positions) = try await venue.holdings()
            holdings.append(AccountValuation.Holdings(venue: venue.id, balances: balances, positions: positions,
                                                      prices: await venue.valuationPairs()))
        }
        return holdings
    }

    /// What the venues hold now, valued; inside the exclusive section.
    func summary(day: [DayFigure], holdings: [AccountValuation.Holdings]) throws -> AccountSummary {
        let symbols = symbols
        var summary = try valuation.summarize(holdings, prices: currentPrices(), markVenue: { symbols.venue(for: $0) }, day: day,
                                              dayStart: dayStart, trading: tradingSwitch.state)
        summary.scope = symbols.paperTrading ? "paper" : "live"
        // Live venues only: the paper venue's margin symbols hold a long without its coin.
        if !booksMayBeStale {
            let held = Dictionary(holdings.filter { $0.venue != .paper }.map { ($0.venue, $0.balances) }, uniquingKeysWith: { first, _ in first })
            let shortfalls = BookedHoldings.shortfalls(books: strategyBooks, venueOf: { symbols.venue(for: $0) }, rules: symbolRules, balances: held,
                                                       unsettled: Set(unsettled.values.map(\.symbol)))
            summary.shortfalls = shortfalls.isEmpty ? nil : shortfalls
            // Logged when which coins are short changes, not at every move of the amounts.
            let short = Set(shortfalls.map { "\($0.venue.rawValue)|\($0.asset)" })
            if short != reportedShortfalls {
                if shortfalls.isEmpty {
                    logger.notice("the venues hold what the strategies' books say again")
                } else {
                    logger.critical("a venue holds less than the strategies' books: a fill missed, or a withdrawal or trade by hand there; closes may be refused", metadata: [
                        "shortfalls": "\(shortfalls.map { "\($0.venue.rawValue) \($0.asset): booked \($0.booked), held \($0.held)" })",
                    ])
                }
                reportedShortfalls = short
            }
        }
        for index in summary.venues.indices {
            let venue = summary.venues[index].venue
            guard let connection = venueConnections[venue] else { continue }
            (summary.venues[index].connection, summary.venues[index].connectionSince) = (connection.state.rawValue, connection.since)
        }
        return summary
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
