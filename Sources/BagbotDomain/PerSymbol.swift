/// Values by symbol on the tick path (the latest tick of each symbol, what a venue or the coordinator keeps per
/// market). A trader follows a handful of symbols, and comparing a few short strings costs less than hashing
/// one: up to `linearLimit` symbols are found by comparison, more through a dictionary of their places
/// (docs/performance.md, "Backtest"). Inlinable, so each user gets it specialised for its value (unspecialised,
/// the generic metadata look-ups cost more than the hashing it saves).
public struct PerSymbol<Value> {
    @inlinable public static var linearLimit: Int { 8 }

    @usableFromInline var symbols: [String] = []
    @usableFromInline var values: [Value] = []
    /// Each symbol's place in `symbols`, kept once there are more than `linearLimit` of them.
    @usableFromInline var places: [String: Int] = [:]

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { symbols.isEmpty }
    @inlinable public var count: Int { symbols.count }

    @inlinable public subscript(symbol: String) -> Value? {
        get { place(of: symbol).map { values[$0] } }
        set {
            if let place = place(of: symbol) {
                if let newValue {
                    values[place] = newValue
                } else {
                    remove(at: place)
                }
            } else if let newValue {
                symbols.append(symbol)
                values.append(newValue)
                if symbols.count > Self.linearLimit {
                    if places.isEmpty {
                        for (index, known) in symbols.enumerated() { places[known] = index }
                    } else {
                        places[symbol] = symbols.count - 1
                    }
                }
            }
        }
    }

    /// Every symbol with its value, in the order they were first set.
    @inlinable public var entries: [(symbol: String, value: Value)] {
        symbols.indices.map { (symbols[$0], values[$0]) }
    }

    @inlinable func place(of symbol: String) -> Int? {
        guard places.isEmpty else { return places[symbol] }
        return symbols.firstIndex(of: symbol)
    }

    @usableFromInline mutating func remove(at place: Int) {
        symbols.remove(at: place)
        values.remove(at: place)
        places.removeAll()
        if symbols.count > Self.linearLimit {
            for (index, known) in symbols.enumerated() { places[known] = index }
        }
    }
}

extension PerSymbol: Sendable where Value: Sendable {}
