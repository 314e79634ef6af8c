import Foundation
import BagbotDomain

/// The paper venue's matching and book: fills against the latest tick with a spread (the tick's own),
/// slippage and a fee, and keeps a balance per asset and positions (`PaperExchange+Funds.swift` says what an
/// order may spend). Plain Swift, no I/O: `PaperVenue` persists what it
/// decides, in one transaction per execution.
public struct PaperExchange: Sendable {
    public struct Settings: Sendable, Equatable {
        /// The fee per side for a symbol whose rules carry none (`Market.feeRate`).
        public var feeBps: ExactDecimal
        public var slippageBps: ExactDecimal
        /// What the account holds before its first trade, per asset.
        public var startingBalances: [String: ExactDecimal]
        /// Symbols traded on margin (either asset may go below zero, within equity); the others are spot.
        public var marginSymbols: Set<String>
        /// Each symbol's base and quote asset, price increment (execution prices are put on it, against the
        /// trader) and quantity increment (a partial fill is a whole number of steps): set from its rules.
        public private(set) var markets: [String: Market] = [:]
        /// A market order needs a tick received at most this long ago; older data is not a price to trade at.
        public var maxTickAge: TimeInterval
        /// The currency the margin check values positions and balances in, and the pegs it may use.
        public var accountCurrency: String
        public var pegs: [String: String]
        /// Recent ticks kept per symbol for orders that name the tick they were decided on (a paced replay: the
        /// feed may be ahead of the strategies by `TickPacer.window`); 0 keeps none and fills at the latest.
        public var pinnedQuotes = 0

        public init(feeBps: ExactDecimal, slippageBps: ExactDecimal, startingBalances: [String: ExactDecimal],
                    marginSymbols: Set<String> = [], rules: [SymbolRules] = [], maxTickAge: TimeInterval = 10,
                    accountCurrency: String = "USD", pegs: [String: String] = ["USDT": "USD", "USDC": "USD"]) {
            self.feeBps = feeBps
            self.slippageBps = slippageBps
            self.startingBalances = startingBalances
            self.marginSymbols = marginSymbols
            self.maxTickAge = maxTickAge
            self.accountCurrency = accountCurrency
            self.pegs = pegs
            adopt(rules)
        }

        /// `feeBps` is for a symbol whose rules carry no fee: the router's rules always do (`paperRules`).
        public init(_ router: RouterSettings) {
            self.init(feeBps: router.paper.feeBps ?? PaperSymbolSettings.defaultFeeBps(nil), slippageBps: router.paper.slippageBps, startingBalances: router.paper.startingBalances,
                      marginSymbols: router.paperMarginSymbols, rules: router.paperRules, maxTickAge: router.paper.maxTickAgeSeconds,
                      accountCurrency: router.account.currency, pegs: router.account.pegs)
            // A max-speed replay is paced by its subscribers, and fills at the quote an order was decided on.
            if ReplaySpeed(router.replay.speed) == .max { pinnedQuotes = TickPacer.window * 4 }
        }

        /// Takes each symbol's assets and increments from its rules (the first rule of a symbol wins).
        public mutating func adopt(_ rules: [SymbolRules]) {
            markets = [:]
            for rule in rules where markets[rule.symbol] == nil {
                markets[rule.symbol] = Market(baseAsset: rule.baseAsset, quoteAsset: rule.quoteAsset, tickSize: rule.tickSize,
                                              stepSize: rule.stepSize, margin: marginSymbols.contains(rule.symbol), feeRate: rule.feeRate)
            }
        }
    }

    /// One symbol as the paper venue trades it.
    public struct Market: Sendable, Equatable {
        public var baseAsset: String
        public var quoteAsset: String
        public var tickSize: ExactDecimal
        public var stepSize: ExactDecimal
        public var margin: Bool
        /// The fee per side as a fraction of the notional, from the symbol's rules (nil: `Settings.feeBps`).
        public var feeRate: ExactDecimal?
    }

