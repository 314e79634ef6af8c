import Foundation

public enum Side: String, Codable, Sendable, CaseIterable {
    case buy, sell

    public var opposite: Side { self == .buy ? .sell : .buy }
    /// +1 for buy, −1 for sell: signed quantities are long-positive.
    public var sign: Double { self == .buy ? 1 : -1 }
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
    public var bid: Double
    public var ask: Double
    public var last: Double
    public var volume: Double
    /// Increases by one per tick within a feed; lets consumers see gaps (dropped ticks).
    public var sequence: UInt64
    /// Where the tick came from (`replay:<file>`, `synthetic`, a venue name).
    public var source: String

    public init(symbol: String, time: Date, bid: Double, ask: Double, last: Double, volume: Double, sequence: UInt64 = 0, source: String) {
        self.symbol = symbol
        self.time = time
        self.bid = bid
        self.ask = ask
        self.last = last
        self.volume = volume
        self.sequence = sequence
        self.source = source
    }

    public var mid: Double { (bid + ask) / 2 }
    public var spread: Double { ask - bid }
}
