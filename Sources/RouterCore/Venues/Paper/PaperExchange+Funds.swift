import BagbotDomain

/// What an order may spend on paper, as a venue would decide it.
///
/// - Spot symbols (crypto, as on Binance): a buy spends the quote asset (notional and fee), a sell the base
///   asset, and only what is free: the balance less what resting orders hold. A resting order holds what it
///   would spend, so two orders can never promise the same coins.
/// - Margin symbols (currency pairs, the stock): either asset may go below zero, but no leverage: after the
///   order, the gross value of every position and of every open margin order stays within equity, all valued
///   in the account's currency. An order that only shrinks its position always passes.
///
/// Holds are derived from the resting orders, which are on disk, so they survive a restart with them.
extension PaperExchange {
    /// What a resting order holds, in the asset it would spend: a spot buy its remaining quantity at its
    /// limit plus the fee on that; a spot sell its remaining quantity. Margin orders hold no asset.
    func hold(of order: OrderRecord) throws -> (asset: String, amount: ExactDecimal)? {
        guard let market = settings.markets[order.symbol], !market.margin else { return nil }
        let remaining = try order.quantity - order.filledQuantity
        guard remaining.isPositive else { return nil }
        switch order.side {
        case .buy:
            guard let limit = order.limitPrice else { return nil }
            let notional = try remaining.times(limit)
            return (market.quoteAsset, try notional + fee(on: notional))
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

    /// Why the account cannot pay for `quantity` of `order` at `price`; nil when it can.
    func fundsRefusal(_ order: OrderRecord, quantity: ExactDecimal, price: ExactDecimal) -> String? {
        guard quantity.isPositive, price.isPositive else { return "quantity and price must be positive" }
        guard let market = settings.markets[order.symbol] else { return "no paper market for \(order.symbol)" }
        do {
            return market.margin ? try marginRefusal(order, quantity: quantity, price: price)
                : try spotRefusal(order, market: market, quantity: quantity, price: price)
        } catch {
            return "insufficient_balance: the order's amounts are out of range"
        }
    }

    private func spotRefusal(_ order: OrderRecord, market: Market, quantity: ExactDecimal, price: ExactDecimal) throws -> String? {
        let notional = try quantity.times(price)
        let (asset, needed) = order.side == .buy ? (market.quoteAsset, try notional + fee(on: notional)) : (market.baseAsset, quantity)
        let held = try holds(excluding: order.clientOrderId)[asset] ?? .zero
        let free = try (snapshot.balances[asset] ?? .zero) - held
        guard needed <= free else {
            return "insufficient_balance: a \(order.side.rawValue) of \(quantity.normalized) \(order.symbol) needs \(needed.normalized) \(asset); "
                + "\(max(free, .zero).normalized) is free (\(held.normalized) held by open orders)"
        }
        return nil
    }

    private func marginRefusal(_ order: OrderRecord, quantity: ExactDecimal, price: ExactDecimal) throws -> String? {
        let current = snapshot.positions[order.symbol]?.book.quantity ?? .zero
        let after = try current + order.side.signed(quantity)
        guard after.magnitude > current.magnitude else { return nil }
        let converter = self.converter()
        let currency = settings.accountCurrency
        let equity = try valuation(converter)
        guard equity.unvalued.isEmpty else {
            return "insufficient_margin: \(equity.unvalued.joined(separator: ", ")) cannot be valued in \(currency) yet (no price)"
        }
        var amounts: [(ExactDecimal, String)] = [(try after.magnitude.times(price), order.symbol)]
        for (symbol, position) in snapshot.positions where symbol != order.symbol && !position.book.isFlat {
            amounts.append((try position.book.quantity.magnitude.times(markPrice(symbol, position)), symbol))
        }
        for other in resting where other.clientOrderId != order.clientOrderId && !other.reduceOnly && settings.markets[other.symbol]?.margin == true {
            guard let limit = other.limitPrice else { continue }
            amounts.append((try (other.quantity - other.filledQuantity).times(limit), other.symbol))
        }
        var exposure = ExactDecimal.zero
        for (amount, symbol) in amounts {
            guard let quote = settings.markets[symbol]?.quoteAsset, let value = try converter.value(amount, of: quote) else {
                return "insufficient_margin: \(symbol) cannot be valued in \(currency) yet (no price)"
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
            guard let price = lastTicks[symbol]?.mid ?? snapshot.positions[symbol]?.lastPrice else { return nil }
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
        for (asset, amount) in snapshot.balances.sorted(by: { $0.key < $1.key }) where !amount.isZero {
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
        return try Set(snapshot.balances.keys).union(held.keys).sorted().map { asset in
            let locked = held[asset] ?? .zero
            return AssetBalance(asset: asset, free: try (snapshot.balances[asset] ?? .zero) - locked, locked: locked)
        }
    }
}