    /// What is persisted: the balance of each asset, the fees paid in each, and the book per symbol.
    public struct Snapshot: Sendable, Equatable {
        /// Free plus locked, per asset (what open orders hold is derived from them, see `reservations`).
        public var balances: [String: ExactDecimal]
        public var feesPaid: [String: ExactDecimal]
        public var positions: [String: PaperPosition]

        public init(balances: [String: ExactDecimal], feesPaid: [String: ExactDecimal] = [:], positions: [String: PaperPosition] = [:]) {
            self.balances = balances
            self.feesPaid = feesPaid
            self.positions = positions
        }

        /// Moves the balances by one fill: the base asset by the quantity, the quote asset by the notional and
        /// the fee (paid in the quote asset, as on every venue the paper one stands for).
        mutating func apply(_ fill: VenueFill, market: Market) throws {
            let notional = try fill.quantity.times(fill.price)
            // What leaves the account in the quote asset: notional and fee on a buy; the fee less the proceeds on a sell.
            let spent = fill.side == .buy ? try notional + fill.fee : try fill.fee - notional
            balances[market.baseAsset] = try (balances[market.baseAsset] ?? .zero) + fill.side.signed(fill.quantity)
            balances[market.quoteAsset] = try (balances[market.quoteAsset] ?? .zero) - spent
            feesPaid[market.quoteAsset] = try (feesPaid[market.quoteAsset] ?? .zero) + fill.fee
        }
    }

    public struct PaperPosition: Sendable, Equatable {
        public var book: PositionBook
        /// Net of the fees of both sides.
        public var realizedPnl: ExactDecimal
        public var lastPrice: ExactDecimal?
    }

    public enum Outcome: Sendable, Equatable {
        case filled(Fill)
        case resting
        case rejected(String)
        /// Taken, then ended without a fill (an IOC or FOK limit order the market did not reach on arrival).
        case expired(String)
    }

    public let settings: Settings
    /// The balances and positions; each position's `lastPrice` as of its last fill (`snapshot` marks it).
    private(set) var account: Snapshot
    /// Each symbol's latest tick and when it was received (the venue's clock, not the tick's market time).
    private var marks = PerSymbol<Mark>()
    /// Limit orders waiting for the market to reach them, in arrival order.
    public private(set) var resting: [OrderRecord] = []
    /// Fills each working order has had so far (numbers its next fill's id).
    private var fillCounts: [String: Int] = [:]
    /// The last `settings.pinnedQuotes` ticks (or up to twice that) of each symbol, oldest first.
    private var recentTicks: [String: [Tick]] = [:]

    public init(settings: Settings, snapshot: Snapshot? = nil) {
        self.settings = settings
        account = snapshot ?? Snapshot(balances: settings.startingBalances.filter { !$0.value.isZero })
    }

    private struct Mark {
        var tick: Tick
        var receivedAt: Date
    }

    /// The balances and positions, each position marked at the mid of its symbol's latest tick (the price it
    /// was last filled at before any tick). Marked when read, not on every tick.
    public var snapshot: Snapshot {
        var marked = account
        for (symbol, mark) in marks.entries where marked.positions[symbol] != nil {
            marked.positions[symbol]?.lastPrice = mark.tick.mid
        }
        return marked
    }

    /// What the account holds of each asset.
    public var holdings: [String: ExactDecimal] { account.balances }

    public func lastTick(for symbol: String) -> Tick? { marks[symbol]?.tick }

    /// Takes the book (balances and positions) as recorded on disk, when memory can no longer be trusted to
    /// match it. Resting orders and market data stay.
    public mutating func adopt(_ recorded: Snapshot) {
        account = recorded
    }

    /// Replaces the resting orders with those recorded on disk, with the fills each has had.
    public mutating func replaceResting(_ orders: [OrderRecord], fillCounts counts: [String: Int]) {
        resting = orders
        fillCounts = counts
    }

    /// A resting order, as the book has it.
    public func restingOrder(_ clientOrderId: String) -> OrderRecord? {
        resting.first { $0.clientOrderId == clientOrderId }
    }

