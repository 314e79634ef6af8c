import Foundation

/// Every request to Binance asks this gate first (binance-spot-api-docs, rest-api.md "LIMITS"): after a 429 nothing
/// leaves until its `Retry-After`; after a 418 (an IP ban, 2 minutes to 3 days) nothing leaves until the ban is
/// over; and before either, a request that would take the used weight or the order count past its limit (less a
/// margin) waits for the next window instead of being sent. Clients that kept going after a 429 are what earn
/// bans. Limits come from `exchangeInfo`'s `rateLimits`; usage from the `X-MBX-USED-WEIGHT-*` and
/// `X-MBX-ORDER-COUNT-*` headers of every answer, plus what was sent since the last answer.
public struct BinanceRequestGate: Sendable {
    /// One of `exchangeInfo`'s `rateLimits`: `{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000}`.
    public struct Limit: Sendable, Equatable, Decodable {
        public enum Kind: String, Sendable, Decodable {
            case requestWeight = "REQUEST_WEIGHT", orders = "ORDERS", rawRequests = "RAW_REQUESTS"
        }
        public var rateLimitType: Kind
        public var interval: String
        public var intervalNum: Int
        public var limit: Int

        public init(_ kind: Kind, interval: String, intervalNum: Int, limit: Int) {
            (rateLimitType, self.interval, self.intervalNum, self.limit) = (kind, interval, intervalNum, limit)
        }

        /// The header suffix Binance reports this limit's usage under: MINUTE 1 → "1M", SECOND 10 → "10S".
        var suffix: String? {
            guard let letter = ["SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"][interval] else { return nil }
            return "\(intervalNum)\(letter)"
        }

        /// Which limit this is, whatever its size: a limit read again keeps its usage (`setLimits`).
        var key: String { "\(rateLimitType.rawValue) \(intervalNum) \(interval)" }

        var seconds: Double? {
            guard let unit = ["SECOND": 1.0, "MINUTE": 60, "HOUR": 3_600, "DAY": 86_400][interval], intervalNum > 0 else { return nil }
            return unit * Double(intervalNum)
        }

        /// Windows are taken as fixed and aligned to Binance's clock (a minute's weight starts again at the minute).
        func windowStart(_ time: Date) -> Double? {
            seconds.map { (time.timeIntervalSince1970 / $0).rounded(.down) * $0 }
        }
    }

    public enum Admission: Sendable, Equatable {
        case now
        /// Send it then: a window fills up (only reads wait; an order is refused instead, see `admit`).
        case wait(until: Date)
        /// Not now: a 429's back-off or a 418's ban, or an order the order count has no room for.
        case refused(until: Date, reason: String)
    }

    /// Binance's published defaults (rest-api.md, "Query Unfilled Order Count" and exchangeInfo's example), used
    /// until `exchangeInfo` is read.
    public static let defaultLimits = [
        Limit(.requestWeight, interval: "MINUTE", intervalNum: 1, limit: 6_000),
        Limit(.orders, interval: "SECOND", intervalNum: 10, limit: 50),
        Limit(.orders, interval: "DAY", intervalNum: 1, limit: 160_000),
    ]

    public private(set) var limits: [Limit]
    /// The share of each limit BAGBOT lets itself use (the rest is head-room for requests in flight).
    public let margin: Double
    public private(set) var bannedUntil: Date?
    public private(set) var backOffUntil: Date?
    /// New orders wait until then after a -1015 (`holdOrders`); other requests go on.
    public private(set) var ordersHeldUntil: Date?
    private var orderHoldSeconds = 0.0
    private var orderHoldReason: String?
    /// Per limit (by index): the window it was counted in and the usage counted.
    private var usage: [(window: Double, used: Int)?]

    public init(limits: [Limit] = defaultLimits, margin: Double = 0.9) {
        self.limits = limits
        self.margin = min(max(margin, 0.1), 1)
        usage = Array(repeating: nil, count: limits.count)
    }

    public mutating func setLimits(_ new: [Limit]) {
        let usable = new.filter { $0.seconds != nil && $0.limit > 0 && $0.rateLimitType != .rawRequests }
        guard !usable.isEmpty else { return }
        // What was counted carries over to the same limit read again: `exchangeInfo` is read every hour and after
        // every -1013, and a rejected order's answer need not carry the order-count headers (rest-api.md), so counts
        // started afresh would let a storm of rejections run past the order limit into a 429.
        let counted = Dictionary(zip(limits.map(\.key), usage), uniquingKeysWith: { first, _ in first })
        limits = usable
        usage = usable.map { counted[$0.key] ?? nil }
    }

