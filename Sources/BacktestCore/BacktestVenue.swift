import Foundation
import NIOConcurrencyHelpers
import BagbotDomain
import ArsenalCore
import RouterCore

/// routerd's part of a backtest, in memory: the paper venue's own fill model (`PaperExchange`: the tick's
/// bid and ask, slippage, fee, funds and margin checks), routerd's reduce-only rule against the strategy's
/// position, and a fill log numbered as routerd numbers it. Its clock is market time: an order is executed at
/// the time of the tick it was decided on.
public final class BacktestVenue: RouterPort, Sendable {
    /// The identity the fill log's sequences count in, as routerd's database id.
    public static let databaseId = "backtest"

    private struct State {
        var exchange: PaperExchange
        var orders: [String: OrderRecord] = [:]
        var fills: [Fill] = []
        /// Each strategy's position per symbol ("strategy|symbol"), from its fills: what a reduce-only order may reduce.
        var books: [String: PositionBook] = [:]
        var pending: [RouterUpdate] = []
        var now = Date(timeIntervalSince1970: 0)
        var rejections: [String: Int] = [:]
    }

    private let state: NIOLockedValueBox<State>
    private let rules: [SymbolRules]
    private let rulesBySymbol: [String: SymbolRules]
    /// The account currency and the assets counted one for one as it (itself, its pegs).
    private let currency: String
    private let atPar: Set<String>
    /// For each asset the one symbol that quotes it in the account currency or a peg of it: its value is its
    /// balance at that symbol's mid (other assets go through `CurrencyConverter`).
    private let quotedAtPar: [String: String]
    /// False when a market trades two assets at par against each other: the converter then values one through it.
    private let parIsExact: Bool

