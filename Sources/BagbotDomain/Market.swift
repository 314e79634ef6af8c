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
///
/// A value with one reference inside (copy on write): a tick is copied at every step of the trade path (reader,
/// merge, venue, coordinator, strategies), and its fields are 176 bytes — copying them was a fifth of a
/// backtest's time, a reference costs a retain (docs/performance.md, "Backtest").
public struct Tick: Sendable, Equatable {
    private var storage: Storage

    public init(symbol: String, time: Date, bid: ExactDecimal, ask: ExactDecimal, last: ExactDecimal, volume: ExactDecimal, sequence: UInt64 = 0, source: String) {
        storage = Storage(Fields(symbol: symbol, time: time, bid: bid, ask: ask, last: last, volume: volume, sequence: sequence, source: source))
    }

    public var symbol: String {
        get { storage.fields.symbol }
        set { unique().fields.symbol = newValue }
    }
    public var time: Date {
        get { storage.fields.time }
        set { unique().fields.time = newValue }
    }
    public var bid: ExactDecimal {
        get { storage.fields.bid }
        set { unique().fields.bid = newValue }
    }
    public var ask: ExactDecimal {
        get { storage.fields.ask }
        set { unique().fields.ask = newValue }
    }
    public var last: ExactDecimal {
        get { storage.fields.last }
        set { unique().fields.last = newValue }
    }
    /// Size traded (a trade print's amount); zero when the feed has none (quotes).
    public var volume: ExactDecimal {
        get { storage.fields.volume }
        set { unique().fields.volume = newValue }
    }
    /// Increases by one per tick within a feed; lets consumers see gaps (dropped ticks).
    public var sequence: UInt64 {
        get { storage.fields.sequence }
        set { unique().fields.sequence = newValue }
    }
    /// Where the tick came from (`replay:<file>`, `synthetic`, a venue name).
    public var source: String {
        get { storage.fields.source }
        set { unique().fields.source = newValue }
    }

    /// The storage, copied first if another tick shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    public static func == (lhs: Tick, rhs: Tick) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    /// The fields, as the plain struct a tick was: its synthesized `Codable` is a tick's JSON.
    fileprivate struct Fields: Codable, Equatable {
        var symbol: String
        var time: Date
        var bid: ExactDecimal
        var ask: ExactDecimal
        var last: ExactDecimal
        var volume: ExactDecimal
        var sequence: UInt64
        var source: String
    }

    /// Written only through `unique()`, when no other tick holds it: shared, it is never written.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }
}

/// Printed and dumped as the plain struct it was (its fields, not its storage).
extension Tick: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["symbol": symbol, "time": time, "bid": bid, "ask": ask, "last": last, "volume": volume,
                                "sequence": sequence, "source": source], displayStyle: .struct)
    }
}

extension Tick: Codable {
    public init(from decoder: any Decoder) throws {
        storage = Storage(try Fields(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try storage.fields.encode(to: encoder)
    }
}

extension Tick {
    /// The exact middle of bid and ask (the last price if the sum is out of range, which checked ticks never are).
    public var mid: ExactDecimal { (try? (try bid + ask).halved) ?? last }

    /// Prices as `Double`, for strategies that compute in floating point. Never for an order's price.
    public var midValue: Double { (bid.doubleValue + ask.doubleValue) / 2 }
    public var spreadValue: Double { ask.doubleValue - bid.doubleValue }
}