    /// Restores a resting limit order after a restart, with the number of fills it already had.
    public mutating func restore(resting order: OrderRecord, fills: Int) {
        fillCounts[order.clientOrderId] = fills
        restore(resting: order)
    }

    /// Restores a resting limit order after a restart.
    public mutating func restore(resting order: OrderRecord) {
        resting.append(order)
    }

    /// Records the tick and fills (or, reduce-only ones that no longer reduce, expires) every resting limit
    /// order it reaches.
    public mutating func observe(_ tick: Tick, at now: Date = Date()) -> [RestingOutcome] {
        record(tick, at: now)
        var traded = TradedVolume(tick)
        return crossedOrders(by: tick).compactMap { fillResting($0, on: tick, traded: &traded) }
    }

    /// Takes the tick as the latest price of its symbol.
    public mutating func record(_ tick: Tick, at now: Date = Date()) {
        marks[tick.symbol] = Mark(tick: tick, receivedAt: now)
        if settings.pinnedQuotes > 0 {
            recentTicks[tick.symbol, default: []].append(tick)
            if let count = recentTicks[tick.symbol]?.count, count > settings.pinnedQuotes * 2 {
                recentTicks[tick.symbol]?.removeFirst(count - settings.pinnedQuotes)
            }
        }
    }

    /// The resting orders this tick reaches, in arrival order.
    public func crossedOrders(by tick: Tick) -> [String] {
        resting.filter { order in
            order.symbol == tick.symbol && order.limitPrice.flatMap { Self.touch(order.side, limit: $0, tick: tick) } != nil
        }.map(\.clientOrderId)
    }

    /// What a tick did to a resting order it reached.
    public enum RestingOutcome: Sendable, Equatable {
        case filled(OrderRecord, Fill)
        /// Taken off the book unfilled: a reduce-only order that would now grow or flip the position.
        case expired(OrderRecord, String)
    }

    /// Fills one resting order on this tick, if it still crosses and the account can pay for it. One at a time, so
    /// the caller can persist each fill with a book that holds exactly the fills persisted so far. A
    /// reduce-only order is checked again against the position as it is now: the position may have shrunk
    /// since it was placed, and filling it would then open the other way.
    ///
    /// A resting order trades at its limit price (the market came to it). A trade tick fills at most its own
    /// size, in whole steps, and the order keeps resting for the rest (`partially_filled`); a quote tick,
    /// which has no size, fills what remains.
    public mutating func fillResting(_ clientOrderId: String, on tick: Tick, traded: inout TradedVolume) -> RestingOutcome? {
        guard let index = resting.firstIndex(where: { $0.clientOrderId == clientOrderId }),
              let limit = resting[index].limitPrice, Self.touch(resting[index].side, limit: limit, tick: tick) != nil else { return nil }
        let order = resting[index]
        if let refusal = reduceOnlyRefusal(order) {
            resting.remove(at: index)
            fillCounts[clientOrderId] = nil
            return .expired(order, refusal)
        }
        guard let remaining = try? order.quantity - order.filledQuantity, remaining.isPositive else { return nil }
        var quantity = remaining
        if let left = traded.left, left < remaining {
            quantity = left
            if let step = settings.markets[order.symbol]?.stepSize {
                guard let whole = try? quantity.rounded(toMultipleOf: step, rounding: .towardZero), whole.isPositive else { return nil }
                quantity = whole
            }
        }
        guard quantity.isPositive, let filled = try? order.filledQuantity + quantity else { return nil }
        let number = (fillCounts[clientOrderId] ?? 0) + 1
        let fill: Fill
        switch execute(order, quantity: quantity, at: limit, time: tick.time, fillNumber: number, filledBefore: order.filledQuantity) {
        case .filled(let done):
            fill = done
        case .rejected(let reason), .expired(let reason):
            // The account can no longer pay for it (a margin check after the market moved): a venue cancels
            // such an order rather than keep it on the book unfillable.
            resting.remove(at: index)
            fillCounts[clientOrderId] = nil
            return .expired(order, reason)
        case .resting:
            return nil
        }
        traded.take(quantity)
        var updated = order
        updated.averageFillPrice = Self.averagePrice(order.averageFillPrice, order.filledQuantity, fill.price, quantity, total: filled)
        updated.filledQuantity = filled
        updated.updatedAt = tick.time
        if filled < order.quantity {
            updated.status = .partiallyFilled
            resting[index] = updated
            fillCounts[clientOrderId] = number
        } else {
            updated.status = .filled
            resting.remove(at: index)
            fillCounts[clientOrderId] = nil
        }
        return .filled(updated, fill)
    }

