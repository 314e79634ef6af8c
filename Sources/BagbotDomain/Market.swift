import Foundation

public enum Side: String, Codable, Sendable, CaseIterable {
    case buy, sell

    public var opposite: Side { self == .buy ? .sell : .buy }
    /// A quantity signed long-positive: `quantity` for a buy, `-quantity` for a sell.
    public func signed(_ quantity: ExactDecimal) -> ExactDecimal { self == .buy ? quantity : -quantity }
}

public enum AssetClass: String, Codable, Sendable {
    case crypto, forex, stocks
}

public enum Venue: String, Codable, Sendable, CaseIterable {
    case paper, binance, alpaca, mt5
}

/// One top-of-book observation. Trade feeds have no book, so their bid/ask are the trade price widened
/// by the configured spread, and `last` is the trade price.
public struct Tick: Codable, Sendable, Equatable {
    public var symbol: String
    public var time: Date
    public var bid: ExactDecimal
    public var ask: ExactDecimal
    public var last: ExactDecimal
    /// Size traded (a trade print's amount); zero when the feed has none (quotes).
    public var volume: ExactDecimal
    /// Increases by one per tick within a feed; lets consumers see gaps (dropped ticks).
    public var sequence: UInt64
    /// Where the tick came from (`replay:<file>`, `synthetic`, a venue name).
    public var source: String

    public init(symbol: String, time: Date, bid: ExactDecimal, ask: ExactDecimal, last: ExactDecimal, volume: ExactDecimal, sequence: UInt64 = 0, source: String) {
        self.symbol = symbol
        self.time = time
        self.bid = bid
        self.ask = ask
        self.last = last
        self.volume = volume
        self.sequence = sequence
        self.source = source
    }

    /// The exact middle of bid and ask (the last price if the sum is out of range, which checked ticks never are).
    public var mid: ExactDecimal { (try? (try bid + ask).halved) ?? last }

    /// Prices as `Double`, for strategies that compute in floating point. Never for an order's price.
    public var midValue: Double { (bid.doubleValue + ask.doubleValue) / 2 }
    public var spreadValue: Double { ask.doubleValue - bid.doubleValue }
}