    /// A ban or back-off saved by an earlier run (`BinanceRESTClient`'s block file): honoured as if just received.
    public mutating func restore(bannedUntil: Date?, backOffUntil: Date?) {
        if let bannedUntil { self.bannedUntil = max(self.bannedUntil ?? bannedUntil, bannedUntil) }
        if let backOffUntil { self.backOffUntil = max(self.backOffUntil ?? backOffUntil, backOffUntil) }
    }

    /// New orders held by a -1015 in an earlier run (saved with the block file): held as if just received, so the
    /// first order after a restart does not meet Binance's full count again; a repeat doubles from `seconds`. Never
    /// longer than a hold can be from `now` (a file edited by hand, or restored from elsewhere, must not hold every
    /// new order, exits included, for good).
    public mutating func restoreOrderHold(until saved: Date, reason: String?, seconds: Double?, at now: Date) {
        let until = min(saved, now.addingTimeInterval(Self.longestOrderHold))
        guard until > (ordersHeldUntil ?? .distantPast) else { return }
        ordersHeldUntil = until
        orderHoldReason = reason.map { String($0.prefix(300)) }
        orderHoldSeconds = min(max(seconds ?? Self.shortestOrderHold, Self.shortestOrderHold), Self.longestOrderHold)
    }

    /// The -1015 hold as the block file keeps it: its end, Binance's message and the hold's length.
    public var orderHold: (until: Date, reason: String?, seconds: Double)? {
        ordersHeldUntil.map { ($0, orderHoldReason, orderHoldSeconds) }
    }

    /// What the venue's status says while nothing may be sent.
    public func blockedReason(at now: Date) -> String? {
        if let bannedUntil, now < bannedUntil { return "banned by Binance (HTTP 418) until \(Self.format(bannedUntil))" }
        if let backOffUntil, now < backOffUntil { return "rate-limited by Binance (HTTP 429) until \(Self.format(backOffUntil))" }
        return nil
    }

    /// May a request of `weight` (and, for an order, one more order) leave at `now` (Binance's clock)? When it may,
    /// it is counted at once, so requests sent before their answers come are counted too.
    public mutating func admit(weight: Int, isOrder: Bool, at now: Date) -> Admission {
        if let bannedUntil, now < bannedUntil {
            return .refused(until: bannedUntil, reason: "banned by Binance (HTTP 418) until \(Self.format(bannedUntil))")
        }
        if let backOffUntil, now < backOffUntil {
            return .refused(until: backOffUntil, reason: "rate-limited by Binance (HTTP 429) until \(Self.format(backOffUntil))")
        }
        if isOrder, let reason = ordersHeldReason(at: now), let until = ordersHeldUntil {
            return .refused(until: until, reason: reason)
        }
        var waitUntil: Date?
        for (index, limit) in limits.enumerated() {
            let cost = limit.rateLimitType == .orders ? (isOrder ? 1 : 0) : weight
            guard cost > 0, let window = limit.windowStart(now), let seconds = limit.seconds else { continue }
            let used = usage[index].flatMap { $0.window == window ? $0.used : nil } ?? 0
            guard Double(used) + Double(cost) > Double(limit.limit) * margin else { continue }
            let next = Date(timeIntervalSince1970: window + seconds)
            if limit.rateLimitType == .orders {
                // An order does not wait: by then the market has moved; the strategy decides again.
                return .refused(until: next, reason: "Binance's order limit (\(limit.limit) per \(limit.intervalNum) \(limit.interval.lowercased())) is nearly used: \(used) so far")
            }
            waitUntil = max(waitUntil ?? next, next)
        }
        if let waitUntil { return .wait(until: waitUntil) }
        for (index, limit) in limits.enumerated() {
            let cost = limit.rateLimitType == .orders ? (isOrder ? 1 : 0) : weight
            guard cost > 0, let window = limit.windowStart(now) else { continue }
            let used = usage[index].flatMap { $0.window == window ? $0.used : nil } ?? 0
            usage[index] = (window, used + cost)  // below the limit (checked above), so no overflow
        }
        return .now
    }

    /// The usage headers of an answer (`X-MBX-USED-WEIGHT-1M: 1200`, `X-MBX-ORDER-COUNT-10S: 3`), received at `now`:
    /// Binance's count replaces ours when it is higher (ours also holds requests it has not answered yet).
    public mutating func observe(headers: [(name: String, value: String)], at now: Date) {
        for (name, value) in headers {
            let kind: Limit.Kind
            let suffix: String
            if let rest = Self.suffix(of: name, after: "X-MBX-USED-WEIGHT-") {
                (kind, suffix) = (.requestWeight, rest)
            } else if let rest = Self.suffix(of: name, after: "X-MBX-ORDER-COUNT-") {
                (kind, suffix) = (.orders, rest)
            } else {
                continue
            }
            // A count past any limit means the same as the limit itself; held below it so that no sum overflows
            // on a header that reads 9223372036854775807.
            guard let read = Int(value.trimmingCharacters(in: .whitespaces)), read >= 0,
                  let index = limits.firstIndex(where: { $0.rateLimitType == kind && $0.suffix == suffix }),
                  let window = limits[index].windowStart(now) else { continue }
            let reported = min(read, Self.largestCount)
            let counted = usage[index].flatMap { $0.window == window ? $0.used : nil } ?? 0
            usage[index] = (window, max(counted, reported))
        }
    }