    /// The average price of an order's fills after one more (half-even, 12 decimals).
    static func averagePrice(_ average: ExactDecimal?, _ filled: ExactDecimal, _ price: ExactDecimal, _ quantity: ExactDecimal,
                             total: ExactDecimal) -> ExactDecimal {
        guard let average, filled.isPositive,
              let value = try? average.times(filled) + price.times(quantity),
              let result = try? value.divided(by: total, scale: PositionBook.shareScale, rounding: .halfEven) else { return price }
        return result.normalized
    }

    /// Why a reduce-only order may not trade against the venue's net position in its symbol now.
    func reduceOnlyRefusal(_ order: OrderRecord) -> String? {
        guard order.reduceOnly else { return nil }
        let position = account.positions[order.symbol]?.book.quantity ?? .zero
        let remaining = (try? order.quantity - order.filledQuantity) ?? order.quantity
        guard !position.isZero, position.isPositive == (order.side == .sell), remaining <= position.magnitude else {
            return "reduce_only: a \(order.side.rawValue) of \(remaining) would grow or flip the \(order.symbol) position (\(position))"
        }
        return nil
    }

    private func staleness(_ symbol: String, at now: Date) -> String? {
        guard let received = marks[symbol]?.receivedAt else { return "no market data for \(symbol) yet" }
        let age = now.timeIntervalSince(received)
        guard age <= settings.maxTickAge else {
            return "stale_market_data: the last \(symbol) tick was received \(String(format: "%.1f", age)) s ago (limit \(String(format: "%g", settings.maxTickAge)) s)"
        }
        return nil
    }

    /// Executes or rests a new order. Market orders need a tick; limit orders fill at once when
    /// marketable (at the market's price with slippage, capped at the limit), else rest.
    /// `quoteSequence`: the tick a market order was decided on, when quotes are pinned (a paced replay) and it is
    /// still kept; otherwise, and for every limit order, the latest tick.
    public mutating func submit(_ order: OrderRecord, at now: Date = Date(), quoteSequence: UInt64? = nil) -> Outcome {
        let pinned = order.type == .market
            ? quoteSequence.flatMap { sequence in recentTicks[order.symbol]?.last(where: { $0.sequence == sequence }) } : nil
        guard let tick = pinned ?? lastTick(for: order.symbol) else {
            return .rejected("no market data for \(order.symbol) yet")
        }
        if let refusal = reduceOnlyRefusal(order) { return .rejected(refusal) }
        switch order.type {
        case .market:
            if let stale = staleness(order.symbol, at: now) { return .rejected(stale) }
            guard let price = try? slipped(order.side == .buy ? tick.ask : tick.bid, side: order.side, symbol: order.symbol) else {
                return .rejected("the market price is out of range")
            }
            return execute(order, quantity: order.quantity, at: price, time: tick.time, fillNumber: 1)
        case .limit:
            guard let limit = order.limitPrice else { return .rejected("a limit order needs a limit price") }
            // An IOC or FOK ends, and a post-only order is refused or rests, on this quote: it must be fresh.
            if order.timeInForce != nil, let stale = staleness(order.symbol, at: now) { return .rejected(stale) }
            if let market = Self.touch(order.side, limit: limit, tick: tick) {
                if order.timeInForce == .postOnly {
                    // Binance refuses it so (-2010 "Order would immediately match and take."): a post-only order never takes.
                    return .rejected("post_only: it would trade at once at \(market); a post-only order never takes")
                }
                // Executing now is trading at the last quote, as a market order does: it must be fresh.
                if let stale = staleness(order.symbol, at: now) { return .rejected(stale) }
                // Marketable on arrival: it takes the book as a market order does, slippage included (else a limit
                // priced through the market would fill better than a market order), never past its limit.
                guard let slippedPrice = try? slipped(market, side: order.side, symbol: order.symbol) else {
                    return .rejected("the market price is out of range")
                }
                let price = order.side == .buy ? min(slippedPrice, limit) : max(slippedPrice, limit)
                // Whole, as any marketable order here (the paper book has no depth): an IOC or FOK fills whole too.
                return execute(order, quantity: order.quantity, at: price, time: tick.time, fillNumber: 1)
            }
            if let timeInForce = order.timeInForce, timeInForce == .ioc || timeInForce == .fok {
                let quote = order.side == .buy ? "ask \(tick.ask)" : "bid \(tick.bid)"
                return .expired("\(timeInForce.rawValue): the market (\(quote)) did not reach its limit \(limit) on arrival")
            }
            if let refusal = fundsRefusal(order, quantity: order.quantity, price: limit, fee: try? fee(order.quantity, at: limit, symbol: order.symbol)) {
                return .rejected(refusal)
            }
            // Resting means the venue took it: it is acknowledged from here on, as its record on disk says.
            var acknowledged = order
            acknowledged.status = .acknowledged
            resting.append(acknowledged)
            return .resting
        }
    }

