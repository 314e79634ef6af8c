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
        return copy.withUTF8 { histDataTime(bytes: $0) }
    }

    static func histDataTime(bytes: some Collection<UInt8>) -> Date? {
        guard bytes.count == 18 else { return nil }
        var digits = (0, 0, 0, 0, 0, 0, 0)
        var position = 0
        for byte in bytes {
            defer { position += 1 }
            if position == 8 {
                guard byte == UInt8(ascii: " ") else { return nil }
                continue
            }
            guard byte &- 48 < 10 else { return nil }
            let digit = Int(byte &- 48)
            switch position {
            case 0..<4: digits.0 = digits.0 * 10 + digit
            case 4..<6: digits.1 = digits.1 * 10 + digit
            case 6..<8: digits.2 = digits.2 * 10 + digit
            case 9..<11: digits.3 = digits.3 * 10 + digit
            case 11..<13: digits.4 = digits.4 * 10 + digit
            case 13..<15: digits.5 = digits.5 * 10 + digit
            default: digits.6 = digits.6 * 10 + digit
            }
        }
        let (year, month, day, hour, minute, second, millis) = digits
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61,
              let days = daysFromCivil(year: year, month: month, day: day) else { return nil }
        let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + Double(millis) / 1_000
        return Date(timeIntervalSince1970: seconds + histDataOffset)
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
    /// The last print's symbol and price and the bid and ask put around it: a burst of prints at one price (a
    /// sweep) computes them once.
    private var last: (symbol: String, price: ExactDecimal, bid: ExactDecimal, ask: ExactDecimal)?

    init(bps: Double, tickSizes: [String: ExactDecimal]) {
        self.tickSizes = tickSizes
        spread = ExactDecimal(rounding: bps, scale: 6, rounding: .halfEven)
    }

    mutating func tick(symbol: String, time: Date, price: ExactDecimal, amount: ExactDecimal, source: String) -> Tick? {
        if let last, last.price == price, last.price.scale == price.scale, last.symbol == symbol {
            return Tick(symbol: symbol, time: time, bid: last.bid, ask: last.ask, last: price, volume: amount, source: source)
        }
        let increment = tickSizes[symbol] ?? ExactDecimal(mantissa: 1, scale: min(price.scale + 4, ExactDecimal.maximumScale))
        guard let spread,
              let half = try? price.multiplied(by: spread, scale: ExactDecimal.maximumScale, rounding: .up)
                .divided(by: 20_000, scale: ExactDecimal.maximumScale, rounding: .up),
              let bid = try? (price - half).rounded(toMultipleOf: increment, rounding: .down),
              let ask = try? (price + half).rounded(toMultipleOf: increment, rounding: .up), bid.isPositive else { return nil }
        last = (symbol, price, bid, ask)
        return Tick(symbol: symbol, time: time, bid: bid, ask: ask, last: price, volume: amount, source: source)
    }
}