    /// What follows `prefix` (upper-case ASCII) in the header `name`, upper-cased, if `name` starts with it in any
    /// case; nil otherwise. Header names are HTTP tokens (ASCII), compared byte by byte: upper-casing every name of
    /// every answer was a sixth of the REST client's time.
    static func suffix(of name: String, after prefix: String) -> String? {
        let bytes = name.utf8
        guard bytes.count > prefix.utf8.count else { return nil }
        var index = bytes.startIndex
        for expected in prefix.utf8 {
            let byte = bytes[index]
            guard byte == expected || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") && byte - 0x20 == expected) else { return nil }
            index = bytes.index(after: index)
        }
        return name[index...].uppercased()
    }

    /// A 429 or 418 (from `BinanceOutcome`): nothing leaves until `Retry-After`; without one, a 429 waits a
    /// minute and a 418 two (the shortest ban Binance gives). A -1015 holds new orders only (`holdOrders`).
    public mutating func record(_ outcome: BinanceOutcome, at now: Date) {
        switch outcome {
        case .tooManyOrders(let message):
            holdOrders(after: message, at: now)
        case .banned(let seconds, _):
            let until = now.addingTimeInterval(Double(max(seconds ?? 120, 1)))
            bannedUntil = max(bannedUntil ?? until, until)
        case .rateLimited(let seconds, _):
            let until = now.addingTimeInterval(Double(max(seconds ?? 60, 1)))
            backOffUntil = max(backOffUntil ?? until, until)
        default:
            break
        }
    }

    /// A -1015 ("Too many new orders; current limit is 50 orders per 10 SECOND."): the account's unfilled order
    /// count is full. New orders are held (`admit` refuses them unsent; reads and cancels go on) for 10 s, doubled
    /// for each -1015 that comes within a minute of the last hold's end, up to 10 minutes, and never past the end
    /// of the window the message names (Binance counts it afresh then). Not until a day's window ends: Binance
    /// lowers the count as orders fill ("Spot Unfilled Order Count Rules"), so one order tries again after each hold.
    mutating func holdOrders(after message: String, at now: Date) {
        let repeated = ordersHeldUntil.map { now.timeIntervalSince($0) < 60 } ?? false
        orderHoldSeconds = repeated ? min(orderHoldSeconds * 2, Self.longestOrderHold) : Self.shortestOrderHold
        var until = now.addingTimeInterval(orderHoldSeconds)
        if let named = Self.orderLimit(in: message),
           let seconds = Limit(.orders, interval: named.interval, intervalNum: named.intervalNum, limit: 1).seconds {
            let windowEnd = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / seconds).rounded(.down) * seconds + seconds)
            until = min(until, windowEnd)
        }
        ordersHeldUntil = until
        orderHoldReason = message
    }

    static let shortestOrderHold = 10.0
    static let longestOrderHold = 600.0

    /// What the venue's status says while new orders are held by a -1015 (nil otherwise).
    public func ordersHeldReason(at now: Date) -> String? {
        guard let until = ordersHeldUntil, now < until else { return nil }
        return "new orders held until \(Self.format(until)): Binance's unfilled order count for this account is full (\(orderHoldReason ?? "-1015"))"
    }

    /// "… per 10 SECOND." → (10, "SECOND").
    static func orderLimit(in message: String) -> (intervalNum: Int, interval: String)? {
        guard let per = message.range(of: " per ", options: .backwards) else { return nil }
        let words = message[per.upperBound...].split(separator: " ")
        guard words.count == 2, let number = Int(words[0]) else { return nil }
        return (number, words[1].trimmingCharacters(in: CharacterSet(charactersIn: ".")).uppercased())
    }

    /// The usage counted for a limit in the window of `now` (for the venue's status and metrics).
    public func used(_ kind: Limit.Kind, interval: String, intervalNum: Int, at now: Date) -> Int? {
        guard let index = limits.firstIndex(where: { $0.rateLimitType == kind && $0.interval == interval && $0.intervalNum == intervalNum }),
              let window = limits[index].windowStart(now) else { return nil }
        return usage[index].flatMap { $0.window == window ? $0.used : nil } ?? 0
    }

    /// Larger than any of Binance's limits, far from `Int.max`.
    static let largestCount = 1 << 40

    private static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
