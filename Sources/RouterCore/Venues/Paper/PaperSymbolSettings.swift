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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case baseAsset = "base_asset", quoteAsset = "quote_asset", tickSize = "tick_size", stepSize = "step_size"
        case minQuantity = "min_quantity", maxQuantity = "max_quantity", minNotional = "min_notional", margin
    }

    public init(baseAsset: String, quoteAsset: String, tickSize: ExactDecimal, stepSize: ExactDecimal, minQuantity: ExactDecimal,
                maxQuantity: ExactDecimal, minNotional: ExactDecimal = 0, margin: Bool? = nil) {
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.minNotional = minNotional
        self.margin = margin
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

    /// The symbol's rules; it may be sold short when it trades on margin.
    public func rules(for symbol: String, margin: Bool = false) -> SymbolRules {
        SymbolRules(symbol: symbol, baseAsset: baseAsset, quoteAsset: quoteAsset, tickSize: tickSize, stepSize: stepSize,
                    minQuantity: minQuantity, maxQuantity: maxQuantity, minNotional: minNotional, shortSelling: margin)
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
