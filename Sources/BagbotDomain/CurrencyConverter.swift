/// Values amounts of any asset in one currency (the account's) at the latest prices: directly through a pair
/// quoted in it (BTC through BTCUSD), through the inverse of a pair it quotes (JPY through USDJPY), through a
/// peg declared in the configuration (USDT counted as USD), or through a chain of these (ETH through ETHUSDT,
/// then the USDT peg). An asset it cannot reach has no rate: callers say so instead of counting it as zero.
public struct CurrencyConverter: Sendable {
    /// How one unit of an asset is valued, and from what.
    public struct Rate: Codable, Sendable, Equatable {
        public var asset: String
        public var rate: ExactDecimal
        /// "currency", "peg", a symbol ("BTCUSDT"), or "1/" and a symbol for an inverse, chained with " → ".
        public var via: String

        public init(asset: String, rate: ExactDecimal, via: String) {
            self.asset = asset
            self.rate = rate
            self.via = via
        }
    }

    /// A traded pair and its latest price (the mid).
    public struct Pair: Sendable, Equatable {
        public var symbol: String
        public var baseAsset: String
        public var quoteAsset: String
        public var price: ExactDecimal

        public init(symbol: String, baseAsset: String, quoteAsset: String, price: ExactDecimal) {
            self.symbol = symbol
            self.baseAsset = baseAsset
            self.quoteAsset = quoteAsset
            self.price = price
        }
    }

    /// Decimals of a rate: 15 values a billion yen to a hundred-thousandth of a cent, and leaves room in
    /// the arithmetic for any amount an account holds.
    public static let rateScale = 15
    /// Decimals of a converted amount.
    public static let valueScale = 8

    public let currency: String
    public private(set) var rates: [String: Rate]

    /// `pegs` maps an asset to the one it is counted as, one for one (USDT → USD): a pair at a fixed price of
    /// 1, usable either way, so USDT is valued in euros through USD.
    ///
    /// `fallback` pairs (a venue's prices of assets held there that no routed symbol trades, each asset's best market
    /// first) are used only once `pairs` and `pegs` have given every rate they can, in the order given, and only for
    /// the assets in `fallbackAssets`: they can value
    /// such an asset, never change the rate of another one, nor value one whose own price is missing or stale (BTC
    /// through a venue's BTCUSDC when routerd's BTCUSDT tick is too old).
    public init(currency: String, pegs: [String: String], pairs: [Pair], fallback: [Pair] = [], fallbackAssets: Set<String> = []) {
        self.currency = currency
        var rates: [String: Rate] = [currency: Rate(asset: currency, rate: 1, via: "currency")]
        let pegPairs = pegs.filter { $0.key != $0.value }.map { Pair(symbol: Self.peg, baseAsset: $0.key, quoteAsset: $0.value, price: 1) }
        // Breadth first, pairs in symbol order and pegs last, so the shortest chain wins and the answer does
        // not depend on the order prices arrived in.
        let usable = Self.usable(pairs).sorted { $0.symbol < $1.symbol } + pegPairs.sorted { $0.baseAsset < $1.baseAsset }
        Self.search(usable, from: &rates, valuing: { _ in true })
        // In the order given: a venue lists each asset's best market first.
        Self.search(Self.usable(fallback), from: &rates, valuing: fallbackAssets.contains)
        self.rates = rates
    }

    private static func usable(_ pairs: [Pair]) -> [Pair] {
        pairs.filter { $0.price.isPositive && $0.baseAsset != $0.quoteAsset && $0.symbol != Self.peg }
    }

    /// Extends `rates` through `usable`, a round at a time, to the assets `valuing` allows.
    private static func search(_ usable: [Pair], from rates: inout [String: Rate], valuing: (String) -> Bool) {
        var changed = true
        while changed {
            changed = false
            var found: [String: Rate] = [:]
            for pair in usable {
                if let quote = rates[pair.quoteAsset], rates[pair.baseAsset] == nil, found[pair.baseAsset] == nil, valuing(pair.baseAsset),
                   let rate = try? pair.price.multiplied(by: quote.rate, scale: Self.rateScale, rounding: .halfEven), rate.isPositive {
                    found[pair.baseAsset] = Rate(asset: pair.baseAsset, rate: rate.normalized, via: Self.chain(pair.symbol, quote))
                }
                if let base = rates[pair.baseAsset], rates[pair.quoteAsset] == nil, found[pair.quoteAsset] == nil, valuing(pair.quoteAsset),
                   let rate = try? base.rate.divided(by: pair.price, scale: Self.rateScale, rounding: .halfEven), rate.isPositive {
                    let step = pair.symbol == Self.peg ? Self.peg : "1/" + pair.symbol
                    found[pair.quoteAsset] = Rate(asset: pair.quoteAsset, rate: rate.normalized, via: Self.chain(step, base))
                }
            }
            for (asset, rate) in found where rates[asset] == nil {
                rates[asset] = rate
                changed = true
            }
        }
    }

    private static let peg = "peg"

    private static func chain(_ step: String, _ next: Rate) -> String {
        next.via == "currency" ? step : step + " → " + next.via
    }

    public func rate(_ asset: String) -> Rate? { rates[asset] }

    /// `amount` of `asset` in the currency (8 decimals, half-even); nil when the asset has no rate.
    public func value(_ amount: ExactDecimal, of asset: String) throws -> ExactDecimal? {
        guard let rate = rates[asset] else { return nil }
        if rate.rate == 1 { return amount }
        return try amount.multiplied(by: rate.rate, scale: Self.valueScale, rounding: .halfEven).normalized
    }
}
