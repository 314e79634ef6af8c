import BagbotDomain

/// What an order may spend on paper, as a venue would decide it.
///
/// - Spot symbols (crypto, as on Binance): a buy spends the quote asset (notional and fee), a sell the base
///   asset, and only what is free: the balance less what resting orders hold. A resting order holds what it
///   would spend, so two orders can never promise the same coins. Reduce-only orders hold nothing: a
///   take-profit waiting above the market must not lock the coins the stop-loss has to sell (if the position
///   is gone when the market reaches it, it expires).
/// - Margin symbols (currency pairs, the stock): either asset may go below zero, but never below what resting
///   spot orders hold of it.
/// - No leverage on paper: an order that adds exposure (a margin order that grows its position, a spot buy)
///   is refused when the gross value of every position, of the coins held and of every open order that would
///   add exposure would then exceed equity, all valued in the account's currency. An order that only shrinks
///   exposure always passes.
///
/// Holds are derived from the resting orders, which are on disk, so they survive a restart with them.
extension PaperExchange {
    /// What a resting order holds, in the asset it would spend: a spot buy its remaining quantity at its
    /// limit plus the fee still to come on it; a spot sell its remaining quantity. Margin and reduce-only
    /// orders hold nothing.
    func hold(of order: OrderRecord) throws -> (asset: String, amount: ExactDecimal)? {
        guard !order.reduceOnly, let market = settings.markets[order.symbol], !market.margin else { return nil }
        let remaining = try order.quantity - order.filledQuantity
        guard remaining.isPositive else { return nil }
        switch order.side {
        case .buy:
            guard let limit = order.limitPrice else { return nil }
            return (market.quoteAsset, try remaining.times(limit) + fee(remaining, at: limit, after: order.filledQuantity, symbol: order.symbol))
        case .sell:
            return (market.baseAsset, remaining)
        }
    }

    /// What resting orders hold, per asset, leaving out one order (the one being filled: its own hold pays
    /// for it).
    func holds(excluding clientOrderId: String? = nil) throws -> [String: ExactDecimal] {
        var held: [String: ExactDecimal] = [:]
        for order in resting where order.clientOrderId != clientOrderId {
            guard let (asset, amount) = try hold(of: order) else { continue }
            held[asset] = try (held[asset] ?? .zero) + amount
        }
        return held
    }

    /// Why the account cannot pay for `quantity` of `order` at `price` with this `fee` (nil: out of range);
    /// nil when it can.
    func fundsRefusal(_ order: OrderRecord, quantity: ExactDecimal, price: ExactDecimal, fee: ExactDecimal?) -> String? {
        guard quantity.isPositive, price.isPositive else { return "quantity and price must be positive" }
        guard let fee else { return "insufficient_balance: the order's amounts are out of range" }
        guard let market = settings.markets[order.symbol] else { return "no paper market for \(order.symbol)" }
        do {
            if let refusal = market.margin ? try marginHoldRefusal(order, market: market, quantity: quantity, price: price, fee: fee)
                : try spotRefusal(order, market: market, quantity: quantity, price: price, fee: fee) {
                return refusal
            }
            return try exposureRefusal(order, market: market, quantity: quantity, price: price)
        } catch {
            return "insufficient_balance: the order's amounts are out of range"
        }
    }

    private func spotRefusal(_ order: OrderRecord, market: Market, quantity: ExactDecimal, price: ExactDecimal, fee: ExactDecimal) throws -> String? {
        let (asset, needed) = order.side == .buy ? (market.quoteAsset, try quantity.times(price) + fee) : (market.baseAsset, quantity)
        let held = try holds(excluding: order.clientOrderId)[asset] ?? .zero
        let free = try (account.balances[asset] ?? .zero) - held
        guard needed <= free else {
            return "insufficient_balance: a \(order.side.rawValue) of \(quantity.normalized) \(order.symbol) needs \(needed.normalized) \(asset); "
                + "\(max(free, .zero).normalized) is free (\(held.normalized) held by open orders)"
        }
        return nil
    }

    /// A margin order may take either asset below zero, but not below what resting spot orders hold of it
    /// (a symbol on margin and one spot may share an asset: USD, say).
    private func marginHoldRefusal(_ order: OrderRecord, market: Market, quantity: ExactDecimal, price: ExactDecimal, fee: ExactDecimal) throws -> String? {
        let held = try holds(excluding: order.clientOrderId)
        let notional = try quantity.times(price)
        let spent = order.side == .buy ? try notional + fee : try fee - notional
        let after = [(market.baseAsset, try (account.balances[market.baseAsset] ?? .zero) + order.side.signed(quantity)),
                     (market.quoteAsset, try (account.balances[market.quoteAsset] ?? .zero) - spent)]
        for (asset, balance) in after {
            guard let hold = held[asset], hold.isPositive, balance < hold else { continue }
            return "insufficient_balance: a \(order.side.rawValue) of \(quantity.normalized) \(order.symbol) would spend the "
                + "\(hold.normalized) \(asset) held by open orders"
        }
        return nil
    }

