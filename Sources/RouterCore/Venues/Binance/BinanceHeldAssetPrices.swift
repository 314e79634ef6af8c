import BagbotDomain

/// Prices for the assets an account holds that no configured symbol trades: BNB kept to pay commissions, a coin
/// bought by hand, dust. routerd values the account from its routed symbols' prices; an asset none of them reaches
/// has no rate, the account is "unvalued", and mindsetd takes no equity from it at all (its loss limits then count
/// closed trades alone). So the venue finds a market for each such asset on Binance — a trading symbol between it and
/// an asset the routed symbols do value (their quote assets first: BNBUSDT, then their base assets: an altcoin's BTC
/// pair) — and reads those symbols' last prices, for `RouterService` to value the asset with.
///
/// Plain bookkeeping; `BinanceVenue` does the reads (`refreshHeldAssetPrices`).
struct BinanceHeldAssetPrices {
    struct Market: Sendable, Equatable {
        var symbol: String
        var baseAsset: String
        var quoteAsset: String
    }

    /// Every trading symbol Binance lists, by its two assets, as last read (one `exchangeInfo`, weight 20), and when.
    private var listed: [Pair: Market] = [:]
    private var listedAt: ContinuousClock.Instant?
    /// Binance no longer knows a symbol of the list (-1121): read again at the next refresh, at most once a `listRetry`.
    private var listStale = false
    /// When the list last failed to be read: not tried again for `listRetry` (a list that cannot be read or decoded
    /// would otherwise cost 20 weight and megabytes at every refresh).
    private var listFailedAt: ContinuousClock.Instant?
    static let listRetry = Duration.seconds(300)
    /// How long a list of Binance's symbols is used before it is read again (a listing or a delisting since): they
    /// are rare, and a read of the whole list is heavy.
    static let listAge = Duration.seconds(3_600)
    /// The candidate markets the last status read found trading (nil: none read yet). Read at every refresh for every
    /// candidate at once, so a market that halts values nothing from the next refresh on (its last price is frozen),
    /// and one that trades again is used again from the refresh after.
    private var trading: Set<String>?
    /// Each symbol's last price, and when it was read.
    private var prices: [String: (price: ExactDecimal, at: ContinuousClock.Instant)] = [:]

    private struct Pair: Hashable {
        var base: String
        var quote: String
    }

    /// The assets held (in any amount) that no routed symbol has as its base or quote asset, sorted.
    static func unrouted(held: Set<String>, rules: [SymbolRules]) -> [String] {
        let routed = Set(rules.flatMap { [$0.baseAsset, $0.quoteAsset] })
        return held.subtracting(routed).sorted()
    }

    var hasList: Bool { listedAt != nil }

    /// Takes Binance's list of trading symbols.
    mutating func list(_ markets: [Market], at now: ContinuousClock.Instant = .now) {
        listed = Dictionary(markets.map { (Pair(base: $0.baseAsset, quote: $0.quoteAsset), $0) }, uniquingKeysWith: { first, _ in first })
        (listedAt, listFailedAt, listStale) = (now, nil, false)
    }

    /// The list could not be read or decoded.
    mutating func listFailed(at now: ContinuousClock.Instant = .now) {
        listFailedAt = now
    }

    /// Binance no longer knows a symbol of the list (-1121): the list is read again at the next refresh, unless it
    /// was read within `listRetry` (a symbol Binance lists yet refuses would have it read at every refresh).
    mutating func forgetList(at now: ContinuousClock.Instant = .now) {
        if let listedAt, now - listedAt < Self.listRetry { return }
        listStale = true
    }

    /// Whether Binance's symbols should be read (again) before pricing held assets: never read, `listAge` ago, or
    /// stale; not within `listRetry` of a failed read.
    func needsList(now: ContinuousClock.Instant = .now) -> Bool {
        if let listFailedAt, now - listFailedAt < Self.listRetry { return false }
        guard let listedAt else { return true }
        return listStale || now - listedAt >= Self.listAge
    }

    /// Takes a status read of the candidate markets: those of them that trade now.
    mutating func statuses(trading: Set<String>) {
        self.trading = trading
    }

    /// The markets `asset` could be priced through, best first: against the routed symbols' quote assets that no routed
    /// symbol has as its base (USDT: BNBUSDT, or USDTTRY for lira, either way round), the one most routed symbols are
    /// quoted in first; then the other quote assets (BTC when ETHBTC is routed), likewise; then the routed base assets
    /// (an altcoin's BTC pair). Ties alphabetically, so the order does not depend on the order anything arrived in.
    func candidates(of asset: String, rules: [SymbolRules]) -> [Market] {
        let bases = Set(rules.map(\.baseAsset))
        let quoted = Dictionary(rules.map { ($0.quoteAsset, 1) }, uniquingKeysWith: +)
        func ranked(_ assets: Set<String>) -> [String] {
            assets.sorted { (quoted[$0, default: 0], $1) > (quoted[$1, default: 0], $0) }
        }
        let quotes = Set(quoted.keys)
        let order = ranked(quotes.subtracting(bases)) + ranked(quotes.intersection(bases)) + bases.subtracting(quotes).sorted()
        return order.filter { $0 != asset }.flatMap { other in
            [listed[Pair(base: asset, quote: other)], listed[Pair(base: other, quote: asset)]].compactMap { $0 }
        }
    }

    /// The candidates of `asset` that trade, as the last status read found (all of them before the first).
    func tradingCandidates(of asset: String, rules: [SymbolRules]) -> [Market] {
        candidates(of: asset, rules: rules).filter { trading?.contains($0.symbol) ?? true }
    }

    /// Forgets the prices of every symbol but `symbols` (the markets of the assets held now): an asset sold and bought
    /// again later is not valued, nor its commission, at a price read before it was sold.
    mutating func keepPrices(of symbols: Set<String>) {
        prices = prices.filter { symbols.contains($0.key) }
    }

    /// A symbol's last price read, however old, and when.
    func lastPrice(of symbol: String) -> (price: ExactDecimal, at: ContinuousClock.Instant)? {
        prices[symbol]
    }

    /// Takes a symbol's last price as read now.
    mutating func priced(_ symbol: String, _ price: ExactDecimal, at now: ContinuousClock.Instant = .now) {
        prices[symbol] = (price, now)
    }

    /// The trading markets of `assets`, each asset's best first, with their prices read less than `maxAge` ago: an
    /// older price values nothing (the asset stays unvalued, as a routed symbol's stale price leaves its asset). The
    /// valuation takes, for each asset, the first whose other asset it can value (`CurrencyConverter`'s fallback).
    func pairs(of assets: [String], rules: [SymbolRules], maxAge: Duration, now: ContinuousClock.Instant = .now) -> [CurrencyConverter.Pair] {
        assets.flatMap { tradingCandidates(of: $0, rules: rules) }.compactMap { market in
            guard let read = prices[market.symbol], now - read.at < maxAge else { return nil }
            return CurrencyConverter.Pair(symbol: market.symbol, baseAsset: market.baseAsset, quoteAsset: market.quoteAsset, price: read.price)
        }
    }

    /// Makes every price read so far `by` older (tests).
    mutating func age(by duration: Duration) {
        for symbol in prices.keys { prices[symbol]?.at -= duration }
    }
}