    public mutating func cancel(clientOrderId: String) -> OrderRecord? {
        guard let index = resting.firstIndex(where: { $0.clientOrderId == clientOrderId }) else { return nil }
        fillCounts[clientOrderId] = nil
        return resting.remove(at: index)
    }

    /// The price a limit order trades at on this tick, if the market reached it.
    static func touch(_ side: Side, limit: ExactDecimal, tick: Tick) -> ExactDecimal? {
        switch side {
        case .buy: return tick.ask <= limit ? tick.ask : nil
        case .sell: return tick.bid >= limit ? tick.bid : nil
        }
    }

    /// The price moved against the order by the slippage, then put on the symbol's tick size against the
    /// trader (a buy up, a sell down), as a venue only trades at quotable prices. Without a tick size it is
    /// exact (a basis point adds four decimals) up to 18 decimals.
    private func slipped(_ price: ExactDecimal, side: Side, symbol: String) throws -> ExactDecimal {
        let rounding: ExactDecimal.Rounding = side == .buy ? .up : .down
        let factor = side == .buy ? try 10_000 + settings.slippageBps : try 10_000 - settings.slippageBps
        let scale = min(price.scale + factor.scale + 4, ExactDecimal.maximumScale)
        let moved = try price.times(factor).divided(by: 10_000, scale: scale, rounding: rounding).normalized
        guard let tickSize = settings.markets[symbol]?.tickSize else { return moved }
        return try moved.rounded(toMultipleOf: tickSize, rounding: rounding)
    }

    /// Decimals of a fee in the quote currency (a satoshi for crypto quotes; finer than any cash currency).
    static let feeScale = 8