    public init(settings: PaperExchange.Settings, rules: [SymbolRules]) {
        state = NIOLockedValueBox(State(exchange: PaperExchange(settings: settings)))
        self.rules = rules
        rulesBySymbol = Dictionary(rules.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        currency = settings.accountCurrency
        let atPar = Set([settings.accountCurrency] + settings.pegs.filter { $0.value == settings.accountCurrency }.map(\.key))
        self.atPar = atPar
        // Only assets with one route to the account currency: a market between two assets at par (USDTUSD) or one
        // quoting an asset the other way round (USDX beside XUSD) gives the converter another rate to choose.
        let markets = settings.markets.values
        var quoted: [String: String] = [:]
        parIsExact = !markets.contains(where: { atPar.contains($0.baseAsset) && atPar.contains($0.quoteAsset) })
        if parIsExact {
            for (symbol, market) in settings.markets where atPar.contains(market.quoteAsset) && !atPar.contains(market.baseAsset) {
                let routes = markets.filter { ($0.baseAsset == market.baseAsset && atPar.contains($0.quoteAsset))
                    || ($0.quoteAsset == market.baseAsset && atPar.contains($0.baseAsset)) }.count
                if routes == 1 { quoted[market.baseAsset] = symbol }
            }
        }
        quotedAtPar = quoted
    }

    /// Whether any strategy holds a position (the account's equity then moves with every tick).
    public var hasOpenPosition: Bool { state.withLockedValue { $0.books.values.contains { !$0.quantity.isZero } } }

    /// The venue sees a tick: its book moves, and its clock is the tick's time.
    public func record(_ tick: Tick) {
        state.withLockedValue {
            $0.now = tick.time
            $0.exchange.record(tick, at: tick.time)
        }
    }

    /// The order and fill events since the last call, in the order they happened.
    public func takeUpdates() -> [RouterUpdate] {
        state.withLockedValue { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    public var isConnected: Bool { true }

    public func symbolRules() async throws -> [SymbolRules] { rules }

    /// Each symbol's quote asset.
    public var quoteAssets: [String: String] { rulesBySymbol.mapValues(\.quoteAsset) }

    public func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        try state.withLockedValue { state in
            guard let clientOrderId = request.clientOrderId else { throw BacktestError("an order without a client order id") }
            guard state.orders[clientOrderId] == nil else { throw BacktestError("client order id \(clientOrderId) was used twice") }
            var order = OrderRecord(
                clientOrderId: clientOrderId, venue: .paper, symbol: request.symbol, side: request.side, type: request.type,
                quantity: request.quantity, limitPrice: request.limitPrice, status: .acknowledged, reduceOnly: request.reduceOnly ?? false,
                strategyId: request.strategyId, requestId: request.requestId, createdAt: state.now, updatedAt: state.now)
            let bookKey = "\(request.strategyId ?? "")|\(request.symbol)"
            // routerd's checks before an order reaches its venue: the symbol's rules (quantity, minimum notional at
            // the current price), then reduce-only against the strategy's own position.
            var refusal: String?
            if let rules = rulesBySymbol[order.symbol] {
                let tick = state.exchange.lastTick(for: order.symbol)
                refusal = rules.violation(quantity: order.quantity, limitPrice: order.limitPrice,
                                          referencePrice: order.side == .buy ? tick?.ask : tick?.bid).map { "refused by rule \($0.rule): \($0)" }
            } else {
                refusal = "no trading rules for \(order.symbol)"
            }
            if refusal == nil, order.reduceOnly {
                refusal = ReduceOnlyRule.refusal(side: order.side, quantity: order.quantity, position: state.books[bookKey]?.quantity ?? .zero,
                                                 whose: "strategy \(request.strategyId ?? "-")'s", symbol: order.symbol)
            }
            let before = state.exchange
            switch refusal.map({ PaperExchange.Outcome.rejected($0) }) ?? state.exchange.submit(order, at: state.now) {
            case .filled(var fill):
                fill.sequence = Int64(state.fills.count + 1)
                var book = state.books[bookKey] ?? PositionBook()
                do {
                    try book.apply(fill)
                } catch {
                    // The venue's books stay as they were: the fill is not half recorded.
                    state.exchange = before
                    throw BacktestError("fill \(fill.fillId) is out of range: \(error)")
                }
                state.books[bookKey] = book
                state.fills.append(fill)
                order.status = .filled
                order.filledQuantity = fill.quantity
                order.averageFillPrice = fill.price
                state.pending.append(.fill(fill))
            case .resting:
                // Strategies send market orders; a resting limit order would need the book's later ticks.
                _ = state.exchange.cancel(clientOrderId: clientOrderId)
                order.status = .rejected
                order.rejectReason = "the backtest venue takes market orders only"
            case .rejected(let reason):
                order.status = .rejected
                order.rejectReason = reason
                state.rejections[Self.reasonCode(reason), default: 0] += 1
            case .expired(let reason):
                order.status = .expired
                order.rejectReason = reason
            }
            state.orders[clientOrderId] = order
            state.pending.append(.order(order))
            return order
        }
    }

    public func order(clientOrderId: String) async throws -> OrderRecord? {
        state.withLockedValue { $0.orders[clientOrderId] }
    }

    /// Every order is final when placed (market orders fill or are refused at once): a cancel finds nothing
    /// working, as routerd refuses to cancel a final order.
    public func cancel(clientOrderId: String) async throws -> OrderRecord {
        try state.withLockedValue { state in
            guard let order = state.orders[clientOrderId] else { throw BacktestError("unknown order \(clientOrderId)") }
            throw BacktestError("order \(clientOrderId) is \(order.status.rawValue) already")
        }
    }

    /// The fill log after `sequence`, as routerd's `router.fills` answers.
    public func fills(after sequence: Int64) -> FillsResponse {
        state.withLockedValue {
            FillsResponse(fills: Array($0.fills.dropFirst(Int(max(0, sequence)))), databaseId: Self.databaseId, lastSequence: Int64($0.fills.count))
        }
    }

    /// Every fill, in the log's order.
    public var allFills: [Fill] { state.withLockedValue { $0.fills } }

    /// Orders the venue refused, by the first words of the reason ("stale_market_data", "insufficient …").
    public var rejections: [String: Int] { state.withLockedValue { $0.rejections } }

    /// The account's value in its currency, every balance at the latest prices (nil when an asset held
    /// cannot be valued).
    ///
    /// Asked each poll while a position is open: when every asset held is at par with the account currency or
    /// quoted in it directly, it is summed here as `CurrencyConverter` would value it, without building one.
    public func equity() -> (value: ExactDecimal, currency: String)? {
        state.withLockedValue { state in
            if let value = directValuation(state.exchange) { return (value, currency) }
            guard let valuation = try? state.exchange.valuation(), valuation.unvalued.isEmpty else { return nil }
            return (valuation.value, currency)
        }
    }

    /// Both valuations of the account as it stands (the direct one nil when it does not apply), for tests.
    var valuations: (direct: ExactDecimal?, full: ExactDecimal?) {
        state.withLockedValue { (directValuation($0.exchange), try? $0.exchange.valuation().value) }
    }

    /// The account's value when no asset held needs a chain of conversions (nil otherwise).
    func directValuation(_ exchange: PaperExchange) -> ExactDecimal? {
        guard parIsExact else { return nil }
        var total = ExactDecimal.zero
        for (asset, amount) in exchange.holdings where !amount.isZero {
            if atPar.contains(asset) {
                guard let sum = try? total + amount else { return nil }
                total = sum
                continue
            }
            // A rate of more than 15 decimals is rounded by the converter: that one decides.
            guard let symbol = quotedAtPar[asset], let mid = exchange.lastTick(for: symbol)?.mid, mid.scale <= CurrencyConverter.rateScale,
                  let value = try? amount.multiplied(by: mid, scale: CurrencyConverter.valueScale, rounding: .halfEven),
                  let sum = try? total + value else { return nil }
            total = sum
        }
        return total.normalized
    }

    /// A refusal's reason up to its first colon: its code when it has one, else its first words.
    static func reasonCode(_ reason: String) -> String {
        String(reason.prefix { $0 != ":" }.prefix(60))
    }
}

/// A backtest that cannot run as asked (unknown strategy, unreadable file, a venue invariant broken).
public struct BacktestError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
