import Foundation
import BagbotDomain

/// What the strategies' books say each venue must hold, against what it does hold: a venue holding less of a coin
/// than the long positions routerd recorded there (a fill missed, a withdrawal or a trade by hand at the venue)
/// means a close sized to the book will be refused or, on margin, overshoot. Found, it is reported in
/// `router.account` (`shortfalls`) and logged; orders are not stopped by it — the venue's own balance check refuses
/// what cannot be sold, and the reduce-only rule already keeps closes within the books.
///
/// Spot venues only, where a long is the coin itself (a CFD or margin long at MT5 or Alpaca holds none). Known false
/// alarms, documented: a coin also spent elsewhere — fees paid in BNB while a strategy is long BNB, or a cross pair
/// (ETHBTC spends the BTC booked through BTCUSDT).
enum BookedHoldings {
    static let spotVenues: Set<Venue> = [.binance]

    /// `books`: each strategy's position per symbol ("strategy|symbol"); `venueOf`: where a symbol is routed;
    /// `rules`: each venue's rules (a symbol's base asset, and its step size as the tolerance); `unsettled`: symbols
    /// with an order still being settled, left out (the venue's balance may already show a sale the books do not yet).
    static func shortfalls(books: [String: PositionBook], venueOf: (String) -> Venue?, rules: [Venue: [String: SymbolRules]],
                           balances: [Venue: [AssetBalance]], unsettled: Set<String>) -> [AccountSummary.Shortfall] {
        var booked: [Venue: [String: (quantity: ExactDecimal, tolerance: ExactDecimal)]] = [:]
        for (key, book) in books where book.quantity.isPositive {
            let symbol = String(key.split(separator: "|", maxSplits: 1).last ?? "")
            guard !unsettled.contains(symbol), let venue = venueOf(symbol), spotVenues.contains(venue),
                  let rule = rules[venue]?[symbol] else { continue }
            var entry = booked[venue, default: [:]][rule.baseAsset] ?? (.zero, .zero)
            guard let quantity = try? entry.quantity + book.quantity, let tolerance = try? entry.tolerance + rule.stepSize else { continue }
            entry = (quantity, tolerance)
            booked[venue, default: [:]][rule.baseAsset] = entry
        }
        var found: [AccountSummary.Shortfall] = []
        for (venue, assets) in booked {
            guard let held = balances[venue] else { continue }
            for (asset, entry) in assets {
                let total = (try? held.first { $0.asset == asset }?.total) ?? nil ?? .zero
                guard let short = try? entry.quantity - total, short > entry.tolerance else { continue }
                found.append(AccountSummary.Shortfall(venue: venue, asset: asset, booked: entry.quantity, held: total))
            }
        }
        return found.sorted { ($0.venue.rawValue, $0.asset) < ($1.venue.rawValue, $1.asset) }
    }
}
