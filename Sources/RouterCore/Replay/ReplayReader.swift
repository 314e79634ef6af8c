import Foundation
import BagbotDomain

/// Reads a tick file one tick at a time, in file order, without holding its ticks: a backtest goes through
/// files of millions of lines in constant memory (with `mapped`, the kernel pages the file in and out).
/// Malformed lines are skipped and counted; a tick of another symbol than the file's first is skipped (one
/// symbol per file keeps each feed's clock simple); a row earlier than its predecessor is clamped to the
/// predecessor's time (feeds never go backwards). Ticks are numbered from 1 in `sequence`.
public struct ReplayReader: IteratorProtocol {
    public let path: String
    public let format: ReplayFormat
    /// Lines that gave no tick so far (malformed, or another symbol's).
    public private(set) var skippedLines = 0
    /// The file's symbol: the first tick's (nil before it).
    public private(set) var symbol: String?
    /// Lines read so far, the header included.
    public private(set) var linesRead = 0
    /// 1 when the file starts with a header line.
    public private(set) var headerLines = 0
    private let file: TickFileBytes
    private var offset: Int
    private var line: ReplayLineParser
    private var count: UInt64 = 0
    private var lastTime: Date?

    /// Opens `path` and recognises its format by its first line. `tickSizes`: each symbol's price increment,
    /// onto which a trade print's bid and ask are put. `mapped`: the file is mapped rather than read whole (a
    /// long-running daemon reads it whole: a mapped file truncated under it would end the process).
    public init(path: String, symbol explicitSymbol: String? = nil, tradeSpreadBps: Double, tickSizes: [String: ExactDecimal] = [:],
                mapped: Bool = false) throws {
        self.path = path
        do {
            file = try TickFileBytes(path: path, mapped: mapped)
        } catch {
            throw ReplayParseError(file: path, reason: "cannot read: \(error)")
        }
        let bytes = file.bytes
        var begin = 0
        while begin < bytes.count, bytes[begin] == 0x0A || bytes[begin] == 0x0D { begin += 1 }
        guard begin < bytes.count else { throw ReplayParseError(file: path, reason: "empty file") }
        var end = begin
        while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
        let first = String(decoding: UnsafeBufferPointer(rebasing: bytes[begin..<end]), as: UTF8.self)
        guard let format = ReplayFormat.detect(firstLine: first) else {
            throw ReplayParseError(file: path, reason: "unrecognised format (expected HistData quotes, tardis.dev trades or Binance trades CSV)")
        }
        self.format = format
        offset = 0
        var header: [String] = []
        if first.first.map({ !$0.isNumber }) ?? false {
            header = first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            offset = end
            (linesRead, headerLines) = (1, 1)
        }
        line = ReplayLineParser(format: format, header: header, fileSymbol: explicitSymbol ?? ReplayParser.symbolFromFileName(path),
                                explicitSymbol: explicitSymbol, spread: TradeSpread(bps: tradeSpreadBps, tickSizes: tickSizes),
                                source: "replay:" + (path as NSString).lastPathComponent)
    }

    /// Whether a symbol can be told for this file's ticks before any is read (tardis.dev rows carry their own).
    var symbolIsKnowable: Bool { line.fileSymbol != nil || format == .tardisTrades }

    /// The next tick: each line is walked once, its commas noted on the way to its end.
    public mutating func next() -> Tick? {
        let bytes = file.bytes
        let end = bytes.count
        while offset < end {
            var begin = offset
            while begin < end, bytes[begin] == 0x0A || bytes[begin] == 0x0D { begin += 1 }
            guard begin < end else { break }
            line.commas.removeAll(keepingCapacity: true)
            var position = begin
            while position < end {
                let byte = bytes[position]
                if byte == UInt8(ascii: ",") {
                    line.commas.append(position &- begin)
                } else if byte == 0x0A || byte == 0x0D {
                    break
                }
                position &+= 1
            }
            offset = position
            linesRead += 1
            guard var tick = line.tick(UnsafeBufferPointer(rebasing: bytes[begin..<position])), tick.symbol != "" else {
                skippedLines += 1
                continue
            }
            if symbol == nil { symbol = tick.symbol }
            guard tick.symbol == symbol else {
                skippedLines += 1
                continue
            }
            count += 1
            tick.sequence = count
            if let lastTime, tick.time < lastTime { tick.time = lastTime }
            lastTime = tick.time
            return tick
        }
        offset = end
        return nil
    }
}

