import Foundation
import BagbotDomain

/// The tick file formats the replay feed reads.
public enum ReplayFormat: String, Sendable, CaseIterable {
    /// HistData.com tick CSV: `YYYYMMDD HHMMSSmmm,bid,ask,volume`, no header, EST (UTC−5, no DST).
    case histDataQuotes = "histdata"
    /// tardis.dev trades CSV: header `exchange,symbol,timestamp,local_timestamp,id,side,price,amount`, µs.
    case tardisTrades = "tardis"
    /// Binance public trade dumps (data.binance.vision): `id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match]`,
    /// header optional, time in ms (µs in newer spot files); the symbol comes from the file name.
    case binanceTrades = "binance"

    /// Recognises a file by its first line.
    public static func detect(firstLine: String) -> ReplayFormat? {
        let fields = firstLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if fields.first == "exchange" && fields.contains("timestamp") && fields.contains("price") { return .tardisTrades }
        if fields.count == 4, fields[0].count == 18, fields[0].contains(" "), Double(fields[1]) != nil { return .histDataQuotes }
        if fields.first == "id" && fields.contains("price") && fields.contains("time") { return .binanceTrades }
        if fields.count >= 6, UInt64(fields[0]) != nil, Double(fields[1]) != nil, UInt64(fields[4]) != nil,
           ["true", "false", "True", "False"].contains(fields[5]) { return .binanceTrades }
        return nil
    }
}

public struct ReplayParseError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public var description: String { "replay file \(file): \(reason)" }
}

/// One parsed file: ticks in file order (equal timestamps kept in that order) and the lines skipped.
public struct ReplayFile: Sendable {
    public let path: String
    public let symbol: String
    public let format: ReplayFormat
    public let ticks: [Tick]
    public let skippedLines: Int

    public var start: Date { ticks.first?.time ?? Date(timeIntervalSince1970: 0) }
    public var duration: TimeInterval { (ticks.last?.time ?? start).timeIntervalSince(start) }
}

public enum ReplayParser {
    static let histDataOffset: TimeInterval = 5 * 3_600

    /// Parses a whole file. Malformed lines are skipped and counted, never fatal; a file with no usable
    /// line, or of an unknown format, is an error naming the file.
    /// `tickSizes`: each symbol's price increment, onto which a trade print's bid and ask are put (by default
    /// the print's own last decimal).
    public static func parse(path: String, symbol explicitSymbol: String? = nil, tradeSpreadBps: Double,
                             tickSizes: [String: ExactDecimal] = [:]) throws -> ReplayFile {
        var reader = try ReplayReader(path: path, symbol: explicitSymbol, tradeSpreadBps: tradeSpreadBps, tickSizes: tickSizes)
        var ticks: [Tick] = []
        while let tick = reader.next() { ticks.append(tick) }
        guard let symbol = reader.symbol, !ticks.isEmpty else {
            throw ReplayParseError(file: path, reason: "no usable tick in \(reader.linesRead - reader.headerLines) lines" + (reader.symbolIsKnowable ? "" : " (cannot tell the symbol from the file name)"))
        }
        return ReplayFile(path: path, symbol: symbol, format: reader.format, ticks: ticks, skippedLines: reader.skippedLines)
    }

    /// "eurusd-quotes-20200101.csv" → EURUSD; "BTCUSDT-trades-2024-01-01.csv" → BTCUSDT;
    /// "DAT_ASCII_EURUSD_T_202001.csv" → EURUSD.
    public static func symbolFromFileName(_ path: String) -> String? {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let parts = name.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." })
        let ignored: Set<String> = ["DAT", "ASCII", "T", "TRADES", "QUOTES", "TICKS", "AGGTRADES"]
        return parts.map { $0.uppercased() }.first { part in
            part.count >= 3 && part.allSatisfy({ $0.isLetter || $0.isNumber }) && part.first!.isLetter && !ignored.contains(part)
        }
    }

    /// "20200101 170000065" in EST → UTC.
    static func histDataTime(_ text: Substring) -> Date? {
        var copy = String(text)
        var day: HistDataDay?
        return copy.withUTF8 { histDataTime(bytes: $0, day: &day) }
    }

    /// A HistData row's date part (its first 8 bytes) and the day number it gave.
    struct HistDataDay {
        let digits: UInt64
        let days: Int
    }