    /// Exposure in the account's currency after the order, against equity; nil when the order does not add
    /// exposure or it fits.
    private func exposureRefusal(_ order: OrderRecord, market: Market, quantity: ExactDecimal, price: ExactDecimal) throws -> String? {
        let current = account.positions[order.symbol]?.book.quantity ?? .zero
        let adds = market.margin ? try (current + order.side.signed(quantity)).magnitude > current.magnitude : order.side == .buy
        guard adds else { return nil }
        let converter = self.converter()
        let currency = settings.accountCurrency
        let equity = try valuation(converter)
        guard equity.unvalued.isEmpty else {
            return "insufficient_margin: \(equity.unvalued.joined(separator: ", ")) cannot be valued in \(currency) yet (no price)"
        }
        // Amounts in a quote asset (positions, orders) and in an asset itself (coins held), to be valued.
        var amounts: [(amount: ExactDecimal, asset: String, what: String)] = []
        let spotAssets = Set(settings.markets.values.filter { !$0.margin }.map(\.baseAsset))
        for asset in spotAssets.sorted() {
            guard let balance = account.balances[asset], !balance.isZero else { continue }
            amounts.append((balance.magnitude, asset, asset))
        }
        for (symbol, position) in account.positions where settings.markets[symbol]?.margin == true && !position.book.isFlat {
            let quantity = symbol == order.symbol ? try current + order.side.signed(quantity) : position.book.quantity
            amounts.append((try quantity.magnitude.times(symbol == order.symbol ? price : markPrice(symbol, position)), settings.markets[symbol]?.quoteAsset ?? "", symbol))
        }
        if market.margin, account.positions[order.symbol].map({ $0.book.isFlat }) ?? true {
            amounts.append((try quantity.times(price), market.quoteAsset, order.symbol))
        }
        if !market.margin {
            // The coins this buy adds, at its price.
            amounts.append((try quantity.times(price), market.quoteAsset, order.symbol))
        }
        for other in resting where other.clientOrderId != order.clientOrderId && !other.reduceOnly {
            guard let limit = other.limitPrice, let otherMarket = settings.markets[other.symbol],
                  otherMarket.margin || other.side == .buy else { continue }
            amounts.append((try (other.quantity - other.filledQuantity).times(limit), otherMarket.quoteAsset, other.symbol))
        }
        var exposure = ExactDecimal.zero
        for (amount, asset, what) in amounts {
            guard let value = try converter.value(amount, of: asset) else {
                return "insufficient_margin: \(what) cannot be valued in \(currency) yet (no price)"
            }
            exposure = try exposure + value
        }
        guard exposure <= equity.value else {
            return "insufficient_margin: exposure \(try exposure.rounded(toScale: 2, rounding: .up)) \(currency) would exceed "
                + "equity \(try equity.value.rounded(toScale: 2, rounding: .down)) \(currency) (no leverage on paper)"
        }
        return nil
    }

    /// Rates to the account's currency from the last prices (after a restart, the marks on record until
    /// the feed has ticked).
    public func converter() -> CurrencyConverter {
        let pairs = settings.markets.compactMap { symbol, market -> CurrencyConverter.Pair? in
            guard let price = lastTick(for: symbol)?.mid ?? account.positions[symbol]?.lastPrice else { return nil }
            return CurrencyConverter.Pair(symbol: symbol, baseAsset: market.baseAsset, quoteAsset: market.quoteAsset, price: price)
        }
        return CurrencyConverter(currency: settings.accountCurrency, pegs: settings.pegs, pairs: pairs)
    }

    /// Every balance valued in the account's currency, and the assets held that could not be.
    public struct Valuation: Sendable, Equatable {
        public var value: ExactDecimal
        public var unvalued: [String]
    }

    public func valuation(_ converter: CurrencyConverter? = nil) throws -> Valuation {
        let converter = converter ?? self.converter()
        var total = ExactDecimal.zero
        var unvalued: [String] = []
        for (asset, amount) in account.balances.sorted(by: { $0.key < $1.key }) where !amount.isZero {
            guard let value = try converter.value(amount, of: asset) else {
                unvalued.append(asset)
                continue
            }
            total = try total + value
        }
        return Valuation(value: total, unvalued: unvalued)
    }

    /// Each asset's balance, free and held by open orders.
    public func balances() throws -> [AssetBalance] {
        let held = try holds()
        return try Set(account.balances.keys).union(held.keys).sorted().map { asset in
            let locked = held[asset] ?? .zero
            return AssetBalance(asset: asset, free: try (account.balances[asset] ?? .zero) - locked, locked: locked)
        }
    }
}
