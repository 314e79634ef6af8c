import Foundation
import BagbotDomain

/// `GET /api/v3/exchangeInfo` (binance-spot-api-docs, rest-api.md "Exchange information", filters.md): the request
/// limits and each symbol's trading rules, read into BAGBOT's `SymbolRules`. Every number stays an exact decimal
/// as Binance writes it ("0.00001000").
public struct BinanceExchangeInfo: Decodable, Sendable {
    public struct Filter: Decodable, Sendable {
        public var filterType: String
        public var minPrice: String?
        public var maxPrice: String?
        public var tickSize: String?
        public var minQty: String?
        public var maxQty: String?
        public var stepSize: String?
        public var minNotional: String?
    }

    public struct Symbol: Decodable, Sendable {
        public var symbol: String
        public var status: String
        public var baseAsset: String
        public var quoteAsset: String
        public var orderTypes: [String]?
        public var filters: [Filter]
    }

    public var serverTime: Int64?
    public var rateLimits: [BinanceRequestGate.Limit]?
    public var symbols: [Symbol]

    /// Why a symbol cannot be traded through BAGBOT, by symbol (not trading, a filter missing or unreadable).
    public struct Refusal: Sendable, Equatable {
        public var symbol: String
        public var reason: String
    }

    /// The rules of every symbol BAGBOT can trade, the reason for each it cannot, and the status of those whose
    /// trading is paused (`BREAK`, `HALT`, `END_OF_DAY`, `CANCEL_ONLY`: enums.md "Symbol status"). A paused symbol
    /// keeps its rules: its orders' fills are still read and valued, and it is traded again the moment it is
    /// `TRADING` (the venue refuses new orders meanwhile and reads `exchangeInfo` more often).
    public func rules() -> (rules: [SymbolRules], refused: [Refusal], paused: [String: String]) {
        var rules: [SymbolRules] = []
        var refused: [Refusal] = []
        var paused: [String: String] = [:]
        for symbol in symbols {
            switch Self.rules(of: symbol) {
            case .success(let rule):
                rules.append(rule)
                if symbol.status != "TRADING" { paused[symbol.symbol] = symbol.status }
            case .failure(let refusal): refused.append(refusal)
            }
        }
        return (rules, refused, paused)
    }

    /// One symbol: PRICE_FILTER gives the tick size and the price range (0 disables a bound), LOT_SIZE the step and
    /// the quantity range, MARKET_LOT_SIZE narrows the range and the step for the market orders BAGBOT sends (its 0s
    /// are "no rule"), and NOTIONAL (or the older MIN_NOTIONAL) the minimum notional — applied to every order, also where
    /// Binance would let a market order through: refusing a few small orders costs less than one rejection.
    static func rules(of symbol: Symbol) -> Result<SymbolRules, Refusal> {
        func refuse(_ reason: String) -> Result<SymbolRules, Refusal> { .failure(Refusal(symbol: symbol.symbol, reason: reason)) }
        if let types = symbol.orderTypes, !types.contains("MARKET") { return refuse("MARKET orders are not allowed") }
        func filter(_ type: String) -> Filter? { symbol.filters.first { $0.filterType == type } }
        func decimal(_ text: String?, _ field: String) -> Result<ExactDecimal, Refusal> {
            guard let text, let value = ExactDecimal(text), !value.isNegative else {
                return .failure(Refusal(symbol: symbol.symbol, reason: "\(field) is missing or not a decimal: \(text ?? "absent")"))
            }
            return .success(value)
        }
        guard let price = filter("PRICE_FILTER") else { return refuse("no PRICE_FILTER") }
        guard let lot = filter("LOT_SIZE") else { return refuse("no LOT_SIZE") }
        do {
            let tickSize = try decimal(price.tickSize, "PRICE_FILTER.tickSize").get()
            let minPrice = try decimal(price.minPrice, "PRICE_FILTER.minPrice").get()
            let maxPrice = try decimal(price.maxPrice, "PRICE_FILTER.maxPrice").get()
            var stepSize = try decimal(lot.stepSize, "LOT_SIZE.stepSize").get()
            var minQuantity = try decimal(lot.minQty, "LOT_SIZE.minQty").get()
            var maxQuantity = try decimal(lot.maxQty, "LOT_SIZE.maxQty").get()
            if let market = filter("MARKET_LOT_SIZE") {
                let marketMin = try decimal(market.minQty, "MARKET_LOT_SIZE.minQty").get()
                let marketMax = try decimal(market.maxQty, "MARKET_LOT_SIZE.maxQty").get()
                let marketStep = try decimal(market.stepSize, "MARKET_LOT_SIZE.stepSize").get()
                if marketStep.isPositive && !marketStep.isMultiple(of: stepSize) {
                    return refuse("MARKET_LOT_SIZE.stepSize \(marketStep) is not a multiple of LOT_SIZE.stepSize \(stepSize)")
                }
                // Its step too: a coarser step is a multiple of LOT_SIZE's (checked above), so a quantity on it passes
                // both filters, and a market order (every stop and close) is never refused for the step it was sent on.
                if marketStep.isPositive { stepSize = marketStep }
                minQuantity = max(minQuantity, marketMin)
                if marketMax.isPositive { maxQuantity = min(maxQuantity, marketMax) }
            }
            // The least quantity on the step (a coarser market step may not hold LOT_SIZE's minimum).
            if minQuantity.isPositive, !minQuantity.isMultiple(of: stepSize) {
                minQuantity = try minQuantity.rounded(toMultipleOf: stepSize, rounding: .awayFromZero)
            }
            let notional = filter("NOTIONAL") ?? filter("MIN_NOTIONAL")
            let minNotional = try notional.map { try decimal($0.minNotional, "\($0.filterType).minNotional").get() } ?? .zero
            let rules = SymbolRules(
                symbol: symbol.symbol, baseAsset: symbol.baseAsset, quoteAsset: symbol.quoteAsset, tickSize: tickSize,
                stepSize: stepSize, minQuantity: minQuantity.isPositive ? minQuantity : stepSize, maxQuantity: maxQuantity,
                minNotional: minNotional, minPrice: minPrice,
                // A maxPrice of 0 disables the bound.
                maxPrice: maxPrice.isPositive ? maxPrice : ExactDecimal(mantissa: 999_999_999_999, scale: 0),
                shortSelling: false)
            if let inconsistency = rules.inconsistency { return refuse(inconsistency) }
            return .success(rules)
        } catch let refusal as Refusal {
            return .failure(refusal)
        } catch {
            return refuse("\(error)")
        }
    }
}

extension BinanceExchangeInfo.Refusal: Error {}
