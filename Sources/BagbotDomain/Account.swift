import Foundation

/// One asset's balance at a venue. Free plus locked is what the venue holds; a margin venue may show a
/// negative free amount for an asset it lent (a short, or the quote currency of a long).
public struct AssetBalance: Codable, Sendable, Equatable {
    public var asset: String
    /// Available for new orders.
    public var free: ExactDecimal
    /// Held by open orders.
    public var locked: ExactDecimal

    public init(asset: String, free: ExactDecimal, locked: ExactDecimal) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }

    public var total: ExactDecimal { get throws { try free + locked } }
}

/// The whole account in one currency (`router.account`): every venue's balances valued at the last prices,
/// P&L of the day, and what is at risk where.
public struct AccountSummary: Codable, Sendable, Equatable {
    /// The currency every amount below is in (`router.account.currency`).
    public var currency: String
    /// Every balance at every venue, valued.
    public var equity: ExactDecimal
    /// The part of equity held in currencies (the account's, pegged ones, and every quote currency), as
    /// opposed to coins, shares and the base currency of margin positions.
    public var cash: ExactDecimal
    /// Net of fees, from routerd's fills since `dayStart`, each symbol's converted at today's rate.
    public var realizedPnlToday: ExactDecimal
    public var feesToday: ExactDecimal
    /// Open positions at their marks less what they cost.
    public var unrealizedPnl: ExactDecimal
    /// Gross value of the open positions (long and short alike).
    public var exposure: ExactDecimal
    public var venues: [VenueSummary]
    public var symbols: [SymbolExposure]
    /// The rates used, asset by asset.
    public var rates: [CurrencyConverter.Rate]
    /// Assets held that could not be valued (no price reaches the currency yet): not in any figure above.
    public var unvalued: [String]
    /// Start of the trading day (00:00 UTC) the day's figures count from.
    public var dayStart: Date
    public var tradingEnabled: Bool
    public var pausedReason: String?
    /// Which money this is: `paper` (the paper venue and any other configured) or `live` (the live venues only).
    /// mindsetd takes a new start-of-day equity when it changes (a switch of mode is not a gain or a loss), except that
    /// coming back to `live` the same day measures from the live start again.
    public var scope: String?
    /// Coins a venue holds less of than the strategies' long positions routerd recorded there (`BookedHoldings`):
    /// a fill missed, or a withdrawal or trade by hand at the venue. Absent when there is none.
    public var shortfalls: [Shortfall]?
    /// Each routed symbol's last price and its quote asset's rate (absent from a routerd that gave none): mindsetd
    /// values its own record of the strategies' positions with them (`MindsetEngine.openPositionsPnl`).
    public var marks: [SymbolMark]?

    /// A symbol's last price, in its quote asset, and what one unit of that asset is worth in the account's currency.
    public struct SymbolMark: Codable, Sendable, Equatable {
        public var symbol: String
        public var price: ExactDecimal
        /// Nil from a routerd that gave none.
        public var baseAsset: String?
        public var quoteAsset: String
        /// Nil while the quote asset has no rate (the account then lists it as unvalued if held).
        public var quoteRate: ExactDecimal?

        public init(symbol: String, price: ExactDecimal, baseAsset: String? = nil, quoteAsset: String, quoteRate: ExactDecimal?) {
            self.symbol = symbol
            self.price = price
            self.baseAsset = baseAsset
            self.quoteAsset = quoteAsset
            self.quoteRate = quoteRate
        }
    }

    public struct Shortfall: Codable, Sendable, Equatable {
        public var venue: Venue
        public var asset: String
        /// What the strategies' books hold long of `asset` at the venue, together.
        public var booked: ExactDecimal
        /// What the venue says it holds (free + locked).
        public var held: ExactDecimal

        public init(venue: Venue, asset: String, booked: ExactDecimal, held: ExactDecimal) {
            self.venue = venue
            self.asset = asset
            self.booked = booked
            self.held = held
        }
    }

