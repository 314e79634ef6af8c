import BagbotIPC
import Foundation
import BagbotDomain

/// Binance's order and trade answers (binance-spot-api-docs, rest-api.md "New order", "Query order", "Cancel
/// order", "Account trade list") in BAGBOT's terms. Every amount is read from Binance's decimal strings as an exact
/// decimal; an answer missing a field BAGBOT relies on, or with a status Binance has not documented, is not
/// guessed at: it throws, and the order is looked up again.
public enum BinanceReports {
    /// An order as `POST`, `GET` and `DELETE /api/v3/order` and `GET /api/v3/openOrders` answer it (the fields all
    /// of them carry). `fills` only comes with `newOrderRespType=FULL`.
    struct Order: Decodable {
        var symbol: String
        var orderId: Int64
        var clientOrderId: String
        /// A cancel's answer names the cancel itself `clientOrderId` and the order `origClientOrderId`.
        var origClientOrderId: String?
        var status: String
        var executedQty: ExactDecimal
        var cummulativeQuoteQty: String?
        var side: String
        var transactTime: Int64?
        var updateTime: Int64?
        var time: Int64?
        var fills: [FullFill]?
    }

    /// One entry of a FULL answer's `fills`.
    struct FullFill: Decodable {
        var price: ExactDecimal
        var qty: ExactDecimal
        var commission: ExactDecimal
        var commissionAsset: String
        var tradeId: Int64
    }

    /// One entry of `GET /api/v3/myTrades`.
    struct Trade: Decodable {
        var symbol: String
        var id: Int64
        var orderId: Int64
        var price: ExactDecimal
        var qty: ExactDecimal
        var commission: ExactDecimal
        var commissionAsset: String
        var time: Int64
        var isBuyer: Bool
    }

    struct Account: Decodable {
        struct Balance: Decodable {
            var asset: String
            var free: ExactDecimal
            var locked: ExactDecimal
        }
        var balances: [Balance]
        /// When the account last changed (milliseconds, Binance's clock).
        var updateTime: Int64?
        /// Whether this key may trade (false for a read-only key, or an account Binance has restricted).
        var canTrade: Bool?
        /// The account's commission rates (rest-api.md "Account information": `commissionRates`, fractions such as
        /// "0.00100000"): `taker` is what a market order pays, `buyer` and `seller` are added on the order's side.
        /// Read leniently: a part missing leaves the fee unknown, never the account unreadable.
        var commissionRates: CommissionRates? { (try? commissionRatesField?.get()) ?? nil }
        private var commissionRatesField: Lenient<CommissionRates>?

        enum CodingKeys: String, CodingKey { case balances, updateTime, canTrade, commissionRatesField = "commissionRates" }
    }

    /// One set of commission rates (the account's `commissionRates`; a symbol's `standardCommission`,
    /// `specialCommission`, `taxCommission`), each part optional.
    struct CommissionRates: Decodable {
        var taker: ExactDecimal?
        var buyer: ExactDecimal?
        var seller: ExactDecimal?

        /// A market order's commission per side, the costlier side's part included (commission_faq.md: the rates
        /// are summed; a BNB discount is not counted: a strategy's threshold should not assume the account holds BNB).
        var takerPerSide: ExactDecimal? {
            guard let taker else { return nil }
            return try? taker + max(buyer ?? .zero, seller ?? .zero)
        }
    }

    /// `GET /api/v3/account/commission?symbol=` (rest-api.md "Query Commission Rates"): what a trade in the symbol
    /// pays, the standard rate plus the special and tax ones that may apply to it alone.
    struct SymbolCommission: Decodable {
        var symbol: String
        var standardCommission: CommissionRates?
        var specialCommission: CommissionRates?
        var taxCommission: CommissionRates?

        /// The three summed per side on a market order; nil without the standard taker rate.
        var takerPerSide: ExactDecimal? {
            guard let standard = standardCommission?.takerPerSide else { return nil }
            let extra = [specialCommission, taxCommission].compactMap { $0?.takerPerSide }
            return try? ExactDecimal.sum([standard] + extra)
        }
    }

    /// A value decoded if it can be, else the error kept: a part of an answer BAGBOT can do without.
    struct Lenient<Value: Decodable>: Decodable {
        let result: Result<Value, Error>
        init(from decoder: Decoder) throws {
            do { result = .success(try Value(from: decoder)) } catch { result = .failure(error) }
        }
        func get() throws -> Value { try result.get() }
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws -> T {
        do {
            return try ExchangeJSON.decode(type, from: body)
        } catch {
            throw Malformed(description: "Binance's answer to \(what) could not be read: \(String(describing: error).prefix(300))")
        }
    }

    /// The fill id BAGBOT stores: Binance numbers trades per symbol, so the symbol is part of it.
    static func fillId(symbol: String, tradeId: Int64) -> String { "\(symbol)-\(tradeId)" }