    /// `day`: the last row's date, reused while rows repeat it (the date is parsed once per day of rows).
    static func histDataTime(bytes: UnsafeBufferPointer<UInt8>, day: inout HistDataDay?) -> Date? {
        guard bytes.count == 18, bytes[8] == UInt8(ascii: " "), let base = bytes.baseAddress else { return nil }
        let dateDigits = UnsafeRawPointer(base).loadUnaligned(as: UInt64.self)
        let days: Int
        if let known = day, known.digits == dateDigits {
            days = known.days
        } else {
            guard let year = digits(bytes, 0..<4), let month = digits(bytes, 4..<6), let dayOfMonth = digits(bytes, 6..<8),
                  (1...12).contains(month), (1...31).contains(dayOfMonth),
                  let number = daysFromCivil(year: year, month: month, day: dayOfMonth) else { return nil }
            days = number
            day = HistDataDay(digits: dateDigits, days: number)
        }
        guard let hour = digits(bytes, 9..<11), let minute = digits(bytes, 11..<13), let second = digits(bytes, 13..<15),
              let millis = digits(bytes, 15..<18), hour < 24, minute < 60, second < 61 else { return nil }
        let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + Double(millis) / 1_000
        return Date(timeIntervalSince1970: seconds + histDataOffset)
    }

    /// The decimal number the bytes of `range` spell (nil if any is not a digit).
    @inline(__always)
    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var value = 0
        for index in range {
            let digit = bytes[index] &- 48
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int(digit)
        }
        return value
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm): no Calendar per line.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int? {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    struct TardisColumns {
        let symbol: Int, timestamp: Int, price: Int, amount: Int

        init?(header: [String]) {
            guard let symbol = header.firstIndex(of: "symbol"), let timestamp = header.firstIndex(of: "timestamp"),
                  let price = header.firstIndex(of: "price"), let amount = header.firstIndex(of: "amount") else { return nil }
            self.symbol = symbol
            self.timestamp = timestamp
            self.price = price
            self.amount = amount
        }
    }

}

/// How a trade print, which has no book, becomes a tick: the price is the last, and the configured spread is
/// put around it on the symbol's tick size, bid down and ask up, so it is never narrower than configured and
/// every price is one the venue could quote. A symbol without a known tick size gets four decimals more than
/// its print (never its print's last digit: a print of "5" would make a spread of 4,000 bp).
struct TradeSpread {
    let tickSizes: [String: ExactDecimal]
    /// The spread in basis points, as an exact decimal of 6 places (nil: not representable, no tick).
    private let spread: ExactDecimal?
    /// The bid and ask put around each recent price of `cachedSymbol` (by its digits and scale): prints repeat
    /// a few hundred prices for hours, and the exact arithmetic is the reader's dearest step. Bounded: emptied
    /// when full.
    private var cache: [PriceDigits: (bid: ExactDecimal, ask: ExactDecimal)] = [:]
    private var cachedSymbol = ""
    private static let cacheLimit = 4_096

    private struct PriceDigits: Hashable {
        let mantissa: Int128
        let scale: Int
    }

    init(bps: Double, tickSizes: [String: ExactDecimal]) {
        self.tickSizes = tickSizes
        spread = ExactDecimal(rounding: bps, scale: 6, rounding: .halfEven)
    }

    mutating func tick(symbol: String, time: Date, price: ExactDecimal, amount: ExactDecimal, source: String) -> Tick? {
        let key = PriceDigits(mantissa: price.mantissa, scale: price.scale)
        if symbol == cachedSymbol, let known = cache[key] {
            return Tick(symbol: symbol, time: time, bid: known.bid, ask: known.ask, last: price, volume: amount, source: source)
        }
        let increment = tickSizes[symbol] ?? ExactDecimal(mantissa: 1, scale: min(price.scale + 4, ExactDecimal.maximumScale))
        guard let spread,
              let half = try? price.multiplied(by: spread, scale: ExactDecimal.maximumScale, rounding: .up)
                .divided(by: 20_000, scale: ExactDecimal.maximumScale, rounding: .up),
              let bid = try? (price - half).rounded(toMultipleOf: increment, rounding: .down),
              let ask = try? (price + half).rounded(toMultipleOf: increment, rounding: .up), bid.isPositive else { return nil }
        if symbol != cachedSymbol || cache.count >= Self.cacheLimit {
            cache.removeAll(keepingCapacity: true)
            cachedSymbol = symbol
        }
        cache[key] = (bid, ask)
        return Tick(symbol: symbol, time: time, bid: bid, ask: ask, last: price, volume: amount, source: source)
    }
}
