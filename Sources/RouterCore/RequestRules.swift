import BagbotDomain
import BagbotIPC

/// What routerd accepts from its socket, checked before anything is stored or executed: one rule for new
/// client order ids that every venue takes, bounded lengths for every name, and quantities and prices a venue
/// could trade. Refusals quote at most a short excerpt of what was sent.
///
/// The quantity and price bounds here are a first sanity range for every symbol; each symbol's own rules
/// (`SymbolRules`: tick and step size, ranges, minimum notional) are checked after them.
enum RequestRules {
    /// A new order's client order id: a subset of Binance's rule (`^[.A-Z:/a-z0-9_-]{1,36}$`) that every venue
    /// takes, so one id works everywhere.
    static let clientOrderIdLength = 1...36
    static let symbolLength = 1...32
    static let nameLength = 1...64
    static let reasonLength = 200
    /// No venue trades less than one unit of 10^-8 (a satoshi) or more than 10^9 units in one order.
    static let quantityRange: ClosedRange<ExactDecimal> = 0.000_000_01...1_000_000_000
    static let priceRange: ClosedRange<ExactDecimal> = 0.000_000_01...1_000_000_000

    /// A new order's id: `^[a-zA-Z0-9_-]{1,36}$`.
    static func checkClientOrderId(_ id: String) throws {
        guard clientOrderIdLength.contains(id.utf8.count), id.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw IPCError(.badRequest, "clientOrderId \(quoted(id)) must be 1–36 characters of letters, digits, _ and -")
        }
    }

    /// An id that names an order that may already be stored (a cancel, a lookup, a retry): orders stored under
    /// the earlier rule may hold `.`, `:` and `/` (Binance's full rule) and must stay reachable.
    static func checkStoredClientOrderId(_ id: String) throws {
        guard clientOrderIdLength.contains(id.utf8.count),
              id.utf8.allSatisfy({ isAlphanumeric($0) || "_-.:/".utf8.contains($0) }) else {
            throw IPCError(.badRequest, "clientOrderId \(quoted(id)) must be 1–36 characters of letters, digits and _ - . : /")
        }
    }

    /// The symbol, upper-cased: 1–32 characters of letters, digits and . / _ - (BTCUSDT, EURUSD, BRK.B, BTC/USD).
    static func checkedSymbol(_ symbol: String) throws -> String {
        // ASCII first: upper-casing would turn "ſ" into "S" and "ß" into "SS", a different real symbol.
        guard symbolLength.contains(symbol.utf8.count), symbol.utf8.allSatisfy({ isAlphanumeric($0) || ".-_/".utf8.contains($0) }) else {
            throw IPCError(.badRequest, "symbol \(quoted(symbol)) must be 1–32 characters of letters, digits and . / _ -")
        }
        return symbol.uppercased()
    }

    /// A strategy id or request id: 1–64 characters of letters, digits and . : _ -.
    static func checkName(_ name: String?, field: String) throws {
        guard let name else { return }
        guard nameLength.contains(name.utf8.count), name.utf8.allSatisfy({ isAlphanumeric($0) || ".:_-".utf8.contains($0) }) else {
            throw IPCError(.badRequest, "\(field) \(quoted(name)) must be 1–64 characters of letters, digits and . : _ -")
        }
    }

    /// A free-text reason (a pause's), made safe rather than refused: an operator's emergency stop must never
    /// fail because of its note. Control characters become spaces, and it is cut to 200 characters.
    static func sanitizedReason(_ reason: String?) -> String? {
        guard let reason else { return nil }
        var result = String.UnicodeScalarView()
        for scalar in reason.unicodeScalars.prefix(reasonLength) {
            result.append(scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar)
        }
        return String(result)
    }

    static func checkQuantity(_ quantity: ExactDecimal) throws {
        guard quantityRange.contains(quantity) else {
            throw IPCError(.badRequest, "quantity \(quantity) must be between 0.00000001 and 1000000000")
        }
    }

    static func checkPrice(_ price: ExactDecimal, field: String) throws {
        guard priceRange.contains(price) else {
            throw IPCError(.badRequest, "\(field) \(price) must be between 0.00000001 and 1000000000")
        }
    }

    /// Every field of an order request; returns the upper-cased symbol.
    /// The id is checked by the stored-order rule here; a new order's id is checked again before it is stored.
    static func checked(_ request: PlaceOrderRequest) throws -> String {
        if let id = request.clientOrderId { try checkStoredClientOrderId(id) }
        let symbol = try checkedSymbol(request.symbol)
        try checkName(request.strategyId, field: "strategyId")
        try checkName(request.requestId, field: "requestId")
        try checkQuantity(request.quantity)
        switch request.type {
        case .limit:
            guard let limit = request.limitPrice else { throw IPCError(.badRequest, "a limit order needs a limitPrice") }
            try checkPrice(limit, field: "limitPrice")
        case .market:
            guard request.limitPrice == nil else { throw IPCError(.badRequest, "a market order takes no limitPrice") }
            guard request.timeInForce == nil else { throw IPCError(.badRequest, "a market order takes no timeInForce") }
        }
        return symbol
    }

    /// An asset's name as venues spell it: 1–16 upper-case ASCII letters and digits (BTC, USDT, 1INCH).
    static func isAssetName(_ name: String) -> Bool {
        (1...16).contains(name.utf8.count) && name.utf8.allSatisfy { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }

    static let assetNameRule = "an asset is 1–16 upper-case ASCII letters and digits"

    /// A tick a venue could have quoted: a positive bid not above the ask, every price within the range an
    /// order may have, and no negative volume. Anything else would poison marks, fills and strategies.
    static func isQuotable(_ tick: Tick) -> Bool {
        tick.bid.isPositive && tick.ask >= tick.bid && priceRange.contains(tick.bid) && priceRange.contains(tick.ask)
            && priceRange.contains(tick.last) && !tick.volume.isNegative
    }

    /// At most 40 characters of untrusted text, quoted and escaped, with its size when cut.
    static func quoted(_ text: String) -> String {
        "'\(LogExcerpt.of(text, limit: 40))'"
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
    }
}