/// One line of a tick file in a known format → a tick (nil when malformed), read from its bytes: no string is
/// made per line but the symbol of a tardis.dev row that names another symbol than the previous one.
struct ReplayLineParser {
    let format: ReplayFormat
    let columns: ReplayParser.TardisColumns?
    let fileSymbol: String?
    let explicitSymbol: String?
    var spread: TradeSpread
    let source: String
    /// Where the commas of the line being read are (the reader notes them; kept, so no line allocates).
    var commas: [Int] = []
    /// The last symbol read from a tardis.dev row, reused while rows repeat it.
    private var rowSymbol: (bytes: [UInt8], symbol: String)?
    /// The date part of the last HistData row and its day number: a file has millions of rows per date.
    private var histDataDay: ReplayParser.HistDataDay?

    init(format: ReplayFormat, header: [String], fileSymbol: String?, explicitSymbol: String?, spread: TradeSpread, source: String) {
        self.format = format
        self.columns = ReplayParser.TardisColumns(header: header)
        self.fileSymbol = fileSymbol
        self.explicitSymbol = explicitSymbol
        self.spread = spread
        self.source = source
        commas.reserveCapacity(16)
    }

    /// `line`: one line without its break, whose commas are in `commas`.
    mutating func tick(_ line: UnsafeBufferPointer<UInt8>) -> Tick? {
        let row = CSVRow(line: line, commas: commas)
        switch format {
        case .histDataQuotes:
            guard let symbol = fileSymbol, row.count >= 3, let bid = row.decimal(1), let ask = row.decimal(2),
                  bid.isPositive, ask >= bid, let time = ReplayParser.histDataTime(bytes: row.bytes(0), day: &histDataDay) else { return nil }
            let volume = row.count > 3 ? row.decimal(3).flatMap { $0.isNegative ? nil : $0 } ?? .zero : .zero
            guard let mid = try? (bid + ask).halved else { return nil }
            return Tick(symbol: symbol, time: time, bid: bid, ask: ask, last: mid, volume: volume, source: source)
        case .tardisTrades:
            guard let columns, row.count > max(columns.symbol, columns.timestamp, columns.price, columns.amount),
                  let micros = row.integer(columns.timestamp), let price = row.decimal(columns.price), price.isPositive,
                  let amount = row.decimal(columns.amount), !amount.isNegative else { return nil }
            let symbol = explicitSymbol ?? symbol(of: row.bytes(columns.symbol))
            return spread.tick(symbol: symbol, time: Date(timeIntervalSince1970: Double(micros) / 1_000_000), price: price,
                               amount: amount, source: source)
        case .binanceTrades:
            guard let symbol = fileSymbol, row.count >= 5, let price = row.decimal(1), price.isPositive,
                  let quantity = row.decimal(2), !quantity.isNegative, let stamp = row.integer(4) else { return nil }
            // Spot dumps switched from milliseconds to microseconds in 2025; the magnitude tells which.
            let seconds = stamp > 100_000_000_000_000 ? Double(stamp) / 1_000_000 : Double(stamp) / 1_000
            return spread.tick(symbol: symbol, time: Date(timeIntervalSince1970: seconds), price: price, amount: quantity, source: source)
        }
    }

    private mutating func symbol(of bytes: UnsafeBufferPointer<UInt8>) -> String {
        if let known = rowSymbol, known.bytes.count == bytes.count,
           known.bytes.withUnsafeBufferPointer({ known in (0..<known.count).allSatisfy { known[$0] == bytes[$0] } }) {
            return known.symbol
        }
        let symbol = String(decoding: bytes, as: UTF8.self).uppercased()
        rowSymbol = (Array(bytes), symbol)
        return symbol
    }
}

/// A CSV line's fields as byte ranges of the line.
private struct CSVRow {
    let line: UnsafeBufferPointer<UInt8>
    let commas: [Int]

    var count: Int { commas.count + 1 }

    func bytes(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let start = index == 0 ? 0 : commas[index - 1] + 1
        let end = index < commas.count ? commas[index] : line.count
        return UnsafeBufferPointer(rebasing: line[start..<end])
    }

    func decimal(_ index: Int) -> ExactDecimal? { ExactDecimal(utf8: bytes(index)) }

    /// A whole number (timestamps), optionally signed: nil beyond Int64's range (its minimum included).
    func integer(_ index: Int) -> Int64? {
        var field = bytes(index)
        var negative = false
        if let sign = field.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            field = UnsafeBufferPointer(rebasing: field.dropFirst())
        }
        guard !field.isEmpty else { return nil }
        var value: Int64 = 0
        if field.count <= 18 {
            // Eighteen digits cannot overflow.
            for byte in field {
                guard byte &- 48 < 10 else { return nil }
                value = value &* 10 &+ Int64(byte &- 48)
            }
        } else {
            for byte in field {
                guard byte &- 48 < 10 else { return nil }
                let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowB) = times10.addingReportingOverflow(Int64(byte &- 48))
                guard !overflowA, !overflowB else { return nil }
                value = next
            }
        }
        return negative ? -value : value
    }
}
