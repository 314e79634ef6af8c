import BagbotDomain

/// One symbol the paper venue trades (`router.paper.symbols.<SYMBOL>`), with the rules a live venue would
/// enforce for it. Keys are written as in the file (snake_case): inside an open map nothing is renamed, so
/// the keys are spelled out here, and an unknown one is refused like anywhere else in the file.
public struct PaperSymbolSettings: Codable, Sendable, Equatable {
    public var baseAsset: String
    public var quoteAsset: String
    public var tickSize: ExactDecimal
    public var stepSize: ExactDecimal
    public var minQuantity: ExactDecimal
    public var maxQuantity: ExactDecimal
    public var minNotional: ExactDecimal = 0
    /// Traded on margin (forex, stocks at a margin broker): either asset may go below zero, within the
    /// account's equity. Otherwise spot (crypto): an order spends only what the account holds. When not
    /// given, by the symbol's asset class: forex and stocks on margin, crypto spot.
    public var margin: Bool?
    /// The fee per side in basis points for this symbol; when not given, `router.paper.fee_bps`, else by the
    /// symbol's asset class (`defaultFeeBps`).
    public var feeBps: ExactDecimal?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case baseAsset = "base_asset", quoteAsset = "quote_asset", tickSize = "tick_size", stepSize = "step_size"
        case minQuantity = "min_quantity", maxQuantity = "max_quantity", minNotional = "min_notional", margin
        case feeBps = "fee_bps"
    }

    public init(baseAsset: String, quoteAsset: String, tickSize: ExactDecimal, stepSize: ExactDecimal, minQuantity: ExactDecimal,
                maxQuantity: ExactDecimal, minNotional: ExactDecimal = 0, margin: Bool? = nil, feeBps: ExactDecimal? = nil) {
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.minNotional = minNotional
        self.margin = margin
        self.feeBps = feeBps
    }

    public init(from decoder: Decoder) throws {
        let known = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = known.allKeys.first(where: { CodingKeys(rawValue: $0.stringValue) == nil }) {
            throw DecodingError.dataCorruptedError(
                forKey: unknown, in: known,
                debugDescription: "unknown key (known here: \(CodingKeys.allCases.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        baseAsset = try container.decode(String.self, forKey: .baseAsset)
        quoteAsset = try container.decode(String.self, forKey: .quoteAsset)
        tickSize = try container.decode(ExactDecimal.self, forKey: .tickSize)
        stepSize = try container.decode(ExactDecimal.self, forKey: .stepSize)
        minQuantity = try container.decode(ExactDecimal.self, forKey: .minQuantity)
        maxQuantity = try container.decode(ExactDecimal.self, forKey: .maxQuantity)
        minNotional = try container.decodeIfPresent(ExactDecimal.self, forKey: .minNotional) ?? 0
        margin = try container.decodeIfPresent(Bool.self, forKey: .margin)
        feeBps = try container.decodeIfPresent(ExactDecimal.self, forKey: .feeBps)
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Whether the symbol trades on margin: as set, else by its asset class.
    public func isMargin(_ assetClass: AssetClass?) -> Bool {
        margin ?? (assetClass == .forex || assetClass == .stocks)
    }

    /// The symbol's rules; it may be sold short when it trades on margin. `feeBps`: its fee per side.
    public func rules(for symbol: String, margin: Bool = false, feeBps: ExactDecimal? = nil) -> SymbolRules {
        SymbolRules(symbol: symbol, baseAsset: baseAsset, quoteAsset: quoteAsset, tickSize: tickSize, stepSize: stepSize,
                    minQuantity: minQuantity, maxQuantity: maxQuantity, minNotional: minNotional, shortSelling: margin,
                    feeRate: feeBps.flatMap(Self.feeRate(bps:)))
    }

    /// A fee in basis points as a fraction of the notional, rounded up where it has more decimals than a rate can
    /// carry (never dropped: the symbol would fall back to another fee).
    public static func feeRate(bps: ExactDecimal) -> ExactDecimal? {
        try? bps.divided(by: 10_000, scale: min(bps.scale + 4, ExactDecimal.maximumScale), rounding: .up).normalized
    }

    /// The fee per side, in basis points, that the paper venue charges when neither the symbol nor
    /// `router.paper.fee_bps` says: what the live venue of the asset class charges an ordinary account, so that a
    /// strategy tried on paper or in a backtest pays what it will pay live. Crypto: Binance's spot rate, 0.1 % per
    /// side (a taker with no BNB discount and no VIP tier). Forex: an ECN broker's commission, $3.50 per 100,000 per
    /// side (the spread is in the quotes). Stocks: Alpaca charges no commission; the SEC's and FINRA's fees on sales
    /// (about 0.28 bp of a sale) are counted on both sides. Unknown: the crypto rate, the highest.
    public static func defaultFeeBps(_ assetClass: AssetClass?) -> ExactDecimal {
        switch assetClass {
        case .crypto, nil: return 10
        case .forex: return ExactDecimal("0.35")!
        case .stocks: return ExactDecimal("0.3")!
        }
    }

    /// Rules close to the real venues' for the symbols of the recorded data and common ones beside them:
    /// Binance spot for crypto, a forex broker's 0.00001 (0.001 for JPY) for currency pairs, cents for stocks.
    /// Crypto is spot, as on Binance; currency pairs and the stock trade on margin, as at MetaTrader 5 and
    /// Alpaca, so they can be sold short (their asset classes say so; `margin` is left unset).
    public static let defaults: [String: PaperSymbolSettings] = [
        "BTCUSDT": .init(baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001, minQuantity: 0.00001,
                         maxQuantity: 9_000, minNotional: 5),
        "ETHUSDT": .init(baseAsset: "ETH", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.0001, minQuantity: 0.0001,
                         maxQuantity: 9_000, minNotional: 5),
        "EURUSD": .init(baseAsset: "EUR", quoteAsset: "USD", tickSize: 0.00001, stepSize: 1, minQuantity: 1, maxQuantity: 100_000_000),
        "GBPUSD": .init(baseAsset: "GBP", quoteAsset: "USD", tickSize: 0.00001, stepSize: 1, minQuantity: 1, maxQuantity: 100_000_000),
        "USDJPY": .init(baseAsset: "USD", quoteAsset: "JPY", tickSize: 0.001, stepSize: 1, minQuantity: 1, maxQuantity: 100_000_000),
        "AAPL": .init(baseAsset: "AAPL", quoteAsset: "USD", tickSize: 0.01, stepSize: 1, minQuantity: 1, maxQuantity: 1_000_000),
    ]
}