    /// `filledBefore`: what earlier fills of a resting order took, all at its limit price. Its fee is charged on
    /// the order's running total, rounded up once: the fees of its parts add up to the fee of the whole, which
    /// is what its hold set aside.
    private mutating func execute(_ order: OrderRecord, quantity: ExactDecimal, at price: ExactDecimal, time: Date, fillNumber: Int,
                                  filledBefore: ExactDecimal = .zero) -> Outcome {
        guard let market = settings.markets[order.symbol] else { return .rejected("no paper market for \(order.symbol)") }
        guard let fee = try? self.fee(quantity, at: price, after: filledBefore, symbol: order.symbol) else { return .rejected("the order's amounts are out of range") }
        if let refusal = fundsRefusal(order, quantity: quantity, price: price, fee: fee) { return .rejected(refusal) }
        do {
            var next = account
            var position = next.positions[order.symbol] ?? PaperPosition(book: PositionBook(), realizedPnl: 0, lastPrice: nil)
            let fill = Fill(fillId: "\(order.clientOrderId)-\(fillNumber)", clientOrderId: order.clientOrderId, venue: .paper, symbol: order.symbol,
                            side: order.side, quantity: quantity, price: price, fee: fee, time: time,
                            strategyId: order.strategyId, requestId: order.requestId)
            try next.apply(VenueFill(fillId: fill.fillId, clientOrderId: fill.clientOrderId, symbol: fill.symbol, side: fill.side,
                                     quantity: quantity, price: price, fee: fee, time: time), market: market)
            // Realised P&L is net of fees, as the strategies' and the mindset's are: the same book, the same fills.
            if let closed = try position.book.apply(fill) { position.realizedPnl = try position.realizedPnl + closed.pnl }
            position.lastPrice = lastTick(for: order.symbol)?.mid ?? price
            next.positions[order.symbol] = position
            account = next
            return .filled(fill)
        } catch {
            return .rejected("the order's amounts are out of range: \(error)")
        }
    }

    /// The fee of a fill of `quantity` at `price` after `filledBefore` of the same order at the same price
    /// (a resting order's fills are all at its limit): the fee of the running total less what was charged
    /// before, so the fees of the parts add up to the fee of the whole.
    func fee(_ quantity: ExactDecimal, at price: ExactDecimal, after filledBefore: ExactDecimal = .zero, symbol: String) throws -> ExactDecimal {
        guard filledBefore.isPositive else { return try fee(on: quantity.times(price), symbol: symbol) }
        return try fee(on: (filledBefore + quantity).times(price), symbol: symbol) - fee(on: filledBefore.times(price), symbol: symbol)
    }

    /// The venue's fee on a trade's notional in `symbol`, in the quote asset, rounded up to the fee's decimals: a
    /// venue never charges less than its rate.
    func fee(on notional: ExactDecimal, symbol: String) throws -> ExactDecimal {
        guard let rate = settings.markets[symbol]?.feeRate ?? PaperSymbolSettings.feeRate(bps: settings.feeBps) else {
            throw FeeOutOfRange(feeBps: settings.feeBps)
        }
        return try notional.multiplied(by: rate, scale: ExactDecimal.maximumScale, rounding: .up).rounded(toScale: Self.feeScale, rounding: .up)
    }

    struct FeeOutOfRange: Error {
        var feeBps: ExactDecimal
    }

    func markPrice(_ symbol: String, _ position: PaperPosition) -> ExactDecimal {
        lastTick(for: symbol)?.mid ?? position.lastPrice ?? position.book.averagePrice
    }

    public func positions() throws -> [Position] {
        try account.positions.filter { !$0.value.book.isFlat || !$0.value.realizedPnl.isZero }.map { symbol, position in
            let mark = markPrice(symbol, position)
            let book = position.book
            // Marked value less cost, signed by the side held.
            let unrealized = book.quantity.isNegative ? try book.cost - mark.times(book.quantity.magnitude)
                : try mark.times(book.quantity) - book.cost
            return Position(venue: .paper, symbol: symbol, quantity: book.quantity, averagePrice: book.averagePrice,
                            realizedPnl: position.realizedPnl, lastPrice: mark, unrealizedPnl: unrealized)
        }.sorted { $0.symbol < $1.symbol }
    }
}

/// What a tick traded, shared by the resting orders it reaches in turn: a trade print of 5 fills 5 in all,
/// never 5 for each order. A quote tick (no size) does not limit them.
public struct TradedVolume: Sendable {
    /// Still to be shared out; nil for no limit.
    public private(set) var left: ExactDecimal?

    public init(_ tick: Tick) {
        left = tick.volume.isPositive ? tick.volume : nil
    }

    mutating func take(_ quantity: ExactDecimal) {
        guard let current = left else { return }
        left = max(.zero, (try? current - quantity) ?? .zero)
    }

    /// Nothing left for another order on this tick.
    public var isUsedUp: Bool { left?.isZero ?? false }
}
