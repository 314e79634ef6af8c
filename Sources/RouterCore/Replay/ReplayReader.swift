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
    private let data: Data
    private var offset: Int
    /// Shared by copies of the reader (it keeps the line's field buffer and the last print's spread).
    private let line: ReplayLineParser
    private var count: UInt64 = 0
    private var lastTime: Date?

    /// Opens `path` and recognises its format by its first line. `tickSizes`: each symbol's price increment,
    /// onto which a trade print's bid and ask are put. `mapped`: the file is mapped rather than read whole (a
    /// long-running daemon reads it whole: a mapped file truncated under it would end the process).
    public init(path: String, symbol explicitSymbol: String? = nil, tradeSpreadBps: Double, tickSizes: [String: ExactDecimal] = [:],
                mapped: Bool = false) throws {
        self.path = path
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: mapped ? .alwaysMapped : [])
        } catch {
            throw ReplayParseError(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        offset = 0
        guard let firstRange = Self.nextLine(in: data, from: 0) else { throw ReplayParseError(file: path, reason: "empty file") }
        let first = String(decoding: data[firstRange.line], as: UTF8.self)
        guard let format = ReplayFormat.detect(firstLine: first) else {
            throw ReplayParseError(file: path, reason: "unrecognised format (expected HistData quotes, tardis.dev trades or Binance trades CSV)")
        }
        self.format = format
        var header: [String] = []
        if first.first.map({ !$0.isNumber }) ?? false {
            header = first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            offset = firstRange.next
            (linesRead, headerLines) = (1, 1)
        }
        line = ReplayLineParser(format: format, header: header, fileSymbol: explicitSymbol ?? ReplayParser.symbolFromFileName(path),
                                explicitSymbol: explicitSymbol, spread: TradeSpread(bps: tradeSpreadBps, tickSizes: tickSizes),
                                source: "replay:" + (path as NSString).lastPathComponent)
    }

    /// Whether a symbol can be told for this file's ticks before any is read (tardis.dev rows carry their own).
    var symbolIsKnowable: Bool { line.fileSymbol != nil || format == .tardisTrades }

    public mutating func next() -> Tick? {
        while let range = Self.nextLine(in: data, from: offset) {
            offset = range.next
            linesRead += 1
            let parsed = data.withUnsafeBytes { [line] raw in
                line.tick(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[range.line]))
            }
            guard var tick = parsed, tick.symbol != "" else {
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
        return nil
    }

    /// The next non-empty line at or after `start` (without its line break) and where the one after begins.
    private static func nextLine(in data: Data, from start: Int) -> (line: Range<Int>, next: Int)? {
        data.withUnsafeBytes { raw -> (line: Range<Int>, next: Int)? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var begin = start
            while begin < bytes.count, bytes[begin] == 0x0A || bytes[begin] == 0x0D { begin += 1 }
            guard begin < bytes.count else { return nil }
            var end = begin
            while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
            return (begin..<end, end)
        }
    }
}

/// One line of a tick file in a known format → a tick (nil when malformed), read from its bytes: no string is
/// made per line but the symbol of a tardis.dev row that names another symbol than the previous one. A class, so
/// the state it keeps between lines (the field buffer, the last symbol and spread) is never copied per line.
final class ReplayLineParser {
    let format: ReplayFormat
    let columns: ReplayParser.TardisColumns?
    let fileSymbol: String?
    let explicitSymbol: String?
    var spread: TradeSpread
    let source: String
    /// The last symbol read from a tardis.dev row, reused while rows repeat it.
    private var rowSymbol: (bytes: [UInt8], symbol: String)?
    /// Where each field of the line being read starts and ends (kept, so no line allocates).
    private var fields: [Range<Int>] = []

    init(format: ReplayFormat, header: [String], fileSymbol: String?, explicitSymbol: String?, spread: TradeSpread, source: String) {
        self.format = format
        self.columns = ReplayParser.TardisColumns(header: header)
        self.fileSymbol = fileSymbol
        self.explicitSymbol = explicitSymbol
        self.spread = spread
        self.source = source
    }

    func tick(_ line: UnsafeBufferPointer<UInt8>) -> Tick? {
        fields.removeAll(keepingCapacity: true)
        var start = 0
        for index in 0..<line.count where line[index] == UInt8(ascii: ",") {
            fields.append(start..<index)
            start = index + 1
        }
        fields.append(start..<line.count)
        let row = CSVRow(line: line, fields: fields)
        switch format {
        case .histDataQuotes:
            guard let symbol = fileSymbol, row.count >= 3, let bid = row.decimal(1), let ask = row.decimal(2),
                  bid.isPositive, ask >= bid, let time = ReplayParser.histDataTime(bytes: row.bytes(0)) else { return nil }
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

    private func symbol(of bytes: UnsafeBufferPointer<UInt8>) -> String {
        if let known = rowSymbol, known.bytes.elementsEqual(bytes) { return known.symbol }
        let symbol = String(decoding: bytes, as: UTF8.self).uppercased()
        rowSymbol = (Array(bytes), symbol)
        return symbol
    }
}

/// A CSV line's fields as byte ranges of the line.
private struct CSVRow {
    let line: UnsafeBufferPointer<UInt8>
    let fields: [Range<Int>]

    var count: Int { fields.count }

    func bytes(_ index: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: line[fields[index]]) }

    func decimal(_ index: Int) -> ExactDecimal? { ExactDecimal(utf8: bytes(index)) }

    /// A whole number (timestamps), optionally signed: nil beyond Int64's range (its minimum included).
    func integer(_ index: Int) -> Int64? {
        let field = bytes(index)
        var value: Int64 = 0
        var digits = 0
        var negative = false
        for (position, byte) in field.enumerated() {
            if position == 0, byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                negative = byte == UInt8(ascii: "-")
                continue
            }
            guard byte &- 48 < 10 else { return nil }
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = times10.addingReportingOverflow(Int64(byte &- 48))
            guard !overflowA, !overflowB else { return nil }
            value = next
            digits += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }
}