    static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1_000) }

    /// `order` as a venue report. `fills` are the order's executions (from the FULL answer or from `myTrades`);
    /// `fee` turns each commission into the quote asset.
    static func report(_ order: Order, clientOrderId: String, fills: [VenueFill], now: Date) throws -> VenueOrderReport {
        guard let status = BinanceOrders.status(order.status) else {
            throw Malformed(description: "Binance reported order \(clientOrderId) in status \(order.status.prefix(40)), which its documentation does not list")
        }
        let average: ExactDecimal?
        if order.executedQty.isPositive, let quote = order.cummulativeQuoteQty.flatMap(ExactDecimal.init), !quote.isNegative {
            average = try quote.divided(by: order.executedQty, scale: 8, rounding: .halfEven)
        } else if order.executedQty.isPositive, !fills.isEmpty {
            average = try averagePrice(of: fills)
        } else {
            average = nil
        }
        let time = (order.transactTime ?? order.updateTime ?? order.time).map(date(milliseconds:)) ?? now
        return VenueOrderReport(clientOrderId: clientOrderId, exchangeOrderId: String(order.orderId), status: status,
                                filledQuantity: order.executedQty, averagePrice: average, fills: fills,
                                rejectReason: status == .rejected ? "rejected by Binance" : nil, time: time)
    }

    static func averagePrice(of fills: [VenueFill]) throws -> ExactDecimal? {
        var quantity = ExactDecimal.zero
        var notional = ExactDecimal.zero
        for fill in fills {
            quantity = try quantity + fill.quantity
            notional = try notional + fill.quantity.multiplied(by: fill.price, scale: 16, rounding: .halfEven)
        }
        guard quantity.isPositive else { return nil }
        return try notional.divided(by: quantity, scale: 8, rounding: .halfEven)
    }

    /// A FULL answer's fills. They carry no time of their own: the order's `transactTime` is theirs.
    static func fills(of order: Order, clientOrderId: String, side: Side, fee: FeeConversion, now: Date) throws -> [VenueFill] {
        let time = order.transactTime.map(date(milliseconds:)) ?? now
        return try (order.fills ?? []).map { fill in
            VenueFill(fillId: fillId(symbol: order.symbol, tradeId: fill.tradeId), clientOrderId: clientOrderId, symbol: order.symbol,
                      side: side, quantity: fill.qty, price: fill.price,
                      fee: try fee.inQuote(fill.commission, asset: fill.commissionAsset, price: fill.price),
                      baseCommission: try fee.baseCommission(fill.commission, asset: fill.commissionAsset, quantity: fill.qty, side: side),
                      time: time)
        }
    }

    /// `myTrades` entries as fills of the order they belong to (`clientOrderIds` maps Binance's order id to BAGBOT's).
    static func fills(of trades: [Trade], clientOrderIds: (Int64) -> String?, fee: FeeConversion) throws -> [VenueFill] {
        try trades.compactMap { trade in
            guard let clientOrderId = clientOrderIds(trade.orderId) else { return nil }
            let side: Side = trade.isBuyer ? .buy : .sell
            return VenueFill(fillId: fillId(symbol: trade.symbol, tradeId: trade.id), clientOrderId: clientOrderId, symbol: trade.symbol,
                             side: side, quantity: trade.qty, price: trade.price,
                             fee: try fee.inQuote(trade.commission, asset: trade.commissionAsset, price: trade.price),
                             baseCommission: try fee.baseCommission(trade.commission, asset: trade.commissionAsset, quantity: trade.qty, side: side),
                             time: date(milliseconds: trade.time))
        }
    }

    static func side(_ binance: String) throws -> Side {
        switch binance {
        case "BUY": .buy
        case "SELL": .sell
        default: throw Malformed(description: "Binance reported an order side \(binance.prefix(20)), which its documentation does not list")
        }
    }
}

/// Binance charges each trade's commission in one asset (`commissionAsset`): the quote asset, the base asset (what a
/// buy receives, by default), or BNB when the account pays fees in BNB. BAGBOT's fills keep fees in the quote asset:
/// a base-asset commission is worth `commission × price`; any other asset is valued at its last price against the
/// quote, which the venue looks up (`prices`). A commission that cannot be valued is an error, never a zero.
struct FeeConversion {
    var baseAsset: String
    var quoteAsset: String
    /// The price of `asset` in the quote asset, when known.
    var prices: [String: ExactDecimal] = [:]

    struct Unvalued: Error, CustomStringConvertible {
        var asset: String
        var quoteAsset: String
        var cause: String?
        var description: String {
            "a commission in \(asset) cannot be valued in \(quoteAsset): no \(asset)\(quoteAsset) price" + (cause.map { " (\($0))" } ?? "")
        }
    }

    func inQuote(_ commission: ExactDecimal, asset: String, price: ExactDecimal) throws -> ExactDecimal {
        if commission.isZero || asset == quoteAsset { return commission }
        if asset == baseAsset { return try commission.multiplied(by: price, scale: 8, rounding: .up) }
        guard let rate = prices[asset] else { throw Unvalued(asset: asset, quoteAsset: quoteAsset) }
        return try commission.multiplied(by: rate, scale: 8, rounding: .up)
    }

    /// A commission taken in the base asset: what the position did not receive (a buy) or gave on top (a sell).
    /// One as large as a buy's quantity, or negative, is not a commission Binance documents: the answer is refused
    /// rather than booked as a position of nothing.
    func baseCommission(_ commission: ExactDecimal, asset: String, quantity: ExactDecimal, side: Side) throws -> ExactDecimal? {
        guard asset == baseAsset, asset != quoteAsset, !commission.isZero else { return nil }
        guard commission.isPositive, side == .sell || commission < quantity else {
            throw BinanceReports.Malformed(description: "a commission of \(commission) \(asset) on a \(side.rawValue) of \(quantity) cannot be right")
        }
        return commission
    }

    /// The assets other than base and quote whose price is needed to value `commissions`.
    func foreignAssets(in commissions: [(amount: ExactDecimal, asset: String)]) -> Set<String> {
        Set(commissions.filter { !$0.amount.isZero && $0.asset != baseAsset && $0.asset != quoteAsset }.map(\.asset))
    }
}
