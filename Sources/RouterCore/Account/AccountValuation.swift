import Foundation
import BagbotDomain

/// Adds every venue up in one currency (`router.account`): balances valued at the last prices
/// (`CurrencyConverter`), positions' exposure and unrealised P&L, and the day's realised P&L and fees from
/// routerd's own fills. Plain Swift: `RouterService` gathers what the venues say and hands it here.
struct AccountValuation {
    /// What one venue holds, as it reports it.
    struct Holdings {
        var venue: Venue
        var balances: [AssetBalance]
        var positions: [Position]
        /// Prices the venue read for held assets no routed symbol trades (`TradingVenue.valuationPairs`).
        var prices: [CurrencyConverter.Pair] = []
    }

    let currency: String
    let pegs: [String: String]
    /// Each venue's rules per symbol: which asset a symbol's prices and P&L are in.
    let rules: [Venue: [String: SymbolRules]]

    /// Each symbol's last price: routerd's latest tick, else the mark reported by the venue the symbol is routed to
    /// (`markVenue`) — never another venue's: in live mode the paper venue's positions keep the last replayed price,
    /// and would stand in for a live price that is missing or too old.
    func marks(prices: [String: ExactDecimal], holdings: [Holdings], markVenue: (String) -> Venue?) -> [String: ExactDecimal] {
        var marks = prices
        for holding in holdings {
            for position in holding.positions where marks[position.symbol] == nil && markVenue(position.symbol) == holding.venue {
                marks[position.symbol] = position.lastPrice
            }
        }
        return marks
    }

    /// Rates from the last prices (`marks`); then, for what those leave without a rate, the pairs a venue priced for
    /// assets held there that no routed symbol trades (BNB).
    private func converter(marks: [String: ExactDecimal], holdings: [Holdings]) -> CurrencyConverter {
        let routed = rules.values.flatMap(\.values)
        let pairs = routed.compactMap { rule -> CurrencyConverter.Pair? in
            marks[rule.symbol].map { CurrencyConverter.Pair(symbol: rule.symbol, baseAsset: rule.baseAsset, quoteAsset: rule.quoteAsset, price: $0) }
        }
        // A venue's prices value only what nothing routed or configured names: never BTC, USDT or a pegged USDC,
        // whose rates come from routerd's own prices (or are missing while those are stale).
        let named = Set(routed.flatMap { [$0.baseAsset, $0.quoteAsset] }).union(pegs.keys).union(pegs.values).union([currency])
        let held = holdings.flatMap(\.prices)
        return CurrencyConverter(currency: currency, pegs: pegs, pairs: pairs, fallback: held,
                                 fallbackAssets: Set(held.flatMap { [$0.baseAsset, $0.quoteAsset] }).subtracting(named))
    }

