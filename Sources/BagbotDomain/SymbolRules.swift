/// What a venue accepts for one symbol: Binance's PRICE_FILTER (tick size, price range), LOT_SIZE (step size,
/// quantity range) and NOTIONAL (minimum price × quantity), which the other venues' rules map onto. routerd
/// checks every order against them before anything is stored; arsenald rounds its orders onto them first.
public struct SymbolRules: Codable, Sendable, Equatable {
    public var symbol: String
    /// The asset bought and sold (BTC in BTCUSDT) and the one prices and fees are in (USDT).
    public var baseAsset: String
    public var quoteAsset: String
    public var tickSize: ExactDecimal
    public var stepSize: ExactDecimal
    public var minQuantity: ExactDecimal
    public var maxQuantity: ExactDecimal
    /// Zero: no minimum.
    public var minNotional: ExactDecimal
    public var minPrice: ExactDecimal
    public var maxPrice: ExactDecimal
    /// Whether the venue lets the base asset be sold short (margin); spot venues do not.
    public var shortSelling: Bool
    /// What the venue charges per side on an order that takes the book (a market order), as a fraction of the
    /// notional (0.001 is 10 bp): the paper venue's fee for the symbol, or the live account's taker rate as the
    /// venue reports it. Strategies count it in their entry thresholds. nil: the venue did not say.
    public var feeRate: ExactDecimal?

    public init(symbol: String, baseAsset: String, quoteAsset: String, tickSize: ExactDecimal, stepSize: ExactDecimal,
                minQuantity: ExactDecimal, maxQuantity: ExactDecimal, minNotional: ExactDecimal = 0,
                minPrice: ExactDecimal = 0, maxPrice: ExactDecimal = 1_000_000_000, shortSelling: Bool = true, feeRate: ExactDecimal? = nil) {
        self.symbol = symbol
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.minNotional = minNotional
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.shortSelling = shortSelling
        self.feeRate = feeRate
    }

    /// `shortSelling` may be absent (a routerd from before it was sent): then it is false, the safe reading.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try container.decode(String.self, forKey: .symbol)
        baseAsset = try container.decode(String.self, forKey: .baseAsset)
        quoteAsset = try container.decode(String.self, forKey: .quoteAsset)
        tickSize = try container.decode(ExactDecimal.self, forKey: .tickSize)
        stepSize = try container.decode(ExactDecimal.self, forKey: .stepSize)
        minQuantity = try container.decode(ExactDecimal.self, forKey: .minQuantity)
        maxQuantity = try container.decode(ExactDecimal.self, forKey: .maxQuantity)
        minNotional = try container.decode(ExactDecimal.self, forKey: .minNotional)
        minPrice = try container.decode(ExactDecimal.self, forKey: .minPrice)
        maxPrice = try container.decode(ExactDecimal.self, forKey: .maxPrice)
        shortSelling = try container.decodeIfPresent(Bool.self, forKey: .shortSelling) ?? false
        feeRate = try container.decodeIfPresent(ExactDecimal.self, forKey: .feeRate)
    }

    /// The rule an order broke, by the name routerd's error gives (`step_size`, `min_notional`…).
    public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        public var rule: String
        public var description: String
    }

    /// These rules with the venue's fee per side (kept as they are when `feeRate` is nil).
    public func withFeeRate(_ feeRate: ExactDecimal?) -> SymbolRules {
        guard let feeRate else { return self }
        var rules = self
        rules.feeRate = feeRate
        return rules
    }

    /// The first rule `quantity` (and `price`: the limit price, or for a market order the price it would trade
    /// at, for the notional) breaks; nil when the order fits every rule.
    public func violation(quantity: ExactDecimal, limitPrice: ExactDecimal?, referencePrice: ExactDecimal?) -> Violation? {
        if quantity < minQuantity {
            return Violation(rule: "min_quantity", description: "quantity \(quantity) is below \(symbol)'s minimum \(minQuantity)")
        }
        if quantity > maxQuantity {
            return Violation(rule: "max_quantity", description: "quantity \(quantity) is above \(symbol)'s maximum \(maxQuantity)")
        }
        if !quantity.isMultiple(of: stepSize) {
            return Violation(rule: "step_size", description: "quantity \(quantity) is not a multiple of \(symbol)'s step size \(stepSize)")
        }
        if let limitPrice {
            if limitPrice < minPrice || limitPrice > maxPrice || !limitPrice.isPositive {
                return Violation(rule: "price_range", description: "limit price \(limitPrice) is outside \(symbol)'s range \(minPrice)…\(maxPrice)")
            }
            if !limitPrice.isMultiple(of: tickSize) {
                return Violation(rule: "tick_size", description: "limit price \(limitPrice) is not a multiple of \(symbol)'s tick size \(tickSize)")
            }
        }
        if minNotional.isPositive, let price = limitPrice ?? referencePrice {
            let notional = (try? quantity.times(price)) ?? .zero
            if notional < minNotional {
                return Violation(rule: "min_notional", description: "notional \(notional) (quantity × price) is below \(symbol)'s minimum \(minNotional)")
            }
        }
        return nil
    }

    /// `quantity` rounded down onto the step size (never more than asked for); nil when that is below the
    /// minimum quantity.
    public func tradableQuantity(_ quantity: ExactDecimal) -> ExactDecimal? {
        guard let rounded = try? min(quantity, maxQuantity).rounded(toMultipleOf: stepSize, rounding: .towardZero),
              rounded >= minQuantity, rounded.isPositive else { return nil }
        return rounded
    }

    /// `price` onto the tick size: a buy's limit down, a sell's up (never a worse price than asked for).
    public func tradablePrice(_ price: ExactDecimal, side: Side) -> ExactDecimal? {
        try? price.rounded(toMultipleOf: tickSize, rounding: side == .buy ? .down : .up)
    }

    /// What makes a set of rules impossible to trade with (a zero step size, a minimum above the maximum);
    /// nil when they are sound.
    public var inconsistency: String? {
        if !tickSize.isPositive { return "tick_size must be positive" }
        if !stepSize.isPositive { return "step_size must be positive" }
        if !minQuantity.isPositive { return "min_quantity must be positive" }
        if maxQuantity < minQuantity { return "max_quantity must be at least min_quantity" }
        if !minQuantity.isMultiple(of: stepSize) { return "min_quantity must be a multiple of step_size" }
        if minNotional.isNegative { return "min_notional must be zero or more" }
        if minPrice.isNegative || maxPrice <= minPrice { return "the price range must be min_price < max_price" }
        if baseAsset.isEmpty || quoteAsset.isEmpty { return "base_asset and quote_asset must be named" }
        if let feeRate, feeRate.isNegative || feeRate > ExactDecimal("0.1")! { return "the fee rate must be 0…0.1 (10 %)" }
        return nil
    }
}

/// Every symbol's rules, as `router.symbolRules` answers.
public struct SymbolRulesResponse: Codable, Sendable {
    public var symbols: [SymbolRules]
    public init(symbols: [SymbolRules]) { self.symbols = symbols }
}