    public init(currency: String, equity: ExactDecimal, cash: ExactDecimal, realizedPnlToday: ExactDecimal, feesToday: ExactDecimal,
                unrealizedPnl: ExactDecimal, exposure: ExactDecimal, venues: [VenueSummary], symbols: [SymbolExposure],
                rates: [CurrencyConverter.Rate], unvalued: [String], dayStart: Date, tradingEnabled: Bool, pausedReason: String?,
                marks: [SymbolMark]? = nil) {
        self.currency = currency
        self.equity = equity
        self.cash = cash
        self.realizedPnlToday = realizedPnlToday
        self.feesToday = feesToday
        self.unrealizedPnl = unrealizedPnl
        self.exposure = exposure
        self.venues = venues
        self.symbols = symbols
        self.rates = rates
        self.unvalued = unvalued
        self.dayStart = dayStart
        self.tradingEnabled = tradingEnabled
        self.pausedReason = pausedReason
        self.marks = marks
    }

    /// One venue's part of the account, in the account's currency, with its balances as the venue has them.
    public struct VenueSummary: Codable, Sendable, Equatable {
        public var venue: Venue
        public var equity: ExactDecimal
        public var cash: ExactDecimal
        public var exposure: ExactDecimal
        public var balances: [AssetBalance]
        /// The venue's connection as it last reported it (`connected`, `disconnected`), and since when; absent for a
        /// venue that has not reported one since routerd started.
        public var connection: String?
        public var connectionSince: Date?
        /// Why nothing may be sent to the venue now ("banned by Binance (HTTP 418) until …", "rate-limited by Binance
        /// (HTTP 429) until …"); absent while requests go.
        public var blocked: String?
        /// Why new orders to the venue are refused now (cancels and reduce-only orders still go): its order stream
        /// down or its orders not yet reconciled, or Binance's order count for the account full; absent otherwise.
        public var ordersHeld: String?

        public init(venue: Venue, equity: ExactDecimal, cash: ExactDecimal, exposure: ExactDecimal, balances: [AssetBalance]) {
            self.venue = venue
            self.equity = equity
            self.cash = cash
            self.exposure = exposure
            self.balances = balances
        }
    }

    /// One open position's size and value, and the day's realised P&L in its symbol.
    public struct SymbolExposure: Codable, Sendable, Equatable {
        public var venue: Venue
        public var symbol: String
        /// Signed: positive long, negative short.
        public var quantity: ExactDecimal
        /// Gross value in the account's currency; nil when its quote currency cannot be valued yet.
        public var exposure: ExactDecimal?
        public var unrealizedPnl: ExactDecimal?
        public var realizedPnlToday: ExactDecimal?

        public init(venue: Venue, symbol: String, quantity: ExactDecimal, exposure: ExactDecimal?, unrealizedPnl: ExactDecimal?,
                    realizedPnlToday: ExactDecimal?) {
            self.venue = venue
            self.symbol = symbol
            self.quantity = quantity
            self.exposure = exposure
            self.unrealizedPnl = unrealizedPnl
            self.realizedPnlToday = realizedPnlToday
        }
    }
}

/// One point of the account's equity curve (`router.equityHistory`).
public struct EquitySample: Codable, Sendable, Equatable {
    public var time: Date
    public var equity: ExactDecimal
    /// False when an asset held could not be valued then: the equity leaves it out.
    public var complete: Bool

    public init(time: Date, equity: ExactDecimal, complete: Bool) {
        self.time = time
        self.equity = equity
        self.complete = complete
    }
}

/// `router.equityHistory`: `day` is today since the daily reset, a point a minute; `month` the last 30 days, a point
/// an hour.
public struct EquityHistoryQuery: Codable, Sendable, Equatable {
    public enum Range: String, Codable, Sendable, CaseIterable {
        case day, month
    }

    public var range: Range
    public init(range: Range) { self.range = range }
}

public struct EquityHistoryResponse: Codable, Sendable, Equatable {
    public var range: EquityHistoryQuery.Range
    public var currency: String
    public var samples: [EquitySample]

    public init(range: EquityHistoryQuery.Range, currency: String, samples: [EquitySample]) {
        self.range = range
        self.currency = currency
        self.samples = samples
    }
}