    /// `markVenue`: where each symbol is routed, the one venue whose mark may value it when `prices` has none.
    func summarize(_ holdings: [Holdings], prices: [String: ExactDecimal], markVenue: (String) -> Venue?, day: [DayFigure], dayStart: Date,
                   trading: TradingSwitchState) throws -> AccountSummary {
        let marks = self.marks(prices: prices, holdings: holdings, markVenue: markVenue)
        let converter = self.converter(marks: marks, holdings: holdings)
        // Currencies, as opposed to coins and shares: the account's, pegged ones, and every quote asset.
        let cashAssets = Set([currency]).union(pegs.keys).union(rules.values.flatMap(\.values).map(\.quoteAsset))
        var unvalued = Set<String>()
        /// `amount` of `asset` in the currency, or nil (and the asset noted) when it has no rate.
        func value(_ amount: ExactDecimal, _ asset: String) throws -> ExactDecimal? {
            guard let value = try converter.value(amount, of: asset) else {
                if !amount.isZero { unvalued.insert(asset) }
                return nil
            }
            return value
        }
        func quoteAsset(_ venue: Venue, _ symbol: String) -> String? { rules[venue]?[symbol]?.quoteAsset }

        var venues: [AccountSummary.VenueSummary] = []
        var symbols: [String: AccountSummary.SymbolExposure] = [:]
        var unrealized = ExactDecimal.zero
        for holding in holdings.sorted(by: { $0.venue.rawValue < $1.venue.rawValue }) {
            var equity = ExactDecimal.zero, cash = ExactDecimal.zero, exposure = ExactDecimal.zero
            for balance in holding.balances {
                guard let valued = try value(try balance.total, balance.asset) else { continue }
                equity = try equity + valued
                if cashAssets.contains(balance.asset) { cash = try cash + valued }
            }
            for position in holding.positions where !position.quantity.isZero {
                let quote = quoteAsset(holding.venue, position.symbol)
                let mark = position.lastPrice ?? position.averagePrice
                let gross = try quote.flatMap { try value(try position.quantity.magnitude.times(mark), $0) }
                let pnl = try quote.flatMap { asset in try position.unrealizedPnl.flatMap { try value($0, asset) } }
                if quote == nil { unvalued.insert(position.symbol) }
                if let gross { exposure = try exposure + gross }
                if let pnl { unrealized = try unrealized + pnl }
                symbols[Self.key(holding.venue, position.symbol)] = AccountSummary.SymbolExposure(
                    venue: holding.venue, symbol: position.symbol, quantity: position.quantity, exposure: gross, unrealizedPnl: pnl,
                    realizedPnlToday: nil)
            }
            venues.append(AccountSummary.VenueSummary(venue: holding.venue, equity: equity, cash: cash, exposure: exposure,
                                                      balances: holding.balances))
        }
        var realized = ExactDecimal.zero, fees = ExactDecimal.zero
        for figure in day {
            guard let quote = quoteAsset(figure.venue, figure.symbol) else {
                unvalued.insert(figure.symbol)
                continue
            }
            let pnl = try value(figure.realizedPnl, quote)
            if let pnl { realized = try realized + pnl }
            if let fee = try value(figure.fees, quote) { fees = try fees + fee }
            let key = Self.key(figure.venue, figure.symbol)
            var entry = symbols[key] ?? AccountSummary.SymbolExposure(venue: figure.venue, symbol: figure.symbol, quantity: .zero, exposure: .zero,
                                                                     unrealizedPnl: .zero, realizedPnlToday: nil)
            entry.realizedPnlToday = pnl
            symbols[key] = entry
        }
        return AccountSummary(
            currency: currency, equity: try ExactDecimal.sum(venues.map(\.equity)), cash: try ExactDecimal.sum(venues.map(\.cash)),
            realizedPnlToday: realized, feesToday: fees, unrealizedPnl: unrealized, exposure: try ExactDecimal.sum(venues.map(\.exposure)),
            venues: venues, symbols: symbols.values.sorted { ($0.venue.rawValue, $0.symbol) < ($1.venue.rawValue, $1.symbol) },
            rates: converter.rates.values.sorted { $0.asset < $1.asset }, unvalued: unvalued.sorted(), dayStart: dayStart,
            tradingEnabled: trading.enabled, pausedReason: trading.reason,
            marks: symbolMarks(marks, converter: converter, markVenue: markVenue))
    }

    /// Each routed symbol's last price with its quote asset's rate (nil while it has none), in symbol order: mindsetd
    /// values the strategies' open positions with them, and compares sizes across quote currencies.
    private func symbolMarks(_ marks: [String: ExactDecimal], converter: CurrencyConverter,
                             markVenue: (String) -> Venue?) -> [AccountSummary.SymbolMark] {
        let symbols = Set(rules.values.flatMap(\.keys))
        return symbols.sorted().compactMap { symbol in
            guard let price = marks[symbol],
                  let rule = markVenue(symbol).flatMap({ rules[$0]?[symbol] }) ?? rules.values.lazy.compactMap({ $0[symbol] }).first
            else { return nil }
            return AccountSummary.SymbolMark(symbol: symbol, price: price, baseAsset: rule.baseAsset, quoteAsset: rule.quoteAsset,
                                             quoteRate: converter.rates[rule.quoteAsset]?.rate)
        }
    }

    private static func key(_ venue: Venue, _ symbol: String) -> String { venue.rawValue + "|" + symbol }
}

/// One symbol's day at one venue, from routerd's fills: realised P&L (net of fees) and fees, in its quote asset.
public struct DayFigure: Sendable, Equatable {
    public var venue: Venue
    public var symbol: String
    public var realizedPnl: ExactDecimal
    public var fees: ExactDecimal

    public init(venue: Venue, symbol: String, realizedPnl: ExactDecimal, fees: ExactDecimal) {
        self.venue = venue
        self.symbol = symbol
        self.realizedPnl = realizedPnl
        self.fees = fees
    }
}
